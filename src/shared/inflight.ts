// The idempotency in-flight lock: one request per idempotency slot at a time, in this process or across replicas.
import { randomBytes } from "node:crypto";
import type Redis from "ioredis";

export interface InflightLock {
  /** True when this caller now holds `slot`; false while someone else does. `ttlMs` frees it if the holder dies. */
  acquire(slot: string, ttlMs: number): Promise<boolean>;
  /** Frees `slot` if this instance holds it; otherwise nothing (another holder's lock stays). */
  release(slot: string): Promise<void>;
}

/** Today's Set: a process holds its slots until it releases them (a dead process holds nothing). */
export class MemoryInflight implements InflightLock {
  private readonly held = new Set<string>();

  acquire(slot: string): Promise<boolean> {
    if (this.held.has(slot)) return Promise.resolve(false);
    this.held.add(slot);
    return Promise.resolve(true);
  }

  release(slot: string): Promise<void> {
    this.held.delete(slot);
    return Promise.resolve();
  }
}

// Deletes the key only while it still holds our token: a lock that expired and was taken by another replica
// is that replica's, and a late release must not free it.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

type WithRelease = Redis & { clankerInflightRelease(key: string, token: string): Promise<number> };

/** SET NX PX with a random token per acquire; release is compare-and-delete. */
export class RedisInflight implements InflightLock {
  private readonly redis: WithRelease;
  /** The token of each slot this instance holds. */
  private readonly tokens = new Map<string, string>();

  constructor(redis: Redis) {
    if (!("clankerInflightRelease" in redis)) redis.defineCommand("clankerInflightRelease", { numberOfKeys: 1, lua: RELEASE });
    this.redis = redis as WithRelease;
  }

  async acquire(slot: string, ttlMs: number): Promise<boolean> {
    const token = randomBytes(12).toString("base64url");
    const ok = await this.redis.set(`inflight:${slot}`, token, "PX", Math.max(1, Math.ceil(ttlMs)), "NX");
    if (ok !== "OK") return false;
    this.tokens.set(slot, token);
    return true;
  }

  async release(slot: string): Promise<void> {
    const token = this.tokens.get(slot);
    if (token === undefined) return;
    this.tokens.delete(slot);
    await this.redis.clankerInflightRelease(`inflight:${slot}`, token);
  }
}
