// The parsers that turn one variable's text into a checked value, each refusing what it cannot use with a ConfigError
// that names the variable and what it takes (src/config.ts puts them together).
import { Cron } from "croner";
import type { SlackConfig } from "./config";
import { parseTrustedProxies } from "./lib/proxies";

export class ConfigError extends Error {}

export function int(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === "") return fallback;
  if (!/^[0-9]+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got '${raw}'`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** Credits in one grant or one price: balances are micro-credits in doubles, exact up to 2^53 (9e9 credits). */
export const MAX_CREDITS = 1_000_000_000;

export function num(name: string, raw: string | undefined, fallback: number, max = MAX_CREDITS): number {
  if (raw === undefined || raw === "") return fallback;
  if (!/^[0-9]+(\.[0-9]+)?$/.test(raw) || !(Number(raw) <= max)) throw new ConfigError(`${name} must be a number from 0 to ${max.toLocaleString("en")}, got '${raw}'`);
  return Number(raw);
}

export function bool(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === "") return fallback;
  if (raw === "true" || raw === "1") return true;
  if (raw === "false" || raw === "0") return false;
  throw new ConfigError(`${name} must be true or false, got '${raw}'`);
}

export function onOff(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === "") return fallback;
  if (raw === "on") return true;
  if (raw === "off") return false;
  throw new ConfigError(`${name} must be on or off, got '${raw}'`);
}

export function url(name: string, raw: string | undefined): string | null {
  if (!raw) return null;
  try {
    const u = new URL(raw);
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL, got '${raw}'`);
  }
  return raw.replace(/\/+$/, "");
}

/** A model's name as a provider takes it: blank, or with spaces or control characters around it, no provider knows it. */
export function modelName(name: string, raw: string | undefined, fallback: string): string {
  if (raw === undefined || raw === "") return fallback;
  if (raw.trim() !== raw || /[\x00-\x1f\x7f]/.test(raw))
    throw new ConfigError(`${name} must be a model's name (e.g. ${fallback}), with no spaces around it, got ${JSON.stringify(raw)}; unset it for ${fallback}`);
  return raw;
}

/** A From with an address in it (`name@host`, `Display Name <name@host>`…) on one line: what a typo is not. */
export function mailbox(name: string, raw: string | undefined): string {
  if (!raw) return "Clanker <clanker@localhost>";
  const v = raw.trim();
  if (/[\r\n]/.test(v) || !/\S@\S/.test(v) || (v.includes("<") && !/<[^<>\s]+@[^<>\s]+>$/.test(v)))
    throw new ConfigError(`${name} must be an address like clanker@example.com or "Clanker <clanker@example.com>", got '${raw}'`);
  return v;
}

/** Visible ASCII without spaces (it starts every key and channel name); several deployments may share one Redis. */
export function redisPrefix(raw: string | undefined): string {
  if (raw === undefined || raw === "") return "clanker:";
  if (!/^[\x21-\x7e]{1,64}$/.test(raw)) throw new ConfigError(`CLANKER_REDIS_PREFIX must be 1-64 visible ASCII characters without spaces, got '${raw}'`);
  return raw;
}

export function dsn(name: string, raw: string | undefined, schemes: string[]): string | null {
  if (!raw) return null;
  let u: URL | null = null;
  try {
    u = new URL(raw);
  } catch {}
  if (u === null || !schemes.includes(u.protocol.slice(0, -1)) || !u.host) {
    if (u?.password) u.password = "***";
    throw new ConfigError(`${name} must be a ${schemes.map((s) => `${s}://`).join(" or ")} URL, got ${u ? `'${u.toString().replace(/\/$/, "")}'` : "something that is not a URL"}`);
  }
  return raw;
}

/**
 * The Anthropic SDK writes ANTHROPIC_BASE_URL without /v1, @ai-sdk/anthropic with it: both mean the same
 * server. Kept without it; the worker adds /v1.
 */
export function anthropicBase(base: string | null): string | null {
  return base?.replace(/\/v1$/, "") ?? null;
}

/**
 * OPENAI_BASE_URL as the OpenAI SDK wants it (…/v1). A bare origin (http://localhost:11434) gets /v1; a URL
 * with a path is kept as given, since some compatible servers serve elsewhere (…/v1beta/openai).
 */
export function openaiBase(base: string | null): string | null {
  if (base === null) return null;
  return new URL(base).pathname.replace(/\/+$/, "") === "" ? `${base}/v1` : base;
}

/** A mail server's URL with a host to reach: "smtp://" alone passed, and every mail then failed "Invalid URL". */
export function smtpUrl(raw: string): void {
  let host = "";
  try {
    const u = new URL(raw);
    if (u.protocol === "smtp:" || u.protocol === "smtps:") host = u.hostname;
  } catch {}
  if (!host) throw new ConfigError(`CLANKER_SMTP_URL must be smtp://user:pass@host:port or smtps://…, with a host, got '${raw.replace(/\/\/[^@/]*@/, "//…@")}'`);
}

export function allowedHosts(host: string, publicUrl: string | null, raw: string | undefined): string[] | null {
  const extra = (raw ?? "").split(",").map((h) => h.trim().toLowerCase()).filter(Boolean);
  // Matched against the Host header's name alone: an entry with a scheme, a port or a path never matched, and every
  // request was refused with the advice to set the very variable that was set.
  for (const name of extra)
    if (!/^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)$/.test(name))
      throw new ConfigError(`CLANKER_ALLOWED_HOSTS takes host names only, without scheme, port or path (e.g. clanker.example.com), got '${name}'`);
  if (!isLoopback(host) && extra.length === 0) return null;
  const names = new Set(["localhost", "127.0.0.1", "[::1]", ...extra]);
  if (publicUrl) names.add(new URL(publicUrl).hostname.toLowerCase());
  return [...names];
}

export function trustedProxies(raw: string | undefined): string[] {
  try {
    return parseTrustedProxies(raw ?? "");
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
}

export const isLoopback = (host: string): boolean => host === "localhost" || host === "::1" || host === "[::1]" || host.startsWith("127.");

export function cron(name: string, raw: string | undefined): string | null {
  if (!raw) return null;
  try {
    new Cron(raw, { paused: true }).stop();
  } catch (e) {
    throw new ConfigError(`${name} must be a cron pattern such as '0 3 * * *', got '${raw}' (${(e as Error).message})`);
  }
  return raw;
}

/** An OAuth app's id and secret (CLANKER_<APP>_CLIENT_ID / _SECRET): both or neither. */
export function oauthApp(env: Record<string, string | undefined>, app: "GITHUB" | "SLACK"): { clientId: string | null; clientSecret: string | null } {
  const idName = `CLANKER_${app}_CLIENT_ID`;
  const secretName = `CLANKER_${app}_CLIENT_SECRET`;
  const clientId = env[idName] || null;
  const clientSecret = env[secretName] || null;
  if ((clientId === null) !== (clientSecret === null)) throw new ConfigError(`${idName} and ${secretName} must be set together`);
  return { clientId, clientSecret };
}

export function slackConfig(env: Record<string, string | undefined>): SlackConfig {
  return {
    apiUrl: url("CLANKER_SLACK_API_URL", env.CLANKER_SLACK_API_URL) ?? "https://slack.com/api",
    oauthUrl: url("CLANKER_SLACK_OAUTH_URL", env.CLANKER_SLACK_OAUTH_URL) ?? "https://slack.com",
    ...oauthApp(env, "SLACK"),
  };
}
