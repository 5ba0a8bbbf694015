// Trusted reverse proxies (CLANKER_TRUSTED_PROXIES): which peers they are, and the client one names in X-Forwarded-For.
import type IpAddr from "ipaddr.js";

type Address = IpAddr.IPv4 | IpAddr.IPv6;

/** Loaded (require) only when proxies are configured: a server with none never reads X-Forwarded-For nor needs this. */
const ipaddr = (): typeof IpAddr => require("ipaddr.js") as typeof IpAddr;

/** An address as written in an address list: dotted-quad IPv4 or IPv6 without a zone; "0x7f.1" and "127.1" are not. */
function parseAddress(lib: typeof IpAddr, text: string): Address | null {
  if (lib.IPv4.isValidFourPartDecimal(text)) return lib.IPv4.parse(text);
  // An IPv4-mapped IPv6 address (::ffff:10.0.0.1, how a dual-stack socket names an IPv4 peer) is that IPv4 address.
  if (lib.IPv6.isValid(text) && !text.includes("%")) return lib.process(text);
  return null;
}

/**
 * The setting's entries as CIDR ranges ("10.0.0.0/8", "::1/128"); "loopback" is 127.0.0.0/8 and ::1. Throws naming the
 * first entry that is none of these: a typo would otherwise trust nobody (every client shares the proxy's budget) or,
 * worse, a range wider than meant.
 */
export function parseTrustedProxies(raw: string): string[] {
  const entries = raw.split(",").map((e) => e.trim()).filter(Boolean);
  if (entries.length === 0) return [];
  const lib = ipaddr();
  return entries.flatMap((entry) => {
    if (entry.toLowerCase() === "loopback") return ["127.0.0.0/8", "::1/128"];
    const [addr, bits, extra] = entry.split("/");
    const a = parseAddress(lib, addr!);
    const max = a?.kind() === "ipv4" ? 32 : 128;
    const n = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
    if (a === null || extra !== undefined || !(n >= 0 && n <= max))
      throw new Error(`CLANKER_TRUSTED_PROXIES takes IP addresses, CIDR ranges (10.0.0.0/8) and the word loopback, comma-separated; '${entry}' is none of them`);
    return [`${a.toString()}/${n}`];
  });
}

/**
 * The client of a request whose direct peer is `peer`: behind a trusted proxy, the right-most address in X-Forwarded-For
 * that is not itself a trusted proxy (each proxy appends the peer it saw, so only what lies right of the first untrusted
 * hop was written by proxies we trust); from anyone else, the peer itself, whatever the header says.
 */
export function forwardedClient(ranges: string[]): (peer: string, forwardedFor: string | null) => string {
  const lib = ipaddr();
  const nets = ranges.map((r) => lib.parseCIDR(r));
  const trusted = (a: Address) => nets.some(([net, bits]) => net.kind() === a.kind() && a.match(net, bits));
  return (peer, forwardedFor) => {
    const p = forwardedFor === null ? null : parseAddress(lib, peer);
    if (p === null || !trusted(p)) return peer;
    const hops = forwardedFor!.split(",");
    let client = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = parseAddress(lib, hops[i]!.trim());
      // Not an address: nothing left of it can be believed, so the last hop read stands (a trusted proxy at worst).
      if (hop === null) break;
      client = hop.toString();
      if (!trusted(hop)) break;
    }
    return client;
  };
}
