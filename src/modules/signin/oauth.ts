// OAuth 2.1 for MCP clients (desktop apps, IDEs, agents that speak the MCP authorization spec): a client registers
// itself (RFC 7591), sends a person to /oauth/authorize with PKCE, the person approves it on our page, and the client
// trades the code for an access token at /oauth/token. The token is an API key of that person in the workspace they
// chose: listed with their keys, revoked the same way, with the person's role. Clients are public (no secret), so
// what ties a code to its client is the exact redirect URI registered and the PKCE verifier only it holds.
import { and, desc, eq, isNull, lt, lte } from "drizzle-orm";
import { isPlainLine } from "../../lib/display-name";
import type { Ctx } from "../../lib/context";
import { randomToken } from "../../lib/crypto";
import { InvalidRequestError, PermissionError, type ApiError } from "../../lib/errors";
import { encodeId } from "../../lib/ids";
import type { SecretBox } from "../../lib/secret-box";
import type { Store } from "../../store/db";
import { writeAudit } from "../../store/audit";
import { apiKeys, oauthClients, oauthCodes } from "../../store/schema";
import { mintApiKey } from "../api-keys/service";
import { stillMember } from "../workspaces/members";
import type { KeyCache } from "../workspaces/service";

export const OAUTH_CODE_TTL_S = 600;
const MAX_REDIRECT_URIS = 10;
const MAX_URI_LENGTH = 2000;
const DAY_MS = 24 * 3600 * 1000;
/** A client nobody approves within a week is forgotten; past this many waiting, the oldest waiting is (a flood of
 * registrations, which anyone may send, then costs a bounded table, not the disk). */
const UNAPPROVED_TTL_MS = 7 * DAY_MS;
const MAX_UNAPPROVED_CLIENTS = 1000;
// RFC 7636 §4.1: 43-128 characters of the unreserved set, for the verifier and (base64url of a SHA-256) the challenge.
const PKCE_RE = /^[A-Za-z0-9\-._~]{43,128}$/;
// Schemes a redirect must never use: they run or read something in the browser instead of reaching the client.
const FORBIDDEN_SCHEMES = new Set(["javascript:", "data:", "file:", "vbscript:", "blob:", "about:", "ftp:", "ws:", "wss:"]);
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "[::1]", "localhost"]);

/**
 * An answer in OAuth's own error shape ({ error, error_description }, RFC 6749 §5.2 and RFC 7591 §3.2.2): what
 * the token and registration endpoints must speak, since every OAuth client library parses it.
 */
export class OAuthProtocolError extends Error {
  constructor(
    readonly error: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
  body() {
    return { error: this.error, error_description: this.message };
  }
}

/**
 * Our refusal of a request to the token or registration endpoint before it reached them (its rate limit, a body
 * too large or malformed, a foreign Host), in the shape their clients parse: the nearest code each RFC has.
 */
export function oauthErrorOf(err: ApiError, path: string) {
  const error = err.status === 429 || err.status === 503 ? "temporarily_unavailable" : err.status >= 500 ? "server_error" : path === "/oauth/register" ? "invalid_client_metadata" : "invalid_request";
  return { error, error_description: err.message };
}

/**
 * What is wrong with an authorization request after its client and redirect URI were found good: the client is
 * sent back to its redirect URI with it (RFC 6749 §4.1.2.1), rather than shown an error page.
 */
export class AuthorizeRedirectError extends Error {
  constructor(
    readonly error: string,
    message: string,
    readonly redirectUri: string,
    /** The parameter at fault. */
    readonly param: string,
  ) {
    super(message);
  }
}

/** Why a redirect URI is refused, or null: https anywhere, http only to this machine, a native app's own scheme. */
export function redirectUriProblem(raw: string): string | null {
  if (raw.length > MAX_URI_LENGTH) return `is longer than ${MAX_URI_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "is not an absolute URL";
  }
  if (url.hash || raw.includes("#")) return "must not have a fragment (RFC 6749 §3.1.2)";
  if (url.protocol === "https:") return null;
  if (url.protocol === "http:") return LOOPBACK_HOSTS.has(url.hostname) ? null : "may use http only to 127.0.0.1, [::1] or localhost (RFC 8252 §7.3); use https";
  if (FORBIDDEN_SCHEMES.has(url.protocol)) return `uses ${url.protocol}, which no client can receive a code on`;
  return null; // a private-use scheme of a native app (RFC 8252 §7.1), e.g. cursor://…
}

/**
 * A redirect URI matches one registered when equal, or, for http to a loopback address, equal but for the port:
 * a native app listens on whichever port is free when it asks (RFC 8252 §7.3 says any port MUST be allowed).
 */
export function sameRedirect(registered: string, requested: string): boolean {
  if (registered === requested) return true;
  let a: URL, b: URL;
  try {
    a = new URL(registered);
    b = new URL(requested);
  } catch {
    return false;
  }
  if (a.protocol !== "http:" || b.protocol !== "http:" || !LOOPBACK_HOSTS.has(a.hostname) || a.hostname !== b.hostname) return false;
  return a.username === b.username && a.password === b.password && a.pathname === b.pathname && a.search === b.search && !b.hash && !requested.includes("#");
}

/** The parameters of an authorization request (RFC 6749 §4.1.1, RFC 7636, RFC 8707); any other is not passed on. */
export const AUTHORIZE_KEYS = ["response_type", "client_id", "redirect_uri", "code_challenge", "code_challenge_method", "state", "resource", "scope"] as const;
export type AuthorizeParams = { [K in (typeof AUTHORIZE_KEYS)[number]]?: string };

/** The redirect back to the client: its query gains code (or error) and the state it sent. */
export function redirectTo(redirectUri: string, params: Record<string, string | undefined>): string {
  const url = new URL(redirectUri);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

const base64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
const challengeOf = (verifier: string) => base64url(new Bun.CryptoHasher("sha256").update(verifier).digest());

export function createOAuthService(store: Store, box: SecretBox, keyCache: KeyCache) {
  const db = store.db;
  const hashOf = (code: string) => box.mac(`oauth-code:${code}`);

  async function client(clientId: string | undefined) {
    if (!clientId) return null;
    const [row] = await db.select().from(oauthClients).where(eq(oauthClients.clientId, clientId));
    return row ? { ...row, redirectUris: JSON.parse(row.redirectUris) as string[] } : null;
  }

  /** A resource of ours as the server it names: without a trailing slash or /mcp. */
  const serverOf = (resource: string) => resource.replace(/\/$/, "").replace(/\/mcp$/, "");

  /** The resources a token of ours is for: the whole server, or its MCP endpoint (RFC 8707). */
  const ourResource = (resource: string, base: string) => [base, `${base}/`, `${base}/mcp`, `${base}/mcp/`].includes(resource);

  /**
   * Checks an authorization request. Throws InvalidRequestError when its client or redirect URI is unknown (the
   * person is told, and nothing is sent anywhere), AuthorizeRedirectError for the rest (sent back to the client).
   */
  async function checkAuthorize(p: AuthorizeParams, base: string) {
    const c = await client(p.client_id);
    if (!c) throw new InvalidRequestError("Unknown client_id: the app must register with this server first (it does so by itself; start connecting again from the app)", "client_id", "unknown_client");
    // Without a redirect_uri, the client's one registered URI (RFC 6749 §4.1.1); with several, it must say which.
    const redirectUri = p.redirect_uri ?? (c.redirectUris.length === 1 ? c.redirectUris[0] : undefined);
    if (!redirectUri) throw new InvalidRequestError("redirect_uri is required: this client registered more than one", "redirect_uri", "invalid_redirect_uri");
    if (!c.redirectUris.some((registered) => sameRedirect(registered, redirectUri))) throw new InvalidRequestError("redirect_uri is not one this client registered", "redirect_uri", "invalid_redirect_uri");
    const fail = (error: string, message: string, param: string) => new AuthorizeRedirectError(error, message, redirectUri, param);
    if (p.response_type !== "code") throw fail("unsupported_response_type", "response_type must be code", "response_type");
    if (p.code_challenge_method !== "S256") throw fail("invalid_request", "PKCE is required: code_challenge_method must be S256", "code_challenge_method");
    if (!p.code_challenge || !PKCE_RE.test(p.code_challenge)) throw fail("invalid_request", "code_challenge must be 43-128 characters (base64url of the verifier's SHA-256)", "code_challenge");
    if (p.resource !== undefined && !ourResource(p.resource, base)) throw fail("invalid_target", `resource must be this server (${base}) or its MCP endpoint (${base}/mcp)`, "resource");
    if (p.state !== undefined && p.state.length > MAX_URI_LENGTH) throw fail("invalid_request", `state is longer than ${MAX_URI_LENGTH} characters`, "state");
    return { client: c, redirectUri };
  }

  return {
    checkAuthorize,

    /** RFC 7591 dynamic registration of a public client. */
    async register(meta: Record<string, unknown>) {
      const uris = meta.redirect_uris;
      if (!Array.isArray(uris) || uris.length === 0 || uris.some((u) => typeof u !== "string"))
        throw new OAuthProtocolError("invalid_redirect_uri", "redirect_uris must be a non-empty array of URLs");
      if (uris.length > MAX_REDIRECT_URIS) throw new OAuthProtocolError("invalid_redirect_uri", `at most ${MAX_REDIRECT_URIS} redirect_uris`);
      for (const u of uris as string[]) {
        const problem = redirectUriProblem(u);
        if (problem) throw new OAuthProtocolError("invalid_redirect_uri", `redirect_uri ${JSON.stringify(u.slice(0, 200))} ${problem}`);
      }
      const name = meta.client_name === undefined ? "An MCP client" : meta.client_name;
      // Shown to the person who approves: one line of plain text.
      // The same rule as every name a person gives (lib/display-name.ts): its key is named after it.
      if (typeof name !== "string" || name.trim().length > 100 || !isPlainLine(name.trim()))
        throw new OAuthProtocolError("invalid_client_metadata", "client_name must be 1-100 characters of one line of visible text, without control, invisible or text-direction characters");
      const grants = meta.grant_types;
      if (grants !== undefined && (!Array.isArray(grants) || !grants.includes("authorization_code")))
        throw new OAuthProtocolError("invalid_client_metadata", "grant_types must include authorization_code, the only grant this server offers");
      const responseTypes = meta.response_types;
      if (responseTypes !== undefined && (!Array.isArray(responseTypes) || !responseTypes.includes("code")))
        throw new OAuthProtocolError("invalid_client_metadata", "response_types must include code");
      const clientId = `oac_${randomToken(18)}`;
      const now = Date.now();
      await store.tx(async () => {
        const waiting = await db
          .select({ id: oauthClients.id })
          .from(oauthClients)
          .where(isNull(oauthClients.lastAuthorizedAt))
          .orderBy(desc(oauthClients.id))
          .limit(1)
          .offset(MAX_UNAPPROVED_CLIENTS - 1);
        if (waiting[0]) await db.delete(oauthClients).where(and(isNull(oauthClients.lastAuthorizedAt), lte(oauthClients.id, waiting[0].id)));
        await db.insert(oauthClients).values({ clientId, name: name.trim(), redirectUris: JSON.stringify(uris), createdAt: now });
      });
      // What was registered, as registered: a public client, whatever authentication method it asked for.
      return {
        client_id: clientId,
        client_id_issued_at: Math.floor(now / 1000),
        client_name: name.trim(),
        redirect_uris: uris as string[],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "none",
      };
    },

    /** The person's answer on the consent page: where their browser goes next (the client's redirect URI). */
    async decide(ctx: Ctx, p: AuthorizeParams, answer: { approve: boolean; workspaceId?: string }, base: string): Promise<{ redirect_to: string }> {
      if (ctx.actor.kind !== "user") throw new PermissionError("Approve an app's access from a signed-in session, not with an API key", "SESSION_REQUIRED");
      // The page names the workspace it showed: another tab may have switched since, and the key must go where the person saw.
      if (answer.workspaceId !== undefined && answer.workspaceId !== encodeId("workspace", ctx.workspaceId))
        throw new InvalidRequestError("The workspace was switched (in another tab?) since this page showed it: reload the page and approve again", "workspace_id", "WORKSPACE_CHANGED");
      const { client: c, redirectUri } = await checkAuthorize(p, base).catch((e: unknown) => {
        if (e instanceof AuthorizeRedirectError) throw new InvalidRequestError(e.message, e.param, e.error);
        throw e;
      });
      // iss (RFC 9207): which server answered, for a client that talks to several.
      if (!answer.approve) return { redirect_to: redirectTo(redirectUri, { error: "access_denied", error_description: "The person denied access", state: p.state, iss: base }) };
      const code = randomToken(32);
      const now = Date.now();
      await store.tx(async () => {
        await db.insert(oauthCodes).values({
          codeHash: hashOf(code),
          clientId: c.clientId,
          userId: ctx.actor.userId!,
          workspaceId: ctx.workspaceId,
          redirectUri,
          codeChallenge: p.code_challenge!,
          resource: p.resource ?? null,
          expiresAt: now + OAUTH_CODE_TTL_S * 1000,
          createdAt: now,
        });
        await db.update(oauthClients).set({ lastAuthorizedAt: now }).where(eq(oauthClients.id, c.id));
        await writeAudit(store, ctx, { action: "oauth.authorize", resourceType: "oauth_client", resourceId: c.clientId, metadata: { client_name: c.name, redirect_uri: redirectUri } });
      });
      return { redirect_to: redirectTo(redirectUri, { code, state: p.state, iss: base }) };
    },

    /**
     * RFC 6749 §4.1.3 with PKCE: a code, once, for the key it stands for. The key replaces the one this client was
     * given before for the same person and workspace (a client that signs in again does not pile up keys).
     */
    async token(form: Record<string, unknown>, base: string, request: { requestId: string; ip: string | null; userAgent: string | null }) {
      const field = (name: string, required = true): string | undefined => {
        const v = form[name];
        if (v === undefined && !required) return undefined;
        if (typeof v !== "string" || !v) throw new OAuthProtocolError("invalid_request", Array.isArray(v) ? `${name} is given more than once` : `${name} is required`);
        return v;
      };
      const grant = field("grant_type");
      if (grant !== "authorization_code") throw new OAuthProtocolError("unsupported_grant_type", `grant_type ${grant} is not offered: use authorization_code`);
      const clientId = field("client_id")!;
      const code = field("code")!;
      const verifier = field("code_verifier")!;
      const redirectUri = field("redirect_uri", false);
      const resource = field("resource", false);
      const c = await client(clientId);
      if (!c) throw new OAuthProtocolError("invalid_client", "Unknown client_id", 401);
      const [row] = await db.select().from(oauthCodes).where(eq(oauthCodes.codeHash, hashOf(code)));
      // One answer for every wrong code or verifier, so none tells a guesser more than another.
      const bad = () => new OAuthProtocolError("invalid_grant", "The code is unknown, expired or already used, or does not match this client, redirect_uri or code_verifier; authorize again");
      if (!row || row.clientId !== c.clientId) throw bad();
      const verified = PKCE_RE.test(verifier) && challengeOf(verifier) === row.codeChallenge;
      if (row.usedAt !== null) {
        // Only one who holds the verifier can have redeemed it: seeing the code alone (a browser's history) is not enough to revoke.
        if (verified) await revokeMintedKey(row.id, request);
        throw bad();
      }
      if (row.expiresAt <= Date.now() || (redirectUri ?? row.redirectUri) !== row.redirectUri || !verified) throw bad();
      // The server the authorization named, as itself or as its /mcp: the key works on all of it, and a client may
      // discover the resource as the server at one step and as its /mcp (RFC 9728 §3.1) at the next.
      if (resource !== undefined && (row.resource !== null ? serverOf(resource) !== serverOf(row.resource) : !ourResource(resource, base)))
        throw new OAuthProtocolError("invalid_target", "resource is not the server this authorization was for (it or its /mcp)");
      const ctx: Ctx = { workspaceId: row.workspaceId, actor: { kind: "user", userId: row.userId }, role: "member", ...request };
      const out = await store.tx(async () => {
        const now = Date.now();
        // Spent first, and only if unspent: of two requests racing with one code, one gets a key.
        const spent = await db
          .update(oauthCodes)
          .set({ usedAt: now })
          .where(and(eq(oauthCodes.id, row.id), isNull(oauthCodes.usedAt)))
          .returning({ id: oauthCodes.id });
        if (spent.length === 0) throw bad();
        // Its approver removed from the workspace since: the code is spent, and no key is made.
        if (!(await stillMember(store, row.workspaceId, row.userId))) return null;
        const earlier = await db
          .update(apiKeys)
          .set({ revokedAt: now })
          .where(and(eq(apiKeys.oauthClientId, c.clientId), eq(apiKeys.userId, row.userId), eq(apiKeys.workspaceId, row.workspaceId), isNull(apiKeys.revokedAt)))
          .returning();
        for (const old of earlier) await revoked(ctx, old, "replaced by the client's new sign-in");
        const name = `${c.name} (MCP sign-in)`;
        const { row: key, secret } = await mintApiKey(store, { workspaceId: row.workspaceId, userId: row.userId, name, oauthClientId: c.clientId });
        await db.update(oauthCodes).set({ apiKeyId: key.id }).where(eq(oauthCodes.id, row.id));
        await writeAudit(store, ctx, { action: "api_key.create", resourceType: "api_key", resourceId: encodeId("apiKey", key.id), metadata: { name, via: "oauth", client_id: c.clientId } });
        return { access_token: secret, token_type: "Bearer" as const };
      });
      if (!out) throw new OAuthProtocolError("invalid_grant", "The person who approved this app is no longer a member of that workspace; sign in again");
      return out;
    },

    /** Forgets codes a day past their expiry, and clients nobody approved within a week of registering (scheduler). */
    async prune(now = Date.now()): Promise<void> {
      await store.tx(async () => {
        await db.delete(oauthCodes).where(lt(oauthCodes.expiresAt, now - DAY_MS));
        await db.delete(oauthClients).where(and(isNull(oauthClients.lastAuthorizedAt), lt(oauthClients.createdAt, now - UNAPPROVED_TTL_MS)));
      });
    },
  };

  /** Inside the tx that revoked `key`: its audit row, and the auth caches told (again once committed). */
  async function revoked(ctx: Ctx, key: typeof apiKeys.$inferSelect, reason: string): Promise<void> {
    await writeAudit(store, ctx, { action: "api_key.revoke", resourceType: "api_key", resourceId: encodeId("apiKey", key.id), metadata: { name: key.name, reason } });
    keyCache.forgetKey(key.keyHash);
    store.afterCommit(() => keyCache.forgetKey(key.keyHash));
  }

  /** A code redeemed twice was replayed: the key its first use minted stops working (RFC 6749 §4.1.2). */
  async function revokeMintedKey(codeId: number, request: { requestId: string; ip: string | null; userAgent: string | null }): Promise<void> {
    await store.tx(async () => {
      // Read here, not from the row the caller read: the first redemption may have committed its key since.
      const [row] = await db.select().from(oauthCodes).where(eq(oauthCodes.id, codeId));
      if (row?.apiKeyId == null) return;
      const [key] = await db
        .update(apiKeys)
        .set({ revokedAt: Date.now() })
        .where(and(eq(apiKeys.id, row.apiKeyId), isNull(apiKeys.revokedAt)))
        .returning();
      if (key) await revoked({ workspaceId: row.workspaceId, actor: { kind: "system", userId: null }, role: "owner", ...request }, key, "its OAuth code was redeemed twice");
    });
  }
}

export type OAuthService = ReturnType<typeof createOAuthService>;
