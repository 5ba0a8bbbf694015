// Prints the compiled binary's start-up figures (ms, median of N): `serve` to the first 200 of GET /healthz on an
// empty and on a used data dir, `mcp` to the first tools/list answer, and `keys create` to exit; each next to its
// ceiling timed in the same rounds (a bare compiled Elysia app's first 200, a compiled program that exits at once),
// since what one machine adds to every process start moves these figures severalfold from machine to machine.
// Usage: npx bun test/bench/cold-start.ts [runs] [binary] [another binary, e.g. an older build, side by side: the
// binaries take turns within each round]
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

/** spawn → GET /healthz answers 200; ms. `atReady` runs on the process before it is stopped. */
export async function serveStartMs(binary: string, dataDir: string, atReady?: (p: Bun.Subprocess) => Promise<void>): Promise<number> {
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
  if (ms >= 0) await atReady?.(p);
  p.kill();
  await p.exited;
  if (ms < 0) throw new Error(`${binary} serve did not answer /healthz within 10 s: ${(await new Response(p.stderr).text()).slice(0, 500)}`);
  return ms;
}

/** spawn → `keys create` exits 0; ms. */
export async function keysCreateMs(binary: string, dataDir: string, name: string): Promise<number> {
  const t0 = performance.now();
  // stdout a pipe: `keys create` refuses to make a key nobody would see (stdout closed or /dev/null).
  const p = Bun.spawn([binary, "keys", "create", "--name", name, "--data", dataDir], { env, stdout: "pipe", stderr: "pipe" });
  const [code] = await Promise.all([p.exited, new Response(p.stdout).arrayBuffer()]);
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`keys create exited ${code}: ${await new Response(p.stderr).text()}`);
  return ms;
}

/** spawn → exit 0; ms. */
async function exitMs(binary: string): Promise<number> {
  const t0 = performance.now();
  const code = await Bun.spawn([binary], { env, stdout: "ignore", stderr: "ignore" }).exited;
  if (code !== 0) throw new Error(`${binary} exited ${code}`);
  return performance.now() - t0;
}

/** The binary's RSS once it has answered its first 200 and idled half a second, on an empty data dir; MB. */
export async function idleRssMb(binary: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "clanker-rss-"));
  let mb = 0;
  try {
    await serveStartMs(binary, dir, async (p) => {
      await Bun.sleep(500);
      mb = Number(/VmRSS:\s+(\d+)/.exec(await Bun.file(`/proc/${p.pid}/status`).text())?.[1] ?? 0) / 1024;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return mb;
}

/** The ceilings, compiled as ours is: a bare Elysia app (test/bench/ceiling-elysia.ts) and a no-op program. */
export interface Ceilings {
  elysia: string;
  noop: string;
  dir: string;
}

async function buildCeilings(): Promise<Ceilings | null> {
  const dir = mkdtempSync(join(tmpdir(), "clanker-ceilings-"));
  const built = { elysia: join(dir, "elysia"), noop: join(dir, "noop"), dir };
  for (const [name, out] of [["ceiling-elysia.ts", built.elysia], ["ceiling-noop.ts", built.noop]] as const) {
    const p = Bun.spawn([process.execPath, "build", "--compile", "--splitting", "--format=esm", "--minify-syntax", "--bytecode", join(import.meta.dir, name), "--outfile", out], { cwd: ROOT, stdout: "ignore", stderr: "pipe" });
    if ((await p.exited) !== 0) {
      console.log(`could not compile ${name} (${(await new Response(p.stderr).text()).trim().slice(0, 200)}): start-up figures without ceilings`);
      rmSync(dir, { recursive: true, force: true });
      return null;
    }
  }
  return built;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Median and minimum (the minimum is the steadier figure on a loaded machine). */
export interface Figure {
  median: number;
  min: number;
}

export interface ColdFigures {
  serveEmpty: Figure;
  serveUsed: Figure;
  mcp: Figure;
  keys: Figure;
}

/** The ceilings' own figures: the bare Elysia app's first 200 and the no-op's exit. */
export interface CeilingFigures {
  elysia: Figure;
  noop: Figure;
}

const figure = (xs: number[]): Figure => ({ median: median(xs), min: Math.min(...xs) });

/**
 * Each binary's figures, the binaries (and the ceilings, if given) taken in turn within every round so that load on
 * the machine hits all alike.
 */
export async function coldFiguresSideBySide(binaries: string[], runs = 5, ceilings?: Ceilings | null): Promise<{ figures: ColdFigures[]; ceilings?: CeilingFigures }> {
  const samples = binaries.map(() => ({ empty: [] as number[], used: [] as number[], mcp: [] as number[], keys: [] as number[] }));
  const floor = { elysia: [] as number[], noop: [] as number[] };
  const usedDirs = binaries.map(() => mkdtempSync(join(tmpdir(), "clanker-cold-used-")));
  try {
    // Each used dir: a store made by a first start, with a key in it.
    for (const [i, binary] of binaries.entries()) {
      await keysCreateMs(binary, usedDirs[i]!, "first");
      await serveStartMs(binary, usedDirs[i]!);
      await stdioStartMs({ binary, dataDir: usedDirs[i]! });
    }
    for (let r = 0; r < runs; r++) {
      for (const [i, binary] of binaries.entries()) {
        const s = samples[i]!;
        const dir = mkdtempSync(join(tmpdir(), "clanker-cold-"));
        try {
          s.empty.push(await serveStartMs(binary, dir));
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
        s.used.push(await serveStartMs(binary, usedDirs[i]!));
        s.mcp.push(await stdioStartMs({ binary, dataDir: usedDirs[i]! }));
        s.keys.push(await keysCreateMs(binary, usedDirs[i]!, `k${r}`));
      }
      if (ceilings) {
        floor.elysia.push(await serveStartMs(ceilings.elysia, usedDirs[0]!));
        floor.noop.push(await exitMs(ceilings.noop));
      }
    }
  } finally {
    for (const d of usedDirs) rmSync(d, { recursive: true, force: true });
  }
  return {
    figures: samples.map((s) => ({ serveEmpty: figure(s.empty), serveUsed: figure(s.used), mcp: figure(s.mcp), keys: figure(s.keys) })),
    ...(ceilings ? { ceilings: { elysia: figure(floor.elysia), noop: figure(floor.noop) } } : {}),
  };
}

/** The binaries' figures next to the ceilings, compiled for the occasion (figures alone if they cannot be). */
export async function coldFiguresWithCeilings(binaries: string[], runs = 5): Promise<{ figures: ColdFigures[]; ceilings?: CeilingFigures }> {
  const ceilings = await buildCeilings();
  try {
    return await coldFiguresSideBySide(binaries, runs, ceilings);
  } finally {
    if (ceilings) rmSync(ceilings.dir, { recursive: true, force: true });
  }
}

export function printColdFigures(label: string, f: ColdFigures, ceilings?: CeilingFigures): void {
  const row = (what: string, x: Figure, aim: number, ceiling?: Figure, ceilingName?: string) =>
    console.log(
      `  ${what.padEnd(36)} median ${x.median.toFixed(0).padStart(4)} ms, min ${x.min.toFixed(0).padStart(4)} ms  (aim < ${aim} ms)` +
        (ceiling ? `  ÷ ${ceilingName} ${(x.median / ceiling.median).toFixed(2)}×` : ""),
    );
  console.log(label);
  row("serve → first 200, empty data dir", f.serveEmpty, 60, ceilings?.elysia, "bare Elysia");
  row("serve → first 200, used data dir", f.serveUsed, 60, ceilings?.elysia, "bare Elysia");
  row("mcp stdio → first tools/list", f.mcp, 150, ceilings?.noop, "no-op");
  row("keys create → exit", f.keys, 150, ceilings?.noop, "no-op");
  if (!ceilings) return;
  console.log(`  ceilings, same rounds: a bare compiled Elysia app → first 200 median ${ceilings.elysia.median.toFixed(0)} ms (min ${ceilings.elysia.min.toFixed(0)});`);
  console.log(`  a compiled program that exits at once: median ${ceilings.noop.median.toFixed(0)} ms (min ${ceilings.noop.min.toFixed(0)})`);
}

if (import.meta.main) {
  const runs = Number(process.argv[2] ?? 5);
  const given = process.argv.slice(3).length ? process.argv.slice(3) : [join(ROOT, "dist/clanker")];
  const binaries = given.filter((b) => existsSync(b));
  for (const b of given.filter((b) => !existsSync(b))) console.log(`${b} not built: run \`npm run build\` for the cold-start figures`);
  const { figures, ceilings } = await coldFiguresWithCeilings(binaries, runs);
  for (const [i, b] of binaries.entries()) printColdFigures(`${b} (${runs} runs, taken in turn with the others)`, figures[i]!, ceilings);
}
