// The one guarded fetch for every outbound call to a URL a user chose (webhooks, integrations, remote git
// sources): check the URL, resolve the host once, check every address, connect to
// the address that was checked, never follow a redirect, give up after a timeout.
import { addressProblem, isForbiddenHost, literalIp } from "./net";

/** The target may not be called: not worth retrying (the caller decides what a refusal means). */
export class OutboundRefused extends Error {
  override name = "OutboundRefused";
}

export interface OutboundPolicy {
  /** Whether loopback and private addresses are allowed (link-local, metadata and the like never are). */
  allowPrivate: boolean;
  timeoutMs: number;
  /** Resolves a host name to its addresses (default: the system resolver, once per call). */
  resolve?: (host: string) => Promise<string[]>;
  /** Extra trusted CA certificates (PEM), for receivers behind a private CA. */
  ca?: string;
}

export interface OutboundRequest {
  method?: string;
  headers?: Record<string, string>;
  /** Bytes for binary protocols (git's smart HTTP). */
  body?: string | Uint8Array;
}

/** Why a URL may not be called, judged without DNS (at request time), or null. */
export function urlProblem(raw: string, allowPrivate: boolean): string | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return "must be an absolute http(s) URL";
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") return "must be an http(s) URL";
  if (u.username || u.password) return "must not carry credentials";
  if (isForbiddenHost(u.hostname)) return "may not target a cloud metadata host";
  // The URL parser has already turned 2130706433, 0x7f.1 and 127.1 into 127.0.0.1 and ::ffff:127.0.0.1
  // into ::ffff:7f00:1; the classifier sees through the latter.
  const ip = literalIp(u.hostname);
  const problem = ip ? addressProblem(ip, allowPrivate) : null;
  return problem ? `is not allowed: ${problem}` : null;
}

// node:dns is required on the first lookup: ~1 ms that no start needs to pay.
const systemResolve = async (host: string): Promise<string[]> =>
  (await (require("node:dns/promises") as typeof import("node:dns/promises")).lookup(host, { all: true, verbatim: true })).map((a) => a.address);

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new Error("aborted"));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** The addresses to connect to, every one of them checked; refuses if any is not allowed. */
async function checkedAddresses(url: URL, policy: OutboundPolicy, signal: AbortSignal): Promise<string[]> {
  const literal = literalIp(url.hostname);
  const addrs = literal ? [literal] : await abortable((policy.resolve ?? systemResolve)(url.hostname), signal);
  if (addrs.length === 0) throw new Error(`${url.hostname} has no address`);
  // One bad answer refuses them all: a name that can point inside is not a safe target.
  for (const a of addrs) {
    const p = addressProblem(a, policy.allowPrivate);
    if (p) throw new OutboundRefused(literal ? p : `${url.hostname} resolves to ${p}`);
  }
  return addrs;
}

const CONNECT_ERRORS = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ConnectionRefused"]);

/**
 * Sends one request to `raw` and answers with the receiver's response as it is (a 3xx is an answer, not a
 * hop). Throws OutboundRefused when the URL or any of its addresses is not allowed, another Error when the
 * call fails (unreachable, timeout, TLS).
 */
export async function guardedFetch(raw: string, req: OutboundRequest, policy: OutboundPolicy): Promise<Response> {
  const problem = urlProblem(raw, policy.allowPrivate);
  if (problem) throw new OutboundRefused(`the URL ${problem}`);
  const url = new URL(raw);
  const signal = AbortSignal.timeout(policy.timeoutMs);
  const addrs = await checkedAddresses(url, policy, signal);
  const named = literalIp(url.hostname) === null;
  let lastError: unknown;
  for (const addr of addrs) {
    // Connect to the checked address itself, so no second lookup can answer differently (DNS rebinding).
    // The Host header and, over TLS, SNI and certificate verification keep the original name.
    const target = new URL(url);
    target.hostname = addr.includes(":") ? `[${addr}]` : addr;
    try {
      return await fetch(target, {
        method: req.method ?? "GET",
        headers: { ...req.headers, host: url.host },
        body: req.body,
        redirect: "manual",
        signal,
        proxy: false, // a proxy would resolve the name again, out of our sight
        tls: { ...(named && url.protocol === "https:" ? { serverName: url.hostname } : {}), ...(policy.ca ? { ca: policy.ca } : {}) },
      });
    } catch (e) {
      lastError = e;
      // Only a refused or unreachable connection may try the next address: nothing was sent.
      if (!CONNECT_ERRORS.has((e as { code?: string }).code ?? "") || signal.aborted) throw e;
    }
  }
  throw lastError;
}
