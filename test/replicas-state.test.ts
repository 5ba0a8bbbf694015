// Two replicas of one deployment (PostgreSQL + Redis, real processes): what lived in one process — the rate budget,
// idempotency in-flight slots, the event fan-out, the auth cache, the cron schedule — behaves as one server.
// Runs only on the replica stack: `source .ci/services.sh` first.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { client, uniqueEmail, type TestServer } from "./helpers/server";
import { replicasAvailable, startReplicas, type Replicas } from "./helpers/replicas";
import { startFakeModel, type FakeModel } from "./helpers/fake-models";
import { clankerSig, fire } from "./helpers/hooks";
import { runSql } from "./helpers/sql";

const LIMIT = 240;
const ROOT = resolve(import.meta.dir, "..");

interface Frame {
  id: number;
  event: string;
  data: any;
}

/** A raw SSE reader of GET /api/events: frames as they come; `until` resolves once one matches (or times out). */
function openEvents(server: TestServer, key: string, lastEventId?: number) {
  const abort = new AbortController();
  const frames: Frame[] = [];
  let wake = () => {};
  let connected = false;
  const pump = (async () => {
    const headers: Record<string, string> = { "x-api-key": key };
    if (lastEventId !== undefined) headers["last-event-id"] = String(lastEventId);
    const res = await fetch(`${server.url}/api/events`, { headers, signal: abort.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += dec.decode(value, { stream: true });
      let i;
      while ((i = buf.indexOf("\n\n")) !== -1) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (block.includes(": connected")) connected = true;
        const id = /^id: (\d+)$/m.exec(block)?.[1];
        const event = /^event: (.+)$/m.exec(block)?.[1];
        const data = /^data: (.+)$/m.exec(block)?.[1];
        if (id && event && data) frames.push({ id: Number(id), event, data: JSON.parse(data) });
      }
      wake();
    }
  })().catch(() => {});
  const until = async (ok: () => boolean, ms = 15_000): Promise<void> => {
    const end = Date.now() + ms;
    while (!ok() && Date.now() < end) await Promise.race([new Promise<void>((r) => (wake = r)), Bun.sleep(100)]);
  };
  return {
    frames,
    until,
    ready: () => until(() => connected, 5_000),
    async close() {
      abort.abort();
      await pump;
    },
  };
}

describe.skipIf(!replicasAvailable)("two replicas on one PostgreSQL and one Redis", () => {
  let rs: Replicas;
  let a: TestServer;
  let b: TestServer;
  let fake: FakeModel;

  beforeAll(async () => {
    fake = startFakeModel("anthropic");
    rs = await startReplicas(2, {
      CLANKER_RATE_LIMIT_PER_MINUTE: String(LIMIT),
      ANTHROPIC_API_KEY: "sk-ant-server-key-000000000000000",
      ANTHROPIC_BASE_URL: fake.url,
      // One-second crons, so a tick comes within the test.
      CLANKER_CRON_MIN_INTERVAL_SECONDS: "1",
    });
    [a, b] = rs.servers as [TestServer, TestServer];
  }, 60_000);

  afterAll(async () => {
    await rs?.stop();
    fake?.stop();
  });

  test("what A creates, B reads", async () => {
    const key = await a.createKey();
    const made = await client(a, { apiKey: key })("POST", "/api/v1/workspaces", { body: { name: "Made on A" } });
    expect(made.status).toBe(200);
    const listed = await client(b, { apiKey: key })("GET", "/api/v1/workspaces?limit=100");
    expect(listed.body.data.map((w: any) => w.id)).toContain(made.body.id);
  });

  test("50 concurrent POSTs with one idempotency-key, spread over A and B, create exactly one workspace", async () => {
    const key = await a.createKey();
    const calls = [client(a, { apiKey: key }), client(b, { apiKey: key })];
    // Both replicas warmed up (first-request costs), so the 50 below really overlap.
    for (const [i, call] of calls.entries()) expect((await call("POST", "/api/v1/workspaces", { body: { name: "warm" }, headers: { "idempotency-key": `warm-${i}` } })).status).toBe(200);
    // A few rounds: one race lost on the old code is likely, not certain, in a single round.
    for (let round = 0; round < 4; round++) {
      const name = `Once ${round} ${Date.now()}`;
      const idem = `replicas-once-${round}`;
      const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => calls[i % 2]!("POST", "/api/v1/workspaces", { body: { name }, headers: { "idempotency-key": idem } })));
      const ok = answers.filter((r) => r.status === 200);
      const busy = answers.filter((r) => r.status === 409);
      expect(ok.length + busy.length).toBe(50);
      for (const r of busy) expect(r.body.error.code).toBe("IDEMPOTENCY_IN_FLIGHT");
      expect(ok.length).toBeGreaterThanOrEqual(1);
      expect(new Set(ok.map((r) => r.body.id)).size).toBe(1);
      // Counted in the database, through B.
      const all = await calls[1]!("GET", "/api/v1/workspaces?limit=100");
      expect(all.body.data.filter((w: any) => w.name === name)).toHaveLength(1);
      // Retried afterwards on either replica: the stored answer.
      for (const call of calls) {
        const again = await call("POST", "/api/v1/workspaces", { body: { name }, headers: { "idempotency-key": idem } });
        expect(again.status).toBe(200);
        expect(again.headers.get("idempotency-replayed")).toBe("true");
        expect(again.body.id).toBe(ok[0]!.body.id);
      }
    }
  });

  test("concurrent creates over A and B (READ COMMITTED): one slug has one winner, one name gets a slug each", async () => {
    const key = await a.createKey();
    const calls = [client(a, { apiKey: key }), client(b, { apiKey: key })];
    for (const [i, call] of calls.entries()) expect((await call("POST", "/api/v1/workspaces", { body: { name: `warm ${i}` } })).status).toBe(200);
    const run = Date.now().toString(36);
    // One explicit slug, asked for 20 times at once: the unique index decides, never two winners, never a 500.
    const slug = `rc-${run}`;
    const bySlug = await Promise.all(Array.from({ length: 20 }, (_, i) => calls[i % 2]!("POST", "/api/v1/workspaces", { body: { name: `slug ${i}`, slug } })));
    expect(bySlug.filter((r) => r.status === 200)).toHaveLength(1);
    const refused = bySlug.filter((r) => r.status !== 200);
    expect(refused).toHaveLength(19);
    for (const r of refused) expect([r.status, r.body.error.code]).toEqual([409, "SLUG_TAKEN"]);
    // One name, 30 times at once: every request gets its own slug; the first free one is the name's own.
    const name = `Named ${run}`;
    const byName = await Promise.all(Array.from({ length: 30 }, (_, i) => calls[i % 2]!("POST", "/api/v1/workspaces", { body: { name }, headers: { "idempotency-key": `rc-${run}-${i}` } })));
    for (const r of byName) expect(r.status).toBe(200);
    const slugs = byName.map((r) => r.body.slug as string);
    expect(new Set(slugs).size).toBe(30);
    expect(slugs.filter((s) => s === `named-${run}`)).toHaveLength(1);
    // Each winner with its owner's membership (the list joins through it), read on the other replica.
    const listed = new Map<string, string>();
    for (let after = ""; ; ) {
      const page = await calls[1]!("GET", `/api/v1/workspaces?limit=100${after ? `&after_id=${after}` : ""}`);
      for (const w of page.body.data) listed.set(w.id, w.role);
      if (!page.body.has_more) break;
      after = page.body.last_id;
    }
    for (const r of [...byName, ...bySlug.filter((x) => x.status === 200)]) expect(listed.get(r.body.id)).toBe("owner");
  });

  test("the rate limit is one budget across both replicas", async () => {
    const key = await a.createKey();
    const calls = [client(a, { apiKey: key }), client(b, { apiKey: key })];
    const statuses: number[] = [];
    // LIMIT + 10 requests, alternating replicas, in batches of 10: each replica alone would allow LIMIT.
    for (let batch = 0; batch < (LIMIT + 10) / 10; batch++) {
      const rs = await Promise.all(Array.from({ length: 10 }, (_, i) => calls[i % 2]!("GET", "/api/v1/workspaces/current")));
      statuses.push(...rs.map((r) => r.status));
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(LIMIT);
    expect(statuses.filter((s) => s === 429)).toHaveLength(10);
    const last = await calls[1]!("GET", "/api/v1/workspaces/current");
    expect(last.status).toBe(429);
    expect(last.body.error.type).toBe("rate_limit_error");
  });

  test("an SSE client on B sees a run started on A; Last-Event-ID resumes it on A", async () => {
    const key = await a.createKey();
    const onB = openEvents(b, key);
    await onB.ready();
    const run = await client(a, { apiKey: key })("POST", "/api/v1/skills/summarize/run", { body: { input: "Summarize the replicas" } });
    expect(run.status).toBe(200);
    const id = run.body.executionId as string;
    const mine = (fs: Frame[]) => fs.filter((f) => f.data.executionId === id);
    const done = (fs: Frame[]) => mine(fs).some((f) => ["completed", "failed"].includes(f.data.status));
    await onB.until(() => done(onB.frames));
    await onB.close();
    const seenOnB = mine(onB.frames);
    // The queued event is appended by A's request: B hears it only through the fan-out.
    expect(seenOnB[0]!.data.status).toBe("queued");
    expect(seenOnB.at(-1)!.data.status).toBe("completed");
    expect(seenOnB.length).toBeGreaterThanOrEqual(3);
    // Resume on A after the first event: the rest, from the durable log, the same ids in the same order.
    const onA = openEvents(a, key, seenOnB[0]!.id);
    await onA.until(() => done(onA.frames));
    await onA.close();
    expect(mine(onA.frames).map((f) => f.id)).toEqual(seenOnB.slice(1).map((f) => f.id));
  }, 30_000);

  test("an event whose fan-out never came (its publish lost) still reaches an SSE client in id order: at the next event, or within a sweep", async () => {
    const key = await a.createKey();
    const onB = openEvents(b, key);
    await onB.ready();
    const write = async (content: string) => expect((await client(a, { apiKey: key })("PUT", "/api/v1/memory", { body: { content } })).status).toBe(200);
    const version = (f: Frame) => f.data.version as number;
    await write("first");
    await onB.until(() => onB.frames.length === 1);
    // Committed in the log, never published (what a replica's publish lost while Redis was away leaves behind).
    const lost = (v: number) =>
      runSql(a, `INSERT INTO events (workspace_id, type, source, data, created_at) SELECT workspace_id, type, source, '{"version":${v}}', created_at FROM events WHERE id = ?`, onB.frames[0]!.id);
    expect(await lost(101)).toBe(1);
    await write("second");
    await onB.until(() => onB.frames.length === 3);
    expect(onB.frames.map(version)).toEqual([1, 101, 2]);
    const ids = onB.frames.map((f) => f.id);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    // With no event after it, the sweep finds it.
    expect(await lost(102)).toBe(1);
    await onB.until(() => onB.frames.length === 4, 10_000);
    expect(onB.frames.map(version)).toEqual([1, 101, 2, 102]);
    await onB.close();
  }, 30_000);

  test("a key revoked on A is refused on B as soon as B hears the COMMIT's NOTIFY, long before the cache's TTL", async () => {
    const key = await a.createKey();
    const onA = client(a, { apiKey: key });
    const onB = client(b, { apiKey: key });
    // B has the key cached (and A too).
    expect((await onB("GET", "/api/v1/workspaces/current")).status).toBe(200);
    const keys = await onA("GET", "/api/v1/api-keys");
    expect(keys.body.data).toHaveLength(1);
    expect((await onA("POST", `/api/v1/api-keys/${keys.body.data[0].id}/revoke`)).status).toBe(200);
    expect((await onA("GET", "/api/v1/workspaces/current")).status).toBe(401);
    // The NOTIFY reaches B's LISTEN connection asynchronously (PostgreSQL signals the listening backend at the
    // COMMIT; on a loaded machine that can take longer than A's answer and B's next request), so B is asked until
    // it refuses: it must within 1 s, where only the NOTIFY can have told it (the cached entry lives 5 s).
    const revokedAt = performance.now();
    let refused = await onB("GET", "/api/v1/workspaces/current");
    while (refused.status === 200 && performance.now() - revokedAt < 1_000) {
      await Bun.sleep(10);
      refused = await onB("GET", "/api/v1/workspaces/current");
    }
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe("KEY_REVOKED");
  });

  test("a session signed out on A ends its event stream on B as soon as B hears the COMMIT's NOTIFY, not at B's next heartbeat", async () => {
    const session = await a.createSession(uniqueEmail("rep-logout"));
    const stream = await fetch(`${b.url}/api/events`, { headers: { "x-auth-token": session } });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    let said = "";
    const ended = (async () => {
      for (let r = await reader.read(); !r.done; r = await reader.read()) said += new TextDecoder().decode(r.value);
      return performance.now();
    })();
    while (!said.includes("connected")) await Bun.sleep(10);
    expect((await client(a, { session })("POST", "/api/v1/auth/logout")).status).toBe(200);
    const outAt = performance.now();
    // Within 1 s, where only the NOTIFY can have told B (its recheck beats every 5 s).
    const at = await Promise.race([ended, Bun.sleep(1_000).then(() => null)]);
    expect({ ended: at !== null && at - outAt < 1_000, said: said.includes('"code":"INVALID_SESSION"') }).toEqual({ ended: true, said: true });
  });

  test("copies of one signed hook delivery sent to A and B at once launch one run", async () => {
    const key = await a.createKey();
    const onA = client(a, { apiKey: key });
    const saved = await onA("POST", "/api/v1/workflows/definitions", {
      body: { id: "rep-hook", name: "hook", triggers: [{ webhook: {} }], steps: [{ id: "wait", kind: "approval", message: "ok?" }] },
    });
    expect(saved.status).toBe(200);
    const trigger = (await onA("GET", "/api/v1/triggers?limit=100")).body.data.find((t: any) => t.workflowId === "rep-hook" && t.kind === "webhook");
    const { secret } = (await onA("GET", `/api/v1/triggers/${trigger.id}/secret`)).body;
    const body = JSON.stringify({ title: "once across replicas" });
    const headers = { "clanker-signature": clankerSig(secret, body) };
    const all = await Promise.all(Array.from({ length: 10 }, (_, i) => fire(`${(i % 2 ? b : a).url}/hooks/${trigger.id}`, body, headers)));
    expect(all.map((r) => r.status)).toEqual(Array(10).fill(202));
    expect(all.filter((r) => r.body.runId)).toHaveLength(1);
    expect(all.filter((r) => r.body.ignored?.includes("already received"))).toHaveLength(9);
    expect((await client(b, { apiKey: key })("GET", "/api/v1/workflows/runs?workflow=rep-hook&limit=100")).body.data).toHaveLength(1);
  });

  // Last: it stops and restarts the replicas.
  test("a one-second cron fires once per tick with both replicas up; a change on A reaches B's schedule", async () => {
    const key = await a.createKey();
    const onA = () => client(a, { apiKey: key });
    const onB = client(b, { apiKey: key });
    const runs = async () => (await onB("GET", "/api/v1/workflows/runs?workflow=rep-tick&limit=100")).body.data as { createdAt: string; trigger: string }[];
    /** Two launches of one tick would share its second. */
    const oncePerTick = (rs: { createdAt: string }[]) => expect(new Set(rs.map((r) => Math.floor(Date.parse(r.createdAt) / 1000))).size).toBe(rs.length);
    const saved = await onA()("POST", "/api/v1/workflows/definitions", {
      body: { id: "rep-tick", name: "tick", triggers: [{ cron: "* * * * * *", input: {} }], steps: [{ id: "a", kind: "skill", skill: "summarize", input: "tick" }] },
    });
    expect(saved.status).toBe(200);
    await Bun.sleep(3_500);
    const first = await runs();
    expect(first.every((r) => r.trigger === "cron")).toBe(true);
    expect(first.length).toBeGreaterThanOrEqual(2);
    oncePerTick(first);
    // B learnt the schedule from A's change (not at its start): with A gone, the ticks go on.
    await a.stop();
    const before = (await runs()).length;
    await Bun.sleep(2_500);
    expect((await runs()).length).toBeGreaterThanOrEqual(before + 2);
    // Both restarted, so both schedule it from their start whatever the channel did: still one launch per tick.
    await a.restart();
    await b.stop();
    await b.restart();
    const since = Date.now();
    await Bun.sleep(3_500);
    const late = (await runs()).filter((r) => Date.parse(r.createdAt) >= since);
    expect(late.length).toBeGreaterThanOrEqual(2);
    expect(late.length).toBeLessThanOrEqual(5);
    oncePerTick(late);
    expect((await onA()("DELETE", "/api/v1/workflows/definitions/rep-tick")).status).toBe(200);
  }, 40_000);
});

// Needs no services: a Redis that is not there.
test("`clanker serve` with REDIS_URL on a closed port exits 1, as an unreachable DATABASE_URL does, with one line naming it (password left out)", async () => {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  const dataDir = mkdtempSync(join(tmpdir(), "clanker-noredis-"));
  try {
    const env: Record<string, string> = { ...(process.env as Record<string, string>), REDIS_URL: `redis://:hunter2secret@127.0.0.1:${port}`, CLANKER_DATA_DIR: dataDir, CLANKER_LOG: "silent" };
    delete env.DATABASE_URL;
    const p = Bun.spawn([process.execPath, join(ROOT, "src/main.ts"), "serve", "--port", "0"], { cwd: ROOT, env, stdout: "pipe", stderr: "pipe" });
    const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
    expect(code).toBe(1);
    const lines = stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`cannot reach Redis at redis://:***@127.0.0.1:${port}`);
    expect(stderr).not.toContain("hunter2secret");
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 20_000);
