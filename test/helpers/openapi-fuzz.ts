// The OpenAPI fuzz kit for test/fuzz.test.ts: the operations of /openapi.json, a printable request model (huge
// strings stay `{ $huge, times }` so a counterexample prints short), sending one request, and the check every
// answer must pass. The generators live in fuzz-arbitraries.ts.
import { STATUS_OF, type ErrorType } from "../../src/lib/errors";

export interface Operation {
  method: string;
  /** OpenAPI form, e.g. /api/v1/executions/{id}/status */
  path: string;
  pathParams: string[];
  queryParams: string[];
  /** Declares a request body, or is a POST/PUT/PATCH (whose body the parser reads anyway). */
  takesBody: boolean;
  /** The JSON schema of its request body, as the document gives it. */
  bodySchema?: Record<string, any>;
  /** The statuses the document lists for it (empty: not in the document). */
  statuses: string[];
  label: string;
}

export function operationsOf(doc: { paths: Record<string, Record<string, any>> }): Operation[] {
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(methods)) {
      const method = m.toUpperCase();
      const params: { in: string; name: string }[] = op.parameters ?? [];
      ops.push({
        method,
        path,
        pathParams: params.filter((p) => p.in === "path").map((p) => p.name),
        queryParams: params.filter((p) => p.in === "query").map((p) => p.name),
        takesBody: Boolean(op.requestBody) || ["POST", "PUT", "PATCH"].includes(method),
        bodySchema: op.requestBody?.content?.["application/json"]?.schema,
        statuses: Object.keys(op.responses ?? {}),
        label: `${method} ${path}`,
      });
    }
  }
  return ops;
}

/** A string, or a long repetition (after an optional prefix) kept short for printing. */
export type Piece = string | { $huge: string; times: number; prefix?: string };
export const expand = (p: Piece): string => (typeof p === "string" ? p : (p.prefix ?? "") + p.$huge.repeat(p.times));
/** Percent-encodes text that may hold lone surrogates (which encodeURIComponent refuses). */
const enc = (p: Piece): string => encodeURIComponent(expand(p).toWellFormed());

/** `enc` is percent-encoded into the path; `raw` goes in as is (malformed escapes like %ZZ). */
export type PathValue = { enc: Piece; foreign?: true } | { raw: string };

export type Body =
  | { kind: "none" }
  | { kind: "json"; value: unknown }
  | { kind: "text"; text: Piece }
  | { kind: "bytes"; bytes: number[] }
  /** `depth` levels of [ or {"a": — optionally as the value of `field` inside an object. */
  | { kind: "deep"; depth: number; open: "[" | '{"a":'; field?: string };

export interface RequestSpec {
  path: Record<string, PathValue>;
  query: [Piece, Piece][] | { raw: string };
  /** Credentials and odd headers alike; a null value means the header is absent. */
  headers: Record<string, Piece | null>;
  body: Body;
  contentType: string | null;
}

export interface Answer {
  status: number;
  contentType: string;
  text: string;
  ms: number;
}

/**
 * Where a generated value could reach the network, it is one of these: loopback targets (port 9, where nothing
 * listens) or junk that fails URL parsing or the scheme check. Nothing that would need DNS beyond /etc/hosts.
 */
export const SAFE_URLS = [
  "http://127.0.0.1:9/hook",
  "http://[::1]:9/hook",
  "http://localhost:9/hook",
  "http://[::ffff:7f00:1]:9/hook",
  "http://[::ffff:127.0.0.1]:9/hook",
  "http://0x7f000001:9/",
  "http://user:pw@127.0.0.1:9/",
  "ftp://127.0.0.1/x",
  "javascript:alert(1)",
  "http://",
  "http://[::1",
  "//127.0.0.1:9/",
  "not a url",
  "",
];
const SAFE = new Set(SAFE_URLS);

/**
 * The outbound guard: any string holding "//" or any value under a URL-ish key that is not in SAFE_URLS becomes
 * SAFE_URLS[0], whatever generated it. Applied to every JSON body before it is sent.
 */
export function sanitize(v: unknown, key = ""): unknown {
  const urlish = /url|uri|href|host|endpoint|webhook|callback/i.test(key);
  // " http:host/a b" and "http:\\host" parse as URLs too: anything that starts like a scheme is replaced.
  if (typeof v === "string") return (urlish || v.includes("//") || /^[\x00-\x20]*[a-z][a-z0-9+.-]*:/i.test(v)) && !SAFE.has(v) ? SAFE_URLS[0] : v;
  if (Array.isArray(v)) return v.map((x) => sanitize(x, key));
  if (v && typeof v === "object") {
    if ("$huge" in v) return urlish ? SAFE_URLS[0] : v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: sanitize(x, k), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return v;
}

const stringify = (v: unknown): string =>
  JSON.stringify(v, (_k, x) => (x && typeof x === "object" && "$huge" in x && typeof x.$huge === "string" ? x.$huge.repeat(x.times) : x));

function bodyBytes(b: Body): string | Uint8Array | undefined {
  switch (b.kind) {
    case "none":
      return undefined;
    case "json":
      return stringify(sanitize(b.value));
    case "text":
      return expand(b.text);
    case "bytes":
      return new Uint8Array(b.bytes);
    case "deep": {
      const close = b.open === "[" ? "]" : "}";
      const inner = b.open.repeat(b.depth) + (b.open === "[" ? "" : "1") + close.repeat(b.depth);
      return b.field === undefined ? inner : `{${JSON.stringify(b.field)}:${inner}}`;
    }
  }
}

export function urlOf(base: string, op: Operation, spec: RequestSpec): string {
  const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const v = spec.path[name];
    if (!v) throw new Error(`no value for path param ${name} of ${op.label}`);
    return "raw" in v ? v.raw : enc(v.enc);
  });
  const q = spec.query;
  const qs = Array.isArray(q) ? q.map(([k, v]) => `${enc(k)}=${enc(v)}`).join("&") : q.raw;
  return base + path + (qs ? `?${qs}` : "");
}

/**
 * Bytes of the request line and headers. Bun's HTTP parser answers 431 with no body past 16 KiB of head, before
 * the app runs; the suite keeps requests under that (fc.pre), since no route of ours can change it.
 */
export function headBytes(op: Operation, spec: RequestSpec): number {
  let n = op.method.length + urlOf("", op, spec).length + 200;
  for (const [k, v] of Object.entries(spec.headers)) if (v !== null) n += k.length + Buffer.byteLength(expand(v)) + 4;
  return n + (spec.contentType?.length ?? 0);
}
export const MAX_HEAD_BYTES = 15_000;

/** Sends one request; an event stream is cut after its headers (only the status and type matter). */
export async function send(base: string, op: Operation, spec: RequestSpec): Promise<Answer> {
  const headers = new Headers();
  for (const [k, v] of Object.entries(spec.headers)) if (v !== null) headers.set(k, expand(v));
  if (spec.contentType !== null) headers.set("content-type", spec.contentType);
  const body = op.method === "GET" || op.method === "HEAD" ? undefined : bodyBytes(spec.body);
  const t0 = performance.now();
  const res = await fetch(urlOf(base, op, spec), { method: op.method, headers, body, signal: AbortSignal.timeout(20_000) });
  const contentType = res.headers.get("content-type") ?? "";
  let text = "";
  if (contentType.startsWith("text/event-stream")) await res.body?.cancel();
  else text = await res.text();
  return { status: res.status, contentType, text, ms: Math.round(performance.now() - t0) };
}

// "//mcp" reaches the MCP endpoint too (the router folds repeated slashes).
const isMcp = (op: Operation) => /^\/+mcp(\/|$)/.test(op.path);
// Where a person's browser lands after an OAuth approval (and its confirmation post): a refusal is a page saying what to do, not JSON.
const isOAuthCallback = (op: Operation) => op.path.endsWith("/callback");

/**
 * Why an answer breaks the contract, or null. No 5xx ever. A non-2xx answer (204 and 3xx carry no body) is
 * application/json with `{error:{type,message}}` whose type has that status in STATUS_OF. One exception: the
 * MCP endpoints may answer a JSON-RPC error object (`{jsonrpc:"2.0",error:{code,message}}`), because MCP
 * clients parse transport failures in that shape (the MCP spec and SDK answer so); their auth failures, which
 * come before MCP, are still the envelope. And the OAuth callbacks, which a browser opens, answer refusals as an
 * HTML page (still never a 5xx). Every status is one the document lists for the operation. Event streams are 2xx answers and never reach this check's body part.
 */
export function problemWith(op: Operation, a: Answer): string | null {
  if (a.status >= 500) return `answered ${a.status}`;
  // What the document promises a client generator: every status an operation answers is one it lists.
  if (op.statuses.length && !op.statuses.includes(String(a.status))) return `answered ${a.status}, which /openapi.json does not list for it (${op.statuses.join(", ")})`;
  if (a.status < 400) return null;
  if (isOAuthCallback(op) && a.contentType.startsWith("text/html")) return null;
  if (!a.contentType.startsWith("application/json")) return `answered ${a.status} as '${a.contentType}', not application/json`;
  let body: any;
  try {
    body = JSON.parse(a.text);
  } catch {
    return `answered ${a.status} with a body that is not JSON`;
  }
  if (isMcp(op) && body?.jsonrpc === "2.0" && typeof body.error?.code === "number" && typeof body.error?.message === "string") return null;
  const e = body?.error;
  if (!e || typeof e.type !== "string" || typeof e.message !== "string") return `answered ${a.status} without the {error:{type,message}} envelope`;
  const expected = STATUS_OF[e.type as ErrorType];
  if (expected !== a.status) return `answered ${a.status} with error type '${e.type}' (which is ${expected ?? "no known status"})`;
  return null;
}

/** A request and its answer, short enough to read in a failure message. */
export function describe(op: Operation, spec: RequestSpec, a: Answer | null, why: string): string {
  const url = urlOf("", op, spec);
  const body = spec.body.kind === "json" ? stringify(sanitize(spec.body.value)) : spec.body.kind === "deep" ? `${spec.body.open} ×${spec.body.depth}${spec.body.field ? ` as the value of "${spec.body.field}"` : ""}` : JSON.stringify(spec.body);
  const cut = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}… (${s.length} chars)` : s);
  return [
    `${why}: ${op.method} ${cut(url)}`,
    `  headers: ${cut(JSON.stringify(spec.headers))} content-type: ${spec.contentType}`,
    `  body: ${cut(body)}`,
    a ? `  answer: ${a.status} ${a.contentType} ${cut(a.text)} (${a.ms} ms)` : "",
  ].join("\n");
}
