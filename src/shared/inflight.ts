// The idempotency in-flight lock: one request per idempotency slot at a time, in this process or across replicas.
import { randomBytes } from "node:crypto";
import type Redis from "ioredis";
import { replicaId } from "../lib/replica";

const ownedKey = (owner: string) => `inflight-owner:${owner}`;

export interface InflightLock {
  /** True when this caller now holds `slot`; false while someone else does. `ttlMs` frees it if the holder dies. */
  acquire(slot: string, ttlMs: number): Promise<boolean>;
  /** Frees `slot` if this instance holds it; otherwise nothing (another holder's lock stays). */
  release(slot: string): Promise<void>;
  /**
   * Frees every slot a dead process (by replica id) still held, so a client retrying what that process never
   * answered is not told IN_FLIGHT until the TTL runs out. Called by the process that took its data dir over.
   */
  releaseOwnedBy(owner: string): Promise<number>;
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

  releaseOwnedBy(): Promise<number> {
    return Promise.resolve(0);
  }
}

// Deletes the key only while it still holds our token: a lock that expired and was taken by another replica
// is that replica's, and a late release must not free it.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
// Deletes the key only while its token starts with the dead owner's id (`<owner> <random>`).
const RELEASE_OWNER = `local v = redis.call('GET', KEYS[1]) if v and string.sub(v, 1, #ARGV[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

type WithRelease = Redis & {
  clankerInflightRelease(key: string, token: string): Promise<number>;
  clankerInflightReleaseOwner(key: string, ownerPrefix: string): Promise<number>;
};

/** SET NX PX with a random token per acquire; release is compare-and-delete. */
export class RedisInflight implements InflightLock {
  private readonly redis: WithRelease;
  /** The token of each slot this instance holds. */
  private readonly tokens = new Map<string, string>();

  constructor(redis: Redis) {
    if (!("clankerInflightRelease" in redis)) {
      redis.defineCommand("clankerInflightRelease", { numberOfKeys: 1, lua: RELEASE });
      redis.defineCommand("clankerInflightReleaseOwner", { numberOfKeys: 1, lua: RELEASE_OWNER });
    }
    this.redis = redis as WithRelease;
  }

  async acquire(slot: string, ttlMs: number): Promise<boolean> {
    const token = `${replicaId} ${randomBytes(12).toString("base64url")}`;
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const ok = await this.redis.set(`inflight:${slot}`, token, "PX", ttl, "NX");
    if (ok !== "OK") return false;
    this.tokens.set(slot, token);
    // Which slots this process holds, for whoever takes over after it dies (kept no longer than a slot lives).
    await this.redis.multi().sadd(ownedKey(replicaId), slot).pexpire(ownedKey(replicaId), ttl).exec();
    return true;
  }

  async releaseOwnedBy(owner: string): Promise<number> {
    let freed = 0;
    for (const slot of await this.redis.smembers(ownedKey(owner))) freed += await this.redis.clankerInflightReleaseOwner(`inflight:${slot}`, `${owner} `);
    await this.redis.del(ownedKey(owner));
    return freed;
  }

  async release(slot: string): Promise<void> {
    const token = this.tokens.get(slot);
    if (token === undefined) return;
    this.tokens.delete(slot);
    await this.redis.clankerInflightRelease(`inflight:${slot}`, token);
    await this.redis.srem(ownedKey(replicaId), slot);
  }
}
