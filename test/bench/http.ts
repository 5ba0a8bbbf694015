// HTTP benchmark: our authenticated GET /api/v1/profile and an audited, idempotent POST /api/v1/workspaces,
// each next to a raw Bun.serve JSON route measured in the same run, with wrk on another core; the same GET
// next to a Node + Fastify + better-sqlite3 peer on the same store (installed on demand outside the repo,
// skipped with a message if that fails, see test/bench/peer-fastify.cjs); then the
// compiled binary's cold start to first 200 and its idle RSS. The same GET and POST on PostgreSQL + Redis
// (test/bench/pg-stack.ts) are printed next to SQLite's. Prints figures and ratios; never fails on time.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startStack } from "./pg-stack";
import { createKey, startClanker } from "./clanker";
import { pin, requireWrk, wrk as runWrk, writePostScript, type WrkResult } from "./wrk";

const ROOT = resolve(import.meta.dir, "../..");
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
requireWrk();

/** Waits for `re` on the process's stdout, then keeps draining it (a pipe nobody reads would block its logger). */
async function waitForLine(proc: Bun.Subprocess<"ignore", "pipe", "inherit">, re: RegExp): Promise<string> {
  const reader = proc.stdout.getReader();
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

/**
 * The Node 20 + Fastify + better-sqlite3 peer, installed on first use into a cache folder outside the repo
 * (better-sqlite3 12.x: 13 crashes on Node 20 here; it builds with node-gyp when no prebuilt binary comes).
 * null, with the reason printed, when node or the install is not there.
 */
async function startPeer(dbPath: string): Promise<{ url: string; label: string; proc: Bun.Subprocess<"ignore", "pipe", "inherit"> } | null> {
  const skip = (why: string) => (console.log(`GET  peer Node+Fastify     skipped: ${why}`), null);
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
  const proc = Bun.spawn([...pin(0), node, join(ROOT, "test/bench/peer-fastify.cjs"), dbPath], {
    env: { ...process.env, NODE_ENV: "production", NODE_PATH: join(dir, "node_modules") },
    stdout: "pipe",
    stderr: "inherit",
    stdin: "ignore",
  });
  try {
    const url = await waitForLine(proc, /peer listening on (\S+)/);
    return { url, label: `Node ${version}`, proc };
  } catch (e) {
    return skip(`the peer did not start: ${(e as Error).message}`);
  }
}

const fmt = (r: WrkResult) => `${Math.round(r.rps).toLocaleString("en")} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms${r.non2xx ? `  (${r.non2xx} non-2xx!)` : ""}`;

const dataDir = mkdtempSync(join(tmpdir(), "clanker-bench-"));
const env = {
  ...process.env,
  NODE_ENV: "production",
  CLANKER_DATA_DIR: dataDir,
  CLANKER_LOG: "silent",
  CLANKER_RATE_LIMIT_PER_MINUTE: "1000000",
  PORT: "0",
};

const raw = Bun.spawn([...pin(0), process.execPath, join(ROOT, "test/bench/raw-server.ts")], { stdout: "pipe", stderr: "inherit", stdin: "ignore" });
const rawUrl = await waitForLine(raw, /raw listening on (\S+)/);

const startOurs = (serverEnv: Record<string, string | undefined>, logName: string) => startClanker(ROOT, serverEnv, join(dataDir, logName));

const key = await createKey(ROOT, env);
const { url: ourUrl, proc: ours } = await startOurs(env, "server.log");

const postScript = writePostScript(dataDir);

console.log(`wrk: ${CONNECTIONS} connections, ${SECONDS}s each, server on core 0, load on core 1\n`);
await wrk(`${ourUrl}/api/v1/profile`, { "x-api-key": key }); // warm-up
const rawGet = await wrk(`${rawUrl}/`, {});
const ourGet = await wrk(`${ourUrl}/api/v1/profile`, { "x-api-key": key });
console.log(`GET  raw Bun.serve          ${fmt(rawGet)}`);
console.log(`GET  /api/v1/profile        ${fmt(ourGet)}`);
console.log(`     ratio to the ceiling   ${(ourGet.rps / rawGet.rps).toFixed(2)}  (aim ≥ 0.5, p99 < 3 ms)`);
const peer = await startPeer(join(dataDir, "clanker.db"));
if (peer) {
  await wrk(`${peer.url}/api/v1/profile`, { "x-api-key": key }); // warm-up
  const peerGet = await wrk(`${peer.url}/api/v1/profile`, { "x-api-key": key });
  console.log(`GET  peer ${peer.label.padEnd(18)}${fmt(peerGet)}`);
  console.log(`     ours ÷ peer            ${(ourGet.rps / peerGet.rps).toFixed(2)}×  (aim ≥ 2.5×)\n`);
  peer.proc.kill();
  await peer.proc.exited;
} else console.log("");

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
const singleUrl = await waitForLine(single, /listening on (\S+)/);
const singlePost = await warmPost(`${singleUrl}/api/v1/workspaces`, { "x-api-key": key });
console.log(`POST raw Bun.serve          ${fmt(rawPost)}`);
console.log(`POST /api/v1/workspaces     ${fmt(ourPost)}  (audited, idempotent; group commit)`);
console.log(`     one commit per request ${fmt(singlePost)}  (CLANKER_GROUP_COMMIT=false)`);
console.log(`     ratio to the ceiling   ${(ourPost.rps / rawPost.rps).toFixed(2)}; group commit ×${(ourPost.rps / singlePost.rps).toFixed(2)}  (aim ≥ 10k req/s)\n`);

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
    console.log(`GET  /api/v1/profile        ${fmt(pgGet)}  (÷ SQLite ${(pgGet.rps / ourGet.rps).toFixed(2)})`);
    console.log(`POST /api/v1/workspaces     ${fmt(pgPost)}  (÷ SQLite ${(pgPost.rps / ourPost.rps).toFixed(2)})\n`);
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
