// The idempotency in-flight lock: one request per idempotency slot at a time, in this process or across replicas.
import { sharedStateUnavailable } from "./redis";
import { randomBytes } from "../lib/crypto";
import type Redis from "ioredis";
import { replicaId } from "../lib/replica";

const ownedKey = (owner: string) => `inflight-owner:${owner}`;

export interface InflightLock {
  /** True when this caller now holds `slot`; false while someone else does. Held until released; `ttlMs` after its holder dies. */
  acquire(slot: string, ttlMs: number): Promise<boolean>;
  /** Frees `slot` if this instance holds it; otherwise nothing (another holder's lock stays). */
  release(slot: string): Promise<void>;
  /**
   * Frees every slot a dead process (by replica id) still held, so a client retrying what that process never
   * answered is not told IN_FLIGHT until the TTL runs out. Called by the process that took its data dir over,
   * before it listens.
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

// Takes the slot and records it under its owner in one step: a process killed in between would otherwise hold a
// slot nobody can find to release. The owner's set lives as long as its longest slot.
const ACQUIRE = `if not redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return 0 end
redis.call('SADD', KEYS[2], ARGV[3])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return 1`;
// Extends the slot (and its owner's set) only while it still holds our token.
const RENEW = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return 1`;
// Deletes the key only while it still holds our token: a lock that expired and was taken by another replica
// is that replica's, and a late release must not free it. The slot leaves its owner's set either way, in the same
// round trip (the answer waits for this release).
const RELEASE = `local freed = 0
if redis.call('GET', KEYS[1]) == ARGV[1] then freed = redis.call('DEL', KEYS[1]) end
redis.call('SREM', KEYS[2], ARGV[2])
return freed`;
// Deletes the key only while its token starts with the dead owner's id (`<owner> <random>`).
const RELEASE_OWNER = `local v = redis.call('GET', KEYS[1]) if v and string.sub(v, 1, #ARGV[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

type WithScripts = Redis & {
  clankerInflightAcquire(key: string, owned: string, token: string, ttlMs: number, slot: string): Promise<number>;
  clankerInflightRenew(key: string, owned: string, token: string, ttlMs: number): Promise<number>;
  clankerInflightRelease(key: string, owned: string, token: string, slot: string): Promise<number>;
  clankerInflightReleaseOwner(key: string, ownerPrefix: string): Promise<number>;
};

interface Held {
  token: string;
  /** Renews the slot every third of its ttl while the request runs. */
  timer: ReturnType<typeof setTimeout>;
}

/**
 * SET NX PX with a random token per acquire; release is compare-and-delete. The ttl is a lease: renewed while the
 * holder lives, so a request slower than it keeps its slot, and a replica that dies for good (no successor on its
 * data dir to call releaseOwnedBy) blocks its clients' retries for one ttl at most.
 */
export class RedisInflight implements InflightLock {
  private readonly redis: WithScripts;
  private readonly held = new Map<string, Held>();

  constructor(redis: Redis) {
    if (!("clankerInflightAcquire" in redis)) {
      redis.defineCommand("clankerInflightAcquire", { numberOfKeys: 2, lua: ACQUIRE });
      redis.defineCommand("clankerInflightRenew", { numberOfKeys: 2, lua: RENEW });
      redis.defineCommand("clankerInflightRelease", { numberOfKeys: 2, lua: RELEASE });
      redis.defineCommand("clankerInflightReleaseOwner", { numberOfKeys: 1, lua: RELEASE_OWNER });
    }
    this.redis = redis as WithScripts;
  }

  async acquire(slot: string, ttlMs: number): Promise<boolean> {
    const token = `${replicaId} ${randomBytes(12).toString("base64url")}`;
    const ttl = Math.max(3, Math.ceil(ttlMs));
    let acquired: number;
    try {
      acquired = await this.redis.clankerInflightAcquire(`inflight:${slot}`, ownedKey(replicaId), token, ttl, slot);
    } catch {
      // Without Redis no replica can know whether another runs this key now: a retry later is safe, a guess is not.
      throw sharedStateUnavailable("idempotency keys in flight");
    }
    if (acquired !== 1) return false;
    const next = () => setTimeout(renew, ttl / 3).unref();
    const renew = (): void => {
      void this.redis
        .clankerInflightRenew(`inflight:${slot}`, ownedKey(replicaId), token, ttl)
        // 0: lost (expired while Redis was out of reach, maybe taken since), nothing of ours to renew. A failed
        // call (Redis unreachable for a moment): try again at the next third, while the slot may still be ours.
        .then((kept) => kept === 1, () => true)
        .then((again) => {
          const h = this.held.get(slot);
          if (again && h?.token === token) h.timer = next();
        });
    };
    this.held.set(slot, { token, timer: next() });
    return true;
  }

  async releaseOwnedBy(owner: string): Promise<number> {
    let freed = 0;
    for (const slot of await this.redis.smembers(ownedKey(owner))) freed += await this.redis.clankerInflightReleaseOwner(`inflight:${slot}`, `${owner} `);
    await this.redis.del(ownedKey(owner));
    return freed;
  }

  async release(slot: string): Promise<void> {
    const h = this.held.get(slot);
    if (h === undefined) return;
    this.held.delete(slot);
    clearTimeout(h.timer);
    await this.redis.clankerInflightRelease(`inflight:${slot}`, ownedKey(replicaId), h.token, slot);
  }
}
