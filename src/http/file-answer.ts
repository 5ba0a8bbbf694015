// A stored file's bytes as a download answers them: an ETag to ask again with (If-None-Match → 304), and one byte
// range (Range: bytes=…) for a download picked up where it broke off (206, or 416 past the end). Several ranges in
// one request are answered with the whole file, as RFC 9110 lets a server do; so is an If-Range that does not match.

/** The answer to `request` for `bytes` whose version is `etag` (a quoted strong tag); `headers` go on every answer. */
export function fileAnswer(request: Request, bytes: Uint8Array, etag: string, headers: Record<string, string>): Response {
  const common = { ...headers, etag, "accept-ranges": "bytes" };
  const ifNoneMatch = request.headers.get("if-none-match");
  if (ifNoneMatch && matches(ifNoneMatch, etag)) return new Response(null, { status: 304, headers: common });
  const range = request.headers.get("range");
  const ifRange = request.headers.get("if-range");
  if (range && request.method === "GET" && (!ifRange || ifRange === etag)) {
    const r = byteRange(range, bytes.length);
    if (r === "unsatisfiable") return new Response(null, { status: 416, headers: { ...common, "content-range": `bytes */${bytes.length}` } });
    if (r) {
      const [start, end] = r;
      return new Response(bytes.subarray(start, end + 1), {
        status: 206,
        headers: { ...common, "content-range": `bytes ${start}-${end}/${bytes.length}`, "content-length": String(end - start + 1) },
      });
    }
  }
  return new Response(bytes, { headers: { ...common, "content-length": String(bytes.length) } });
}

/** If-None-Match's list (or `*`) against our tag, weakly as RFC 9110 says for it (W/ prefixes ignored). */
function matches(header: string, etag: string): boolean {
  if (header.trim() === "*") return true;
  return header.split(",").some((t) => t.trim().replace(/^W\//, "") === etag);
}

/**
 * One `bytes=` range of a file of `size` bytes as [first, last], clamped to the end; "unsatisfiable" when it starts
 * past the end (or the file is empty); null when the header is not one range this answers (malformed, another unit,
 * several ranges): the whole file is sent.
 */
export function byteRange(header: string, size: number): [number, number] | "unsatisfiable" | null {
  const m = /^bytes=\s*(\d*)-(\d*)\s*$/.exec(header);
  if (!m || (m[1] === "" && m[2] === "")) return null;
  if (m[1] === "") {
    // The last N bytes.
    const n = Number(m[2]);
    if (n === 0 || size === 0) return "unsatisfiable";
    return [Math.max(0, size - n), size - 1];
  }
  const start = Number(m[1]);
  const end = m[2] === "" ? Infinity : Number(m[2]);
  if (end < start) return null;
  if (start >= size) return "unsatisfiable";
  return [start, Math.min(end, size - 1)];
}
