// The parts of a request read before anything else: its path, its request id, its clanker-version.
import { randomToken } from "../lib/crypto";

export const REQUEST_ID_RE = /^[A-Za-z0-9._:\-]{1,128}$/;
// Request ids need to be unique, not secret: a random per-process prefix and a counter, not 12 random bytes
// (and their base64) per request.
const REQUEST_ID_PREFIX = `req_${randomToken(9)}`;
let requestSeq = 0;
export const nextRequestId = (): string => REQUEST_ID_PREFIX + (++requestSeq).toString(36);
const VERSION_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A clanker-version header's date: a real day, written as the API writes them. */
export function validVersion(v: string): boolean {
  const m = VERSION_RE.exec(v);
  if (!m) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().startsWith(v);
}

/**
 * The path of a request's URL as the router matched it (the same cut as Elysia's), without a WHATWG parse of the whole
 * URL, which was ~0.6 % of an audited POST's CPU: Bun hands every request an absolute URL ("http://host/path?query").
 */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start === -1) return "/";
  const query = url.indexOf("?", start);
  return url.slice(start, query === -1 ? undefined : query);
}
