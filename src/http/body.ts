// Reading request bodies: streamed up to the size limit, nesting bounded before any JSON.parse, failures kept
// as a BadBody value until the caller is authenticated (an anonymous caller gets its 401 first).
import { ApiError, InvalidRequestError, RequestTooLargeError } from "../lib/errors";
import { isJsonObject } from "../lib/json-object";

/** Deeper JSON is refused: parsing, validating and hashing it recurse, and 20k levels overflow the stack. */
export const MAX_JSON_DEPTH = 64;

/** A body that could not be read: kept as the parsed value until the caller is authenticated. */
export class BadBody {
  constructor(readonly error: ApiError) {}
}

/**
 * A JSON body that is an object, or none: an array, a string, a number or null is refused (Elysia leaves an optional
 * body's schema unchecked for those, so a route that takes no fields took `[]` and `5`).
 */
function objectBody(body: unknown): unknown {
  if (body === undefined || body instanceof BadBody || isJsonObject(body)) return body;
  return new BadBody(new InvalidRequestError(`The request body must be a JSON object, not ${body === null ? "null" : Array.isArray(body) ? "an array" : `a ${typeof body}`}`, "body", "INVALID_PARAMETER"));
}

export function throwIfBadBody(body: unknown): void {
  if (body instanceof BadBody) throw body.error;
}

const tooDeep = () =>
  new BadBody(new InvalidRequestError(`JSON in the request body is nested deeper than ${MAX_JSON_DEPTH} levels`, "body", "JSON_TOO_DEEP"));

/**
 * Tracks bracket depth over JSON bytes fed in chunks, skipping string contents (and their escapes). One pass,
 * no allocation; UTF-8 continuation bytes are all >= 0x80, so they never look like brackets or quotes.
 */
export class DepthScanner {
  private depth = 0;
  private inString = false;
  private escaped = false;

  /** false once the nesting has gone past `max`. */
  feed(bytes: Uint8Array, max = MAX_JSON_DEPTH): boolean {
    let depth = this.depth;
    let i = 0;
    const n = bytes.length;
    if (this.inString) i = this.skipString(bytes, 0);
    while (i < n) {
      const b = bytes[i++]!;
      if (b === 0x22) {
        this.inString = true;
        i = this.skipString(bytes, i);
      } else if (b === 0x5b || b === 0x7b) {
        if (++depth > max) return false;
      } else if (b === 0x5d || b === 0x7d) depth--;
    }
    this.depth = depth;
    return true;
  }

  /** From inside a string at `i`: the index after its closing quote, or n (still inside) at the chunk's end. */
  private skipString(bytes: Uint8Array, i: number): number {
    const n = bytes.length;
    if (this.escaped) {
      if (i >= n) return n;
      this.escaped = false;
      i++;
    }
    // Native memchr for the next quote: long string values cost almost nothing to skip.
    for (;;) {
      const q = bytes.indexOf(0x22, i);
      const end = q === -1 ? n : q;
      let run = 0;
      while (end - run - 1 >= i && bytes[end - run - 1] === 0x5c) run++;
      if (q === -1) {
        this.escaped = run % 2 === 1;
        return n;
      }
      if (run % 2 === 0) {
        this.inString = false;
        return q + 1;
      }
      i = q + 1;
    }
  }
}

/** Reads the whole body as a stream, stopping at the limit (chunked bodies carry no content-length to check). */
async function readLimited(request: Request, limit: number, scanner?: DepthScanner): Promise<Uint8Array | BadBody | undefined> {
  if (!request.body) return undefined;
  // A gzipped body read as it is was "Malformed JSON", with no word of why.
  const encoding = request.headers.get("content-encoding");
  if (encoding !== null && encoding.trim().toLowerCase() !== "identity")
    return new BadBody(new InvalidRequestError(`This API does not read compressed bodies (content-encoding: ${encoding.slice(0, 40)}): send the body uncompressed`, "content-encoding", "UNSUPPORTED_CONTENT_ENCODING"));
  // A declared length (already checked against the limit in onRequest, and held to by Bun's HTTP parser) is read
  // in one piece: iterating the stream chunk by chunk cost ~10 % of an audited POST's CPU.
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) <= limit) {
    const bytes = await request.bytes();
    if (bytes.byteLength > limit) return new BadBody(new RequestTooLargeError(`Request body exceeds the ${limit}-byte limit`, "body"));
    if (scanner && !scanner.feed(bytes)) return tooDeep();
    return bytes.byteLength === 0 ? undefined : bytes;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) return new BadBody(new RequestTooLargeError(`Request body exceeds the ${limit}-byte limit`, "body"));
    // Refused at the first chunk that goes too deep: the rest of the body is never read.
    if (scanner && !scanner.feed(chunk)) return tooDeep();
    chunks.push(chunk);
  }
  if (size === 0) return undefined;
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** A signed route's body: the exact bytes and the value parsed from them, never one without the other. */
export class SignedJsonBody {
  constructor(
    readonly raw: Uint8Array,
    readonly value: unknown,
  ) {}
}

const EMPTY = new Uint8Array(0);

function parseJson(bytes: Uint8Array, contentType?: string): unknown {
  // A byte order mark, as some editors and Windows tools write one (RFC 8259 lets a parser ignore it).
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset + bom, bytes.byteLength - bom).toString("utf8"));
  } catch {
    // A body sent as a form (name=x&…) was meant as one: say that this API reads JSON, not only that it failed.
    const type = (contentType ?? "").split(";", 1)[0]!.trim().toLowerCase();
    const hint = type && type !== "application/json" && !type.endsWith("+json") ? `: this API takes JSON bodies, and this one was sent as ${type} (send content-type: application/json with a JSON object)` : "";
    return new BadBody(new InvalidRequestError(`Malformed JSON in request body${hint}`, "body", "INVALID_JSON"));
  }
}

/**
 * JSON whatever the content type says (curl -d sends JSON as a form); `contentType` only words a failure. With
 * `objectOnly`, anything but an object (or no body) is refused, see objectBody.
 */
export async function readJsonBody(request: Request, limit: number, contentType?: string, objectOnly = false): Promise<unknown> {
  const bytes = await readLimited(request, limit, new DepthScanner());
  if (!(bytes instanceof Uint8Array)) return bytes;
  const value = parseJson(bytes, contentType);
  return objectOnly ? objectBody(value) : value;
}

/**
 * For OAuth's token endpoint, whose clients send application/x-www-form-urlencoded (RFC 6749 §4.1.3): a form
 * becomes an object of strings, a parameter sent twice an array (which the endpoint refuses, §3.1); any other
 * content type is read as JSON.
 */
export async function readFormOrJsonBody(request: Request, limit: number, contentType: string | undefined): Promise<unknown> {
  if (!(contentType ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded")) return readJsonBody(request, limit, contentType);
  const bytes = await readLimited(request, limit);
  if (!(bytes instanceof Uint8Array)) return bytes ?? {};
  // No prototype: a field named toString or __proto__ is a field like any other.
  const form: Record<string, string | string[]> = Object.create(null);
  for (const [k, v] of new URLSearchParams(Buffer.from(bytes).toString("utf8"))) {
    const had = form[k];
    // In place: a body of one name repeated must cost its length, not its square.
    if (had === undefined) form[k] = v;
    else if (Array.isArray(had)) had.push(v);
    else form[k] = [had, v];
  }
  return form;
}

/**
 * For routes that verify an HMAC over the body: JSON only (application/json, or no content type), so the value a
 * handler acts on is always the parse of the bytes the signature covers. A form or multipart body would be parsed
 * from bytes nobody signed. There is no 415 in our error types: a wrong content type is a 400 naming it.
 * `unsigned`: why the headers alone show the body cannot be authentic (then none of it is read), or null.
 */
export async function readSignedJsonBody(request: Request, limit: number, contentType: string | undefined, unsigned: (headers: Headers) => ApiError | null): Promise<SignedJsonBody | BadBody> {
  const refusal = unsigned(request.headers);
  if (refusal) return new BadBody(refusal);
  const type = (contentType ?? "").split(";", 1)[0]!.trim().toLowerCase();
  if (type !== "" && type !== "application/json")
    return new BadBody(new InvalidRequestError(`This endpoint takes a JSON body (content type application/json), not '${type}'`, "content-type", "UNSUPPORTED_CONTENT_TYPE"));
  const bytes = await readLimited(request, limit, new DepthScanner());
  if (bytes instanceof BadBody) return bytes;
  if (bytes === undefined) return new SignedJsonBody(EMPTY, undefined);
  const value = parseJson(bytes);
  return value instanceof BadBody ? value : new SignedJsonBody(bytes, value);
}

/** Far more parts than any form posted to us has (a handful of fields), and few enough to read in a moment. */
const MAX_MULTIPART_PARTS = 1000;

/**
 * multipart/form-data, read under the same limit. As Elysia's own parser does, a field that looks like JSON
 * ({ or [) is parsed into an object, so it gets the same depth bound; repeated fields become arrays.
 */
export async function readMultipartBody(request: Request, limit: number): Promise<unknown> {
  const bytes = await readLimited(request, limit);
  if (!(bytes instanceof Uint8Array)) return bytes ?? {};
  let form: Awaited<ReturnType<Response["formData"]>>;
  try {
    form = await new Response(bytes, { headers: { "content-type": request.headers.get("content-type") ?? "" } }).formData();
  } catch {
    return new BadBody(new InvalidRequestError("Malformed multipart/form-data body", "body", "INVALID_MULTIPART"));
  }
  // One pass over the parts, grouped by name: getAll() per name was quadratic in the parts, and ran before
  // authentication (40,000 one-byte parts, 2.7 MB, held the event loop for 6 s).
  const byName = new Map<string, unknown[]>();
  let parts = 0;
  const encoder = new TextEncoder();
  for (const [key, value] of form.entries()) {
    if (++parts > MAX_MULTIPART_PARTS) return new BadBody(new InvalidRequestError(`A multipart body may have at most ${MAX_MULTIPART_PARTS} parts`, "body", "TOO_MANY_PARTS"));
    if (key === "__proto__" || key === "constructor" || key === "prototype") continue;
    let v: unknown = value;
    if (typeof value === "string" && (value.charCodeAt(0) === 0x7b || value.charCodeAt(0) === 0x5b)) {
      if (!new DepthScanner().feed(encoder.encode(value))) return tooDeep();
      try {
        const parsed: unknown = JSON.parse(value);
        if (parsed && typeof parsed === "object") v = parsed;
      } catch {}
    }
    const values = byName.get(key);
    if (values) values.push(v);
    else byName.set(key, [v]);
  }
  const body: Record<string, unknown> = {};
  for (const [key, values] of byName) body[key] = values.length === 1 ? values[0] : values;
  return body;
}
