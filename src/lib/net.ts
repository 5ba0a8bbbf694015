// Address checks for outbound calls (webhooks): cloud metadata is never a target; private and loopback
// addresses only where the operator allows them.
import { isIP } from "node:net";

const METADATA_HOSTS = new Set(["metadata.google.internal", "metadata", "instance-data", "metadata.azure.com"]);

function v4(ip: string): number[] | null {
  const parts = ip.split(".").map(Number);
  return parts.length === 4 && parts.every((n) => Number.isInteger(n) && n >= 0 && n <= 255) ? parts : null;
}

/** Link-local (where every cloud's metadata service lives) and the unspecified address. */
export function isForbiddenAddress(ip: string): boolean {
  const mapped = ip.toLowerCase().startsWith("::ffff:") ? ip.slice(7) : ip;
  const p = v4(mapped);
  if (p) return (p[0] === 169 && p[1] === 254) || p.every((n) => n === 0);
  const s = ip.toLowerCase();
  return s === "::" || s.startsWith("fe80:") || s === "fd00:ec2::254";
}

export function isPrivateAddress(ip: string): boolean {
  const mapped = ip.toLowerCase().startsWith("::ffff:") ? ip.slice(7) : ip;
  const p = v4(mapped);
  if (p) {
    const [a, b] = p as [number, number];
    return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || a === 0;
  }
  const s = ip.toLowerCase();
  return s === "::1" || s.startsWith("fc") || s.startsWith("fd");
}

export function isForbiddenHost(host: string): boolean {
  return METADATA_HOSTS.has(host.toLowerCase().replace(/\.$/, ""));
}

/** Why an address may not be called, or null when it may. */
export function addressProblem(ip: string, allowPrivate: boolean): string | null {
  if (isForbiddenAddress(ip)) return `${ip} is a link-local or metadata address`;
  if (!allowPrivate && isPrivateAddress(ip)) return `${ip} is a private or loopback address (set CLANKER_WEBHOOK_ALLOW_PRIVATE=true to allow)`;
  return null;
}

export const literalIp = (host: string): string | null => {
  const h = host.replace(/^\[|\]$/g, "");
  return isIP(h) ? h : null;
};
