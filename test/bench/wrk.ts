// wrk as the benches drive it: pinned to a core, its figures parsed, and the audited POST's Lua script.
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const multiCore = navigator.hardwareConcurrency >= 2;
/** `taskset -c core` before a command, when there are two cores to keep server and load apart. */
export const pin = (core: number): string[] => (multiCore && Bun.which("taskset") ? ["taskset", "-c", String(core)] : []);

export function requireWrk(): void {
  if (Bun.which("wrk")) return;
  console.error("wrk is not installed (Debian: apt-get install wrk)");
  process.exit(1);
}

export interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
}

function toMs(v: string): number {
  const m = /([\d.]+)(us|ms|s)/.exec(v)!;
  const n = Number(m[1]);
  return m[2] === "us" ? n / 1000 : m[2] === "s" ? n * 1000 : n;
}

/** One wrk run from core 1: `connections` for `seconds`, with `script` (a Lua file) if given. */
export async function wrk(url: string, headers: Record<string, string>, opts: { connections: number; seconds: number; script?: string }): Promise<WrkResult> {
  const args = [...pin(1), "wrk", "-t1", `-c${opts.connections}`, `-d${opts.seconds}s`, "--latency", "--timeout", "5s"];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}: ${v}`);
  if (opts.script) args.push("-s", opts.script);
  args.push(url);
  const p = Bun.spawn(args, { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(p.stdout).text();
  await p.exited;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const p50 = toMs(/\s50%\s+(\S+)/.exec(out)?.[1] ?? "0ms");
  const p99 = toMs(/\s99%\s+(\S+)/.exec(out)?.[1] ?? "0ms");
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  return { rps, p50, p99, non2xx };
}

/** Writes the audited POST's script into `dir`: every request a new idempotency-key, the same body. */
export function writePostScript(dir: string): string {
  const file = join(dir, "post.lua");
  writeFileSync(
    file,
    `counter = 0
request = function()
  counter = counter + 1
  wrk.headers["idempotency-key"] = "bench-" .. tostring(os.time()) .. "-" .. counter .. "-" .. math.random(1, 1e9)
  return wrk.format("POST", nil, nil, '{"name":"Bench workspace"}')
end
`,
  );
  return file;
}
