// Cold start (issue 14): what `clanker serve` loads before its first 200, what `clanker mcp` loads before its
// first tools/list, and what `clanker keys create` loads. Checked on the modules a real process loaded (from
// source, where an import that is not made is a module that is not read), so they fail on a stray static import
// rather than on a slow machine. The times themselves: test/bench/cold-start.ts (never fails on time).
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const MAIN = join(ROOT, "src/main.ts");
const PRELOAD = join(import.meta.dir, "helpers/module-trace.ts");
const dirs: string[] = [];
const tmp = (prefix: string) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function traced(args: string[], trace: string) {
  const env = { ...(process.env as Record<string, string>), CLANKER_MODULE_TRACE: trace, CLANKER_LOG: "silent" };
  return Bun.spawn([process.execPath, "--preload", PRELOAD, MAIN, ...args], { cwd: ROOT, env, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
}

const loaded = (trace: string) => readFileSync(trace, "utf8").split("\n");
const pkg = (name: string) => new RegExp(`/node_modules/${name.replace("/", "\\/")}/`);
/** The packages of `want` that appear among the loaded modules. */
const present = (mods: string[], want: string[]) => want.filter((p) => mods.some((m) => pkg(p).test(m)));

// citty renders --help only (it imports node:util, ~3 ms of a start); the flags are parsed without it.
const FIRST_USE_ONLY = ["citty", "@modelcontextprotocol/sdk", "ai", "@ai-sdk/openai-compatible", "@ai-sdk/anthropic", "zod", "ajv", "scslre", "refa", "@eslint-community/regexpp", "yaml", "@octokit/rest", "@slack/web-api", "isomorphic-git", "nodemailer", "@elysiajs/openapi", "@scalar/api-reference", "ipaddr.js", "prom-client"];

async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

async function serveUntil200(data: string, trace: string, then?: (url: string) => Promise<void>): Promise<string[]> {
  const port = await freePort();
  const p = traced(["serve", "--port", String(port), "--data", data], trace);
  const url = `http://127.0.0.1:${port}`;
  let ok = false;
  for (let i = 0; i < 600 && !ok && p.exitCode === null; i++) {
    ok = await fetch(`${url}/healthz`).then((r) => r.status === 200, () => false);
    if (!ok) await Bun.sleep(25);
  }
  try {
    expect(ok).toBe(true);
    await then?.(url);
  } finally {
    p.kill("SIGTERM");
    await p.exited;
  }
  return loaded(trace);
}

test("`clanker serve` answers its first 200 without loading citty, the MCP SDK, the AI SDK, zod, Ajv, the regex analysis, yaml, Octokit, Slack, git, mail, OpenAPI, Scalar, ipaddr.js or prom-client (not even after answering)", async () => {
  const data = tmp("clanker-cold-");
  const empty = await serveUntil200(data, join(data, "trace-empty"));
  expect(present(empty, FIRST_USE_ONLY)).toEqual([]);
  expect(empty.some((m) => pkg("elysia").test(m))).toBe(true); // the trace does see what is loaded
  // A used data dir (migrated, with a key): the same.
  const used = await serveUntil200(data, join(data, "trace-used"));
  expect(present(used, FIRST_USE_ONLY)).toEqual([]);
}, 60_000);

test("what `clanker serve` leaves out is loaded on first use: /openapi.json, MCP over HTTP and /metrics still answer", async () => {
  const data = tmp("clanker-cold-");
  const keyOut = Bun.spawnSync([process.execPath, MAIN, "keys", "create", "--name", "cold", "--data", data], { cwd: ROOT, env: { ...(process.env as Record<string, string>), CLANKER_LOG: "silent" } });
  const key = keyOut.stdout.toString().trim().split("\n").pop()!;
  expect(key).toStartWith("ck_");
  const mods = await serveUntil200(data, join(data, "trace"), async (url) => {
    const doc = await fetch(`${url}/openapi.json`);
    expect(doc.status).toBe(200);
    expect(((await doc.json()) as { openapi: string }).openapi).toStartWith("3.1");
    const init = await fetch(`${url}/mcp`, {
      method: "POST",
      headers: { "x-api-key": key, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } }),
    });
    expect(init.status).toBe(200);
    expect(init.headers.get("mcp-session-id")).toBeTruthy();
    expect(await init.text()).toContain('"serverInfo"');
    // The requests answered before the first scrape are counted in it.
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/clanker_http_requests_total\{method="GET",route="\/openapi.json",status="200"\} 1/);
  });
  const firstUse = ["@elysiajs/openapi", "@modelcontextprotocol/sdk", "zod", "prom-client"];
  expect(present(mods, firstUse)).toEqual(firstUse);
}, 60_000);

test("`clanker mcp` answers tools/list without loading the HTTP framework (Elysia, TypeBox) or the AI SDK", async () => {
  const data = tmp("clanker-cold-");
  const trace = join(data, "trace");
  const p = traced(["mcp", "--data", data], trace);
  const send = (m: object) => p.stdin.write(JSON.stringify(m) + "\n");
  send({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } });
  send({ jsonrpc: "2.0", method: "notifications/initialized" });
  send({ jsonrpc: "2.0", id: 2, method: "tools/list" });
  p.stdin.flush();
  let out = "";
  const reader = p.stdout.getReader();
  while (!out.split("\n").some((l) => l.includes('"id":2'))) {
    const { value, done } = await reader.read();
    if (done) break;
    out += new TextDecoder().decode(value);
  }
  p.stdin.end(); // the transport closes and the process exits 0, writing the trace
  expect(await p.exited).toBe(0);
  const list = JSON.parse(out.split("\n").find((l) => l.includes('"id":2'))!) as { result: { tools: { name: string }[] } };
  expect(list.result.tools.map((t) => t.name)).toContain("execute-skill");
  const mods = loaded(trace);
  expect(present(mods, ["elysia", "@sinclair/typebox", "ai", "@elysiajs/openapi"])).toEqual([]);
  expect(present(mods, ["@modelcontextprotocol/sdk", "zod"])).toEqual(["@modelcontextprotocol/sdk", "zod"]);
}, 60_000);

test("`clanker keys create` loads no HTTP framework, no MCP SDK, no AI SDK, no citty", async () => {
  const data = tmp("clanker-cold-");
  const trace = join(data, "trace");
  const p = traced(["keys", "create", "--name", "cold", "--data", data], trace);
  const [stdout, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  expect(code).toBe(0);
  expect(stdout.trim().split("\n").pop()).toStartWith("ck_");
  expect(present(loaded(trace), ["elysia", "@sinclair/typebox", "@modelcontextprotocol/sdk", "ai", "zod", "pino", "prom-client", "citty"])).toEqual([]);
  expect(loaded(trace).some((m) => m.endsWith("/src/app.ts") || m.endsWith("/src/server.ts"))).toBe(false);
}, 60_000);
