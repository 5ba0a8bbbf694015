// `npm run build`: dist/clanker, compiled twice. The first build is run the ways a person starts it (serve answering
// its first requests, `clanker mcp` answering tools/list, `keys create`), each run recording which functions it
// loaded (BUN_BYTECODE_ORDER_OUT); the second build lays the bytecode out in that order (--bytecode-order), so a
// start reads what it needs from one place instead of from all over the binary: ~8 ms of serve's ~90 ms to its first
// 200 (test/bench/cold-start.ts, side by side). If a recording run fails, the first build stays, and the build says
// so on stderr: a slower start, not a broken binary.
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const OUT = join(ROOT, "dist/clanker");
const ENTRIES = ["src/main.ts", "src/executor/worker.ts", "src/store/checkpoint-worker.ts"];
const FLAGS = ["--compile", "--splitting", "--format=esm", "--minify-syntax", "--bytecode"];
/** Each recording run is given this long; a start takes ~0.1 s. */
const RUN_TIMEOUT_MS = 20_000;

async function compile(orderFiles: string[]): Promise<void> {
  const order = orderFiles.length ? [`--bytecode-order=${orderFiles.join(",")}`] : [];
  const p = Bun.spawn([process.execPath, "build", ...FLAGS, ...order, ...ENTRIES, "--outfile", OUT], { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
  if ((await p.exited) !== 0) process.exit(1);
}

/** Runs `args` of the binary with its loaded functions recorded into `order`; resolves once it has exited. */
async function recorded(order: string, args: string[], env: Record<string, string>, drive: (p: Bun.Subprocess<"pipe", "pipe", "pipe">) => Promise<void>) {
  const p = Bun.spawn([OUT, ...args], { env: { ...env, BUN_BYTECODE_ORDER_OUT: order }, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), RUN_TIMEOUT_MS);
  try {
    await drive(p);
    const code = await p.exited;
    if (code !== 0) throw new Error(`\`clanker ${args[0]}\` exited ${code}: ${(await new Response(p.stderr).text()).trim().slice(0, 300)}`);
  } catch (e) {
    // A run that answered wrongly is still running: left alive, it would hold the build open for good.
    p.kill("SIGKILL");
    throw e;
  } finally {
    clearTimeout(timer);
  }
  if (!existsSync(order)) throw new Error(`\`clanker ${args[0]}\` wrote no order file`);
}

/** Reads a process's stdout until `re` matches; the text so far. */
async function readUntil(stream: ReadableStream<Uint8Array>, re: RegExp): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!re.test(text)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`the output ended before ${re}: ${text.slice(0, 300)}`);
    text += decoder.decode(value);
  }
  reader.releaseLock();
  return text;
}

/** The three order files, the most common start first. */
async function record(dir: string): Promise<string[]> {
  const data = join(dir, "data");
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", CLANKER_LOG: "info", CLANKER_DATA_DIR: data, HOME: dir };
  const keys = join(dir, "keys.order");
  let key = "";
  await recorded(keys, ["keys", "create", "--name", "build", "--email", "build@example.test"], env, async (p) => {
    key = (await new Response(p.stdout).text()).trim().split("\n").pop() ?? "";
  });
  const serve = join(dir, "serve.order");
  await recorded(serve, ["serve", "--port", "0", "--host", "127.0.0.1"], env, async (p) => {
    const url = /listening on (http:\/\/\S+?)["\s]/.exec(await readUntil(p.stdout, /listening on http:\/\/\S+?["\s]/))![1]!;
    // What a start is usually asked first: the liveness probe, an API client's authenticated GET, the web app.
    for (const [path, headers] of [["/healthz", {}], ["/api/v1/profile", { authorization: `Bearer ${key}` }], ["/", {}]] as const) {
      const res = await fetch(url + path, { headers });
      if (!res.ok) throw new Error(`GET ${path} answered ${res.status}`);
      await res.arrayBuffer();
    }
    p.kill("SIGTERM");
  });
  const mcp = join(dir, "mcp.order");
  await recorded(mcp, ["mcp"], env, async (p) => {
    const send = (m: object) => p.stdin.write(`${JSON.stringify(m)}\n`);
    send({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "build", version: "1" } } });
    send({ jsonrpc: "2.0", method: "notifications/initialized" });
    send({ jsonrpc: "2.0", id: 2, method: "tools/list" });
    await p.stdin.flush();
    await readUntil(p.stdout, /"id":2/);
    await p.stdin.end();
  });
  return [serve, mcp, keys];
}

await compile([]);
const dir = mkdtempSync(join(tmpdir(), "clanker-build-"));
try {
  const orders = await record(dir);
  const functions = orders.map((f) => readFileSync(f, "utf8").split("\n").length - 1);
  await compile(orders);
  console.log(`dist/clanker: bytecode laid out by the functions serve, mcp and keys create loaded (${functions.join(", ")})`);
} catch (e) {
  console.error(`warning: dist/clanker is built, but its start-up recording failed, so its bytecode is in build order (a slower start): ${(e as Error).message}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
