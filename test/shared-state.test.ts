// Shared ephemeral state (issue 15, item 2): two SharedState instances on one real redis-server stand for two
// replicas — one rate budget, one in-flight holder, fan-out exactly once everywhere, one cron firing per tick —
// and the in-memory implementations keep the same properties within one process. Plus REDIS_URL/DATABASE_URL.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import IORedis from "ioredis";
import { loadConfig } from "../src/config";
import { ConfigError } from "../src/config-values";
import { MemoryRateLimiter, type RateVerdict } from "../src/http/rate-limit";
import { RateLimitError } from "../src/lib/errors";
import { lineLog } from "../src/lib/log";
import { createSharedState, type SharedState } from "../src/shared";
import { connectRedis } from "../src/shared/redis";
import { startRedis, type TestRedis } from "./helpers/redis";
import { freePort, waitUntil } from "./helpers/suite";
import { cleanup, client, startServer, uniqueEmail, type ApiResponse, type TestServer } from "./helpers/server";
import { replicaId } from "../src/lib/replica";

const ROOT = resolve(import.meta.dir, "..");
const log = lineLog(() => {});
const uniq = (what: string) => `${what}-${crypto.randomUUID()}`;
/** The verdict, or the RateLimitError it threw. */
const tryHit = async (s: SharedState, key: string, limit: number): Promise<RateVerdict | RateLimitError> => {
  try {
    return await s.limiter.hit(key, limit);
  } catch (e) {
    if (e instanceof RateLimitError) return e;
    throw e;
  }
};

let redis: TestRedis;
let a: SharedState;
let b: SharedState;
let raw: IORedis; // no prefix: sees the keys as Redis stores them

beforeAll(async () => {
  redis = await startRedis();
  a = await createSharedState({ redisUrl: redis.url, log });
  b = await createSharedState({ redisUrl: redis.url, log });
  raw = new IORedis(redis.url);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  raw?.disconnect();
  await redis?.stop();
});

describe("two replicas on one Redis", () => {
  test("both are Redis-backed and keep their keys under clanker:", async () => {
    expect([a.kind, b.kind]).toEqual(["redis", "redis"]);
    const name = uniq("prefix");
    expect(await a.lock.tryOnce(name, 5000)).toBe(true);
    expect(await raw.exists(`clanker:lock:${name}`)).toBe(1);
  });

  test("the rate limit is one budget across both: 10 pass, the 11th (on the other replica) is refused with reset > 0", async () => {
    const key = uniq("key");
    const first = await Promise.all(Array.from({ length: 10 }, (_, i) => tryHit(i % 2 ? b : a, key, 10)));
    expect(first.every((v) => !(v instanceof RateLimitError))).toBe(true);
    expect((first as RateVerdict[]).map((v) => v.remaining).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const eleventh = await tryHit(b, key, 10);
    expect(eleventh).toBeInstanceOf(RateLimitError);
    const err = eleventh as RateLimitError;
    expect(err.status).toBe(429);
    expect(Number(err.headers!["x-ratelimit-reset"])).toBeGreaterThan(0);
    expect(Number(err.headers!["retry-after"])).toBeGreaterThan(0);
    expect(err.headers!["x-ratelimit-remaining"]).toBe("0");
    // The window's expiry was set with the first hit, in the same script: one minute at most, never none.
    const pttl = await raw.pttl(`clanker:rl:${key}`);
    expect(pttl).toBeGreaterThan(50_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });

  test("commands started in one turn go out together: 50 rate-limit checks at once reach Redis in a few reads, not 50", async () => {
    const reads = async () => Number(/total_reads_processed:(\d+)/.exec(await raw.info("stats"))![1]);
    const key = uniq("burst");
    await tryHit(a, uniq("warm"), 10);
    const before = await reads();
    const verdicts = await Promise.all(Array.from({ length: 50 }, () => tryHit(a, key, 100)));
    const after = await reads();
    expect((verdicts as RateVerdict[]).map((v) => v.remaining).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => 50 + i));
    // The INFO calls themselves are a read each; one write per command would be 50 more.
    expect(after - before).toBeLessThan(10);
  });

  test("a window frees up when it expires, on both replicas", async () => {
    const key = uniq("key");
    await a.limiter.hit(key, 1);
    expect(await tryHit(b, key, 1)).toBeInstanceOf(RateLimitError);
    await raw.pexpire(`clanker:rl:${key}`, 1);
    await Bun.sleep(20);
    expect(await tryHit(b, key, 1)).toMatchObject({ limit: 1, remaining: 0, reset: 60 });
  });

  test("inflight: of 50 concurrent acquires over both replicas one wins; a non-owner's release frees nothing", async () => {
    const slot = uniq("ws:key");
    const won = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? b : a).inflight.acquire(slot, 30_000)));
    expect(won.filter(Boolean)).toHaveLength(1);
    const owner = won.indexOf(true) % 2 ? b : a;
    const other = owner === a ? b : a;
    await other.inflight.release(slot);
    expect(await other.inflight.acquire(slot, 30_000)).toBe(false);
    expect(await raw.exists(`clanker:inflight:${slot}`)).toBe(1);
    await owner.inflight.release(slot);
    expect(await raw.exists(`clanker:inflight:${slot}`)).toBe(0);
    expect(await other.inflight.acquire(slot, 30_000)).toBe(true);
    await other.inflight.release(slot);
  });

  test("inflight: a holder whose slot expired and was taken by the other replica does not free the new holder's", async () => {
    const slot = uniq("ws:key");
    expect(await a.inflight.acquire(slot, 300)).toBe(true);
    // Expired while A could not renew it (Redis out of its reach): A's next renewal finds another token and stops.
    await raw.del(`clanker:inflight:${slot}`);
    expect(await b.inflight.acquire(slot, 30_000)).toBe(true);
    await Bun.sleep(250);
    expect(await raw.pttl(`clanker:inflight:${slot}`)).toBeGreaterThan(29_000);
    await a.inflight.release(slot); // late, and no longer the owner
    expect(await a.inflight.acquire(slot, 30_000)).toBe(false);
    await b.inflight.release(slot);
    expect(await a.inflight.acquire(slot, 30_000)).toBe(true);
    await a.inflight.release(slot);
  });

  test("inflight: the ttl is a lease, renewed while the holder lives; the slot and its owner's record go in one step", async () => {
    const slot = uniq("ws:key");
    expect(await a.inflight.acquire(slot, 300)).toBe(true);
    // Taken and recorded under its owner by one script: no moment in which a kill leaves an unrecorded slot.
    expect(await raw.sismember(`clanker:inflight-owner:${replicaId}`, slot)).toBe(1);
    expect(await raw.pttl(`clanker:inflight-owner:${replicaId}`)).toBeGreaterThan(0);
    // Three times its ttl later, a request still running holds it (renewed every third).
    await Bun.sleep(900);
    expect(await raw.exists(`clanker:inflight:${slot}`)).toBe(1);
    expect(await b.inflight.acquire(slot, 300)).toBe(false);
    await a.inflight.release(slot);
    expect(await raw.exists(`clanker:inflight:${slot}`)).toBe(0);
    expect(await raw.sismember(`clanker:inflight-owner:${replicaId}`, slot)).toBe(0);
    // A holder that dies stops renewing: here its token is set by hand with no process behind it.
    await raw.set(`clanker:inflight:${slot}`, "dead-replica:1:ab token", "PX", 300);
    expect(await b.inflight.acquire(slot, 300)).toBe(false);
    await Bun.sleep(400);
    expect(await b.inflight.acquire(slot, 300)).toBe(true);
    await b.inflight.release(slot);
  });

  test("inflight: the slots a dead process held are freed by releaseOwnedBy(its replica id); a slot it no longer holds stays", async () => {
    const slots = ["dead:1", "dead:2"].map((s) => `${s}:${Date.now()}`);
    for (const s of slots) expect(await a.inflight.acquire(s, 60_000)).toBe(true);
    // One of them expired and went to B meanwhile: B's holding must survive the clean-up of A's.
    await raw.del(`clanker:inflight:${slots[1]}`);
    expect(await b.inflight.acquire(slots[1]!, 60_000)).toBe(true);
    expect(await b.inflight.acquire(slots[0]!, 60_000)).toBe(false);
    // Both instances run in this process, so they share its replica id: B's token starts with it too — use a
    // token of another owner for B's slot to stand for "another replica".
    await raw.set(`clanker:inflight:${slots[1]}`, "other-replica:1:ab token");
    expect(await a.inflight.releaseOwnedBy(replicaId)).toBe(1);
    expect(await raw.exists(`clanker:inflight:${slots[0]}`)).toBe(0);
    expect(await raw.get(`clanker:inflight:${slots[1]}`)).toBe("other-replica:1:ab token");
    expect(await b.inflight.acquire(slots[0]!, 60_000)).toBe(true);
    await b.inflight.release(slots[0]!);
    await raw.del(`clanker:inflight:${slots[1]}`);
  });

  test("fan-out: a publish on A reaches B's and A's subscribers exactly once each, on its channel only", async () => {
    const got = { a1: [] as string[], a2: [] as string[], b: [] as string[], bWake: [] as string[] };
    const offs = [
      a.fanout.subscribe("events", (p) => got.a1.push(p)),
      a.fanout.subscribe("events", (p) => got.a2.push(p)),
      b.fanout.subscribe("events", (p) => got.b.push(p)),
      b.fanout.subscribe("wake", (p) => got.bWake.push(p)),
    ];
    await Promise.all([a.fanout.ready(), b.fanout.ready()]);
    a.fanout.publish("events", "row-1");
    expect(got.a1).toEqual(["row-1"]); // own subscribers: at once, synchronously
    b.fanout.publish("events", "row-2");
    expect(got.b).toEqual(["row-2"]);
    for (let i = 0; i < 100 && (got.b.length < 2 || got.a1.length < 2); i++) await Bun.sleep(10);
    await Bun.sleep(150); // an echo or a second delivery would land in here
    // Once each. A replica's own message reaches its subscribers before the other replica's earlier one can:
    // order holds per publisher (what an execution's events need), not across replicas.
    expect(got.a1).toEqual(["row-1", "row-2"]);
    expect(got.a2).toEqual(["row-1", "row-2"]);
    expect(got.b.toSorted()).toEqual(["row-1", "row-2"]);
    expect(got.bWake).toEqual([]);
    offs[2]!();
    a.fanout.publish("events", "row-3");
    await Bun.sleep(150);
    expect(got.b).toHaveLength(2);
    expect(got.a1).toEqual(["row-1", "row-2", "row-3"]);
    offs.forEach((off) => off());
  });

  test("fan-out: 200 messages from one replica arrive on the other once each and in order", async () => {
    const got: string[] = [];
    const off = b.fanout.subscribe("wake", (p) => got.push(p));
    await b.fanout.ready();
    const sent = Array.from({ length: 200 }, (_, i) => `m${i}`);
    for (const m of sent) a.fanout.publish("wake", m);
    for (let i = 0; i < 200 && got.length < 200; i++) await Bun.sleep(10);
    await Bun.sleep(100);
    expect(got).toEqual(sent);
    off();
  });

  test("lock: of 20 concurrent tryOnce on one name across both replicas exactly one is true; a new tick's name is free", async () => {
    const tick = uniq("trigger") + "@2025-01-01T00:00:00Z";
    const got = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? b : a).lock.tryOnce(tick, 60_000)));
    expect(got.filter(Boolean)).toHaveLength(1);
    expect(await b.lock.tryOnce(tick.replace("00:00:00", "00:00:01"), 60_000)).toBe(true);
  });

  test("a Redis that is down at start: connectRedis and createSharedState reject with one clear line, password left out", async () => {
    const port = await freePort();
    const t0 = Date.now();
    const err = await connectRedis(`redis://:hunter2@127.0.0.1:${port}`).catch((e: Error) => e);
    expect(Date.now() - t0).toBeLessThan(3500);
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toMatch(new RegExp(`^cannot reach Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\); check REDIS_URL`));
    expect(msg).not.toContain("hunter2");
    expect(msg).not.toContain("\n");
    const viaState = await createSharedState({ redisUrl: `redis://127.0.0.1:${port}`, log }).catch((e: Error) => e);
    expect((viaState as Error).message).toStartWith("cannot reach Redis at ");
  });

  test("a server that accepts and never answers fails start within the connect timeout", async () => {
    const silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const t0 = Date.now();
      const err = await connectRedis(`redis://127.0.0.1:${silent.port}`, { connectTimeoutMs: 500 }).catch((e: Error) => e);
      expect(Date.now() - t0).toBeLessThan(2000);
      expect((err as Error).message).toStartWith(`cannot reach Redis at redis://127.0.0.1:${silent.port} (`);
    } finally {
      silent.stop(true);
    }
  });
});

describe("in memory (no REDIS_URL), within one process", () => {
  const m = () => createSharedState({ redisUrl: null, log });

  test("the rate limiter answers synchronously: 10 pass, the 11th is refused with reset > 0", async () => {
    const s = await m();
    expect(s.kind).toBe("memory");
    const first = s.limiter.hit("k", 10);
    expect(first).not.toBeInstanceOf(Promise);
    expect(first).toEqual({ limit: 10, remaining: 9, reset: 60 });
    for (let i = 0; i < 9; i++) s.limiter.hit("k", 10);
    let err: unknown;
    try {
      s.limiter.hit("k", 10);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RateLimitError);
    expect(Number((err as RateLimitError).headers!["x-ratelimit-reset"])).toBeGreaterThan(0);
    // The window is fixed: one minute after its first hit, it starts over.
    const l = new MemoryRateLimiter();
    l.hit("k", 1, 1_000);
    expect(() => l.hit("k", 1, 60_999)).toThrow(RateLimitError);
    expect(l.hit("k", 1, 61_000)).toEqual({ limit: 1, remaining: 0, reset: 60 });
  });

  test("inflight: of 50 concurrent acquires one wins, and the slot is free again after release", async () => {
    const s = await m();
    const won = await Promise.all(Array.from({ length: 50 }, () => s.inflight.acquire("ws:key", 30_000)));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect(await s.inflight.acquire("ws:key", 30_000)).toBe(false);
    await s.inflight.release("ws:key");
    expect(await s.inflight.acquire("ws:key", 30_000)).toBe(true);
  });

  test("fan-out: a publish reaches each subscriber of its channel once, synchronously", async () => {
    const s = await m();
    const got: string[] = [];
    const other: string[] = [];
    const off = s.fanout.subscribe("events", (p) => got.push(p));
    s.fanout.subscribe("events", () => {
      throw new Error("a failing subscriber does not stop the others");
    });
    s.fanout.subscribe("cache", (p) => other.push(p));
    await s.fanout.ready();
    s.fanout.publish("events", "x");
    expect(got).toEqual(["x"]);
    expect(other).toEqual([]);
    off();
    s.fanout.publish("events", "y");
    expect(got).toEqual(["x"]);
  });

  test("lock: of 20 concurrent tryOnce one is true, and the name is free again once its time has passed", async () => {
    const s = await m();
    const got = await Promise.all(Array.from({ length: 20 }, () => s.lock.tryOnce("t@1", 100)));
    expect(got.filter(Boolean)).toHaveLength(1);
    await Bun.sleep(120);
    expect(await s.lock.tryOnce("t@1", 100)).toBe(true);
  });

  test("without REDIS_URL nothing of ioredis is loaded; with it, it is", async () => {
    const dir = mkdtempSync(join(tmpdir(), "clanker-shared-"));
    try {
      const run = (redisUrl: string | null) => {
        const trace = join(dir, `trace-${redisUrl ? "redis" : "memory"}`);
        const code = `const { createSharedState } = await import(${JSON.stringify(join(ROOT, "src/shared/index.ts"))});
          const s = await createSharedState({ redisUrl: ${JSON.stringify(redisUrl)}, log: Object.assign(() => {}, { info() {}, warn() {}, error() {}, debug() {} }) });
          await s.close();`;
        const p = Bun.spawnSync([process.execPath, "--preload", join(ROOT, "test/helpers/module-trace.ts"), "-e", code], {
          cwd: ROOT,
          env: { ...(process.env as Record<string, string>), CLANKER_MODULE_TRACE: trace },
        });
        expect(p.exitCode).toBe(0);
        return readFileSync(trace, "utf8").split("\n").some((m) => m.includes("/node_modules/ioredis/"));
      };
      expect(run(null)).toBe(false);
      expect(run(redis.url)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe("REDIS_URL and DATABASE_URL", () => {
  test("accepted with their schemes, null when unset", () => {
    expect(loadConfig({}, {})).toMatchObject({ redisUrl: null, databaseUrl: null });
    const c = loadConfig({}, { REDIS_URL: "rediss://u:p@cache:6380/2", DATABASE_URL: "postgresql://clanker:pw@db:5432/clanker" });
    expect(c.redisUrl).toBe("rediss://u:p@cache:6380/2");
    expect(c.databaseUrl).toBe("postgresql://clanker:pw@db:5432/clanker");
    expect(loadConfig({}, { REDIS_URL: "redis://127.0.0.1:6379", DATABASE_URL: "postgres://db/x" })).toMatchObject({ redisUrl: "redis://127.0.0.1:6379", databaseUrl: "postgres://db/x" });
  });

  test("another scheme or no URL is a one-line error that leaves the password out", () => {
    const bad = (env: Record<string, string>) => {
      try {
        loadConfig({}, env);
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
      throw new Error("accepted");
    };
    expect(bad({ REDIS_URL: "http://u:secret@cache:6379" })).toBe("REDIS_URL must be a redis:// or rediss:// URL, got 'http://u:***@cache:6379'");
    expect(bad({ REDIS_URL: "cache:6379" })).toStartWith("REDIS_URL must be a redis:// or rediss:// URL");
    expect(bad({ DATABASE_URL: "mysql://root:secret@db/clanker" })).toBe("DATABASE_URL must be a postgres:// or postgresql:// URL, got 'mysql://root:***@db/clanker'");
    expect(bad({ DATABASE_URL: "not a url" })).toBe("DATABASE_URL must be a postgres:// or postgresql:// URL, got something that is not a URL");
  });

  test("`clanker serve` with a bad REDIS_URL exits 2 with that line", () => {
    const p = Bun.spawnSync([process.execPath, join(ROOT, "src/main.ts"), "serve", "--port", "0"], {
      cwd: ROOT,
      env: { ...(process.env as Record<string, string>), REDIS_URL: "memcached://cache:11211", CLANKER_LOG: "silent" },
    });
    expect(p.exitCode).toBe(2);
    expect(p.stderr.toString()).toContain("REDIS_URL must be a redis:// or rediss:// URL, got 'memcached://cache:11211'");
  });
});

describe("a server whose Redis goes away", () => {
  let server: TestServer | undefined;
  let proc: Bun.Subprocess | undefined;
  const dir = mkdtempSync(join(tmpdir(), "clanker-redis-gone-"));
  let port = 0;
  /** A redis-server of this test's own (one it may stop), on `port`; resolves once it answers. */
  const redisUp = async () => {
    proc = Bun.spawn(["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], { stdout: "ignore", stderr: "ignore" });
    const probe = new IORedis(`redis://127.0.0.1:${port}`, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => {});
    try {
      for (let i = 0; i < 100; i++) {
        if (await probe.connect().then(() => probe.ping(), () => null)) return;
        await Bun.sleep(50);
      }
      throw new Error("redis-server did not start");
    } finally {
      probe.disconnect();
    }
  };

  afterAll(async () => {
    await server?.stop();
    if (server) cleanup(server);
    proc?.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  test("requests answer at once: rate limits count on this replica alone, an idempotency-key is a typed 503; all shared again once it is back", async () => {
    port = await freePort();
    await redisUp();
    server = await startServer({ env: { REDIS_URL: `redis://127.0.0.1:${port}`, CLANKER_RATE_LIMIT_PER_MINUTE: "10000" } });
    const api = client(server, { apiKey: await server.createKey({ email: uniqueEmail("redis-gone") }) });
    expect((await api("GET", "/api/v1/profile")).status).toBe(200);

    proc!.kill("SIGKILL");
    await proc!.exited;
    const timed = async (fn: () => Promise<ApiResponse>) => {
      const t0 = performance.now();
      const r = await fn();
      return { r, ms: performance.now() - t0 };
    };
    const read = await timed(() => api("GET", "/api/v1/profile"));
    expect({ status: read.r.status, limit: read.r.headers.get("x-ratelimit-limit") }).toEqual({ status: 200, limit: "10000" });
    expect(read.ms).toBeLessThan(2000);
    const plain = await timed(() => api("POST", "/api/v1/workspaces", { body: { name: "Made without Redis" } }));
    expect(plain.r.status).toBe(200);
    const keyed = await timed(() => api("POST", "/api/v1/workspaces", { body: { name: "Keyed" }, headers: { "idempotency-key": uniq("gone") } }));
    expect({ status: keyed.r.status, type: keyed.r.body.error?.type, code: keyed.r.body.error?.code }).toEqual({ status: 503, type: "overloaded_error", code: "SHARED_STATE_UNAVAILABLE" });
    expect(keyed.ms).toBeLessThan(2000);
    expect(server.logs()).not.toContain("Internal server error");

    await redisUp();
    const key = uniq("back");
    await waitUntil("idempotency-keys to work again", async () => (await api("POST", "/api/v1/workspaces", { body: { name: "Keyed" }, headers: { "idempotency-key": key } })).status === 200, 15_000);
    const again = await api("POST", "/api/v1/workspaces", { body: { name: "Keyed" }, headers: { "idempotency-key": key } });
    expect(again.headers.get("idempotency-replayed")).toBe("true");
  }, 40_000);
});
