// Sign-in for people (mailed code → session), device activation, agent registration (auth.md), and the docs this
// server serves for agents. OAuth discovery and OAuth for MCP clients: ./oauth-routes.ts.
import { t } from "elysia";
import type { Platform } from "../../http/platform";
import { baseUrl, mailBaseUrl, refuseCrossSite } from "../../http/origin";
import { htmlPage } from "../../http/html-page";
import type { Config } from "../../config";
import { rateHeaders } from "../../http/rate-limit";
import { activatePage } from "../../web/activate";
import { hasSession } from "../../web/app/shell";
import { renderAuthMd, renderSkillMd } from "../../web/agent-docs";
import { SESSION_COOKIE } from "./service";
import { SESSION_TTL_MS } from "../users/sessions";
import { invitationSchema, workspaceSchema } from "../workspaces/routes";
import { isoDate, noBody } from "../../http/schemas";

const invitationToken = t.Object({ token: t.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });

const email = t.String({ minLength: 3, maxLength: 320 });

// What each sign-in, activation and agent-auth route answers (Elysia checks every answer against these).
const seconds = (description: string) => t.Number({ description });
// Typed readonly (the service hands out lib/scopes.ts's readonly lists); at run time an ordinary array schema.
const scopes = t.Unsafe<readonly string[]>(t.Array(t.String(), { description: "Scopes the key holds ('*' is all)" }));
const codeSent = t.Object({ sent: t.Boolean(), email: t.String(), expires_in: seconds("Seconds the code stays valid") });
const signedIn = t.Object({
  token: t.String({ description: "Session token: send it as x-auth-token (the answer also sets a cookie)" }),
  expires_at: isoDate,
  user: t.Object({ id: t.String(), email: t.Nullable(t.String()), name: t.String(), created: t.Boolean(), serverOwner: t.Boolean() }),
});
const signedOut = t.Object({ signedOut: t.Boolean({ description: "False when there was no session to end (an API key, or no token)" }) });
const activation = t.Object({
  code: t.String(),
  verification_url: t.String(),
  app_download_url: t.String(),
  expires_in: seconds("Seconds the code stays valid"),
  interval: seconds("Seconds to wait between polls"),
});
const activationPoll = t.Union([
  t.Object({ status: t.Literal("pending") }),
  t.Object({ status: t.Literal("completed"), api_key: t.String({ description: "Shown in this answer only" }), tier: t.String() }),
]);
const claimFields = { claim_token: t.String(), claim_token_expires: isoDate, post_claim_scopes: scopes };
const agentRegistered = t.Union([
  t.Object({
    registration_id: t.String(),
    type: t.Literal("anonymous"),
    status: t.Literal("active"),
    credential: t.String(),
    credential_type: t.String(),
    tier: t.String(),
    scopes,
    workspace_id: t.String(),
    claim_uri: t.String(),
    ...claimFields,
  }),
  t.Object({
    registration_id: t.String(),
    type: t.Literal("identity_assertion"),
    status: t.Literal("pending"),
    email: t.String(),
    claim_uri: t.String(),
    otp_expires_in: seconds("Seconds the mailed code stays valid"),
    ...claimFields,
  }),
]);
const claimCodeSent = t.Object({ status: t.Literal("otp_sent"), email: t.String(), otp_expires_in: seconds("Seconds the mailed code stays valid"), claim_complete_uri: t.String() });
const agentClaimed = t.Object({
  registration_id: t.String(),
  status: t.Literal("claimed"),
  credential: t.Optional(t.String({ description: "A new key: only for an email-asserted registration (an anonymous agent keeps its key)" })),
  credential_type: t.Optional(t.String()),
  api_key_id: t.Nullable(t.String()),
  user_id: t.String(),
  workspace_id: t.String(),
  scopes,
});

const safeDecode = (s: string): string | null => {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
};

function markdown(set: { headers: Record<string, string | number> }, text: string): string {
  set.headers["content-type"] = "text/markdown; charset=utf-8";
  return text;
}

/** The session cookie (empty with maxAge 0 clears it): Secure whenever this server is reached over https. */
function sessionCookie(config: Config, request: Request, value: string, maxAgeSeconds: number): string {
  const secure = new URL(baseUrl(config, request)).protocol === "https:" ? "; Secure" : "";
  return `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Lax; Path=/; Max-Age=${maxAgeSeconds}${secure}`;
}

export const signinRoutes = (app: Platform) =>
  app
    .post("/api/v1/auth/email/start", ({ deps, body, request, server }) => deps.services.signin.start(body.email, mailBaseUrl(deps.config, request, server?.port)), {
      publicLimit: true,
      body: t.Object({ email }, { additionalProperties: false }),
      response: codeSent,
      detail: { tags: ["Sign-in"], summary: "Mail a 6-digit sign-in code", security: [] },
    })
    .post(
      "/api/v1/auth/email/verify",
      async ({ deps, body, request, set, caller }) => {
        // The answer sets a session cookie: another site must not sign a visitor's browser in to the attacker's
        // account (login CSRF), where what they save next — a BYOK key, secrets — would land.
        refuseCrossSite(deps.config, request, "Cross-site sign-in refused: sign in on this server's own page");
        const out = await deps.services.signin.verify(body.email, body.code, caller);
        set.headers["set-cookie"] = sessionCookie(deps.config, request, encodeURIComponent(out.token), SESSION_TTL_MS / 1000);
        return out;
      },
      {
        publicLimit: true,
        body: t.Object({ email, code: t.String({ minLength: 1, maxLength: 20 }) }, { additionalProperties: false }),
        response: signedIn,
        detail: { tags: ["Sign-in"], summary: "Exchange the code for a session token (and cookie)", security: [] },
      },
    )
    .post(
      "/api/v1/auth/logout",
      ({ ctx, deps, request, set }) => {
        const token = request.headers.get("x-auth-token") ?? /(?:^|;\s*)clanker_session=([^;]+)/.exec(request.headers.get("cookie") ?? "")?.[1] ?? null;
        set.headers["set-cookie"] = sessionCookie(deps.config, request, "", 0);
        return deps.services.signin.logout(ctx, token && safeDecode(token));
      },
      { body: noBody, auth: true, response: signedOut, detail: { tags: ["Sign-in"], summary: "End this session" } },
    )
    .post("/api/v1/activate", ({ deps, request }) => deps.services.device.start(baseUrl(deps.config, request)), {
      publicLimit: true,
      body: noBody,
      response: activation,
      detail: { tags: ["Device activation"], summary: "Request a device activation code", security: [] },
    })
    .post("/api/v1/activate/poll", ({ deps, body, caller }) => deps.services.device.poll(body.code, caller), {
      publicLimit: true,
      body: t.Object({ code: t.String({ minLength: 1, maxLength: 20 }) }, { additionalProperties: false }),
      response: activationPoll,
      detail: { tags: ["Device activation"], summary: "Poll for the API key after the person approves", security: [] },
    })
    .post("/api/v1/activate/confirm", ({ ctx, deps, body }) => deps.services.device.confirm(ctx, body.code), {
      auth: true,
      body: t.Object({ code: t.String({ minLength: 1, maxLength: 20 }) }, { additionalProperties: false }),
      response: t.Object({ status: t.Literal("approved"), workspaceId: t.String() }),
      detail: { tags: ["Device activation"], summary: "Approve an activation code (session)" },
    })
    .post("/api/v1/activate/deny", ({ ctx, deps, body }) => deps.services.device.deny(ctx, body.code), {
      auth: true,
      body: t.Object({ code: t.String({ minLength: 1, maxLength: 20 }) }, { additionalProperties: false }),
      response: t.Object({ status: t.Literal("denied") }),
      detail: { tags: ["Device activation"], summary: "Deny an activation code you did not start (session): its device's poll answers access_denied" },
    })
    .post(
      "/agent/auth",
      async ({ deps, body, request, server, set, caller }) => {
        if (body.type === "anonymous") {
          // Keys on demand are cheap to ask for: a tighter per-address budget for anonymous ones.
          Object.assign(set.headers, rateHeaders(await deps.limiter.hit(`agent-register:${caller.ip}`, 10)));
        }
        return deps.services.agents.register(body, baseUrl(deps.config, request), mailBaseUrl(deps.config, request, server?.port), caller);
      },
      {
        publicLimit: true,
        body: t.Object(
          {
            type: t.Union([t.Literal("anonymous"), t.Literal("identity_assertion")]),
            assertion_type: t.Optional(t.Union([t.Literal("email"), t.Literal("verified_email")])),
            email: t.Optional(email),
            assertion: t.Optional(email),
          },
          { additionalProperties: false },
        ),
        response: agentRegistered,
        detail: { tags: ["Agent auth"], summary: "Register an agent (auth.md)", security: [] },
      },
    )
    .post("/agent/auth/claim", ({ deps, body, request, server }) => deps.services.agents.claim(body, baseUrl(deps.config, request), mailBaseUrl(deps.config, request, server?.port)), {
      publicLimit: true,
      body: t.Object({ claim_token: t.String({ minLength: 1, maxLength: 200 }), email: t.Optional(email) }, { additionalProperties: false }),
      response: claimCodeSent,
      detail: { tags: ["Agent auth"], summary: "Mail a claim code to the person adopting an agent", security: [] },
    })
    .post("/agent/auth/claim/complete", ({ deps, body, caller }) => deps.services.agents.complete({ claim_token: body.claim_token, otp: body.otp ?? body.code ?? "" }, caller), {
      publicLimit: true,
      body: t.Object(
        { claim_token: t.String({ minLength: 1, maxLength: 200 }), otp: t.Optional(t.String({ maxLength: 20 })), code: t.Optional(t.String({ maxLength: 20 })) },
        { additionalProperties: false },
      ),
      response: agentClaimed,
      detail: { tags: ["Agent auth"], summary: "Complete a claim with the mailed code", security: [] },
    })
    // Generated from what this server serves (catalog, MCP tools, pages, settings): see web/agent-docs.ts.
    .get("/skill.md", async ({ deps, request, set }) => markdown(set, await renderSkillMd(baseUrl(deps.config, request), deps.config, deps.services)), { detail: { hide: true } })
    .get("/auth.md", ({ deps, request, set }) => markdown(set, renderAuthMd(baseUrl(deps.config, request), deps.config.signin.anonymousAgents, deps.config.signin.devicePollIntervalSeconds)), { detail: { hide: true } })
    .get("/activate", ({ set, request }) => htmlPage(set, activatePage(hasSession(request))), { detail: { hide: true } })
    .post("/api/v1/workspaces/:id/invitations", ({ ctx, deps, params, body, request, server }) => deps.services.invitations.invite(ctx, params.id, { email: body.email, role: body.role ?? "member" }, mailBaseUrl(deps.config, request, server?.port)), {
      auth: true,
      params: t.Object({ id: t.String({ maxLength: 100 }) }),
      body: t.Object({ email, role: t.Optional(t.Union([t.Literal("admin"), t.Literal("member")])) }, { additionalProperties: false }),
      response: invitationSchema,
      detail: { tags: ["Workspaces"], summary: "Invite a member (owners and admins)" },
    })
    // The token in a body, never a URL (a query string is logged and kept in history): POST for a read, as accept.
    .post("/api/v1/invitations/preview", ({ ctx, deps, body }) => deps.services.invitations.preview(ctx, body.token), {
      auth: true,
      body: invitationToken,
      response: t.Composite([invitationSchema, t.Object({ workspace: t.Object({ id: t.String(), name: t.String() }), invitedBy: t.Nullable(t.Object({ name: t.Nullable(t.String()), email: t.Nullable(t.String()) })) })]),
      detail: { tags: ["Workspaces"], summary: "What an invitation offers (signed in as the invited address): the workspace, the role and who sent it, to read before accepting; changes nothing" },
    })
    .post("/api/v1/invitations/accept", ({ ctx, deps, body }) => deps.services.invitations.accept(ctx, body.token), {
      auth: true,
      body: invitationToken,
      response: workspaceSchema,
      detail: { tags: ["Workspaces"], summary: "Accept an invitation (signed in as the invited address): the workspace joined, with the role held" },
    });
