// The OAuth callback routes, once for connectors and integrations: GET (where the provider sends the browser)
// shows a confirmation page naming the service, the workspace and who started; POST (same-origin only) finishes
// the flow. A person in a browser reads every answer, so each one is a page, never the JSON envelope.
import { t } from "elysia";
import { sessionCookieOf } from "../../http/credential";
import { OWN_ORIGIN_CHECK, type Platform, type PlatformDeps } from "../../http/platform";
import { baseUrl, refuseCrossSite } from "../../http/origin";
import { htmlPage } from "../../http/html-page";
import { ApiError, InvalidRequestError } from "../../lib/errors";
import type { Services } from "../../services";
import { oauthConfirmPage, oauthResultPage } from "../../web/oauth-result";
import type { OAuthCallbacks } from "./oauth-flow";

type Set = { status?: number | string; headers: Record<string, string | number> };

export interface CallbackRouteOptions {
  /** `/api/v1/connectors` or `/api/v1/integrations`; the callback is `${prefix}/:${param}/callback`. */
  prefix: string;
  param: string;
  tags: string[];
  callbacks: (services: Services) => OAuthCallbacks;
}

/** Runs a callback step; a refusal is a page saying why, and an unexpected failure is logged, then a page too. */
async function answerPage(deps: PlatformDeps, set: Set, service: string, step: () => string | Promise<string>): Promise<string> {
  try {
    return await step();
  } catch (e) {
    const err = e instanceof ApiError ? e : null;
    if (!err) deps.log(`error ${set.headers["x-request-id"]} OAuth callback (${service}) failed: ${(e as Error)?.stack ?? e}`);
    set.status = err?.status ?? 500;
    return htmlPage(set, oauthResultPage({ ok: false, service, problem: err?.message ?? "Something went wrong on the server." }));
  }
}

/** The person whose live session cookie this browser carries, if any. */
async function signedInUserId(deps: PlatformDeps, request: Request): Promise<number | null> {
  const token = sessionCookieOf(request);
  return token === null ? null : await deps.authenticator.sessionUserId(token);
}

export const oauthCallbackRoutes = (o: CallbackRouteOptions) => (app: Platform) => {
  const path = `${o.prefix}/:${o.param}/callback`;
  // Its confirmation refuses a cross-site post itself, with a page (below).
  OWN_ORIGIN_CHECK.add(path);
  const params = t.Object({ [o.param]: t.String({ maxLength: 50 }) });
  const idOf = (p: Record<string, string>) => p[o.param]!;
  const state = t.String({ maxLength: 512 });
  const code = t.String({ maxLength: 2000 });
  return app
    .get(
      path,
      ({ deps, params, query, request, set }) => {
        const id = idOf(params);
        const cb = o.callbacks(deps.services);
        const service = cb.serviceName(id);
        return answerPage(deps, set, service, async () => {
          if (query.error) throw new InvalidRequestError(`${service} did not grant access (${query.error})`, "error", "OAUTH_DENIED");
          if (!query.state) throw new InvalidRequestError("The callback carries no state", "state", "OAUTH_STATE_INVALID");
          if (!query.code) throw new InvalidRequestError("The callback carries no code (was access denied?)", "code");
          const p = await cb.pending(id, query.state, await signedInUserId(deps, request));
          const action = `${baseUrl(deps.config, request)}${o.prefix}/${encodeURIComponent(id)}/callback`;
          return htmlPage(set, oauthConfirmPage({ ...p, action, state: query.state, code: query.code }), { referrer: "same-origin" });
        });
      },
      {
        publicLimit: true,
        params,
        query: t.Object({ code: t.Optional(code), state: t.Optional(state), error: t.Optional(t.String({ maxLength: 200 })) }, { additionalProperties: true }),
        detail: { tags: o.tags, summary: "OAuth callback (the provider sends the browser here): a page naming the workspace and who started, to confirm" },
      },
    )
    .post(
      path,
      ({ deps, params, body, request, set, caller }) => {
        const id = idOf(params);
        const cb = o.callbacks(deps.services);
        const service = cb.serviceName(id);
        return answerPage(deps, set, service, async () => {
          refuseCrossSite(deps.config, request, "Cross-site confirmation refused: confirm on the page this server showed");
          if (!body?.state) throw new InvalidRequestError("The confirmation carries no state", "state", "OAUTH_STATE_INVALID");
          if (!body.code) throw new InvalidRequestError("The confirmation carries no code", "code");
          const r = await cb.complete(
            id,
            { state: body.state, code: body.code, signedInUserId: await signedInUserId(deps, request) },
            {
              baseUrl: baseUrl(deps.config, request),
              requestId: String(set.headers["x-request-id"]),
              ip: caller.ip ?? null,
              userAgent: request.headers.get("user-agent"),
            },
          );
          return htmlPage(set, oauthResultPage({ ok: true, service: r.service, account: r.account }));
        });
      },
      {
        publicLimit: true,
        params,
        body: t.Optional(t.Object({ state: t.Optional(state), code: t.Optional(code) }, { additionalProperties: true })),
        detail: { tags: o.tags, summary: "Confirms an OAuth callback (the confirmation page's form, same origin only): exchanges the code and connects" },
      },
    );
};
