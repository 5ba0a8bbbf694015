// The one place where env vars and flags become a typed, validated Config.
import { resolve } from "node:path";

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** Absolute URL this server is reached at, when it differs from the request's origin. */
  publicUrl: string | null;
  rateLimitPerMinute: number;
  publicRateLimitPerMinute: number;
  maxBodyBytes: number;
  idempotencyTtlSeconds: number;
  /** Extra skill folders (CLANKER_SKILLS_DIR), read at start-up beside the bundled catalog. */
  skillsDir: string | null;
  logLevel: "silent" | "info";
}

export class ConfigError extends Error {}

const DEFAULTS = {
  host: "127.0.0.1",
  port: 4377,
  dataDir: "./data",
  rateLimitPerMinute: 100,
  publicRateLimitPerMinute: 300,
  maxBodyBytes: 10 * 1024 * 1024,
  idempotencyTtlSeconds: 24 * 60 * 60,
};

function int(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === "") return fallback;
  if (!/^[0-9]+$/.test(raw)) throw new ConfigError(`${name} must be a whole number, got '${raw}'`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${n}`);
  return n;
}

export interface ConfigFlags {
  port?: string;
  host?: string;
  data?: string;
}

export function loadConfig(flags: ConfigFlags = {}, env: Record<string, string | undefined> = process.env): Config {
  const host = flags.host ?? env.HOST ?? DEFAULTS.host;
  if (!/^[A-Za-z0-9.:\-\[\]]+$/.test(host)) throw new ConfigError(`host must be a hostname or IP address, got '${host}'`);
  const publicUrl = env.CLANKER_PUBLIC_URL || null;
  if (publicUrl !== null) {
    try {
      const u = new URL(publicUrl);
      if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error();
    } catch {
      throw new ConfigError(`CLANKER_PUBLIC_URL must be an http(s) URL, got '${publicUrl}'`);
    }
  }
  const logLevel = env.CLANKER_LOG ?? "info";
  if (logLevel !== "silent" && logLevel !== "info") throw new ConfigError(`CLANKER_LOG must be 'info' or 'silent', got '${logLevel}'`);
  return {
    host,
    port: int(flags.port !== undefined ? "--port" : "PORT", flags.port ?? env.PORT, DEFAULTS.port, 0, 65535),
    dataDir: resolve(flags.data ?? env.CLANKER_DATA_DIR ?? DEFAULTS.dataDir),
    publicUrl: publicUrl?.replace(/\/+$/, "") ?? null,
    rateLimitPerMinute: int("CLANKER_RATE_LIMIT_PER_MINUTE", env.CLANKER_RATE_LIMIT_PER_MINUTE, DEFAULTS.rateLimitPerMinute, 1, 1_000_000),
    publicRateLimitPerMinute: int("CLANKER_PUBLIC_RATE_LIMIT_PER_MINUTE", env.CLANKER_PUBLIC_RATE_LIMIT_PER_MINUTE, DEFAULTS.publicRateLimitPerMinute, 1, 1_000_000),
    maxBodyBytes: int("CLANKER_MAX_BODY_BYTES", env.CLANKER_MAX_BODY_BYTES, DEFAULTS.maxBodyBytes, 1024, 1024 * 1024 * 1024),
    idempotencyTtlSeconds: int("CLANKER_IDEMPOTENCY_TTL_SECONDS", env.CLANKER_IDEMPOTENCY_TTL_SECONDS, DEFAULTS.idempotencyTtlSeconds, 1, 30 * 24 * 3600),
    skillsDir: env.CLANKER_SKILLS_DIR ? resolve(env.CLANKER_SKILLS_DIR) : null,
    logLevel,
  };
}
