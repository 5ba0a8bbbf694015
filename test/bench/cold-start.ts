// Prints the compiled binary's start-up figures (ms, median of N): `serve` to the first 200 of GET /healthz on an
// empty and on a used data dir, `mcp` to the first tools/list answer, and `keys create` to exit.
// Usage: npx bun test/bench/cold-start.ts [runs] [binary] [another binary, e.g. an older build, side by side]
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { stdioStartMs } from "./mcp-stdio-start";

const ROOT = resolve(import.meta.dir, "../..");
const env = { ...(process.env as Record<string, string>), CLANKER_LOG: "silent" };

/** A port the kernel just handed out (a random one may be an ephemeral port our own client connections hold). */
export function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

/** spawn → GET /healthz answers 200; ms. */
export async function serveStartMs(binary: string, dataDir: string): Promise<number> {
  const port = freePort();
  const t0 = performance.now();
  const p = Bun.spawn([binary, "serve", "--port", String(port), "--host", "127.0.0.1", "--data", dataDir], { env, stdout: "ignore", stderr: "pipe" });
  let ms = -1;
  // Bounded: 10 s of polling at most.
  for (let i = 0; i < 5000 && performance.now() - t0 < 10_000 && p.exitCode === null; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200) {
        ms = performance.now() - t0;
        break;
      }
    } catch {}
    await Bun.sleep(1);
  }
  p.kill();
  await p.exited;
  if (ms < 0) throw new Error(`${binary} serve did not answer /healthz within 10 s: ${(await new Response(p.stderr).text()).slice(0, 500)}`);
  return ms;
}

/** spawn → `keys create` exits 0; ms. */
export async function keysCreateMs(binary: string, dataDir: string, name: string): Promise<number> {
  const t0 = performance.now();
  const p = Bun.spawn([binary, "keys", "create", "--name", name, "--data", dataDir], { env, stdout: "ignore", stderr: "pipe" });
  const code = await p.exited;
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`keys create exited ${code}: ${await new Response(p.stderr).text()}`);
  return ms;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export interface ColdFigures {
  serveEmpty: number;
  serveUsed: number;
  mcp: number;
  keys: number;
}

export async function coldFigures(binary: string, runs = 5): Promise<ColdFigures> {
  const empty: number[] = [];
  const used: number[] = [];
  const mcp: number[] = [];
  const keys: number[] = [];
  const usedDir = mkdtempSync(join(tmpdir(), "clanker-cold-used-"));
  try {
    // The used dir: a store made by a first start, with a key in it.
    await keysCreateMs(binary, usedDir, "first");
    await serveStartMs(binary, usedDir);
    await stdioStartMs({ binary, dataDir: usedDir });
    for (let i = 0; i < runs; i++) {
      const dir = mkdtempSync(join(tmpdir(), "clanker-cold-"));
      try {
        empty.push(await serveStartMs(binary, dir));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      used.push(await serveStartMs(binary, usedDir));
      mcp.push(await stdioStartMs({ binary, dataDir: usedDir }));
      keys.push(await keysCreateMs(binary, usedDir, `k${i}`));
    }
  } finally {
    rmSync(usedDir, { recursive: true, force: true });
  }
  return { serveEmpty: median(empty), serveUsed: median(used), mcp: median(mcp), keys: median(keys) };
}

export function printColdFigures(label: string, f: ColdFigures): void {
  console.log(`${label}`);
  console.log(`  serve → first 200, empty data dir   ${f.serveEmpty.toFixed(0).padStart(5)} ms  (aim < 60 ms)`);
  console.log(`  serve → first 200, used data dir    ${f.serveUsed.toFixed(0).padStart(5)} ms  (aim < 60 ms)`);
  console.log(`  mcp stdio → first tools/list        ${f.mcp.toFixed(0).padStart(5)} ms  (aim < 150 ms)`);
  console.log(`  keys create → exit                  ${f.keys.toFixed(0).padStart(5)} ms  (aim < 150 ms)`);
}

if (import.meta.main) {
  const runs = Number(process.argv[2] ?? 5);
  const binaries = process.argv.slice(3).length ? process.argv.slice(3) : [join(ROOT, "dist/clanker")];
  for (const b of binaries) {
    if (!existsSync(b)) {
      console.log(`${b} not built: run \`npm run build\` for the cold-start figures`);
      continue;
    }
    printColdFigures(`${b} (median of ${runs})`, await coldFigures(b, runs));
  }
}
