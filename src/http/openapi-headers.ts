// The headers every /api/v1 answer carries (request id, version, rate limit) and those a client may send on any
// request, as components of the OpenAPI document: a client generated from it reads and sets them by name.
type Json = Record<string, any>;

const header = (description: string, schema: Json) => ({ description, schema });

export const RESPONSE_HEADERS: Json = {
  RequestId: header("This request's id (the one sent in x-request-id, when sane): quote it to the server's operator; it is in the server's log", { type: "string", example: "req_4F--e1-RfSjgg_WR" }),
  ClankerVersion: header("The API version this answer follows", { type: "string", example: "2025-01-01" }),
  RateLimitLimit: header("Requests allowed a minute for this caller", { type: "integer" }),
  RateLimitRemaining: header("Requests left in the current minute", { type: "integer" }),
  RateLimitReset: header("Seconds until the current minute's count starts again", { type: "integer" }),
  RetryAfter: header("Seconds to wait before trying again", { type: "integer" }),
  IdempotencyReplayed: header("`true` when this is the stored answer to an earlier request with the same idempotency-key", { type: "string", enum: ["true"] }),
};

export const REQUEST_HEADERS: Json = {
  ClankerVersion: { name: "clanker-version", in: "header", required: false, description: "The API version the client was written for (a date; later than this server's is 400 INVALID_VERSION)", schema: { type: "string", example: "2025-01-01" } },
  RequestId: { name: "x-request-id", in: "header", required: false, description: "Your id for this request (up to 200 visible characters), echoed back and logged", schema: { type: "string", maxLength: 200 } },
  WorkspaceId: { name: "x-workspace-id", in: "header", required: false, description: "With a session token: the workspace to act in (one of yours; an API key acts in the workspace it is bound to and ignores this)", schema: { type: "string", example: "ws_2" } },
};

const ref = (name: string) => ({ $ref: `#/components/headers/${name}` });

/** The headers of an /api/v1 answer; a 429 also says when to retry, an idempotent creation whether it was replayed. */
export function answerHeaders(status: string, idempotent: boolean): Json {
  return {
    "x-request-id": ref("RequestId"),
    "clanker-version": ref("ClankerVersion"),
    "x-ratelimit-limit": ref("RateLimitLimit"),
    "x-ratelimit-remaining": ref("RateLimitRemaining"),
    "x-ratelimit-reset": ref("RateLimitReset"),
    ...(status === "429" ? { "retry-after": ref("RetryAfter") } : {}),
    ...(idempotent && status.startsWith("2") ? { "idempotency-replayed": ref("IdempotencyReplayed") } : {}),
  };
}

/** The request headers every /api/v1 operation takes. */
export const requestHeaderRefs = (): Json[] => Object.keys(REQUEST_HEADERS).map((name) => ({ $ref: `#/components/parameters/${name}` }));
