// The one error hierarchy: services throw these; REST and MCP each map them once.

export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "billing_error"
  | "permission_error"
  | "not_found_error"
  | "conflict_error"
  | "precondition_failed_error"
  | "request_too_large"
  | "rate_limit_error"
  | "api_error"
  | "overloaded_error";

export const STATUS_OF: Record<ErrorType, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  conflict_error: 409,
  precondition_failed_error: 412,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 503,
};

export interface ErrorBody {
  error: { type: ErrorType; message: string; code?: string; param?: string };
}

export class ApiError extends Error {
  readonly type: ErrorType;
  readonly code?: string;
  readonly param?: string;
  /** Extra response headers this error must carry (e.g. retry-after). */
  readonly headers?: Record<string, string>;

  constructor(
    type: ErrorType,
    message: string,
    opts: { code?: string; param?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.type = type;
    this.code = opts.code;
    this.param = opts.param;
    this.headers = opts.headers;
  }

  get status(): number {
    return STATUS_OF[this.type];
  }

  toBody(): ErrorBody {
    const error: ErrorBody["error"] = { type: this.type, message: this.message };
    if (this.code) error.code = this.code;
    if (this.param) error.param = this.param;
    return { error };
  }
}

export class InvalidRequestError extends ApiError {
  constructor(message: string, param?: string, code?: string) {
    // A refusal that names a parameter and no reason of its own is the one a route schema gives: a client switching on
    // error.code meets the same code whether the schema or the service found the value wrong.
    super("invalid_request_error", message, { param, code: code ?? (param ? "INVALID_PARAMETER" : undefined) });
  }
}

/** A value that breaks the shape a route or a definition expects: the same code as a route schema's refusal. */
export const invalidParameter = (message: string, param: string) => new InvalidRequestError(message, param, "INVALID_PARAMETER");

export class AuthenticationError extends ApiError {
  constructor(message: string, code?: string) {
    super("authentication_error", message, { code });
  }
}

export class BillingError extends ApiError {
  constructor(message: string, code?: string) {
    super("billing_error", message, { code });
  }
}

export class PermissionError extends ApiError {
  constructor(message: string, code?: string) {
    super("permission_error", message, { code });
  }
}

/**
 * The spec's typed shape carries a code: RESOURCE_NOT_FOUND for an object (the same for one that never was, was
 * deleted, or is another workspace's: none may tell them apart), ROUTE_NOT_FOUND for a path no route serves.
 */
export class NotFoundError extends ApiError {
  constructor(entity: string, id?: string | number, code = "RESOURCE_NOT_FOUND") {
    super("not_found_error", id === undefined ? `${entity} not found` : `No ${entity} found with id '${id}'`, { code });
  }
}

export class ConflictError extends ApiError {
  constructor(message: string, code?: string) {
    super("conflict_error", message, { code });
  }
}

export class PreconditionFailedError extends ApiError {
  constructor(message: string, code?: string) {
    super("precondition_failed_error", message, { code });
  }
}

export class OverloadedError extends ApiError {
  constructor(message: string, code?: string) {
    super("overloaded_error", message, { code });
  }
}

export class RequestTooLargeError extends ApiError {
  constructor(message: string, param?: string) {
    super("request_too_large", message, { param, code: "REQUEST_TOO_LARGE" });
  }
}

export class RateLimitError extends ApiError {
  constructor(message: string, retryAfterSeconds: number) {
    super("rate_limit_error", message, { code: "RATE_LIMITED", headers: { "retry-after": String(retryAfterSeconds) } });
  }
}

/**
 * A failure as a log line should say it: its message, then each cause's, with its code (a SQLSTATE, an errno). drizzle
 * wraps a driver's error as "Failed query: <statement>", so without the causes a log said which statement failed but
 * never why ("could not serialize access … (40001)"). drizzle's message also lists the statement's parameters: those
 * are left out, since they may be a user's input.
 */
export function describeError(err: unknown): string {
  const parts: string[] = [];
  for (let e = err, depth = 0; e !== undefined && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    let text = e instanceof Error ? e.message : String(e);
    const params = text.indexOf("\nparams:");
    if (params >= 0) text = text.slice(0, params);
    if (text.length > 300) text = `${text.slice(0, 300)}…`;
    const code = (e as { code?: unknown }).code;
    parts.push(typeof code === "string" || typeof code === "number" ? `${text} (${code})` : text);
  }
  return parts.join(": ");
}
