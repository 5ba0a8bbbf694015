// OAuth discovery and the OAuth 2.1 endpoints MCP clients use to get a key by sending a person through a browser
// (src/modules/signin/oauth.ts): RFC 9728 / RFC 8414 metadata, RFC 7591 registration, authorization with PKCE, token.
// The registration and token endpoints answer errors in OAuth's shape, which their clients parse; the rest in ours.
import { t } from "elysia";
import type { Config } from "../../config";
import type { Platform } from "../../http/platform";
import { baseUrl } from "../../http/origin";
import { htmlPage } from "../../http/html-page";
import { InvalidRequestError } from "../../lib/errors";
import { hasSession } from "../../web/app/shell";
import { oauthAuthorizeErrorPage, oauthAuthorizePage } from "../../web/oauth-authorize";
import { AUTHORIZE_KEYS, AuthorizeRedirectError, OAuthProtocolError, redirectTo, type AuthorizeParams } from "./oauth";

/** The authorization request in the query; a parameter given twice is refused (RFC 6749 §3.1). */
function authorizeParams(url: URL): AuthorizeParams {
  const p: AuthorizeParams = {};
  for (const k of AUTHORIZE_KEYS) {
    const all = url.searchParams.getAll(k);
    if (all.length > 1) throw new InvalidRequestError(`${k} is given more than once`, k, "invalid_request");
    if (all.length === 1) p[k] = all[0];
  }
  return p;
}

/** Runs an endpoint whose clients read OAuth's error shape. */
async function oauthAnswer<T>(set: { status?: number | string; headers: Record<string, string | number> }, fn: () => Promise<T>) {
  // Tokens and client ids are never to be cached (RFC 6749 §5.1).
  set.headers["cache-control"] = "no-store";
  try {
    return await fn();
  } catch (e) {
    if (!(e instanceof OAuthProtocolError)) throw e;
    set.status = e.status;
    return e.body();
  }
}

/** Where an agent without a person registers itself (auth.md): named in both discovery documents. */
function agentAuthBlock(base: string, anonymous: boolean) {
  return {
    register_uri: `${base}/agent/auth`,
    claim_uri: `${base}/agent/auth/claim`,
    claim_complete_uri: `${base}/agent/auth/claim/complete`,
    // Device activation (auth.md, 3.): this server's own flow, not RFC 8628's, so not named as its endpoint.
    device_activation_uri: `${base}/api/v1/activate`,
    registration_types: anonymous ? ["anonymous", "identity_assertion"] : ["identity_assertion"],
    assertion_types: ["email", "verified_email"],
    documentation: `${base}/auth.md`,
  };
}

/** RFC 9728 metadata of the resource at `path` (the server itself, or its MCP endpoint): one authorization server, this one. */
function protectedResource(config: Config, base: string, path: "" | "/mcp") {
  return {
    // §3.3: the resource the client formed this document's URL from, exactly.
    resource: `${base}${path}`,
    authorization_servers: [base],
    bearer_methods_supported: ["header"],
    resource_documentation: `${base}/auth.md`,
    resource_name: "Clanker",
    // A keyless agent reads this document first (it is named on every 401): tell it where to register.
    agent_auth: agentAuthBlock(base, config.signin.anonymousAgents),
  };
}

const str = t.Optional(t.String({ maxLength: 2000 }));

export const oauthRoutes = (app: Platform) =>
  app
    .get("/.well-known/oauth-protected-resource", ({ deps, request }) => protectedResource(deps.config, baseUrl(deps.config, request), ""), { detail: { hide: true } })
    // RFC 9728 §3.1's form for the resource /mcp: what an MCP client asks first when a 401 names no metadata URL.
    .get("/.well-known/oauth-protected-resource/mcp", ({ deps, request }) => protectedResource(deps.config, baseUrl(deps.config, request), "/mcp"), { detail: { hide: true } })
    .get("/.well-known/oauth-authorization-server", ({ deps, request }) => {
      const base = baseUrl(deps.config, request);
      return {
        issuer: base,
        authorization_endpoint: `${base}/oauth/authorize`,
        token_endpoint: `${base}/oauth/token`,
        registration_endpoint: `${base}/oauth/register`,
        response_types_supported: ["code"],
        response_modes_supported: ["query"],
        grant_types_supported: ["authorization_code"],
        token_endpoint_auth_methods_supported: ["none"],
        code_challenge_methods_supported: ["S256"],
        authorization_response_iss_parameter_supported: true,
        service_documentation: `${base}/auth.md`,
        agent_auth: agentAuthBlock(base, deps.config.signin.anonymousAgents),
      };
    }, { detail: { hide: true } })
    .post("/oauth/register", ({ deps, body, request, set }) =>
      oauthAnswer(set, async () => {
        // JSON only (RFC 7591 §3.1): a page on another site can post text/plain or a form here without asking, but
        // not application/json, which needs a CORS preflight this server never grants.
        if (!/^application\/json\s*(;|$)/i.test(request.headers.get("content-type") ?? ""))
          throw new OAuthProtocolError("invalid_client_metadata", "Send the client metadata as JSON, with content-type: application/json (RFC 7591)");
        if (typeof body !== "object" || body === null || Array.isArray(body)) throw new OAuthProtocolError("invalid_client_metadata", "The body must be a JSON object of client metadata (RFC 7591)");
        const registered = await deps.services.oauth.register(body as Record<string, unknown>);
        set.status = 201;
        return registered;
      }), { publicLimit: true, detail: { hide: true } })
    .post("/oauth/token", ({ deps, body, request, set, caller }) =>
      oauthAnswer(set, () => {
        if (typeof body !== "object" || body === null || Array.isArray(body)) throw new OAuthProtocolError("invalid_request", "The body must be a form (application/x-www-form-urlencoded) of token request parameters");
        return deps.services.oauth.token(body as Record<string, unknown>, baseUrl(deps.config, request), {
          requestId: caller.requestId,
          ip: caller.ip ?? null,
          userAgent: caller.userAgent ?? null,
        });
      }), { publicLimit: true, detail: { hide: true } })
    .get("/oauth/authorize", async ({ deps, request, set }) => {
      const session = hasSession(request);
      const url = new URL(request.url);
      const base = baseUrl(deps.config, request);
      let checked;
      try {
        checked = await deps.services.oauth.checkAuthorize(authorizeParams(url), base);
      } catch (e) {
        if (e instanceof InvalidRequestError) {
          set.status = 400;
          return htmlPage(set, oauthAuthorizeErrorPage(e.message, session));
        }
        if (!(e instanceof AuthorizeRedirectError)) throw e;
        // The client and its redirect URI are good: the client hears what was wrong (RFC 6749 §4.1.2.1), and from
        // which server (iss, RFC 9207: the metadata says every response carries it, so a client refuses one without).
        set.status = 302;
        set.headers.location = redirectTo(e.redirectUri, { error: e.error, error_description: e.message, state: url.searchParams.get("state") ?? undefined, iss: base });
        return "";
      }
      return htmlPage(set, oauthAuthorizePage({ clientName: checked.client.name, redirectUri: checked.redirectUri, session }));
    }, { detail: { hide: true } })
    .post("/api/v1/oauth/authorize", ({ ctx, deps, body, request }) => {
      const { decision, workspace_id, ...params } = body;
      return deps.services.oauth.decide(ctx, params, { approve: decision === "approve", workspaceId: workspace_id }, baseUrl(deps.config, request));
    }, {
      auth: true,
      body: t.Object(
        {
          decision: t.Union([t.Literal("approve"), t.Literal("deny")]),
          /** The workspace the page showed (ws_…): refused if the session now acts in another. */
          workspace_id: t.Optional(t.String({ maxLength: 100 })),
          ...(Object.fromEntries(AUTHORIZE_KEYS.map((k) => [k, str])) as Record<(typeof AUTHORIZE_KEYS)[number], typeof str>),
        },
        { additionalProperties: false },
      ),
      response: t.Object({ redirect_to: t.String() }),
      detail: { tags: ["Sign-in"], summary: "Approve or deny an OAuth client's authorization request (session): where the browser goes next" },
    });
