// The state replicas share (rate windows, idempotency in-flight slots, fan-out, once-per-tick locks): Redis when
// REDIS_URL is set, else this process's memory exactly as before.
import type { Log } from "../lib/log";
import { MemoryRateLimiter, RedisRateLimiter, type RateLimiter } from "../http/rate-limit";
import { MemoryFanout, RedisFanout, type Fanout } from "./fanout";
import { MemoryInflight, RedisInflight, type InflightLock } from "./inflight";
import { MemoryOnceLock, RedisOnceLock, type OnceLock } from "./lock";
// redis.ts imports ioredis itself, lazily: these imports load none of it.
import { connectRedis, type RedisOptions } from "./redis";

export type { Fanout, FanoutChannel } from "./fanout";
export type { InflightLock } from "./inflight";
export type { OnceLock } from "./lock";

export interface SharedState {
  kind: "memory" | "redis";
  limiter: RateLimiter;
  inflight: InflightLock;
  fanout: Fanout;
  lock: OnceLock;
  /** Closes the Redis connections (nothing in memory mode). */
  close(): Promise<void>;
}

export function memoryState(log: Log): SharedState {
  return {
    kind: "memory",
    limiter: new MemoryRateLimiter(),
    inflight: new MemoryInflight(),
    fanout: new MemoryFanout(log),
    lock: new MemoryOnceLock(),
    close: () => Promise.resolve(),
  };
}

/**
 * Rejects with one line when REDIS_URL is set and Redis cannot be reached. Without it, nothing of Redis (nor
 * ioredis) is loaded: a plain start imports what it did before.
 */
export async function createSharedState(opts: { redisUrl: string | null; log: Log; redis?: RedisOptions }): Promise<SharedState> {
  if (!opts.redisUrl) return memoryState(opts.log);
  const conn = await connectRedis(opts.redisUrl, opts.redis);
  const fanout = new RedisFanout(conn.cmd, conn.sub, conn.prefix, opts.log);
  return {
    kind: "redis",
    limiter: new RedisRateLimiter(conn.cmd),
    inflight: new RedisInflight(conn.cmd),
    fanout,
    lock: new RedisOnceLock(conn.cmd),
    async close() {
      await fanout.close();
      await conn.close();
    },
  };
}
