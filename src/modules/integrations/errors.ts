// The typed failures of an integration's provider (INTEGRATION_AUTH_FAILED / _RATE_LIMITED / INTEGRATION_ERROR),
// each carrying the provider's own reason, so REST, MCP and workflow steps report them the same way.
import { ApiError } from "../../lib/errors";

/** The provider refused the stored or offered credentials: reconnect. A 400, not a 401: our caller's own key is fine. */
export const integrationAuthFailed = (name: string, reason: string) =>
  new ApiError("invalid_request_error", `${name} refused the credentials (${reason}); connect the integration again`, { code: "INTEGRATION_AUTH_FAILED" });

/** The provider asked us to slow down; retry-after is its own. */
export const integrationRateLimited = (name: string, retryAfterSeconds: number) =>
  new ApiError("rate_limit_error", `${name} is rate limiting this workspace; retry in ${retryAfterSeconds} s`, {
    code: "INTEGRATION_RATE_LIMITED",
    headers: { "retry-after": String(retryAfterSeconds) },
  });

/** An HTTP Retry-After (seconds, or a date) in whole seconds, 1 to a day; `fallback` when absent or unreadable. */
export function retryAfterSeconds(header: string | null, fallback = 30, now = Date.now()): number {
  if (header === null) return fallback;
  const seconds = /^\s*\d+\s*$/.test(header) ? Number(header) : (Date.parse(header) - now) / 1000;
  return Number.isFinite(seconds) ? Math.min(86_400, Math.max(1, Math.ceil(seconds))) : fallback;
}

/**
 * Any other failure: a 400 when the provider answered and refused (its reason says why: channel_not_found…),
 * a 503 when it could not be reached or failed on its side, so a retry may help.
 */
export const integrationError = (name: string, reason: string, unreachable = false) =>
  new ApiError(unreachable ? "overloaded_error" : "invalid_request_error", `${name}: ${reason}`, { code: "INTEGRATION_ERROR" });

/** Errors that say a request went out and no answer came: the other side may have acted on it. */
const NO_ANSWER = new Set(["ETIMEDOUT", "ESOCKETTIMEDOUT", "ECONNRESET", "ECONNABORTED", "EPIPE", "ETIMEOUT"]);

/**
 * `error`, marked as having maybe acted when its `cause` is a request that went out unanswered (a timeout, a
 * connection cut): stored under an idempotency key so a retry does not act twice (see RunOptions). A refusal, or a
 * server that could not be reached at all, acted on nothing: a retry under the key tries again.
 */
export function mayHaveActed(error: ApiError, cause: unknown): ApiError {
  for (let e = cause as { name?: unknown; code?: unknown; cause?: unknown; original?: unknown } | undefined, depth = 0; e && depth < 3; depth++) {
    if (e.name === "TimeoutError" || (typeof e.code === "string" && NO_ANSWER.has(e.code))) return Object.assign(error, { acted: true });
    e = (e.cause ?? e.original) as typeof e;
  }
  return error;
}
