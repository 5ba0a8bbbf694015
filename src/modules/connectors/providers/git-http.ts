// The HTTP client isomorphic-git clones and fetches through: every request goes out by guardedFetch (SSRF rules,
// checked addresses, no redirects), and one transfer is bounded in bytes received and in time.
import { guardedFetch, OutboundRefused } from "../../../lib/outbound";

/** isomorphic-git's GitHttpRequest / GitHttpResponse, as much of them as it uses. */
export interface GitHttpRequest {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  body?: AsyncIterableIterator<Uint8Array> | Uint8Array[] | Uint8Array;
}

export interface GitHttpResponse {
  url: string;
  method?: string;
  statusCode: number;
  statusMessage: string;
  headers: Record<string, string>;
  body: AsyncIterableIterator<Uint8Array>;
}

/** What went wrong with one transfer, kept here because isomorphic-git may wrap the errors it is thrown. */
export interface Transfer {
  received: number;
  tooLarge: boolean;
  timedOut: boolean;
  refused: string | null;
}

async function collect(body: NonNullable<GitHttpRequest["body"]>): Promise<Uint8Array> {
  if (body instanceof Uint8Array) return body;
  const parts: Uint8Array[] = [];
  for await (const p of body as AsyncIterable<Uint8Array>) parts.push(p);
  return Buffer.concat(parts);
}

class TransferTooLarge extends Error {
  override name = "TransferTooLarge";
}

/** The response body, counted against the transfer's limit; past it the stream is cancelled. */
async function* counted(stream: ReadableStream<Uint8Array> | null, t: Transfer, maxBytes: number): AsyncIterableIterator<Uint8Array> {
  if (!stream) return;
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      t.received += value.byteLength;
      if (t.received > maxBytes) {
        t.tooLarge = true;
        throw new TransferTooLarge(`more than ${maxBytes} bytes`);
      }
      yield value;
    }
  } catch (e) {
    if ((e as Error).name === "TimeoutError" || (e as Error).name === "AbortError") t.timedOut = true;
    throw e;
  } finally {
    await reader.cancel().catch(() => {});
  }
}

/**
 * A client for one clone or fetch: requests share one deadline (`timeoutMs` from now) and one byte budget.
 * `allowPrivate` follows the server's SSRF switch; plain http is refused unless private targets are allowed.
 */
export function guardedGitHttp(opts: { allowPrivate: boolean; timeoutMs: number; maxBytes: number }) {
  const deadline = Date.now() + opts.timeoutMs;
  const transfer: Transfer = { received: 0, tooLarge: false, timedOut: false, refused: null };
  const http = {
    async request(req: GitHttpRequest): Promise<GitHttpResponse> {
      const left = deadline - Date.now();
      if (left <= 0) {
        transfer.timedOut = true;
        throw new Error("the transfer's time is up");
      }
      if (req.url.startsWith("http:") && !opts.allowPrivate) {
        transfer.refused = "plain http is allowed only where private targets are (CLANKER_WEBHOOK_ALLOW_PRIVATE); use https";
        throw new OutboundRefused(transfer.refused);
      }
      const body = req.body ? await collect(req.body) : undefined;
      let res: Response;
      try {
        res = await guardedFetch(req.url, { method: req.method ?? "GET", headers: req.headers ?? {}, body }, { allowPrivate: opts.allowPrivate, timeoutMs: left });
      } catch (e) {
        if (e instanceof OutboundRefused) transfer.refused = e.message;
        else if ((e as Error).name === "TimeoutError" || (e as Error).name === "AbortError") transfer.timedOut = true;
        throw e;
      }
      const headers: Record<string, string> = {};
      res.headers.forEach((v, k) => (headers[k] = v));
      return { url: req.url, method: req.method, statusCode: res.status, statusMessage: res.statusText, headers, body: counted(res.body, transfer, opts.maxBytes) };
    },
  };
  return { http, transfer };
}
