// "Exactly one caller per name": work that must happen once across replicas (a cron tick's firing, a delivery).
import { sharedStateUnavailable } from "./redis";
import type Redis from "ioredis";
import { lru } from "../lib/lru";

export interface OnceLock {
  /** True for exactly one caller per `name` until `ttlMs` has passed; name = what + when (trigger id + tick time). */
  tryOnce(name: string, ttlMs: number): Promise<boolean>;
  /** Frees `name` before its time (the work it guarded was refused and may be tried again). */
  forget(name: string): Promise<void>;
}

/** Names with their expiry, in this process: bounded (the oldest go first), so a busy hook cannot grow it for ever. */
export class MemoryOnceLock implements OnceLock {
  private readonly taken = lru<string, true>(50_000);

  tryOnce(name: string, ttlMs: number): Promise<boolean> {
    if (this.taken.has(name)) return Promise.resolve(false);
    this.taken.set(name, true, { ttl: Math.max(1, Math.ceil(ttlMs)) });
    return Promise.resolve(true);
  }

  forget(name: string): Promise<void> {
    this.taken.delete(name);
    return Promise.resolve();
  }
}

/** SET NX PX: Redis answers OK to one caller; the key expires by itself. */
export class RedisOnceLock implements OnceLock {
  constructor(private readonly redis: Redis) {}

  async tryOnce(name: string, ttlMs: number): Promise<boolean> {
    try {
      return (await this.redis.set(`lock:${name}`, "1", "PX", Math.max(1, Math.ceil(ttlMs)), "NX")) === "OK";
    } catch {
      // Whether another replica took it cannot be known: the caller does nothing now (a trigger's sender retries).
      throw sharedStateUnavailable("once-only locks");
    }
  }

  async forget(name: string): Promise<void> {
    await this.redis.del(`lock:${name}`);
  }
}
