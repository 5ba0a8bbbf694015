// The Elysia instance every route module extends: request ids, API versions, body limits, typed errors,
// and the `auth` / `publicLimit` macros (authentication and rate limiting run before validation, so an
// anonymous request with a bad body is a 401, not a 400).
import { Elysia } from "elysia";
import { FormatRegistry } from "@sinclair/typebox";
import type { Config } from "../config";
import type { Store } from "../store/db";
import type { Caller, Ctx } from "../lib/context";
import { ApiError, describeError, InvalidRequestError, PermissionError, RequestTooLargeError } from "../lib/errors";
import { readFormOrJsonBody, readJsonBody, readMultipartBody, readSignedJsonBody, throwIfBadBody } from "./body";
import { nextRequestId, pathOf, REQUEST_ID_RE, validVersion } from "./request-parts";
import type { Services } from "../services";
import { Authenticator, type Principal } from "./auth";
import { BEARER_RE, credentialOf } from "./credential";
import { internalErrorBody, toApiError } from "./errors";
import type { Idempotency } from "./idempotency";
import type { McpSessions } from "../mcp/http";
import { rateHeaders, type RateLimiter } from "./rate-limit";
import type { Log } from "../lib/log";
import type { Metrics } from "./metrics";
import type { RouteLatency } from "./route-latency";
import { htmlPage } from "./html-page";
import { notFoundPage } from "../web/oauth-result";
import { baseUrl, mailLinkWarning, refuseCrossSite, refuseForeignHost } from "./origin";
import { oauthErrorOf } from "../modules/signin/oauth";
import { unsignedRefusal } from "../modules/triggers/inbound";
import { forwardedClient } from "../lib/proxies";

export const API_VERSION = "2025-01-01";

// A number in a query or path is decimal digits, as people write it. Elysia's own formats took whatever Number() reads:
// limit=0x3, 0b11, 1e1, +5, " 5" were all 3, 3, 10, 5, 5 (and a blank one 0, refused without naming the parameter).
FormatRegistry.Set("integer", (v) => /^-?\d+$/.test(v));
FormatRegistry.Set("numeric", (v) => /^-?\d+(\.\d+)?$/.test(v));

export interface PlatformDeps {
  config: Config;
  /** What /healthz asks: whether the store can keep what it commits. */
  store: Pick<Store, "problem">;
  services: Services;
  authenticator: Authenticator;
  limiter: RateLimiter;
  idempotency: Idempotency;
  mcp: McpSessions;
  log: Log;
  /** Counted on every request; `metrics`, the registry /metrics renders it from, is made by the first scrape. */
  latency: RouteLatency;
  metrics: Metrics;
}

/** Routes that verify an HMAC over the exact body bytes: JSON only, read as a SignedJsonBody (bytes and value). */
const RAW_BODY_ROUTES = new Set(["/hooks/:triggerId"]);
/** OAuth's token endpoint: its clients post forms (RFC 6749), the one route that reads one. */
const OAUTH_TOKEN_ROUTE = "/oauth/token";
/** JSON-RPC takes a batch (an array) as well as one message; every other JSON body is an object. */
const JSON_RPC_ROUTES = new Set(["/mcp", "/mcp/messages"]);
/** The most a post of cancels (a batch of them included) needs: each is ~100 bytes. */
const CANCELS_MOST_BYTES = 16 * 1024;
/**
 * An MCP client withdrawing calls (`notifications/cancelled`, alone or in a batch): not counted against the rate limit,
 * or a client that had spent it could not stop a run, which went on and was charged.
 */
const onlyCancels = (body: unknown): boolean => {
  const isCancel = (m: unknown) => (m as { method?: unknown } | null)?.method === "notifications/cancelled" && !("id" in (m as object));
  return Array.isArray(body) ? body.length > 0 && body.every(isCancel) : isCancel(body);
};
/** Media types are case-insensitive (RFC 9110): "Multipart/Form-Data" is a form too. */
const MULTIPART_RE = /^multipart\/form-data/i;
/** Where every error answers in OAuth's shape (RFC 6749 §5.2, RFC 7591 §3.2.2), ours too (a 429, a 413). */
const OAUTH_ENDPOINTS = new Set([OAUTH_TOKEN_ROUTE, "/oauth/register"]);

// Per-request state kept on Elysia's context object (the same object through every hook of a request), not
// in WeakMaps keyed by the Request: a WeakMap entry per request cost more than the lookup it saved.
const STARTED = Symbol("started");
const PRINCIPAL = Symbol("principal");
const REFUSED = Symbol("refused");
const CLIENT_IP = Symbol("clientIp");
type Stash = { [STARTED]?: number; [PRINCIPAL]?: Principal; [REFUSED]?: unknown; [CLIENT_IP]?: string };
type AuthStep = { request: Request; set: { headers: Record<string, string | number> } };
/** The headers rateHeaders() would build, set in place: no object per request on the hot path. */
function countRate(v: { limit: number; remaining: number; reset: number }, set: AuthStep["set"]): void {
  const h = set.headers;
  h["x-ratelimit-limit"] = String(v.limit);
  h["x-ratelimit-remaining"] = String(v.remaining);
  h["x-ratelimit-reset"] = String(v.reset);
}
/** The body of a request refused before it was read (the transform throws before anything sees it). */
const UNREAD = Object.freeze({});
/** The web app's budget as a multiple of CLANKER_RATE_LIMIT_PER_MINUTE (see count). */
const WEB_RATE_FACTOR = 3;

/**
 * Public routes that refuse a cross-site post themselves, with a page a person reads (an OAuth callback's
 * confirmation form), rather than with publicLimit's JSON refusal.
 */
export const OWN_ORIGIN_CHECK = new Set<string>();

/** Our body parsers (one per app), so the OpenAPI document can tell them from any other parse hook. */
const bodyParsers = new WeakSet<object>();
const markBodyParser = <F extends object>(fn: F): F => (bodyParsers.add(fn), fn);
export const isBodyParser = (fn: unknown): boolean => typeof fn === "function" && bodyParsers.has(fn);

export function createPlatform(deps: PlatformDeps) {
  const { config, limiter, authenticator } = deps;

  // normalize: false, so a body with a field the schema does not allow is a 400 naming it, not silently trimmed.
  // systemRouter: false: Elysia routes in JS, as it does for app.handle(). Handing every route to Bun.serve's own
  // router cost ~2 ms of serve's first 200 (test/bench/cold-start.ts, side by side), for no gain per request (ab.ts).
  const platform = new Elysia({ name: "platform", normalize: false, systemRouter: false });
  // The Bun server the app listens on (null before listen, and for app.handle() in tests). Read here, not from
  // the hooks' context: a hook that names `server` makes Elysia define a getter on every request's context.
  const peerIp = (request: Request): string => platform.server?.requestIP(request)?.address ?? "unknown";
  // Behind a proxy every request comes from its address: the one it forwards for is the client (the rate limits, the
  // audit rows). Only a proxy named in CLANKER_TRUSTED_PROXIES is believed; without one the header is never read.
  const behindProxy = config.trustedProxies.length > 0 ? forwardedClient(config.trustedProxies) : null;
  const clientIp = behindProxy === null ? peerIp : (request: Request): string => behindProxy(peerIp(request), request.headers.get("x-forwarded-for"));

  // Synchronous with the in-process limiter (the default's hot path); a promise with Redis (REDIS_URL).
  const limitIp = (request: Request, set: { headers: Record<string, string | number> }, ip = clientIp(request)): void | Promise<void> => {
    const v = limiter.hit(`ip:${ip}`, config.publicRateLimitPerMinute);
    if (v instanceof Promise) return v.then((verdict) => void Object.assign(set.headers, rateHeaders(verdict)));
    Object.assign(set.headers, rateHeaders(v));
  };

  // Who is calling, before the body is read: the principal (its rate limit counted), or the 401, 403 or 429 thrown. A
  // route with `auth` runs it in the parse hook: a body is read only for a caller who may send it (an anonymous 4.7 MB
  // one cost ~200 ms before its 401). Hooks hand it fields, never the context: Elysia reads hooks' source for the parts
  // they use, and one passing the context on has every part built for every request (GET: -20 %/tick, ab.ts).
  const authenticate = (request: Request, set: AuthStep["set"], uncounted = false): Principal | Promise<Principal> => {
    let cred: ReturnType<typeof credentialOf>;
    let p: Principal | Promise<Principal>;
    try {
      cred = credentialOf(request);
      p = authenticator.fromRequest(request, cred);
    } catch (e) {
      return refuse(request, set, e);
    }
    // A cached key answers at once: no promise on the hot path (two async frames cost the GET ~3 %, ab.ts).
    if (p instanceof Promise) return p.then((principal) => admit(principal, cred, request, set, uncounted), (e: unknown) => refuse(request, set, e));
    return admit(p, cred, request, set, uncounted);
  };
  // Failed sign-ins count against the client's address, so keys cannot be guessed at speed.
  const refuse = async (request: Request, set: AuthStep["set"], e: unknown): Promise<never> => {
    await limitIp(request, set);
    throw e;
  };
  const admit = (principal: Principal, cred: ReturnType<typeof credentialOf>, request: Request, set: AuthStep["set"], uncounted: boolean): Principal | Promise<Principal> => {
    // A cookie rides along on cross-site requests: a mutation authenticated by one must come from our own pages.
    if (cred && "viaCookie" in cred && cred.viaCookie && request.method !== "GET" && request.method !== "HEAD") {
      try {
        refuseCrossSite(config, request);
      } catch (e) {
        return refuse(request, set, e);
      }
    }
    return uncounted ? principal : count(principal, set, cred !== null && "viaCookie" in cred && cred.viaCookie === true);
  };
  /**
   * Counts the request against the principal's budget: its headers set, or the 429 thrown. The web app's requests (the
   * session cookie) may take that budget three times as far: each page a person opens makes several requests, and at
   * the API's limit one browsing briskly met 429s and half-empty pages within a minute. One budget all the same: what
   * the pages spent, the same person's API calls cannot spend again.
   */
  const count = (principal: Principal, set: AuthStep["set"], web = false): Principal | Promise<Principal> => {
    const limit = principal.actor.kind === "agent" ? config.signin.anonymousRateLimitPerMinute : web ? WEB_RATE_FACTOR * config.rateLimitPerMinute : config.rateLimitPerMinute;
    const hit = limiter.hit(principal.rateKey, limit);
    if (hit instanceof Promise) return hit.then((v) => (countRate(v, set), principal));
    countRate(hit, set);
    return principal;
  };
  /**
   * Small JSON-RPC is counted against the rate limit once its body says what it is (see onlyCancels); a larger one (or
   * one of no declared length) first, as every body is, so a caller past its limit has none read. Kept out of the parse
   * hook's source, which Elysia reads to see what every request needs built: there, a name ending in "c" before a ")"
   * (`f(…, rpc)`) read as the context `c` passed on, and "return c…" as the query read, and the GET cost 20 % more.
   */
  const countsAfterReading = (route: string, request: Request): boolean =>
    JSON_RPC_ROUTES.has(route) && Number(request.headers.get("content-length") ?? Infinity) <= CANCELS_MOST_BYTES;
  const countOnceRead = (principal: Principal, reading: unknown, set: AuthStep["set"], refused: (e: unknown) => unknown) =>
    Promise.resolve(reading).then((body) => {
      if (onlyCancels(body)) return body;
      try {
        const verdict = count(principal, set);
        return verdict instanceof Promise ? verdict.then(() => body, refused) : body;
      } catch (e) {
        return refused(e);
      }
    });
  // The auth macro's transform, and by its identity how the parse hook knows a route takes `auth`.
  const authTransform = (c: AuthStep & { body: unknown }): void | Promise<void> => {
    if ((c as Stash)[REFUSED] !== undefined) throw (c as Stash)[REFUSED];
    if ((c as Stash)[PRINCIPAL] === undefined) {
      const p = authenticate(c.request, c.set);
      if (p instanceof Promise)
        return p.then((principal) => {
          (c as Stash)[PRINCIPAL] = principal;
          throwIfBadBody(c.body);
        });
      (c as Stash)[PRINCIPAL] = p;
    }
    throwIfBadBody(c.body);
  };
  // "METHOD /route" of every route with `auth` (its transform hooks hold authTransform), gathered by the first body read.
  let authRoutes: Set<string> | undefined;
  const isAuth = (h: unknown) => h === authTransform || (h as { fn?: unknown } | undefined)?.fn === authTransform;
  const takesAuth = (method: string, route: string) => (authRoutes ??= new Set(platform.routes.filter((r) => [r.hooks?.transform ?? []].flat().some(isAuth)).map((r) => `${r.method} ${r.path}`))).has(`${method} ${route}`);

  const warning = mailLinkWarning(config);
  if (warning) deps.log.warn(warning);

  return platform
    .decorate("deps", deps)
    // Every answer's fixed headers, which Elysia copies into each request's headers before any hook runs (one
    // Object.assign of a constant, cheaper than setting them one by one in onRequest):
    // - nothing we answer is meant to be framed or to run scripts; HTML pages widen the policy for themselves;
    // - a person's data is kept by no cache: after signing out, Back must not show it again from the browser's
    //   (what may be kept, the app's and the docs' assets, says so itself);
    // - the version that shapes the answer, there before anything can refuse the request. This server speaks one
    //   version: an earlier date is answered in it (and says so), a later one is a version it does not know.
    .headers({ "x-frame-options": "DENY", "content-security-policy": NO_CONTENT_CSP, "cache-control": "no-store", "clanker-version": API_VERSION })
    .onRequest((c) => {
      const { request, set } = c;
      (c as Stash)[STARTED] = performance.now();
      const incoming = request.headers.get("x-request-id");
      set.headers["x-request-id"] = incoming && REQUEST_ID_RE.test(incoming) ? incoming : nextRequestId();
      const version = request.headers.get("clanker-version");
      if (config.allowedHosts) refuseForeignHost(request, config.allowedHosts);
      if (version !== null && !validVersion(version)) throw new InvalidRequestError(`clanker-version must be a date like ${API_VERSION}, got '${version}'`, "clanker-version", "INVALID_VERSION");
      if (version !== null && version > API_VERSION)
        throw new InvalidRequestError(`clanker-version ${version} is newer than this server's API version, ${API_VERSION}: send ${API_VERSION} or leave the header out (a newer server speaks newer versions)`, "clanker-version", "INVALID_VERSION");
      const length = request.headers.get("content-length");
      if (length !== null && Number(length) > config.maxBodyBytes)
        throw new RequestTooLargeError(`Request body exceeds the ${config.maxBodyBytes}-byte limit`, "body");
    })
    // Any body that is not multipart is JSON, whatever the client called it (curl -d says form-urlencoded), except
    // OAuth's token endpoint, whose clients send real forms.
    // A bad body is not thrown here: parsing runs before authentication, and an anonymous caller must get
    // its 401 first. The macros throw it once the caller is known.
    // Multipart is read here too (not by Elysia), so it gets the same size and nesting bounds.
    // A signed route is checked first: its body is JSON whatever the content type claims, or refused.
    // The OpenAPI document cannot see through a parser function; src/http/openapi.ts maps this one (by identity)
    // back to application/json, so every route's body schema still reaches it.
    .onParse(
      markBodyParser((c: AuthStep & { contentType: string; route: string }) => {
        const read = () =>
          RAW_BODY_ROUTES.has(c.route)
            ? readSignedJsonBody(c.request, config.maxBodyBytes, c.contentType, unsignedRefusal)
            : c.route === OAUTH_TOKEN_ROUTE
              ? readFormOrJsonBody(c.request, config.maxBodyBytes, c.contentType)
            : MULTIPART_RE.test(c.contentType ?? "")
              ? readMultipartBody(c.request, config.maxBodyBytes)
              : readJsonBody(c.request, config.maxBodyBytes, c.contentType, !JSON_RPC_ROUTES.has(c.route));
        if (!takesAuth(c.request.method, c.route)) return read();
        // Refused: the body is left unread, and the transform throws the refusal.
        const refused = (e: unknown) => (((c as Stash)[REFUSED] = e), UNREAD);
        const deferCount = countsAfterReading(c.route, c.request);
        const admitted = (principal: Principal) => {
          (c as Stash)[PRINCIPAL] = principal;
          return deferCount ? countOnceRead(principal, read(), c.set, refused) : read();
        };
        let p: Principal | Promise<Principal>;
        try {
          p = authenticate(c.request, c.set, deferCount);
        } catch (e) {
          return refused(e);
        }
        return p instanceof Promise ? p.then(admitted, refused) : admitted(p);
      }),
    )
    .onError(async ({ code, error, request, set }) => {
      try {
        const err = toApiError(code, error, request);
        // The path only: a query string may carry a key (?apiKey= on /api/events), a device code or an OAuth code.
        const where = `${set.headers["x-request-id"]} ${request.method} ${pathOf(request.url)}`;
        // A bug with its stack; the store or a service unable to answer now (503) in one line with its causes: a
        // health probe of a degraded store wrote a stack every few seconds.
        if (err.type === "overloaded_error") deps.log.warn(`unavailable ${where}: ${describeError(error)}`, { requestId: set.headers["x-request-id"] });
        else if (err.status >= 500) deps.log.error(`error ${where}: ${(error as Error)?.stack ?? error}`, { requestId: set.headers["x-request-id"] });
        // Every /api/v1/ answer carries the rate-limit headers (the spec). One refused before its caller was known (an
        // unknown route, a bad version or Host, a body over the limit) counts against the client's address, as a
        // failed sign-in does; a 429 already carries the headers of the budget it exceeded.
        if (set.headers["x-ratelimit-limit"] === undefined && !err.headers?.["x-ratelimit-limit"] && pathOf(request.url).startsWith("/api/v1/")) {
          try {
            await limitIp(request, set);
          } catch (e) {
            return errorResponse(e as ApiError, set, request, config);
          }
        }
        if (code === "NOT_FOUND" && wantsPage(request)) {
          set.status = 404;
          return htmlPage(set, notFoundPage(pathOf(request.url)));
        }
        return errorResponse(err, set, request, config);
      } catch {
        // Mapping the failure failed as well (a stack overflow strikes anywhere): still the envelope, never
        // Bun's text/plain page.
        set.status = 500;
        return internalErrorBody();
      }
    })
    // One access-log line and one metrics sample per request, errors included. The route is the pattern
    // (/api/v1/executions/:id), never the raw path: ids would make every line and label unique.
    .onAfterResponse({ as: "global" }, (c) => {
      const { request, set, route, responseValue } = c;
      const t0 = (c as Stash)[STARTED];
      const ms = t0 === undefined ? 0 : performance.now() - t0;
      const status = responseValue instanceof Response ? responseValue.status : Number(set.status ?? 200) || 200;
      const pattern = route || "(unmatched)";
      deps.latency.observe(request.method, pattern, status, ms / 1000);
      deps.log.access(request.method, pattern, status, Math.round(ms * 10) / 10, String(set.headers["x-request-id"]));
    })
    // Hooks are arrow functions, never methods (`transform(c) {…}`): Elysia reads a hook's source to see what it
    // uses, and cannot read a minified method; the binary then logged "[Sucrose] warning…" (test/binary.test.ts).
    .macro({
      /** Requires an API key or session; `ctx` is the principal's workspace, actor and role. */
      auth: {
        transform: authTransform,
        resolve: (c) => {
          const { request, set } = c;
          const p = (c as Stash)[PRINCIPAL]!;
          // The client address is looked up only when something reads it (the audit log), once.
          let ip: string | undefined;
          const ctx: Ctx = {
            workspaceId: p.workspaceId,
            actor: p.actor,
            role: p.role,
            requestId: String(set.headers["x-request-id"]),
            get ip() {
              return (ip ??= clientIp(request));
            },
            userAgent: request.headers.get("user-agent"),
          };
          return { ctx };
        },
      },
      /** A public endpoint: no credentials, rate-limited per client IP. */
      publicLimit: {
        // Marks the route public in the OpenAPI document (no credentials needed).
        detail: { security: [] },
        transform: async (c) => {
          const { request, set, body, route } = c;
          // Looked up once: the rate limit's key, then the caller's ip (the audit row) in resolve.
          await limitIp(request, set, ((c as Stash)[CLIENT_IP] = clientIp(request)));
          // A page on another site (or a sandboxed frame, Origin: null) may post text/plain here without asking: mail
          // codes to anyone, register agents, spend an address's daily tries. Agents, CLIs and servers send no Origin.
          if (request.method !== "GET" && request.method !== "HEAD" && !OWN_ORIGIN_CHECK.has(route))
            refuseCrossSite(config, request, "Cross-site request refused: this endpoint is for this server's own pages and for programs (which send no Origin)");
          throwIfBadBody(body);
        },
        // The auth macro's ctx without a principal, its ip the one transform looked up. One literal of its own, as
        // composing the two (Object.assign onto the auth ctx's getter object) cost the authenticated GET 7 % per request.
        resolve: (c) => {
          const { request, set } = c;
          const caller: Caller = { requestId: String(set.headers["x-request-id"]), ip: (c as Stash)[CLIENT_IP], userAgent: request.headers.get("user-agent") };
          return { caller };
        },
      },
    });
}

const NO_CONTENT_CSP = "default-src 'none'; frame-ancestors 'none'";

/** A browser navigating to an address outside the API (which always answers JSON): it gets a page that says where to go. */
const API_PATH = /^\/(api|mcp|hooks|agent|\.well-known)(\/|$)|^\/openapi\.json$/;
const wantsPage = (request: Request): boolean => request.method === "GET" && (request.headers.get("accept") ?? "").includes("text/html") && !API_PATH.test(pathOf(request.url));

function errorResponse(err: ApiError, set: { status?: number | string; headers: Record<string, string | number> }, request: Request, config: Config) {
  set.status = err.status;
  if (err.headers) Object.assign(set.headers, err.headers);
  // Every 401 tells a keyless agent where to start (RFC 9728 protected-resource metadata); one that sent a key that
  // does not work (revoked, mistyped) also hears that the key is the problem (RFC 6750 §3.1).
  if (err.status === 401) {
    const bearer = request.headers.has("x-api-key") || BEARER_RE.test(request.headers.get("authorization") ?? "");
    set.headers["www-authenticate"] = `Bearer resource_metadata="${baseUrl(config, request)}/.well-known/oauth-protected-resource"${bearer ? ', error="invalid_token"' : ""}`;
  }
  const path = pathOf(request.url);
  // A JSON-RPC client reads a body that is not JSON as JSON-RPC's parse error, as the MCP SDK answers one that is not
  // a message (a caller not yet known still gets its 401 first: bodies are refused once it is).
  if (err.code === "INVALID_JSON" && JSON_RPC_ROUTES.has(path)) return { jsonrpc: "2.0", id: null, error: { code: -32700, message: `Parse error: ${err.message}` } };
  return OAUTH_ENDPOINTS.has(path) ? oauthErrorOf(err, path) : err.toBody();
}

export type Platform = ReturnType<typeof createPlatform>;
