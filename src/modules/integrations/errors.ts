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
