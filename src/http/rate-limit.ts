// Fixed one-minute windows per principal (API key, session user, or client IP): in memory, or in Redis across replicas.
import type Redis from "ioredis";
import { lru } from "../lib/lru";
import { RateLimitError } from "../lib/errors";

interface Window {
  count: number;
  resetAt: number;
}

export interface RateVerdict {
  limit: number;
  remaining: number;
  /** Seconds until the window frees up. */
  reset: number;
}

/**
 * Counts one request for `key`; throws RateLimitError (with the headers to send) past `limit`. The in-memory
 * limiter answers synchronously (the embedded hot path pays no microtask); callers that may get either write
 * `const r = limiter.hit(k, n); const v = r instanceof Promise ? await r : r;`.
 */
export interface RateLimiter {
  hit(key: string, limit: number): RateVerdict | Promise<RateVerdict>;
}

export const WINDOW_MS = 60_000;

/** The verdict for the `count`th request of a window that frees up in `resetMs`; throws past the limit. */
function verdict(count: number, resetMs: number, limit: number): RateVerdict {
  const reset = Math.max(1, Math.ceil(resetMs / 1000));
  const v = { limit, remaining: Math.max(0, limit - count), reset };
  if (count > limit) {
    const err = new RateLimitError(`Rate limit of ${limit} requests per minute exceeded; retry in ${reset}s`, reset);
    Object.assign(err.headers!, rateHeaders(v));
    throw err;
  }
  return v;
}

/** One process's windows (the default, and the only one without REDIS_URL). */
export class MemoryRateLimiter implements RateLimiter {
  private readonly windows = lru<string, Window>(200_000);

  hit(key: string, limit: number, now = Date.now()): RateVerdict {
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      w = { count: 0, resetAt: now + WINDOW_MS };
      this.windows.set(key, w);
    }
    w.count++;
    return verdict(w.count, w.resetAt - now, limit);
  }
}

// INCR and PEXPIRE in one script, so no replica ever sees a window without its expiry (a key left without
// one would never free up). A key found without a TTL (written by hand, or PERSISTed) gets one here.
const HIT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local t = redis.call('PTTL', KEYS[1])
if t < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); t = tonumber(ARGV[1]) end
return {n, t}`;

type WithHit = Redis & { clankerRateHit(key: string, windowMs: number): Promise<[number, number]> };

/** One budget per key across every replica on the same Redis: one atomic script per request. */
export class RedisRateLimiter implements RateLimiter {
  private readonly redis: WithHit;
  /** While Redis is out of reach each replica counts alone: a looser budget for a while, rather than no API. */
  private readonly alone = new MemoryRateLimiter();

  constructor(redis: Redis) {
    // EVALSHA, falling back to EVAL once per connection; keys get the connection's prefix.
    if (!("clankerRateHit" in redis)) redis.defineCommand("clankerRateHit", { numberOfKeys: 1, lua: HIT });
    this.redis = redis as WithHit;
  }

  async hit(key: string, limit: number): Promise<RateVerdict> {
    let counted: [number, number];
    try {
      counted = await this.redis.clankerRateHit(`rl:${key}`, WINDOW_MS);
    } catch {
      return this.alone.hit(key, limit);
    }
    return verdict(counted[0], counted[1], limit);
  }
}

export function rateHeaders(v: RateVerdict): Record<string, string> {
  return {
    "x-ratelimit-limit": String(v.limit),
    "x-ratelimit-remaining": String(v.remaining),
    "x-ratelimit-reset": String(v.reset),
  };
}
