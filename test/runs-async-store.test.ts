// The run path on the async store, in process over a real SQLite file: an event reaches subscribers only once the
// transaction (or group-commit batch) that recorded it has committed, never when it rolls back; a run goes
// queued → running → blocks → completed with its artifact, charge and events; a cancel that loses the race to the
// run's own end does not overwrite it.
import { Database } from "bun:sqlite";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, type Config } from "../src/config";
import { systemCtx } from "../src/lib/context";
import { lineLog } from "../src/lib/log";
import { SecretBox } from "../src/lib/secret-box";
import { loadMasterKey } from "../src/store/master-key";
import { SqliteStore } from "../src/store/sqlite-store";
import { events, executions, webhookDeliveries, workspaces } from "../src/store/schema";
import { EventBus, type BusEvent } from "../src/modules/events/bus";
import { createBillingService } from "../src/modules/billing/service";
import { createSecretsService } from "../src/modules/secrets/service";
import { createByokService } from "../src/modules/byok/service";
import { createArtifactsService } from "../src/modules/artifacts/service";
import { createWebhooksService } from "../src/modules/webhooks/service";
import { createMemoryService } from "../src/modules/memory/service";
import { createExecutionsService } from "../src/modules/executions/service";
import { Runner } from "../src/modules/executions/runner";
import { loadConfiguredCatalog } from "../src/modules/skills/sources";
import { encodeId } from "../src/lib/ids";
import { startFakeModel, type FakeModel } from "./helpers/fake-models";

let dir: string;
let store: SqliteStore;
/** A second connection: it sees only what has committed. */
let reader: Database;
let bus: EventBus;
let fake: FakeModel;
let config: Config;

const committed = (id: number) => reader.query("SELECT id FROM events WHERE id = ?").get(id) !== null;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "clanker-runs-async-"));
  fake = startFakeModel("anthropic");
  config = loadConfig({ data: dir }, { ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: fake.url, CLANKER_WORKERS: "1", CLANKER_LOG: "silent" });
  store = new SqliteStore(join(dir, "clanker.db"));
  store.migrate();
  reader = new Database(join(dir, "clanker.db"), { readonly: true });
  bus = new EventBus(store);
});

afterAll(async () => {
  reader?.close();
  await store?.close();
  fake?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function newWorkspace(slug: string): Promise<number> {
  return store.tx(async () => {
    const [w] = await store.db.insert(workspaces).values({ name: slug, slug, createdAt: Date.now() }).returning({ id: workspaces.id });
    return w!.id;
  });
}

describe("EventBus on the async store", () => {
  test("an event appended in a group-commit batch reaches subscribers only after the batch's COMMIT", async () => {
    const ws = await newWorkspace("bus-batch");
    const seen: { ev: BusEvent; onDisk: boolean }[] = [];
    const off = bus.subscribe(ws, (ev) => seen.push({ ev, onDisk: committed(ev.id) }));
    const ev = await store.batchedTx(() => bus.append(ws, "test-event", "api", { n: 1 }));
    // The savepoint is released but the batch has not committed: nobody has heard of the event yet.
    expect(seen).toEqual([]);
    expect(committed(ev.id)).toBe(false);
    await store.pending();
    expect(seen.map((s) => s.ev.id)).toEqual([ev.id]);
    expect(seen[0]!.onDisk).toBe(true);
    off();
  });

  test("an event whose transaction rolls back is never delivered nor stored", async () => {
    const ws = await newWorkspace("bus-rollback");
    const seen: BusEvent[] = [];
    const off = bus.subscribe(ws, (ev) => seen.push(ev));
    let id = 0;
    await expect(
      store.tx(async () => {
        id = (await bus.append(ws, "test-event", "api", { n: 2 })).id;
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect(id).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toEqual([]);
    expect(await bus.since(ws, 0)).toEqual([]);
    off();
  });

  test("prune forgets old events only", async () => {
    const ws = await newWorkspace("bus-prune");
    const ev = await store.tx(() => bus.append(ws, "test-event", "api", {}));
    await store.tx(() => store.db.update(events).set({ createdAt: 1 }).where(eqId(ev.id)));
    const fresh = await store.tx(() => bus.append(ws, "test-event", "api", {}));
    await bus.prune(60_000);
    expect((await bus.since(ws, 0)).map((e) => e.id)).toEqual([fresh.id]);
  });
});

const eqId = (id: number) => eq(events.id, id);

describe("a run on the async store", () => {
  let runner: Runner;
  let svc: ReturnType<typeof createExecutionsService>;
  let billing: ReturnType<typeof createBillingService>;
  let memory: ReturnType<typeof createMemoryService>;
  let byok: ReturnType<typeof createByokService>;
  let artifacts: ReturnType<typeof createArtifactsService>;

  beforeAll(async () => {
    const log = lineLog(() => {});
    const box = new SecretBox(loadMasterKey(dir, {}));
    billing = createBillingService(store, config.billing);
    byok = createByokService(store, box);
    artifacts = createArtifactsService(store, dir);
    const webhooks = createWebhooksService(store, box, config.webhooks, log);
    const catalog = loadConfiguredCatalog(config, log);
    const secrets = createSecretsService(store, box);
    runner = new Runner({ store, config, bus, billing, artifacts, webhooks, byok, secrets, catalog, log });
    svc = createExecutionsService({ store, config, catalog, billing, byok, secrets, bus, artifacts, webhooks, runner });
    memory = createMemoryService(store, bus);
    await runner.start();
  });

  afterAll(() => runner?.stop());

  test("queued → running → output → completed: every event committed before delivery, artifact and charge recorded", async () => {
    const ws = await newWorkspace("run-ok");
    const ctx = systemCtx(ws);
    const seen: { ev: BusEvent; onDisk: boolean }[] = [];
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    const off = bus.subscribe(ws, (ev) => {
      seen.push({ ev, onDisk: committed(ev.id) });
      if ((ev.data as { status: string }).status === "completed") done();
    });
    const before = (await billing.account(ws)).balanceMicro;
    // As a request does it: inside the group-commit batch (idempotent()).
    const started = await store.batchedTx(() => svc.run(ctx, "summarize", { input: "Summarize: the async store." }));
    await store.pending();
    await Promise.race([finished, new Promise((_, rej) => setTimeout(() => rej(new Error("no completion")), 15_000))]);
    off();
    const statuses = seen.map((s) => (s.ev.data as { status: string }).status);
    expect(statuses[0]).toBe("queued");
    expect(statuses[1]).toBe("running");
    expect(statuses.at(-1)).toBe("completed");
    expect(seen.every((s) => s.onDisk)).toBe(true);
    const ids = seen.map((s) => s.ev.id);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
    const st = await svc.status(ctx, started.executionId);
    expect(st.status).toBe("completed");
    expect(st.outputBlocks.length).toBeGreaterThan(0);
    expect(st.artifactIds.length).toBeGreaterThan(0);
    expect(st.cost).toBeGreaterThan(0);
    expect((await billing.account(ws)).balanceMicro).toBeLessThan(before);
    expect((await svc.list(ctx, { limit: 10 })).rows.map((r) => r.id)).toEqual([started.executionId]);
    // Deleting the artifact removes its row and, once that has committed, its file.
    const f = await artifacts.file(ctx, st.artifactIds[0]!);
    expect(await Bun.file(f.path).exists()).toBe(true);
    await artifacts.remove(ctx, st.artifactIds[0]!);
    expect(await Bun.file(f.path).exists()).toBe(false);
    await expect(artifacts.get(ctx, st.artifactIds[0]!)).rejects.toMatchObject({ status: 404 });
  });

  test("BYOK: set, read by the runner, removed", async () => {
    const ws = await newWorkspace("byok");
    const ctx = systemCtx(ws);
    const key = "sk-ant-" + "a".repeat(30) + "WXYZ";
    expect((await byok.set(ctx, { anthropicKey: key })).last4).toBe("WXYZ");
    expect(await byok.anthropicKey(ws)).toBe(key);
    expect((await byok.remove(ctx)).configured).toBe(false);
    expect(await byok.anthropicKey(ws)).toBeNull();
  });

  test("a cancel that loses the race to the run's end answers 409 and leaves it completed", async () => {
    const ws = await newWorkspace("run-race");
    const ctx = systemCtx(ws);
    const [row] = await store.tx(() =>
      store.db
        .insert(executions)
        .values({ workspaceId: ws, skillSlug: "summarize", skillName: "Summarize", status: "running", input: "x", interface: "api", startedAt: Date.now(), createdAt: Date.now() })
        .returning({ id: executions.id }),
    );
    const ref = encodeId("execution", row!.id);
    // The run's settle holds the writer lock while the cancel reads the run as running and waits for its turn.
    let release!: () => void;
    const settle = store.tx(async () => {
      await new Promise<void>((r) => (release = r));
      await store.db.update(executions).set({ status: "completed", completedAt: Date.now() }).where(eq(executions.id, row!.id));
    });
    const cancel = svc.cancel(ctx, ref);
    await new Promise((r) => setTimeout(r, 30));
    release();
    await settle;
    await expect(cancel).rejects.toMatchObject({ code: "EXECUTION_NOT_RUNNING" });
    expect((await svc.get(ctx, ref)).status).toBe("completed");
  });

  test("memory appends from concurrent writers all land, each version once, each event after its commit", async () => {
    const ws = await newWorkspace("memory");
    const ctx = systemCtx(ws);
    const seen: { ev: BusEvent; onDisk: boolean }[] = [];
    const off = bus.subscribe(ws, (ev) => seen.push({ ev, onDisk: committed(ev.id) }));
    await Promise.all(Array.from({ length: 10 }, (_, i) => memory.append(ctx, { content: `note ${i}` })));
    off();
    const doc = await memory.read(ctx);
    expect(doc.version).toBe(10);
    expect(doc.content.split("\n\n---\n\n").sort()).toEqual(Array.from({ length: 10 }, (_, i) => `note ${i}`).sort());
    expect(seen.map((s) => (s.ev.data as { version: number }).version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(seen.every((s) => s.onDisk)).toBe(true);
  });

  test("recover fails what a crash left running; requeueRunning puts a live run back to queued", async () => {
    const ws = await newWorkspace("restart");
    const ctx = systemCtx(ws);
    const [row] = await store.tx(() =>
      store.db
        .insert(executions)
        .values({ workspaceId: ws, skillSlug: "summarize", skillName: "Summarize", status: "running", input: "x", interface: "api", startedAt: Date.now(), createdAt: Date.now() })
        .returning({ id: executions.id }),
    );
    await runner.recover();
    const crashed = await svc.get(ctx, encodeId("execution", row!.id));
    expect(crashed.status).toBe("failed");
    expect(crashed.error?.code).toBe("SERVER_RESTARTED");

    let running!: () => void;
    const isRunning = new Promise<void>((r) => (running = r));
    const off = bus.subscribe(ws, (ev) => (ev.data as { status: string }).status === "running" && running());
    const started = await svc.run(ctx, "summarize", { input: "Summarize slowly [[slow:300]]" });
    await isRunning;
    off();
    runner.pause();
    expect(await runner.requeueRunning()).toEqual([started.executionId]);
    expect((await svc.status(ctx, started.executionId)).status).toBe("queued");
    expect((await svc.status(ctx, started.executionId)).outputBlocks).toEqual([]);
  });
});

describe("a callback's hold", () => {
  test("a negative hold (worked out from a lease that ran out) is due now, with no TimeoutNegativeWarning", async () => {
    const ws = await newWorkspace("hold-negative");
    const webhooks = createWebhooksService(store, new SecretBox(loadMasterKey(dir, {})), config.webhooks, lineLog(() => {}), () => false);
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on("warning", onWarning);
    try {
      const before = Date.now();
      await store.tx(() => webhooks.enqueue(ws, "https://example.test/hook", "execution.cancelled", { n: 1 }, null, -5_000));
      // Node and Bun emit the warning on the next tick after setTimeout(…, < 0).
      await new Promise((r) => setImmediate(r));
      const [row] = await store.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.workspaceId, ws));
      expect(row!.nextAttemptAt).toBeGreaterThanOrEqual(before);
      expect(warnings).not.toContain("TimeoutNegativeWarning");
    } finally {
      process.off("warning", onWarning);
    }
  });
});
