// Process lifecycle, with real processes: one port and one data dir per server (exit 2 naming the port or the
// holder's PID, a lock a SIGKILL releases), CLI verbs and `clanker mcp` beside a running server, graceful
// SIGTERM (runs in flight finish, or go back to queued when the grace is over and run at the next start), and
// `npm start` leaving no orphan bun behind.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { answerFor, startFakeModel, type FakeModel } from "./helpers/fake-models";
import { callTool, connectMcp } from "./helpers/mcp-client";
import { startReceiver } from "./helpers/suite";
import { cleanup, client, ownStoreEnv, startServer, testDialect, uniqueEmail, type TestServer } from "./helpers/server";

const ROOT = resolve(import.meta.dir, "..");
const MAIN = join(ROOT, "src/main.ts");

let fake: FakeModel;
const servers: TestServer[] = [];

beforeAll(() => {
  fake = startFakeModel("anthropic");
});

afterAll(async () => {
  for (const s of servers) {
    await s.kill("SIGKILL").catch(() => {});
    cleanup(s);
  }
  fake?.stop();
});

async function serve(env: Record<string, string> = {}): Promise<TestServer> {
  const s = await startServer({
    env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", ANTHROPIC_API_KEY: "sk-ant-lifecycle-0123456789abcdef", ANTHROPIC_BASE_URL: fake.url, OPENAI_BASE_URL: "", ...env },
  });
  servers.push(s);
  return s;
}

/** `clanker serve` that is expected to give up: killed after timeoutMs if it does not. */
async function serveExpectingExit(env: Record<string, string>, timeoutMs = 8000): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const p = Bun.spawn([process.execPath, MAIN, "serve"], { env, cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { code: p.signalCode ? null : code, stderr, stdout };
}

const portOf = (s: TestServer) => new URL(s.url).port;

/** Saves a two-step workflow: step one (`<TAG>-ONE`) streams slowly (`slowMs` per delta), step two reads its output. */
async function saveTwoSteps(api: ReturnType<typeof client>, id: string, tag: string, slowMs: number) {
  const def = {
    id,
    name: id,
    steps: [
      { id: "one", kind: "skill", skill: "summarize", input: `${tag}-ONE [[slow:${slowMs}]]` },
      { id: "two", kind: "skill", skill: "summarize", input: `${tag}-TWO after {{steps.one.output}}` },
    ],
  };
  expect((await api("POST", "/api/v1/workflows/definitions", { body: def })).status).toBe(200);
  return def;
}

async function waitFor<T>(fn: () => Promise<T> | T, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out; last: ${JSON.stringify(v)}`);
    await Bun.sleep(30);
  }
}

describe("one port, one data dir", () => {
  let a: TestServer;
  let key: string;

  beforeAll(async () => {
    a = await serve();
    key = await a.createKey({ email: uniqueEmail("lock") });
  }, 30_000);

  test("a second server on a busy port exits 2 with one line naming the port; the first still serves alone", async () => {
    const otherDir = mkdtempSync(join(tmpdir(), "clanker-test-"));
    try {
      const fresh = join(otherDir, "data");
      const r = await serveExpectingExit({ ...a.env, CLANKER_DATA_DIR: fresh, PORT: portOf(a), ...(await ownStoreEnv(fresh)) });
      expect(r.code).toBe(2);
      const lines = r.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toStartWith(`clanker: port ${portOf(a)} on 127.0.0.1 is already in use`);
      expect(lines[0]).toContain("--port");
      // Refused before anything was made: no data dir, no database, no master.key behind it.
      expect(existsSync(fresh)).toBe(false);
    } finally {
      rmSync(otherDir, { recursive: true, force: true });
    }
    // Every request reaches the first server: its key is known on all of them.
    const api = client(a, { apiKey: key });
    const statuses = await Promise.all(Array.from({ length: 8 }, () => api("GET", "/api/v1/skills").then((r) => r.status)));
    expect(statuses).toEqual(Array(8).fill(200));
  });

  test("a second serve on the same data dir exits 2 naming the holder's PID, before touching the store", async () => {
    const r = await serveExpectingExit({ ...a.env, PORT: "0" });
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `clanker: the data dir ${a.dataDir} is in use by another clanker server (PID ${a.pid}); stop it first, or start this one with another --data / CLANKER_DATA_DIR`,
    );
    expect(r.stdout).not.toContain("listening");
    expect((await client(a, { apiKey: key })("GET", "/api/v1/skills")).status).toBe(200);
  });

  test("keys create and `clanker mcp` over stdio work beside the running server, on its data", async () => {
    const fresh = await a.createKey({ email: uniqueEmail("beside") });
    expect((await client(a, { apiKey: fresh })("GET", "/api/v1/skills")).status).toBe(200);

    const transport = new StdioClientTransport({ command: process.execPath, args: [MAIN, "mcp", "--api-key", fresh], env: a.env, cwd: ROOT, stderr: "pipe" });
    const mcp = new Client({ name: "beside", version: "1" });
    await mcp.connect(transport);
    try {
      const r = await mcp.callTool({ name: "install-skill", arguments: { slug: "code-review" } });
      expect(r.isError).toBeFalsy();
    } finally {
      await mcp.close();
    }
    const installed = await client(a, { apiKey: fresh })("GET", "/api/v1/skills?limit=100");
    expect(installed.body.data.map((s: any) => s.slug)).toContain("code-review");
  }, 20_000);

  test("after a SIGKILL of the holder, a new server starts on that dir (the stale pid file is no obstacle)", async () => {
    const b = await serve();
    const oldPid = b.pid;
    // The pid, then where it listens (keys create points a person there), then the last migration it ships (a newer
    // CLI beside it refuses to migrate under an older server).
    const tag = (pid: number) => new RegExp(`^${pid}\n${b.url}\n\\d{4}_[a-z_]+\n$`);
    expect(readFileSync(join(b.dataDir, "clanker.pid"), "utf8")).toMatch(tag(oldPid));
    await b.kill("SIGKILL");
    expect(readFileSync(join(b.dataDir, "clanker.pid"), "utf8")).toMatch(tag(oldPid));
    await b.restart();
    expect(b.pid).not.toBe(oldPid);
    expect(readFileSync(join(b.dataDir, "clanker.pid"), "utf8")).toMatch(tag(b.pid));
    expect((await fetch(`${b.url}/healthz`)).status).toBe(200);
    // A graceful stop releases the lock and removes the pid file.
    expect(await b.stop()).toBe(0);
    expect(existsSync(join(b.dataDir, "clanker.pid"))).toBe(false);
  }, 20_000);
});

describe.skipIf(testDialect() === "postgres")("clanker.db-wal deleted under a running server", () => {
  test("is noticed within a second, writes or not: /healthz answers 503 saying what to do, the log says it, and a SIGKILL then loses no acknowledged write", async () => {
    const s = await serve();
    const api = client(s, { apiKey: await s.createKey({ email: uniqueEmail("wal") }) });
    const put = async (name: string) => expect((await api("POST", "/api/v1/secrets", { body: { name, value: "v" } })).status).toBe(200);
    await put("BEFORE");
    expect(existsSync(join(s.dataDir, "clanker.db-wal"))).toBe(true);
    rmSync(join(s.dataDir, "clanker.db-wal"));
    // Writes at once, then none: the server looks at the file every second all the same.
    const names = ["AFTER_0", "AFTER_1", "AFTER_2", "AFTER_3", "AFTER_4"];
    for (const n of names) await put(n);
    const health = await waitFor(() => fetch(`${s.url}/healthz`).then(async (r) => ({ status: r.status, body: (await r.json()) as { error?: { type: string; code: string; message: string } } })), (h) => h.status === 503);
    expect(health.body.error).toMatchObject({ type: "overloaded_error", code: "STORE_DEGRADED" });
    expect(health.body.error!.message).toContain("clanker.db-wal was deleted while the server ran");
    expect(health.body.error!.message).toContain("stop it cleanly (SIGTERM, not kill -9) and start it again");
    expect(s.logs()).toContain("clanker.db-wal was deleted while the server ran");
    // Each probe's 503 is one line, not a stack.
    await waitFor(() => s.logs(), (l) => /unavailable \S+ GET \/healthz: .*clanker\.db-wal was deleted/.test(l));
    expect(s.logs()).not.toMatch(/\/healthz[^\n]*\n\s+at /);
    await put("NOTICED");
    await s.kill("SIGKILL");
    await s.restart();
    const listed = (await api("GET", "/api/v1/secrets?limit=100")).body.data.map((x: { name: string }) => x.name);
    expect(listed.sort()).toEqual(["BEFORE", ...names, "NOTICED"].sort());
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
  }, 30_000);
});

describe("graceful shutdown", () => {
  async function runOn(s: TestServer, input: string): Promise<{ api: ReturnType<typeof client>; id: string; key: string }> {
    const key = await s.createKey({ email: uniqueEmail("drain") });
    const api = client(s, { apiKey: key });
    const r = await api("POST", "/api/v1/skills/summarize/run", { body: { input } });
    expect({ status: r.status, text: r.text }).toMatchObject({ status: 200 });
    const id = r.body.executionId as string;
    await waitFor(() => api("GET", `/api/v1/executions/${id}/status`), (x) => x.body.status === "running" && x.body.outputBlocks.length > 0);
    return { api, id, key };
  }

  test("SIGHUP (the terminal closed) drains as SIGTERM does: the run in flight finishes, exit 0", async () => {
    const s = await serve({ CLANKER_SHUTDOWN_GRACE_SECONDS: "30" });
    const { api, id } = await runOn(s, `Summarize while the terminal closes [[slow:200]] ${process.pid}-hup`);
    process.kill(s.pid, "SIGHUP");
    await waitFor(() => s.logs(), (l) => l.includes("shutting down"));
    expect(await s.exited()).toBe(0);
    await s.restart();
    expect((await api("GET", `/api/v1/executions/${id}/status`)).body.status).toBe("completed");
  }, 30_000);

  test("started under nohup (SIGHUP ignored), a SIGHUP leaves it serving: it was started to outlive its terminal", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "clanker-nohup-"));
    const p = Bun.spawn(["nohup", process.execPath, MAIN, "serve", "--port", "0"], { env: { ...process.env, ...(await ownStoreEnv(dataDir)), CLANKER_DATA_DIR: dataDir, CLANKER_LOG: "info" }, cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    try {
      const reader = p.stdout.getReader();
      let out = "";
      let url: string | undefined;
      while (!(url = /listening on (\S+?)[\s"]/.exec(out)?.[1])) {
        const { value, done } = await reader.read();
        if (done) break;
        out += new TextDecoder().decode(value);
      }
      expect(url).toBeDefined();
      process.kill(p.pid, "SIGHUP");
      await Bun.sleep(500);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect(p.exitCode).toBeNull();
      void reader.cancel();
    } finally {
      p.kill("SIGTERM");
      await p.exited;
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 30_000);

  test("SIGTERM lets a run in flight finish: new connections are refused, the log names the run, exit 0, run completed", async () => {
    const s = await serve({ CLANKER_SHUTDOWN_GRACE_SECONDS: "30" });
    const input = `Summarize while stopping [[slow:300]] ${process.pid}-finish`;
    const { api, id, key } = await runOn(s, input);
    // A client following the run on /api/events hears it end, then the stream ends cleanly (not cut mid-chunk).
    const events = await fetch(`${s.url}/api/events?apiKey=${key}`);
    expect(events.status).toBe(200);
    const heard = new Response(events.body).text();
    process.kill(s.pid, "SIGTERM");
    await waitFor(() => s.logs(), (l) => l.includes("shutting down"));
    expect(s.logs()).toContain(`waiting up to 30s for 1 run(s): ${id} (summarize)`);
    await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
    expect(await s.exited()).toBe(0);
    expect(s.logs()).not.toContain("back to queued");
    // A clean stop folds the WAL in and removes it, the stream's reader of the log closed first.
    expect(readdirSync(s.dataDir).filter((f) => f.startsWith("clanker.db-"))).toEqual([]);
    const text = await heard;
    expect(text).toContain(`"executionId":"${id}","skillSlug":"summarize","status":"completed"`);

    await s.restart();
    const after = await api("GET", `/api/v1/executions/${id}/status`);
    expect(after.body.status).toBe("completed");
    expect(after.body.error ?? null).toBeNull();
    expect(after.body.outputBlocks.map((b: any) => b.content).join("")).toBe(answerFor(input).join(""));
  }, 30_000);

  test("past the grace, the run goes back to queued and the next start completes it (not SERVER_RESTARTED)", async () => {
    const s = await serve({ CLANKER_SHUTDOWN_GRACE_SECONDS: "1" });
    // Four deltas 600 ms apart: well past the one-second grace.
    const input = `Summarize too slowly [[slow:600]] ${process.pid}-requeue`;
    const { api, id } = await runOn(s, input);
    // What a client following the output has seen so far.
    const seen = (await api("GET", `/api/v1/executions/${id}/status`)).body.outputBlocks.at(-1).index as number;
    expect(seen).toBeGreaterThan(0);
    const t0 = Date.now();
    expect(await s.stop()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(s.logs()).toContain(`put 1 unfinished run(s) back to queued, for the next start: ${id}`);

    await s.restart();
    const done = await waitFor(() => api("GET", `/api/v1/executions/${id}/status`), (x) => ["completed", "failed", "cancelled"].includes(x.body.status), 15_000);
    expect(done.body.status).toBe("completed");
    expect(done.body.error ?? null).toBeNull();
    // The partial output of the interrupted attempt is gone: one clean answer.
    expect(done.body.outputBlocks.map((b: any) => b.content).join("")).toBe(answerFor(input).join(""));
    // Numbered after the blocks the interrupted attempt sent, one by one: following on with blocksAfter from where the
    // client was gets the whole new answer (numbered from 1 again, its first blocks would be skipped).
    const indexes = done.body.outputBlocks.map((b: any) => b.index as number);
    expect(indexes[0]).toBeGreaterThan(seen);
    expect(indexes).toEqual(indexes.map((_: number, i: number) => indexes[0] + i));
    const followed = await api("GET", `/api/v1/executions/${id}/status?blocksAfter=${seen}`);
    expect(followed.body.outputBlocks.map((b: any) => b.content).join("")).toBe(answerFor(input).join(""));
    expect(s.logs()).not.toContain("interrupted by a restart");
  }, 30_000);

  test("past the grace, an MCP execute-skill waiting on the run answers it queued, with its id, before its session closes", async () => {
    for (const kind of ["streamable", "sse"] as const) {
      const s = await serve({ CLANKER_SHUTDOWN_GRACE_SECONDS: "1" });
      const key = await s.createKey({ email: uniqueEmail(`drain-mcp-${kind}`) });
      const mcp = await connectMcp(s.url, kind, { "x-api-key": key });
      const call = callTool(mcp, "execute-skill", { slug: "summarize", input: `Summarize too slowly [[slow:600]] ${process.pid}-mcp-${kind}` });
      const api = client(s, { apiKey: key });
      await waitFor(() => api("GET", "/api/v1/executions?limit=1"), (r) => r.body.data[0]?.status === "running");
      expect(await s.stop()).toBe(0);
      const r = await call;
      expect({ kind, isError: r.isError ?? false, status: r.structuredContent?.status }).toEqual({ kind, isError: false, status: "queued" });
      expect(s.logs()).toContain(`put 1 unfinished run(s) back to queued, for the next start: ${r.structuredContent.executionId}`);
      await mcp.close().catch(() => {});
    }
  }, 40_000);

  test("a workflow step in flight finishes during the drain, the next step waits for the next start", async () => {
    const s = await serve({ CLANKER_SHUTDOWN_GRACE_SECONDS: "30" });
    const api = client(s, { apiKey: await s.createKey({ email: uniqueEmail("drain-wf") }) });
    const def = await saveTwoSteps(api, "drain-two-steps", "DRAIN", 250);
    const run = (await api("POST", `/api/v1/workflows/${def.id}/launch`, { body: { inputData: {} } })).body;
    const mid = await waitFor(() => api("GET", `/api/v1/workflows/runs/${run.runId}`), (r) => r.body.steps?.one?.status === "running");
    const exec = mid.body.steps.one.executionId;
    await waitFor(() => api("GET", `/api/v1/executions/${exec}/status`), (x) => x.body.status === "running");
    process.kill(s.pid, "SIGTERM");
    await waitFor(() => s.logs(), (l) => l.includes("shutting down"));
    expect(s.logs()).toContain(`${exec} (summarize, step 'one' of ${run.runId})`);
    expect(await s.exited()).toBe(0);
    const twoRequestsBefore = fake.requests.filter((r) => JSON.stringify(r.body).includes("DRAIN-TWO")).length;
    expect(twoRequestsBefore).toBe(0);

    await s.restart();
    const done = await waitFor(() => api("GET", `/api/v1/workflows/runs/${run.runId}`), (r) => ["completed", "failed"].includes(r.body.status), 15_000);
    expect(done.body.status).toBe("completed");
    expect(done.body.steps.one.executionId).toBe(exec);
    // Step two echoes step one's output, so count the requests of step one alone: it ran once.
    expect(fake.requests.filter((r) => JSON.stringify(r.body).includes("DRAIN-ONE") && !JSON.stringify(r.body).includes("DRAIN-TWO")).length).toBe(1);
  }, 30_000);

  test("a workflow action in flight (a slow webhook) finishes during the drain and is saved: the run goes on at the next start, not ACTION_INTERRUPTED", async () => {
    const posts: string[] = [];
    const receiver = startReceiver(async (req) => {
      posts.push(await req.text());
      await Bun.sleep(1200);
      return new Response("ok");
    });
    try {
      const s = await serve({ CLANKER_SHUTDOWN_GRACE_SECONDS: "30" });
      const api = client(s, { apiKey: await s.createKey({ email: uniqueEmail("drain-action") }) });
      expect((await api("POST", "/api/v1/integrations/webhook/connect", { body: { credentials: { url: `http://127.0.0.1:${receiver.port}/hook` } } })).status).toBe(200);
      const def = {
        id: "drain-action",
        name: "drain action",
        steps: [
          { id: "post", kind: "action", integration: "webhook", action: "post", input: { payload: { said: "DRAIN-ACTION" } } },
          { id: "after", kind: "skill", skill: "summarize", input: "DRAIN-AFTER-ACTION" },
        ],
      };
      expect((await api("POST", "/api/v1/workflows/definitions", { body: def })).status).toBe(200);
      const run = (await api("POST", `/api/v1/workflows/${def.id}/launch`, { body: { inputData: {} } })).body;
      await waitFor(() => posts.length, (n) => n === 1);
      process.kill(s.pid, "SIGTERM");
      await waitFor(() => s.logs(), (l) => l.includes("shutting down"));
      expect(s.logs()).toContain(`1 workflow action(s): step 'post' of ${run.runId}`);
      expect(await s.exited()).toBe(0);
      await s.restart();
      const done = await waitFor(() => api("GET", `/api/v1/workflows/runs/${run.runId}`), (r) => ["completed", "failed"].includes(r.body.status), 15_000);
      expect({ status: done.body.status, post: done.body.steps.post.status, error: done.body.error ?? null }).toEqual({ status: "completed", post: "completed", error: null });
      expect(posts).toHaveLength(1);
    } finally {
      receiver.stop(true);
    }
  }, 40_000);

  test("a request still arriving when the signal comes (a slow upload) is answered and saved: the drain is not cut after a second", async () => {
    const s = await serve({ CLANKER_SHUTDOWN_GRACE_SECONDS: "30" });
    const key = await s.createKey({ email: uniqueEmail("drain-upload") });
    const note = "x".repeat(30_000);
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      async start(c) {
        const json = JSON.stringify({ content: note });
        // Ten pieces 250 ms apart: 2.5 s of upload, the signal 300 ms into it.
        for (let i = 0; i < 10; i++) {
          c.enqueue(encoder.encode(json.slice((i * json.length) / 10, ((i + 1) * json.length) / 10)));
          await Bun.sleep(250);
        }
        c.close();
      },
    });
    const put = fetch(`${s.url}/api/v1/memory`, { method: "PUT", headers: { "x-api-key": key, "content-type": "application/json" }, body, duplex: "half" } as RequestInit);
    await Bun.sleep(300);
    process.kill(s.pid, "SIGTERM");
    const r = await put;
    expect(r.status).toBe(200);
    expect(await s.exited()).toBe(0);
    await s.restart();
    expect((await client(s, { apiKey: key })("GET", "/api/v1/memory")).body.content).toBe(note);
  }, 30_000);

  test("an open workflow stream ends with the drain instead of holding the stop for the whole grace", async () => {
    const s = await serve({ CLANKER_SHUTDOWN_GRACE_SECONDS: "30" });
    const key = await s.createKey({ email: uniqueEmail("drain-stream") });
    const api = client(s, { apiKey: key });
    const def = await saveTwoSteps(api, "drain-stream", "STREAM", 200);
    const res = await fetch(`${s.url}/api/v1/workflows/${def.id}/stream`, { method: "POST", headers: { "x-api-key": key, "content-type": "application/json" }, body: "{}" });
    expect(res.status).toBe(200);
    const read = new Response(res.body).text();
    const run = await waitFor(() => api("GET", `/api/v1/workflows/runs/${res.headers.get("x-workflow-run-id")}`), (r) => r.body.steps?.one?.status === "running");
    // Its execution under way, not only queued (a stop waits for the runs under way; one still queued, on PostgreSQL
    // until a claim round takes it, goes to the next start).
    await waitFor(() => api("GET", `/api/v1/executions/${run.body.steps.one.executionId}/status`), (r) => r.body.status === "running");
    const t0 = Date.now();
    process.kill(s.pid, "SIGTERM");
    expect(await s.exited()).toBe(0);
    // The step in flight finished (about a second), then the stream ended: far inside the 30 s grace.
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await read).toContain("STREAM-ONE");
  }, 40_000);

  test("a second signal during the drain stops at once, and says so", async () => {
    const s = await serve({ CLANKER_SHUTDOWN_GRACE_SECONDS: "30" });
    const { id } = await runOn(s, `Summarize, then be interrupted [[slow:600]] ${process.pid}-twice`);
    process.kill(s.pid, "SIGTERM");
    await waitFor(() => s.logs(), (l) => l.includes("shutting down"));
    await Bun.sleep(1100); // a repeat within a second is taken for the same Ctrl-C (terminal + npm)
    const t0 = Date.now();
    process.kill(s.pid, "SIGTERM");
    expect(await s.exited()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(s.logs()).toContain("SIGTERM again: not waiting any longer");
    expect(s.logs()).toContain(`back to queued, for the next start: ${id}`);
  }, 20_000);
});

/** The PIDs of every live (non-zombie) descendant of pid, from /proc. */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] !== "Z") parent.set(Number(d), Number(fields[1]));
    } catch {}
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, pp] of parent) if (pp === p) (out.push(child), walk(child));
  };
  walk(pid);
  return out;
}

const alive = (pid: number) => {
  try {
    return !readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.startsWith("Z");
  } catch {
    return false;
  }
};

test.skipIf(!existsSync("/proc/self/stat"))("`npm start` leaves no bun behind when npm gets SIGTERM", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "clanker-test-"));
  const npm = Bun.spawn(["npm", "start", "--silent"], {
    cwd: ROOT,
    env: { ...(process.env as Record<string, string>), PORT: "0", HOST: "127.0.0.1", CLANKER_DATA_DIR: dataDir, CLANKER_LOG: "info" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let out = "";
  let kids: number[] = [];
  try {
    // Not awaited at the end: an orphan would hold the pipe open.
    void (async () => {
      for await (const chunk of npm.stdout) out += new TextDecoder().decode(chunk);
    })();
    await waitFor(() => out, (o) => o.includes("listening on http://"), 20_000);
    kids = descendants(npm.pid);
    const server = kids.filter((k) => readFileSync(`/proc/${k}/cmdline`, "utf8").includes("src/main.ts"));
    expect(server.length).toBeGreaterThan(0);
    npm.kill("SIGTERM");
    await npm.exited;
    // The server drains (nothing is running) and exits; nothing npm started may outlive it for long.
    await waitFor(() => kids.filter(alive), (left) => left.length === 0, 5000).catch(() => {});
    expect(kids.filter(alive)).toEqual([]);
    expect(out).toContain("Clanker stopped");
  } finally {
    if (!kids.length) kids = descendants(npm.pid);
    for (const k of kids.filter(alive)) process.kill(k, "SIGKILL");
    npm.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 30_000);
