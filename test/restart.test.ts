// Crash safety: SIGKILL the server mid-run and start it again on the same data dir. The run that was
// streaming ends `failed` with SERVER_RESTARTED (never left `running`), a run still queued at the kill runs
// to completion after the restart, and a webhook whose receiver was down is delivered from the persisted
// queue once the server is back. On PostgreSQL (replicas) a run is never failed for a restart: the server that
// takes over the data dir takes its dead predecessor's runs back to queued, and they run again from the top.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { answerFor, startFakeModel, type FakeModel } from "./helpers/fake-models";
import { cleanup, client, startServer, testDialect, uniqueEmail, type TestServer } from "./helpers/server";

type Call = ReturnType<typeof client>;

let fake: FakeModel;
let srv: TestServer;
let a: Call;
let hook: Call;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let seq = 0;
const marker = (tag: string) => `${tag}-${process.pid}-${++seq}`;

async function statusOf(call: Call, id: string): Promise<any> {
  const r = await call("GET", `/api/v1/executions/${id}/status`);
  expect({ status: r.status, text: r.text }).toMatchObject({ status: 200 });
  return r.body;
}

async function waitStatus(call: Call, id: string, done: (b: any) => boolean, timeoutMs = 10_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < deadline) {
    last = await statusOf(call, id);
    if (done(last)) return last;
    await sleep(50);
  }
  throw new Error(`execution ${id} did not reach the expected state in ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
}

const ended = (b: any) => ["completed", "failed", "cancelled"].includes(b.status);

async function run(call: Call, body: Record<string, unknown>): Promise<string> {
  const r = await call("POST", "/api/v1/skills/summarize/run", { body });
  expect({ status: r.status, text: r.text }).toMatchObject({ status: 200 });
  return r.body.executionId;
}

beforeAll(async () => {
  fake = startFakeModel("anthropic");
  srv = await startServer({
    env: {
      CLANKER_RATE_LIMIT_PER_MINUTE: "10000",
      CLANKER_WORKERS: "2",
      CLANKER_WORKSPACE_CONCURRENCY: "1",
      ANTHROPIC_API_KEY: "sk-ant-restart-0123456789abcdefghijkl",
      ANTHROPIC_BASE_URL: fake.url,
      OPENAI_BASE_URL: "",
      CLANKER_WEBHOOK_RETRY_BASE_MS: "200",
      // PostgreSQL: a delivery claimed by the killed server is due again after the send timeout (10 s) plus this.
      CLANKER_LEASE_SECONDS: "1",
    },
  });
  const [ka, kh] = await Promise.all([srv.createKey({ email: uniqueEmail("restart-a") }), srv.createKey({ email: uniqueEmail("restart-hook") })]);
  a = client(srv, { apiKey: ka });
  hook = client(srv, { apiKey: kh });
}, 30_000);

afterAll(async () => {
  await srv?.stop().catch(() => {});
  if (srv) cleanup(srv);
  fake?.stop();
});

describe("SIGKILL mid-run", () => {
  let runningId: string;
  let runningInput: string;
  let queuedId: string;
  let queuedInput: string;

  test("setup: one [[slow]] run streaming, a second one queued behind it (concurrency 1)", async () => {
    runningInput = `Summarize slowly [[slow]] ${marker("kill-run")}`;
    runningId = await run(a, { input: runningInput });
    queuedInput = `Summarize next [[slow]] ${marker("kill-queued")}`;
    queuedId = await run(a, { input: queuedInput });
    await waitStatus(a, runningId, (s) => s.status === "running" && s.outputBlocks.length > 0);
    expect((await statusOf(a, queuedId)).status).toBe("queued");
    await srv.kill("SIGKILL");
    await srv.restart();
  }, 20_000);

  test.skipIf(testDialect() !== "postgres")("PostgreSQL: the run that was streaming goes back to queued and completes from the top", async () => {
    const s = await waitStatus(a, runningId, ended);
    expect(s.status).toBe("completed");
    expect(s.outputBlocks.map((b: any) => b.content).join("")).toBe(answerFor(runningInput).join(""));
    // Numbered after what the killed attempt had sent (at least one block), not from 1 again.
    expect(s.outputBlocks[0].index).toBeGreaterThan(1);
  });

  test.skipIf(testDialect() === "postgres")("the run that was streaming ends failed with SERVER_RESTARTED, never running", async () => {
    const s = await statusOf(a, runningId);
    expect(s.status).toBe("failed");
    expect(s.error?.code).toBe("SERVER_RESTARTED");
    expect(s.error.message.length).toBeGreaterThan(0);
    expect(s.completedAt).not.toBeNull();
    // The start says which runs it failed, as the drain names the runs it puts back.
    expect(srv.logs()).toContain(`run(s) interrupted by a restart: ${runningId}`);
  });

  test("the run queued at kill time runs to completion after the restart", async () => {
    const s = await waitStatus(a, queuedId, ended);
    expect(s.status).toBe("completed");
    expect(s.outputBlocks.map((b: any) => b.content).join("")).toBe(answerFor(queuedInput).join(""));
    expect(s.artifactId).toMatch(/^art_\d+$/);
  });

  test("no execution is left running", async () => {
    const r = await a("GET", "/api/v1/executions?status=running&limit=100");
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual([]);
    const all = await a("GET", "/api/v1/executions?limit=100");
    expect(all.body.data.map((e: any) => e.status).sort()).toEqual(testDialect() === "postgres" ? ["completed", "completed"] : ["completed", "failed"]);
  });
});

describe("persisted webhook queue", () => {
  test("a webhook whose receiver was down at completion time is delivered after a restart", async () => {
    // Reserve a port, then free it: nothing listens there while the run completes.
    const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("x") });
    const port = probe.port;
    probe.stop(true);
    const path = `/hook/${marker("down")}`;
    const id = await run(hook, { input: `Summarize and notify ${marker("hook-in")}`, callbackUrl: `http://127.0.0.1:${port}${path}` });
    const s = await waitStatus(hook, id, ended);
    expect(s.status).toBe("completed");
    await srv.kill("SIGKILL");

    const got: { path: string; body: string; signature: string | null }[] = [];
    const receiver = Bun.serve({
      hostname: "127.0.0.1",
      port,
      async fetch(req) {
        got.push({ path: new URL(req.url).pathname, body: await req.text(), signature: req.headers.get("clanker-signature") });
        return new Response("ok");
      },
    });
    try {
      await srv.restart();
      // On PostgreSQL the kill may fall while the server was sending its first attempt: that claim runs out first.
      const deadline = Date.now() + (testDialect() === "postgres" ? 20_000 : 10_000);
      while (!got.length && Date.now() < deadline) await sleep(50);
      expect(got.length).toBeGreaterThanOrEqual(1);
      expect(got[0]!.path).toBe(path);
      expect(JSON.parse(got[0]!.body)).toMatchObject({ event: "execution.completed", executionId: id, status: "completed", skillSlug: "summarize", artifactId: s.artifactId });
      expect(got[0]!.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
      // Delivered once: no further attempts after the 2xx.
      await sleep(700);
      expect(got.length).toBe(1);
    } finally {
      receiver.stop(true);
    }
  }, 35_000);
});
