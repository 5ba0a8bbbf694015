// Executions benchmark with a zero-latency fake model (OpenAI-compatible wire format, on 127.0.0.1):
// runs/s end to end, POST /run p50/p99, time to the first SSE block, and RSS with 1,000 SSE clients.
// Prints figures; never fails on time.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startFakeModel } from "../helpers/fake-models";

const ROOT = resolve(import.meta.dir, "../..");
const RUNS = Number(process.env.BENCH_RUNS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const SSE_CLIENTS = Number(process.env.BENCH_SSE_CLIENTS ?? 1000);

const fake = startFakeModel("openai");
const dataDir = mkdtempSync(join(tmpdir(), "clanker-bench-exec-"));
const env = {
  ...process.env,
  NODE_ENV: "production",
  CLANKER_DATA_DIR: dataDir,
  CLANKER_LOG: "info",
  CLANKER_RATE_LIMIT_PER_MINUTE: "1000000",
  CLANKER_WORKSPACE_CONCURRENCY: "256",
  CLANKER_CREDIT_GRANT: "1000000",
  OPENAI_BASE_URL: `${fake.url}/v1`,
  PORT: "0",
};
const key = (await new Response(Bun.spawn([process.execPath, join(ROOT, "src/main.ts"), "keys", "create", "--name", "bench"], { env, stdout: "pipe" }).stdout).text()).trim().split("\n").pop()!;
const server = Bun.spawn([process.execPath, ...(process.env.BENCH_PROFILE ? ["--cpu-prof", "--cpu-prof-dir=/tmp/cpuprof-exec"] : []), join(ROOT, "src/main.ts"), "serve"], { env, stdout: "pipe", stderr: "inherit" });
let url = "";
let out = "";
for await (const chunk of server.stdout) {
  out += new TextDecoder().decode(chunk);
  const m = /listening on (\S+)/.exec(out);
  if (m) {
    url = m[1]!;
    break;
  }
}
const headers = { "x-api-key": key, "content-type": "application/json" };
const rss = async () => Number(/VmRSS:\s+(\d+)/.exec(await Bun.file(`/proc/${server.pid}/status`).text())?.[1] ?? 0) / 1024;
const pct = (xs: number[], p: number) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

/** Reads SSE events from the server until `until` says stop; returns a closer. */
async function sse(onEvent: (data: any) => void): Promise<() => void> {
  const ac = new AbortController();
  const res = await fetch(`${url}/api/events`, { headers: { "x-api-key": key }, signal: ac.signal });
  const reader = res.body!.getReader();
  void (async () => {
    let buf = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buf += new TextDecoder().decode(value);
        let i;
        while ((i = buf.indexOf("\n\n")) !== -1) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = frame.split("\n").find((l) => l.startsWith("data: "));
          if (data) onEvent(JSON.parse(data.slice(6)));
        }
      }
    } catch {}
  })();
  return () => ac.abort();
}

// 1. Time to the first SSE block: from sending POST /run to that run's first block arriving over SSE.
const firstBlock: number[] = [];
const blockAt = new Map<string, number>();
let blockSeen: (() => void) | null = null;
const closeFirst = await sse((d) => {
  if (d.blocks?.length && !blockAt.has(d.executionId)) {
    blockAt.set(d.executionId, performance.now());
    blockSeen?.();
  }
});
for (let i = 0; i < 20; i++) {
  const t0 = performance.now();
  const started = (await (await fetch(`${url}/api/v1/skills/summarize/run`, { method: "POST", headers, body: JSON.stringify({ input: `first block ${i}` }) })).json()) as { executionId: string };
  const id = started.executionId;
  while (!blockAt.has(id)) await Promise.race([new Promise<void>((r) => (blockSeen = r)), Bun.sleep(1000)]);
  firstBlock.push(blockAt.get(id)! - t0);
}
closeFirst();

// 2. Throughput: RUNS runs, CONCURRENCY POSTs in flight, until every one has completed.
let completed = 0;
let allDone!: () => void;
const finished = new Promise<void>((r) => (allDone = r));
const closeWatch = await sse((d) => {
  if (d.status === "completed" || d.status === "failed") if (++completed === RUNS) allDone();
});
const postLatency: number[] = [];
let next = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < RUNS) {
      next++;
      const s = performance.now();
      const r = await fetch(`${url}/api/v1/skills/summarize/run`, { method: "POST", headers, body: JSON.stringify({ input: "throughput" }) });
      await r.arrayBuffer();
      postLatency.push(performance.now() - s);
    }
  }),
);
await Promise.race([finished, Bun.sleep(120_000)]);
const seconds = (performance.now() - t0) / 1000;
closeWatch();

// 3. POST /run latency unloaded: one request at a time.
const unloaded: number[] = [];
for (let i = 0; i < 200; i++) {
  const s = performance.now();
  await (await fetch(`${url}/api/v1/skills/summarize/run`, { method: "POST", headers, body: JSON.stringify({ input: "latency" }) })).arrayBuffer();
  unloaded.push(performance.now() - s);
}

// 4. RSS with SSE_CLIENTS clients attached.
// Raw sockets, not fetch: fetch caps open connections per host, and these streams never end.
const before = await rss();
const { hostname, port } = new URL(url);
let connected = 0;
const sockets = await Promise.all(
  Array.from({ length: SSE_CLIENTS }, () =>
    Bun.connect({
      hostname,
      port: Number(port),
      socket: {
        open(s) {
          s.write(`GET /api/events HTTP/1.1\r\nHost: ${hostname}:${port}\r\nx-api-key: ${key}\r\nAccept: text/event-stream\r\n\r\n`);
        },
        data(_s, chunk) {
          if (chunk.toString().startsWith("HTTP/1.1 200")) connected++;
        },
      },
    }),
  ),
);
for (let i = 0; i < 100 && connected < SSE_CLIENTS; i++) await Bun.sleep(50);
const after = await rss();
sockets.forEach((s) => s.end());

console.log(`runs end to end:      ${(completed / seconds).toFixed(0)} runs/s (${completed}/${RUNS} settled in ${seconds.toFixed(2)} s, ${CONCURRENCY} POSTs in flight; aim ≥ 500)`);
console.log(`POST /run latency:    one at a time p50 ${pct(unloaded, 0.5).toFixed(2)} ms  p99 ${pct(unloaded, 0.99).toFixed(2)} ms (aim p99 < 10 ms)`);
console.log(`                      at saturation (${CONCURRENCY} in flight) p50 ${pct(postLatency, 0.5).toFixed(2)} ms  p99 ${pct(postLatency, 0.99).toFixed(2)} ms`);
console.log(`first SSE block:      median ${pct(firstBlock, 0.5).toFixed(2)} ms  max ${Math.max(...firstBlock).toFixed(2)} ms (aim < 20 ms)`);
console.log(`RSS:                  ${before.toFixed(1)} MB → ${after.toFixed(1)} MB with ${connected} SSE clients attached (+${((after - before) * 1024 / SSE_CLIENTS).toFixed(1)} KB each)`);

server.kill("SIGTERM");
await server.exited;
fake.stop();
rmSync(dataDir, { recursive: true, force: true });
