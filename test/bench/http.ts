// HTTP benchmark: our authenticated GET /api/v1/profile and an audited, idempotent POST /api/v1/workspaces,
// each next to a raw Bun.serve JSON route measured in the same run, with wrk on another core; the same GET
// next to a Node + Fastify + better-sqlite3 peer on the same store, bare and doing the same work around the GET as
// ours (installed on demand outside the repo, skipped with a message if that fails, see test/bench/peer-fastify.cjs);
// then the compiled binary's cold start to first 200 and its idle RSS. The same GET and POST on PostgreSQL + Redis
// (test/bench/pg-stack.ts) are printed next to SQLite's. Prints figures and ratios; never fails on time.
// The GETs are measured in rounds (BENCH_ROUNDS, 3), each server in turn within a round, and each figure is the
// median of its rounds: a lone 5 s run moved ±15 % with the machine's load from one minute to the next, and the
// servers compared would otherwise each meet a different minute.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startStack } from "./pg-stack";
import { createKey, startClanker } from "./clanker";
import { pin, requireWrk, wrk as runWrk, writePostScript, type WrkResult } from "./wrk";

const ROOT = resolve(import.meta.dir, "../..");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
requireWrk();

/** Waits for `re` on a process's output, then keeps draining it (a pipe nobody reads would block its writer). */
async function waitForLine(output: ReadableStream<Uint8Array>, re: RegExp): Promise<string> {
  const reader = output.getReader();
  const decoder = new TextDecoder();
  let out = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`process ended before printing ${re}: ${out}`);
    out += decoder.decode(value);
    const m = re.exec(out);
    if (m) {
      void (async () => {
        while (!(await reader.read()).done);
      })().catch(() => {});
      return m[1]!;
    }
  }
}

const wrk = (url: string, headers: Record<string, string>, script?: string): Promise<WrkResult> =>
  runWrk(url, headers, { connections: CONNECTIONS, seconds: SECONDS, script });

type Peer = { url: string; label: string; proc: Bun.Subprocess };

/**
 * The Node 20 + Fastify + better-sqlite3 peer, bare and doing the same work, installed on first use into a cache
 * folder outside the repo (better-sqlite3 12.x: 13 crashes on Node 20 here; it builds with node-gyp when no prebuilt
 * binary comes). Each pinned to core 0 and logging into `logDir`, as ours does. [] with the reason printed when node
 * or the install is not there.
 */
async function startPeers(dbPath: string, logDir: string): Promise<Peer[]> {
  const skip = (why: string) => (console.log(`GET  peer Node+Fastify     skipped: ${why}`), []);
  if (process.env.CLANKER_BENCH_PEER === "0") return skip("CLANKER_BENCH_PEER=0");
  const node = Bun.which("node");
  if (!node) return skip("node is not installed");
  const version = (await new Response(Bun.spawn([node, "--version"], { stdout: "pipe" }).stdout).text()).trim();
  const dir = process.env.CLANKER_BENCH_PEER_DIR ?? join(tmpdir(), "clanker-bench-peer");
  const built = () => existsSync(join(dir, "node_modules/fastify/package.json")) && existsSync(join(dir, "node_modules/better-sqlite3/build/Release/better_sqlite3.node"));
  if (!built()) {
    console.log(`(installing fastify@5 and better-sqlite3@12 into ${dir}: once, may take minutes)`);
    mkdirSync(dir, { recursive: true });
    const npm = Bun.spawn(["npm", "install", "--prefix", dir, "fastify@5", "better-sqlite3@12", "--foreground-scripts", "--ignore-scripts=false", "--no-audit", "--no-fund", "--no-save"], {
      cwd: dir,
      stdout: "pipe",
      stderr: "pipe",
      stdin: "ignore",
    });
    const timer = setTimeout(() => npm.kill(), 15 * 60_000);
    const [log, err] = await Promise.all([new Response(npm.stdout).text(), new Response(npm.stderr).text(), npm.exited]);
    clearTimeout(timer);
    if (npm.exitCode !== 0 || !built()) return skip(`npm install failed (exit ${npm.exitCode}): ${(err || log).trim().split("\n").slice(-3).join(" | ")}`);
  }
  console.log(`(the peer: Node ${version} + Fastify + better-sqlite3, test/bench/peer-fastify.cjs)`);
  const peers: Peer[] = [];
  for (const [mode, label] of [["bare", "bare"], ["same-work", "same work"]] as const) {
    const proc = Bun.spawn([...pin(0), node, join(ROOT, "test/bench/peer-fastify.cjs"), dbPath, mode], {
      env: { ...process.env, NODE_ENV: "production", NODE_PATH: join(dir, "node_modules"), CLANKER_RATE_LIMIT_PER_MINUTE: env.CLANKER_RATE_LIMIT_PER_MINUTE },
      stdout: Bun.file(join(logDir, `peer-${mode}.log`)),
      stderr: "pipe",
      stdin: "ignore",
    });
    try {
      peers.push({ url: await waitForLine(proc.stderr, /peer listening on (\S+)/), label: `peer, ${label}`, proc });
    } catch (e) {
      proc.kill();
      console.log(`GET  peer Node+Fastify (${label}) skipped: it did not start: ${(e as Error).message}`);
    }
  }
  return peers;
}

/** a ÷ b, or why it is no figure: a run with refusals (a 429 is cheaper than an answer) measured something else. */
const ratio = (a: WrkResult, b: WrkResult) => (a.non2xx || b.non2xx ? "not measured (answers other than 2xx: see the server log)" : (a.rps / b.rps).toFixed(2));
const fmt = (r: WrkResult) => `${Math.round(r.rps).toLocaleString("en")} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms${r.non2xx ? `  (${r.non2xx} non-2xx!)` : ""}`;

const dataDir = mkdtempSync(join(tmpdir(), "clanker-bench-"));
const env = {
  ...process.env,
  NODE_ENV: "production",
  CLANKER_DATA_DIR: dataDir,
  CLANKER_LOG: "silent",
  CLANKER_RATE_LIMIT_PER_MINUTE: "1000000000",
  PORT: "0",
};

const raw = Bun.spawn([...pin(0), process.execPath, join(ROOT, "test/bench/raw-server.ts")], { stdout: "pipe", stderr: "inherit", stdin: "ignore" });
const rawUrl = await waitForLine(raw.stdout, /raw listening on (\S+)/);

const startOurs = (serverEnv: Record<string, string | undefined>, logName: string) => startClanker(ROOT, serverEnv, join(dataDir, logName));

const key = await createKey(ROOT, env);
const { url: ourUrl, proc: ours } = await startOurs(env, "server.log");

const postScript = writePostScript(dataDir);

console.log(`wrk: ${CONNECTIONS} connections, ${SECONDS}s each, server on core 0, load on core 1; GET figures: the median of ${ROUNDS} rounds\n`);
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
/** Every target warmed up, then measured once per round, in turn; each figure the median of its rounds. */
async function getRounds(targets: { url: string; headers: Record<string, string> }[]): Promise<WrkResult[]> {
  for (const t of targets) await wrk(t.url, t.headers);
  const runs: WrkResult[][] = targets.map(() => []);
  for (let r = 0; r < ROUNDS; r++) for (const [i, t] of targets.entries()) runs[i]!.push(await wrk(t.url, t.headers));
  return runs.map((rs) => ({ rps: median(rs.map((x) => x.rps)), p50: median(rs.map((x) => x.p50)), p99: median(rs.map((x) => x.p99)), non2xx: rs.reduce((n, x) => n + x.non2xx, 0) }));
}
const peers = await startPeers(join(dataDir, "clanker.db"), dataDir);
const profile = (url: string) => ({ url: `${url}/api/v1/profile`, headers: { "x-api-key": key } });
const [rawGet, ourGet, ...peerGets] = await getRounds([{ url: `${rawUrl}/`, headers: {} }, profile(ourUrl), ...peers.map((p) => profile(p.url))]);
console.log(`GET  raw Bun.serve          ${fmt(rawGet!)}`);
console.log(`GET  /api/v1/profile        ${fmt(ourGet!)}`);
console.log(`     ratio to the ceiling   ${ratio(ourGet!, rawGet!)}  (aim ≥ 0.5, p99 < 3 ms)`);
for (const [i, peer] of peers.entries()) {
  console.log(`GET  ${peer.label.padEnd(23)}${fmt(peerGets[i]!)}`);
  console.log(`     ours ÷ peer            ${ratio(ourGet!, peerGets[i]!)}×  (aim ≥ 2.5×)`);
  peer.proc.kill();
  await peer.proc.exited;
}
console.log("");

// Every measured route is warmed up first, the POSTs as the GET: a cold run's first seconds go to the JIT compiling the
// route's code (its thread took ~6 % of the core in the first 5 s here), not to serving it. Five pairs of runs of the
// audited POST, alone: a mean of 7.2k req/s cold against 8.1k after 5 s of warm-up.
const post = (url: string, headers: Record<string, string> = {}) => wrk(url, { ...headers, "content-type": "application/json" }, postScript);
const warmPost = async (url: string, headers: Record<string, string> = {}) => (await post(url, headers), post(url, headers));
const rawPost = await warmPost(`${rawUrl}/`);
const ourPost = await warmPost(`${ourUrl}/api/v1/workspaces`, { "x-api-key": key });
ours.kill();
await ours.exited;
// The same POST with one commit per request (group commit off), on the same data: the before of that lever.
const single = Bun.spawn([...pin(0), process.execPath, join(ROOT, "src/main.ts"), "serve"], { env: { ...env, CLANKER_LOG: "info", CLANKER_GROUP_COMMIT: "false" }, stdout: "pipe", stderr: "inherit", stdin: "ignore" });
const singleUrl = await waitForLine(single.stdout, /listening on (\S+)/);
const singlePost = await warmPost(`${singleUrl}/api/v1/workspaces`, { "x-api-key": key });
console.log(`POST raw Bun.serve          ${fmt(rawPost)}`);
console.log(`POST /api/v1/workspaces     ${fmt(ourPost)}  (audited, idempotent; group commit)`);
console.log(`     one commit per request ${fmt(singlePost)}  (CLANKER_GROUP_COMMIT=false)`);
console.log(`     ratio to the ceiling   ${ratio(ourPost, rawPost)}; group commit ×${ratio(ourPost, singlePost)}  (aim ≥ 10k req/s)\n`);

raw.kill();
single.kill();
await Promise.all([raw.exited, single.exited]);

// The same GET and POST on the replica stack (DATABASE_URL + REDIS_URL), one server, in the same run. PostgreSQL
// and Redis are not pinned: they share both cores with the server and wrk, as on a one-box deployment.
const stack = await startStack();
if ("skipped" in stack) console.log(`PostgreSQL + Redis         skipped: ${stack.skipped}\n`);
else {
  try {
    const pgEnv = { ...env, ...stack.env, CLANKER_DATA_DIR: mkdtempSync(join(dataDir, "pg-")) };
    const pgKey = await createKey(ROOT, pgEnv);
    const pg = await startOurs(pgEnv, "server-pg.log");
    await wrk(`${pg.url}/api/v1/profile`, { "x-api-key": pgKey }); // warm-up
    const pgGet = await wrk(`${pg.url}/api/v1/profile`, { "x-api-key": pgKey });
    const pgPost = await warmPost(`${pg.url}/api/v1/workspaces`, { "x-api-key": pgKey });
    pg.proc.kill();
    await pg.proc.exited;
    console.log(`PostgreSQL + Redis (DATABASE_URL, REDIS_URL), next to SQLite above:`);
    console.log(`GET  /api/v1/profile        ${fmt(pgGet)}  (÷ SQLite ${ratio(pgGet, ourGet!)})`);
    console.log(`POST /api/v1/workspaces     ${fmt(pgPost)}  (÷ SQLite ${ratio(pgPost, ourPost)})\n`);
  } finally {
    await stack.stop();
  }
}

const binary = join(ROOT, "dist/clanker");
if (existsSync(binary)) {
  // Start-up (test/bench/cold-start.ts): serve on an empty and a used data dir, mcp, keys create, each next to its
  // ceiling timed in the same rounds; then the idle RSS.
  const { coldFiguresWithCeilings, idleRssMb, printColdFigures } = await import("./cold-start");
  const { figures, ceilings } = await coldFiguresWithCeilings([binary], 5);
  printColdFigures("binary start-up (5 runs):", figures[0]!, ceilings);
  console.log(`binary idle RSS: ${(await idleRssMb(binary)).toFixed(1)} MB (aim < 80 MB)`);
} else {
  console.log("dist/clanker not built: run `npm run build` for cold-start and RSS figures");
}
rmSync(dataDir, { recursive: true, force: true });
