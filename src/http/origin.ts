// Where a request came from and where this server is: the Host and Origin checks (DNS rebinding, cross-site posts),
// and the URL this server names itself by, in answers and in mails.
import type { Config } from "../config";
import { PermissionError } from "../lib/errors";

const hostnameOf = (hostHeader: string): string => {
  try {
    return new URL(`http://${hostHeader}`).hostname.toLowerCase();
  } catch {
    return "";
  }
};

// Host headers seen before (a handful in practice), so the hot path parses none.
const knownHosts = new Map<string, string>();

/** DNS rebinding: a page on another site resolving its name to 127.0.0.1 must not reach this server. */
export function refuseForeignHost(request: Request, allowed: string[]): void {
  const header = request.headers.get("host") ?? "";
  let host = knownHosts.get(header);
  if (host === undefined) {
    host = hostnameOf(header);
    if (knownHosts.size < 1000) knownHosts.set(header, host);
  }
  if (!allowed.includes(host))
    throw new PermissionError(
      host === "" ? "The request has no Host header (an HTTP/1.0 client?): send one naming this server" : `Host '${host}' is not allowed (set CLANKER_ALLOWED_HOSTS to serve it)`,
      "HOST_NOT_ALLOWED",
    );
  const origin = request.headers.get("origin");
  if (origin && origin !== "null") {
    let oh = "";
    try {
      oh = new URL(origin).hostname.toLowerCase();
    } catch {}
    if (!allowed.includes(oh)) throw new PermissionError(`Origin '${origin}' is not allowed`, "ORIGIN_NOT_ALLOWED");
  }
}

/**
 * Refuses a browser request another site made: browsers send Origin on every POST (our pages' referrer policy keeps
 * it from being `null`) and Sec-Fetch-Site says where a request came from. A client that sends neither is not a
 * browser another site can drive. For whatever a cookie authenticates or sets: mutations, sign-in, confirmations.
 */
export function refuseCrossSite(config: Config, request: Request, message = "Cross-site request refused"): void {
  const origin = request.headers.get("origin");
  const site = request.headers.get("sec-fetch-site");
  if ((origin !== null && origin !== baseUrl(config, request)) || (site !== null && site !== "same-origin" && site !== "none"))
    throw new PermissionError(message, "CROSS_SITE");
}

/** This server's public URL: CLANKER_PUBLIC_URL, else the origin the request came to. */
export function baseUrl(config: Config, request: Request): string {
  return config.publicUrl ?? new URL(request.url).origin;
}

/**
 * The URL to put in a mail, never a host the client chose: CLANKER_PUBLIC_URL, else the request's origin only
 * when its Host was checked against the allowed hosts (bound to loopback, or CLANKER_ALLOWED_HOSTS set).
 * null: the mail goes out without a link (its code still works; a forged Host cannot phish with it).
 */
export function mailBaseUrl(config: Config, request: Request, listeningPort: number | undefined): string | null {
  if (config.publicUrl) return config.publicUrl;
  if (!config.allowedHosts) return null;
  const url = new URL(request.url);
  // A loopback name's port is the client's to choose too (the Host check reads names only): the mail names the port
  // this server listens on, not another local program's. Names behind a proxy keep the port the proxy was asked on.
  if (listeningPort !== undefined && LOOPBACK_NAMES.has(url.hostname)) url.port = String(listeningPort);
  return url.origin;
}

const LOOPBACK_NAMES = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** The start-up line for a server that cannot name itself in mails. */
export function mailLinkWarning(config: Config): string | null {
  // allowedHosts is set whenever bound to loopback, or by CLANKER_ALLOWED_HOSTS.
  if (config.publicUrl || config.allowedHosts) return null;
  return `Warning: bound to ${config.host} without CLANKER_PUBLIC_URL: sign-in, claim and invitation mails will carry no links (a client's Host header is not trusted). Set CLANKER_PUBLIC_URL=https://your.host (or CLANKER_ALLOWED_HOSTS).`;
}
