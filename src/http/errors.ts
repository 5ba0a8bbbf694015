// Maps every failure (ours, Elysia's validation and parsing, the unexpected) to the spec's typed error shape.
import type { ValidationError } from "elysia";
import { ApiError, InvalidRequestError, invalidParameter, NotFoundError } from "../lib/errors";

/** Elysia's error codes we translate; anything else is an unexpected 500. */
export function toApiError(code: string | number, error: unknown, request: Request): ApiError {
  if (error instanceof ApiError) return error;
  switch (code) {
    case "VALIDATION":
      // An answer that breaks its own route's schema is the server's bug, not the caller's: a 500, logged with it.
      if ((error as ValidationError).type === "response") return new ApiError("api_error", "Internal server error");
      return fromValidation(error as ValidationError, request);
    case "PARSE":
      return new InvalidRequestError("Malformed JSON in request body", "body", "INVALID_JSON");
    case "NOT_FOUND": {
      const url = new URL(request.url);
      const e = new NotFoundError("route", undefined, "ROUTE_NOT_FOUND");
      e.message = `Unknown route: ${request.method} ${url.pathname}`;
      return e;
    }
    case "INVALID_COOKIE_SIGNATURE":
      return new InvalidRequestError("Invalid cookie signature", "cookie");
  }
  return knownFailure(error) ?? new ApiError("api_error", "Internal server error");
}

/** A failure that is no bug here, as its typed error (a NUL in text, the store unable to write now), else null. */
export function knownFailure(error: unknown): ApiError | null {
  if (isNulRefusal(error)) return new InvalidRequestError("Text must not contain NUL (\\u0000) characters", undefined, "INVALID_TEXT");
  return storeUnavailable(error);
}

/** 503 STORE_UNAVAILABLE when the store cannot write or be reached now (a full disk…), else null: a bug is a 500. */
export function storeUnavailable(error: unknown): ApiError | null {
  const code = storeDownCode(error);
  if (code === null) return null;
  const why = code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED") ? "another process held its write lock throughout (a clanker command, sqlite3)" : "full disk, read-only or unreachable";
  return new ApiError("overloaded_error", `The database could not take this request now (${why}); nothing it wrote was saved. Retry it shortly; the server's log says why.`, { code: "STORE_UNAVAILABLE", headers: { "retry-after": "5" } });
}

/**
 * SQLite's and PostgreSQL's (and its driver's) words for "cannot write or reach the store now", not a bug here; and the
 * file system's for the data dir's files (artifacts, the outbox): full, over quota, read-only.
 */
const STORE_DOWN = /^(SQLITE_(FULL|IOERR|READONLY|BUSY|CANTOPEN|LOCKED)|ENOSPC|EDQUOT|EROFS|ECONNREFUSED|ECONNRESET|CONNECTION_(CLOSED|ENDED|DESTROYED)|CONNECT_TIMEOUT|57P0[1-3]|08\d{3}|53[1-3]00)/;

/** The code that says the store cannot take the request now (on the error or a cause of it), or null. */
function storeDownCode(error: unknown): string | null {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 3; e = e.cause as typeof e, depth++)
    if (typeof e.code === "string" && STORE_DOWN.test(e.code)) return e.code;
  return null;
}

/**
 * PostgreSQL's text cannot hold U+0000 (SQLite's can): the database refuses such a value with 22021 (or 22P05), which
 * is the caller's input, not our failure. drizzle wraps the driver's error, so look at the cause too.
 */
function isNulRefusal(error: unknown): boolean {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 3; e = e.cause as typeof e, depth++)
    if (e.code === "22021" || e.code === "22P05") return true;
  return false;
}

export const internalErrorBody = () => new ApiError("api_error", "Internal server error").toBody();

/** Bun.serve's error handler: whatever escapes Elysia (and its error hooks) still answers the JSON envelope. */
export function lastResortResponse(): Response {
  return new Response(JSON.stringify(internalErrorBody()), { status: 500, headers: { "content-type": "application/json" } });
}

function fromValidation(e: ValidationError, request: Request): ApiError {
  const first = e.all?.[0] as { path?: string; message?: string; summary?: string; schema?: unknown } | undefined;
  const where = e.type; // body | query | params | headers | property (a coerced query value)
  let param = first?.path ? first.path.replace(/^\//, "").replaceAll("/", ".") : "";
  if (!param && where === "property") param = queryParamHolding(request, (e as { value?: unknown }).value) ?? "query";
  if (!param) param = where === "property" ? "query" : where;
  const detail = (first?.message === "Expected union value" && (numberExpected(first.schema) || oneOfExpected(first.schema))) || (first?.message ?? "Invalid value");
  const label = where === "body" ? "body" : where === "property" ? "query" : where;
  const message = param === label ? `Invalid ${label}: ${detail}` : `Invalid ${label} parameter '${param}': ${detail}`;
  return invalidParameter(message, param);
}

// Elysia loses the name of a coerced query parameter that fails its bounds; find it by its value.
function queryParamHolding(request: Request, value: unknown): string | undefined {
  const qs = new URL(request.url).searchParams;
  // A number past 2^53 comes back rounded (99999999999999999999 as 1e20): compared as numbers too.
  for (const [k, v] of qs) if (v === String(value) || (typeof value === "number" && v.trim() !== "" && Number(v) === value)) return k;
  return undefined;
}

/** A union of literals (a status filter, an enum): the values it takes, rather than "Expected union value". */
function oneOfExpected(schema: unknown): string | null {
  const members = (schema as { anyOf?: { const?: unknown }[] } | undefined)?.anyOf ?? [];
  if (!members.length || members.some((m) => m.const === undefined)) return null;
  return `Expected one of ${members.map((m) => JSON.stringify(m.const)).join(", ")}`;
}

type NumberSchema = { type?: string; minimum?: number; maximum?: number };

/**
 * What a number in a query or path expects, said plainly: Elysia accepts it as a string or a number (a union) and,
 * given neither, says only "Expected union value".
 */
function numberExpected(schema: unknown): string | null {
  const n = ((schema as { anyOf?: NumberSchema[] } | undefined)?.anyOf ?? []).find((m) => m.type === "integer" || m.type === "number");
  if (!n) return null;
  const what = n.type === "integer" ? "an integer" : "a number";
  if (n.minimum !== undefined && n.maximum !== undefined) return `Expected ${what} from ${n.minimum} to ${n.maximum}`;
  if (n.minimum !== undefined) return `Expected ${what} of at least ${n.minimum}`;
  if (n.maximum !== undefined) return `Expected ${what} of at most ${n.maximum}`;
  return `Expected ${what}`;
}
