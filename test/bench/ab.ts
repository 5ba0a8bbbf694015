// Two checkouts side by side: both servers on core 0 at once, each loaded by its own wrk at the same time from
// core 1, so both live through the same noise (another tenant, a frequency change) that moves a lone run's
// figures ±15 % from one minute to the next. Prints each round's req/s and CPU ticks and B's requests per CPU
// tick ÷ A's (1.00 = as cheap per request; two copies of one checkout measured 0.98–1.01 here).
// Usage: npx bun test/bench/ab.ts DIR_A DIR_B [get|post] [rounds]   e.g. A = `git worktree add /tmp/base <commit>`
// (with node_modules linked), B = this checkout. AB_ENV_A / AB_ENV_B ("K=V K=V") set variables for one side only,
// so one checkout can be measured against itself under another setting, or each side on its own PostgreSQL database
// (AB_ENV_A="DATABASE_URL=… REDIS_URL=… CLANKER_REDIS_PREFIX=a:"). Prints figures; never fails on time.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createKey, startClanker } from "./clanker";
import { requireWrk, wrk, writePostScript } from "./wrk";

const [dirA, dirB, kind = "post", roundsArg = "3"] = process.argv.slice(2);
if (!dirA || !dirB || (kind !== "get" && kind !== "post")) {
  console.error("usage: npx bun test/bench/ab.ts DIR_A DIR_B [get|post] [rounds]");
  process.exit(2);
}
requireWrk();
const rounds = Number(roundsArg);
const work = mkdtempSync(join(tmpdir(), "clanker-ab-"));
const postScript = writePostScript(work);

/** utime + stime of a process, in clock ticks. */
const ticks = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(f[11]) + Number(f[12]);
};

const sides = await Promise.all(
  [dirA, dirB].map(async (dir, i) => {
    const root = resolve(dir);
    const own = Object.fromEntries((process.env[i ? "AB_ENV_B" : "AB_ENV_A"] ?? "").split(/\s+/).filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
    const env = { ...process.env, NODE_ENV: "production", CLANKER_DATA_DIR: join(work, `data-${i}`), CLANKER_RATE_LIMIT_PER_MINUTE: "1000000", PORT: "0" };
    // The key is made with the side's own variables too: a DATABASE_URL there puts it in that side's database.
    const key = await createKey(root, { ...env, ...own });
    const { url, proc } = await startClanker(root, env, join(work, `server-${i}.log`), own);
    return { root, key, url, proc };
  }),
);

const load = (s: (typeof sides)[number], seconds: number) =>
  kind === "get"
    ? wrk(`${s.url}/api/v1/profile`, { "x-api-key": s.key }, { connections: 32, seconds })
    : wrk(`${s.url}/api/v1/workspaces`, { "x-api-key": s.key, "content-type": "application/json" }, { connections: 32, seconds, script: postScript });

try {
  console.log(`${kind.toUpperCase()} side by side, 32 connections each, both servers on core 0, both wrk on core 1`);
  console.log(`A ${sides[0]!.root} ${process.env.AB_ENV_A ?? ""}\nB ${sides[1]!.root} ${process.env.AB_ENV_B ?? ""}`);
  await Promise.all(sides.map((s) => load(s, 1))); // warm-up
  const ratios: number[] = [];
  for (let r = 1; r <= rounds; r++) {
    const before = sides.map((s) => ticks(s.proc.pid));
    const [a, b] = await Promise.all(sides.map((s) => load(s, 4)));
    const used = sides.map((s, i) => ticks(s.proc.pid) - before[i]!);
    const ratio = b!.rps / used[1]! / (a!.rps / used[0]!);
    ratios.push(ratio);
    console.log(`round ${r}: A ${a!.rps.toFixed(0)} req/s (${used[0]} ticks)  B ${b!.rps.toFixed(0)} req/s (${used[1]} ticks)  B/A per tick ${ratio.toFixed(3)}`);
    // A refusal (a 429 past the limit) costs less than an answer: the round measured something else.
    if (a!.non2xx || b!.non2xx) console.log(`  (answers other than 2xx: A ${a!.non2xx}, B ${b!.non2xx}; this round is no figure: see the server logs)`);
  }
  const sorted = [...ratios].sort((x, y) => x - y);
  console.log(`B/A per tick: mean ${(ratios.reduce((x, y) => x + y, 0) / ratios.length).toFixed(3)}, median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(3)}`);
} finally {
  for (const s of sides) s.proc.kill("SIGTERM");
  await Promise.all(sides.map((s) => s.proc.exited));
  rmSync(work, { recursive: true, force: true });
}
