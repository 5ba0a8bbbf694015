// Executions benchmark with a zero-latency fake model (OpenAI-compatible wire format, on 127.0.0.1):
// runs/s end to end, POST /run p50/p99, time to the first SSE block, the server's RSS every 2,000 runs up to
// 20,000, and one event fanned out to 10,000 SSE clients (needs ulimit -n above 11,000 in the shell running it).
// Prints figures; never fails on time.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startFakeModel } from "../helpers/fake-models";

const ROOT = resolve(import.meta.dir, "../..");
const RUNS = Number(process.env.BENCH_RUNS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const SSE_CLIENTS = Number(process.env.BENCH_SSE_CLIENTS ?? 10_000);
const RSS_RUNS = Number(process.env.BENCH_RSS_RUNS ?? 18_000);
const RSS_STEP = 2000;

const fake = startFakeModel("openai");
const dataDir = mkdtempSync(join(tmpdir(), "clanker-bench-exec-"));
const env = {
  ...process.env,
  NODE_ENV: "production",
  CLANKER_DATA_DIR: dataDir,
  CLANKER_LOG: "info",
  CLANKER_RATE_LIMIT_PER_MINUTE: "1000000000",
  CLANKER_WORKSPACE_CONCURRENCY: "256",
  CLANKER_CREDIT_GRANT: "1000000",
  CLANKER_WORKERS: process.env.BENCH_WORKERS ?? "",
  OPENAI_BASE_URL: `${fake.url}/v1`,
  PORT: "0",
};
// BENCH_BINARY=dist/clanker measures the compiled binary (what a self-hoster runs) instead of the sources;
// BENCH_WORKERS sets the executor threads (unset: the server's default, one fewer than the cores).
const clanker = process.env.BENCH_BINARY ? [resolve(process.env.BENCH_BINARY)] : [process.execPath, join(ROOT, "src/main.ts")];
const key = (await new Response(Bun.spawn([...clanker, "keys", "create", "--name", "bench"], { env, stdout: "pipe" }).stdout).text()).trim().split("\n").pop()!;
const profile = process.env.BENCH_PROFILE ? ["--cpu-prof-md", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
// The server's log goes to a file, as a deployment's goes to its collector: every line written, none of it read by
// this process (a pipe we stopped reading was closed, and the server ran its log's failure path on every turn).
const serverLog = join(dataDir, "server.log");
const server = Bun.spawn(process.env.BENCH_BINARY ? [...clanker, "serve"] : [process.execPath, ...profile, ...clanker.slice(1), "serve"], {
  env,
  stdout: Bun.file(serverLog),
  stderr: "inherit",
});
let url = "";
for (let i = 0; i < 600 && !url && server.exitCode === null; i++) {
  url = /listening on (\S+?)["\s]/.exec(existsSync(serverLog) ? await Bun.file(serverLog).text() : "")?.[1] ?? "";
  if (!url) await Bun.sleep(50);
}
if (!url) throw new Error(`the server did not start: ${existsSync(serverLog) ? await Bun.file(serverLog).text() : "no output"}`);
const threads = /(\d+) executor threads?\)/.exec(await Bun.file(serverLog).text())?.[1] ?? "?";
const headers = { "x-api-key": key, "content-type": "application/json" };
const rss = async () => Number(/VmRSS:\s+(\d+)/.exec(await Bun.file(`/proc/${server.pid}/status`).text())?.[1] ?? 0) / 1024;
const rssIdle = await rss();
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
// Counts only runs started here (a first-block run may still settle while this phase begins).
let settled = 0;
let target = 0;
let reached: (() => void) | null = null;
const closeWatch = await sse((d) => {
  if ((d.status === "completed" || d.status === "failed") && !blockAt.has(d.executionId)) if (++settled === target) reached?.();
});
const postLatency: number[] = [];
/** Starts `n` more runs, CONCURRENCY at a time, and resolves once all of them have settled (or after 120 s). */
async function burst(n: number): Promise<void> {
  target += n;
  const done = new Promise<void>((r) => (reached = r));
  let started = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (started < n) {
        started++;
        const s = performance.now();
        const r = await fetch(`${url}/api/v1/skills/summarize/run`, { method: "POST", headers, body: JSON.stringify({ input: "throughput" }) });
        await r.arrayBuffer();
        postLatency.push(performance.now() - s);
      }
    }),
  );
  if (settled < target) await Promise.race([done, Bun.sleep(120_000)]);
}
/** CPU ticks (utime + stime) of the server: the whole process, or one thread (the main thread's id is the pid). */
const cpuTicks = (thread?: number) => {
  const f = readFileSync(thread ? `/proc/${server.pid}/task/${thread}/stat` : `/proc/${server.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(f[11]) + Number(f[12]);
};
const ticksBefore = [cpuTicks(), cpuTicks(server.pid)];
const t0 = performance.now();
await burst(RUNS);
const seconds = (performance.now() - t0) / 1000;
const completed = settled;
// Per run, in µs (a tick is 10 ms): what the server itself spent, beside runs/s, which also counts the time it waited
// for a core (the bench's own client and fake model share the machine).
const [processUs, mainUs] = [cpuTicks(), cpuTicks(server.pid)].map((t, i) => ((t - ticksBefore[i]!) * 10_000) / completed);

// 3. POST /run latency unloaded: one request at a time.
const unloaded: number[] = [];
target += 200; // these settle too, and the watcher counts them
for (let i = 0; i < 200; i++) {
  const s = performance.now();
  await (await fetch(`${url}/api/v1/skills/summarize/run`, { method: "POST", headers, body: JSON.stringify({ input: "latency" }) })).arrayBuffer();
  unloaded.push(performance.now() - s);
}

console.log(`runs end to end:      ${(completed / seconds).toFixed(0)} runs/s (${completed}/${RUNS} settled in ${seconds.toFixed(2)} s, ${CONCURRENCY} POSTs in flight; aim ≥ 600)`);
console.log(`server CPU per run:    ${processUs!.toFixed(0)} µs (main thread ${mainUs!.toFixed(0)} µs, the rest executor and checkpoint threads)`);
console.log(`POST /run latency:    one at a time p50 ${pct(unloaded, 0.5).toFixed(2)} ms  p99 ${pct(unloaded, 0.99).toFixed(2)} ms (aim p99 < 10 ms)`);
console.log(`                      at saturation (${CONCURRENCY} in flight) p50 ${pct(postLatency, 0.5).toFixed(2)} ms  p99 ${pct(postLatency, 0.99).toFixed(2)} ms`);
console.log(`first SSE block:      median ${pct(firstBlock, 0.5).toFixed(2)} ms  max ${Math.max(...firstBlock).toFixed(2)} ms (aim < 20 ms)`);

// 4. RSS of the server over RSS_RUNS more runs, every RSS_STEP: as each burst settles, and after 2 s idle
// (the runner asks every thread for a full collection once it has been idle 1 s). Both should stay flat.
const rssLine: string[] = [`idle before any run ${rssIdle.toFixed(0)}`];
const rssAt = async (label: string) => {
  const busy = await rss();
  await Bun.sleep(2000);
  rssLine.push(`${label}: ${busy.toFixed(0)}/${(await rss()).toFixed(0)}`);
};
await rssAt((RUNS + 220).toLocaleString("en"));
for (let done = 0; done < RSS_RUNS; done += RSS_STEP) {
  await burst(Math.min(RSS_STEP, RSS_RUNS - done));
  await rssAt((RUNS + 220 + done + RSS_STEP).toLocaleString("en"));
}
closeWatch();
console.log(`RSS over runs (MB):   runs: as settled/after 2 s idle, ${threads} executor thread${threads === "1" ? "" : "s"} (${settled}/${target} settled; aim < 150 MB, flat, with 2 threads: BENCH_WORKERS=2)`);
for (let i = 0; i < rssLine.length; i += 4) console.log(`                      ${rssLine.slice(i, i + 4).join("   ")}`);

// 5. SSE fan-out: SSE_CLIENTS clients held on /api/events, then one event to all of them.
// Raw sockets, not fetch: fetch caps open connections per host, and these streams never end.
const before = await rss();
const { hostname, port } = new URL(url);
const fdLimit = Number((await new Response(Bun.spawn(["sh", "-c", "ulimit -n"], { stdout: "pipe" }).stdout).text()).trim()) || 1024;
const clients = Math.min(SSE_CLIENTS, fdLimit - 500);
if (clients < SSE_CLIENTS) console.log(`note: ulimit -n is ${fdLimit}; holding ${clients} clients (raise it with ulimit -n 65536 to hold ${SSE_CLIENTS})`);
// One caller holds at most 32 streams (/api/events refuses a 33rd): the clients share keys, 32 to a key, each key one
// more of the bench user's.
const STREAMS_PER_KEY = 32;
const streamKeys: string[] = [];
for (let i = 0; i < Math.ceil(clients / STREAMS_PER_KEY); i++) {
  const res = await fetch(`${url}/api/v1/api-keys`, { method: "POST", headers, body: JSON.stringify({ name: `sse ${i}` }) });
  if (!res.ok) throw new Error(`POST /api/v1/api-keys answered ${res.status}: ${await res.text()}`);
  streamKeys.push(((await res.json()) as { key: string }).key);
}
let opened = 0;
let connected = 0;
let marker = "";
let arrived: number[] = [];
let onArrive: (() => void) | null = null;
const sockets: Awaited<ReturnType<typeof Bun.connect>>[] = [];
const handler = {
  open(s: any) {
    s.data = { ok: false, seen: "" };
    const streamKey = streamKeys[Math.floor(opened++ / STREAMS_PER_KEY)];
    s.write(`GET /api/events HTTP/1.1\r\nHost: ${hostname}:${port}\r\nx-api-key: ${streamKey}\r\nAccept: text/event-stream\r\n\r\n`);
  },
  data(s: any, chunk: Buffer) {
    const text = chunk.toString();
    if (!s.data.ok && text.startsWith("HTTP/1.1 200")) {
      s.data.ok = true;
      connected++;
    }
    if (marker && s.data.seen !== marker && text.includes(marker)) {
      s.data.seen = marker;
      arrived.push(performance.now());
      if (arrived.length === connected) onArrive?.();
    }
  },
};
// In waves: a burst of 10,000 SYNs overflows the listen backlog (somaxconn) and costs 1 s retries.
for (let i = 0; i < clients; i += 500) {
  sockets.push(...(await Promise.all(Array.from({ length: Math.min(500, clients - i) }, () => Bun.connect({ hostname, port: Number(port), socket: handler })))));
  for (let j = 0; j < 100 && connected < sockets.length; j++) await Bun.sleep(10);
}
for (let i = 0; i < 200 && connected < clients; i++) await Bun.sleep(50);
const after = await rss();
// One event to all: a run's `queued` event (its id is the marker); then its later events, which we skip.
const fanout: { p50: number; p99: number; max: number; n: number }[] = [];
for (let round = 0; round < (connected ? 3 : 0); round++) {
  arrived = [];
  const all = new Promise<void>((r) => (onArrive = r));
  const s = performance.now();
  const res = await fetch(`${url}/api/v1/skills/summarize/run`, { method: "POST", headers, body: JSON.stringify({ input: `fan-out ${round}` }) });
  marker = ((await res.json()) as { executionId: string }).executionId;
  await Promise.race([all, Bun.sleep(10_000)]);
  const lat = arrived.map((t) => t - s);
  fanout.push({ p50: pct(lat, 0.5), p99: pct(lat, 0.99), max: Math.max(...lat), n: lat.length });
  marker = "";
  // The run's later events (running, blocks, completed) fan out too: let them drain before the next round.
  await Bun.sleep(2000);
}
sockets.forEach((s) => s.end());
console.log(`SSE clients held:     ${connected}/${clients}; RSS ${before.toFixed(1)} MB → ${after.toFixed(1)} MB (+${(((after - before) * 1024) / Math.max(1, connected)).toFixed(1)} KB each)`);
for (const [i, f] of fanout.entries()) console.log(`SSE one event to all: round ${i + 1}: ${f.n}/${connected} got it; from POST sent p50 ${f.p50.toFixed(1)} ms  p99 ${f.p99.toFixed(1)} ms  max ${f.max.toFixed(1)} ms (aim p99 < 250 ms)`);

server.kill("SIGTERM");
await server.exited;
fake.stop();
rmSync(dataDir, { recursive: true, force: true });
