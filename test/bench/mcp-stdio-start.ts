// Prints how long `clanker mcp` takes from spawn to its first tools/list answer (ms), over a fresh data dir.
// Usage: npx bun test/bench/mcp-stdio-start.ts [runs] [path to a compiled binary]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");

/** One launch: spawn → initialize → initialized → tools/list answered; ms. */
export async function stdioStartMs(opts: { binary?: string; dataDir: string; env?: Record<string, string> }): Promise<number> {
  const cmd = opts.binary ? [opts.binary, "mcp", "--data", opts.dataDir] : [process.execPath, join(ROOT, "src/main.ts"), "mcp", "--data", opts.dataDir];
  const t0 = performance.now();
  const p = Bun.spawn(cmd, { cwd: ROOT, env: { ...(process.env as Record<string, string>), ...opts.env }, stdin: "pipe", stdout: "pipe", stderr: "ignore" });
  const send = (m: object) => p.stdin.write(JSON.stringify(m) + "\n");
  send({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "bench", version: "1" } } });
  send({ jsonrpc: "2.0", method: "notifications/initialized" });
  send({ jsonrpc: "2.0", id: 2, method: "tools/list" });
  p.stdin.flush();
  const reader = p.stdout.getReader();
  const dec = new TextDecoder();
  let buf = "";
  let ms = -1;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value);
    if (buf.split("\n").some((l) => l.includes('"id":2') && l.includes('"tools"'))) {
      ms = performance.now() - t0;
      break;
    }
  }
  p.stdin.end();
  p.kill();
  await p.exited;
  if (ms < 0) throw new Error(`no tools/list answer; stdout: ${buf.slice(0, 500)}`);
  return ms;
}

if (import.meta.main) {
  const runs = Number(process.argv[2] ?? 5);
  const binary = process.argv[3];
  const dir = mkdtempSync(join(tmpdir(), "clanker-mcp-start-"));
  try {
    await stdioStartMs({ binary, dataDir: dir }); // the first launch creates the store
    const times: number[] = [];
    for (let i = 0; i < runs; i++) times.push(await stdioStartMs({ binary, dataDir: dir }));
    times.sort((a, b) => a - b);
    console.log(`stdio start → first tools/list: median ${times[Math.floor(times.length / 2)]!.toFixed(0)} ms, min ${times[0]!.toFixed(0)} ms (${runs} runs${binary ? `, ${binary}` : ", bun src/main.ts"})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
