// Address checks for outbound calls: every IP (v4, v6, and v4 hidden inside v6) is classified by range.
// Link-local, metadata, unspecified, multicast, broadcast and reserved space is never a target; private and
// loopback space only where the operator allows it; only ordinary unicast is public.
import type IpAddr from "ipaddr.js";

type IPv4 = IpAddr.IPv4;
type IPv6 = IpAddr.IPv6;

/** ipaddr.js, loaded (require) by the first address check: only requests that call out need it, never the start. */
let lib: typeof IpAddr | undefined;
const ipaddr = (): typeof IpAddr => (lib ??= require("ipaddr.js") as typeof IpAddr);

export type Verdict = "public" | "private" | "forbidden";

export interface Classification {
  verdict: Verdict;
  /** The range that decided it, e.g. "loopback", "linkLocal", "metadata" (of the embedded IPv4 when there is one). */
  range: string;
  /** The IPv4 address an IPv6 form carries (mapped, compatible, NAT64, 6to4, Teredo), when it carries one. */
  embedded?: string;
}

const METADATA_HOSTS = new Set(["metadata.google.internal", "metadata", "instance-data", "metadata.azure.com", "metadata.packet.net"]);

// Cloud metadata services outside link-local space (AWS IPv6, Alibaba in CGNAT space, Oracle's legacy one).
let metadataAddresses: Set<string> | undefined;
const isMetadataAddress = (a: IPv4 | IPv6): boolean =>
  (metadataAddresses ??= new Set(["fd00:ec2::254", "100.100.100.200", "192.0.0.192"].map((m) => ipaddr().parse(m).toNormalizedString()))).has(a.toNormalizedString());

const PRIVATE_V4 = new Set(["loopback", "private", "carrierGradeNat"]);
const PRIVATE_V6 = new Set(["loopback", "uniqueLocal", "deprecatedSiteLocal"]);

const SEVERITY: Record<Verdict, number> = { public: 0, private: 1, forbidden: 2 };
const worst = (a: Classification, b: Classification): Classification => (SEVERITY[b.verdict] > SEVERITY[a.verdict] ? b : a);

const v4From = (hi: number, lo: number): IPv4 => new (ipaddr().IPv4)([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);

function classifyV4(a: IPv4): Classification {
  if (isMetadataAddress(a)) return { verdict: "forbidden", range: "metadata" };
  const range = a.range();
  if (range === "unicast") return { verdict: "public", range };
  return { verdict: PRIVATE_V4.has(range) ? "private" : "forbidden", range };
}

const inside = (a: IPv6, cidr: string): boolean => a.match(ipaddr().IPv6.parseCIDR(cidr));

function classifyV6(a: IPv6): Classification {
  const p = a.parts as number[];
  if (isMetadataAddress(a)) return { verdict: "forbidden", range: "metadata" };
  const withV4 = (v4: IPv4, floor?: Classification): Classification => {
    const c = { ...classifyV4(v4), embedded: v4.toString() };
    return floor ? worst(floor, c) : c;
  };
  // IPv4 carried in the low 32 bits: mapped (::ffff:0:0/96), translated (::ffff:0:0:0/96), compatible
  // (::/96, except :: and ::1 themselves) and NAT64 (64:ff9b::/96). The URL parser writes these in hex
  // (http://[::ffff:7f00:1]/), so a text match on the dotted form is not enough.
  if (inside(a, "::ffff:0:0/96") || inside(a, "::ffff:0:0:0/96") || inside(a, "64:ff9b::/96")) return withV4(v4From(p[6]!, p[7]!));
  if (inside(a, "::/96") && !inside(a, "::/127")) return withV4(v4From(p[6]!, p[7]!));
  // Local-use NAT64 (RFC 8215) is a private network; what it embeds can make it worse.
  if (inside(a, "64:ff9b:1::/48")) return withV4(v4From(p[6]!, p[7]!), { verdict: "private", range: "localNat64" });
  // 6to4 carries the IPv4 in bits 16–47; Teredo the server in bits 32–63 and the client, inverted, in the last 32.
  if (inside(a, "2002::/16")) return withV4(v4From(p[1]!, p[2]!));
  if (inside(a, "2001::/32")) return worst(withV4(v4From(p[2]!, p[3]!)), withV4(v4From(~p[6]! & 0xffff, ~p[7]! & 0xffff)));
  const range = a.range();
  if (range === "unicast") return { verdict: "public", range };
  return { verdict: PRIVATE_V6.has(range) ? "private" : "forbidden", range };
}

/** Classifies an IP literal (v4 dotted, v6 with or without brackets); anything unparseable is forbidden. */
export function classifyAddress(ip: string): Classification {
  const raw = ip.replace(/^\[|\]$/g, "");
  if (!ipaddr().isValid(raw) || raw.includes("%")) return { verdict: "forbidden", range: "unparseable" };
  // Only the four-part dotted form counts as IPv4 here: the URL parser has already normalised 0x7f.1,
  // 2130706433 and 127.1 to it, and DNS answers are always in it.
  if (ipaddr().IPv4.isValid(raw) && !ipaddr().IPv4.isValidFourPartDecimal(raw)) return { verdict: "forbidden", range: "unparseable" };
  const a = ipaddr().parse(raw);
  return a.kind() === "ipv4" ? classifyV4(a as IPv4) : classifyV6(a as IPv6);
}

/** Why an address may not be called, or null when it may. */
export function addressProblem(ip: string, allowPrivate: boolean): string | null {
  const c = classifyAddress(ip);
  const what = c.embedded ? `${ip} (which carries ${c.embedded})` : ip;
  if (c.verdict === "forbidden") return `${what} is ${/^[aeiou]/.test(c.range) ? "an" : "a"} ${c.range} address, never a callback target`;
  if (c.verdict === "private" && !allowPrivate) return `${what} is a ${c.range} address (set CLANKER_WEBHOOK_ALLOW_PRIVATE=true to allow private and loopback targets)`;
  return null;
}

export function isForbiddenHost(host: string): boolean {
  return METADATA_HOSTS.has(host.toLowerCase().replace(/\.$/, ""));
}

/** The IP a URL hostname spells (brackets removed), or null for a name. */
export const literalIp = (host: string): string | null => {
  const h = host.replace(/^\[|\]$/g, "");
  return ipaddr().isValid(h) ? h : null;
};
