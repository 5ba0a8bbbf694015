// Fixed one-minute windows per principal (API key, session user, or client IP), held in memory.
import { LRUCache } from "lru-cache";
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

const WINDOW_MS = 60_000;

export class RateLimiter {
  // Made by the first counted request: lru-cache allocates its arrays for `max` entries up front (~6 MB here),
  // which at start-up only brings the first garbage collection forward (cold start is measured).
  private windowsCache: LRUCache<string, Window> | undefined;
  private get windows(): LRUCache<string, Window> {
    return (this.windowsCache ??= new LRUCache<string, Window>({ max: 200_000 }));
  }

  /** Counts one request for `key`; throws RateLimitError (with the headers to send) past `limit`. */
  hit(key: string, limit: number, now = Date.now()): RateVerdict {
    let w = this.windows.get(key);
    if (!w || w.resetAt <= now) {
      w = { count: 0, resetAt: now + WINDOW_MS };
      this.windows.set(key, w);
    }
    w.count++;
    const reset = Math.max(1, Math.ceil((w.resetAt - now) / 1000));
    const verdict = { limit, remaining: Math.max(0, limit - w.count), reset };
    if (w.count > limit) {
      const err = new RateLimitError(`Rate limit of ${limit} requests per minute exceeded; retry in ${reset}s`, reset);
      Object.assign(err.headers!, rateHeaders(verdict));
      throw err;
    }
    return verdict;
  }
}

export function rateHeaders(v: RateVerdict): Record<string, string> {
  return {
    "x-ratelimit-limit": String(v.limit),
    "x-ratelimit-remaining": String(v.remaining),
    "x-ratelimit-reset": String(v.reset),
  };
}
