// Reading a request's credential: the API key (x-api-key, or Authorization: Bearer for MCP clients), the session
// token (x-auth-token, or the web app's cookie), or ?apiKey= on the event stream. Which principal it names is auth.ts's.
import { AuthenticationError } from "../lib/errors";

const COOKIE_RE = { clanker_session: /(?:^|;\s*)clanker_session=([^;]*)/g, clanker_workspace: /(?:^|;\s*)clanker_workspace=([^;]*)/g };

/**
 * The value of the cookie `name` in a Cookie header, or undefined. One set twice is refused: another site under the
 * same domain (another port of this host, a sibling subdomain) can set a second `clanker_session` with a longer path,
 * which the browser sends first: the visitor's pages then acted as the attacker's account (a key they made, a
 * secret they saved, went to it). Neither can be told apart, so the visitor is asked to clear them.
 */
function cookieValue(cookie: string, name: "clanker_session" | "clanker_workspace"): string | undefined {
  const re = COOKIE_RE[name];
  re.lastIndex = 0;
  const first = re.exec(cookie);
  if (!first) return undefined;
  if (re.exec(cookie))
    throw new AuthenticationError(
      `Your browser sent two ${name} cookies (another site on this domain may have set one): clear this site's cookies in the browser, then sign in again`,
      "COOKIE_SENT_TWICE",
    );
  return first[1]!;
}

/** The session token in the browser's cookie, or null (none, sent twice, or mangled). */
export function sessionCookieOf(request: Request): string | null {
  try {
    const value = cookieValue(request.headers.get("cookie") ?? "", "clanker_session");
    return value ? decodeURIComponent(value) : null;
  } catch {
    return null;
  }
}

/** `Authorization: Bearer <token>` as RFC 9110 reads it: the token. */
export const BEARER_RE = /^bearer\s+(.*)$/i;

/**
 * A credential header sent twice reaches us joined ("k, k"): a proxy adding one beside the client's. Keys and tokens
 * hold no comma, so it is said as such, not as a key that does not exist.
 */
function onlyOnce(value: string, header: string, code: string): string {
  if (value.includes(",")) throw new AuthenticationError(`${header} was sent more than once (a proxy adding its own?): send one`, code);
  return value;
}

/** The credential a request carries, by the spec's headers (and Bearer for MCP clients). Only the SSE
 * stream also takes ?apiKey=, since a browser's EventSource cannot send headers. */
export function credentialOf(request: Request): { apiKey: string } | { session: string; viaCookie?: boolean; workspace?: string } | null {
  const headers = request.headers;
  const key = headers.get("x-api-key");
  if (key) return { apiKey: onlyOnce(key, "x-api-key", "INVALID_API_KEY") };
  const auth = headers.get("authorization");
  // The scheme's case and the spaces after it are the client's (RFC 9110: "bearer" is "Bearer").
  const bearer = auth ? BEARER_RE.exec(auth) : null;
  if (bearer) return { apiKey: onlyOnce(bearer[1]!.trim(), "authorization", "INVALID_API_KEY") };
  const token = headers.get("x-auth-token");
  if (token) return { session: onlyOnce(token, "x-auth-token", "INVALID_SESSION") };
  const cookie = request.headers.get("cookie");
  if (cookie) {
    const value = cookieValue(cookie, "clanker_session");
    if (value) {
      let session: string;
      try {
        session = decodeURIComponent(value);
      } catch {
        // A mangled cookie (%ZZ) is a bad credential like any other: 401, counted against the address.
        throw new AuthenticationError("Invalid session token", "INVALID_SESSION");
      }
      // The web app's workspace switcher: the cookie stands in for x-workspace-id, so links, frames and
      // EventSource (which cannot send headers) act in the chosen workspace. It selects among the session's own
      // memberships only, exactly like the header.
      const ws = cookieValue(cookie, "clanker_workspace");
      return { session, viaCookie: true, ...(ws ? { workspace: ws } : {}) };
    }
  }
  const url = new URL(request.url);
  if (url.pathname === "/api/events") {
    const q = url.searchParams.get("apiKey");
    if (q) return { apiKey: q };
  }
  return null;
}
