// "Exactly one caller per name": for work that must happen once per tick across replicas (a cron trigger's firing).
import type Redis from "ioredis";

export interface OnceLock {
  /** True for exactly one caller per `name` until `ttlMs` has passed; name = what + when (trigger id + tick time). */
  tryOnce(name: string, ttlMs: number): Promise<boolean>;
}

/** Names with their expiry, in this process. */
export class MemoryOnceLock implements OnceLock {
  private readonly taken = new Map<string, number>();

  tryOnce(name: string, ttlMs: number, now = Date.now()): Promise<boolean> {
    const until = this.taken.get(name);
    if (until !== undefined && until > now) return Promise.resolve(false);
    // Expired names go once the map grows (one per trigger tick otherwise accumulates for ever).
    if (this.taken.size >= 1024) for (const [n, t] of this.taken) if (t <= now) this.taken.delete(n);
    this.taken.set(name, now + ttlMs);
    return Promise.resolve(true);
  }
}

/** SET NX PX: Redis answers OK to one caller; the key expires by itself, so nothing releases it. */
export class RedisOnceLock implements OnceLock {
  constructor(private readonly redis: Redis) {}

  async tryOnce(name: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(`lock:${name}`, "1", "PX", Math.max(1, Math.ceil(ttlMs)), "NX")) === "OK";
  }
}
