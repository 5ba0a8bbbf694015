// The single binary: built with `npm run build`, copied alone into an empty folder (no node_modules, no
// source tree), it creates a key, serves an authenticated request, lists the whole catalog and runs a skill
// on its embedded worker against a fake model, and serves the web app's pages. Minified and bundled, it is also
// where the rest of the suite (from source) cannot look: Elysia reads our hooks' source to decide what a request
// needs, and `clanker mcp`'s tool list is made at build time.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startFakeModel, type FakeModel } from "./helpers/fake-models";
import { cleanup, client, logMessages, startServer, uniqueEmail } from "./helpers/server";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { TOOL_LIST } from "../src/mcp/built-tool-list";
import { stdoutUntil } from "./helpers/suite";

const ROOT = resolve(import.meta.dir, "..");
let dir: string;
let fake: FakeModel;
let server: ReturnType<typeof Bun.spawn> | null = null;
let url = "";
let key = "";
let buildOutput = "";

async function run(args: string[]) {
  const p = Bun.spawn([join(dir, "clanker"), ...args], { cwd: dir, stdout: "pipe", stderr: "pipe", env: { PATH: "/usr/bin:/bin" } });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { stdout, stderr, code };
}

beforeAll(async () => {
  const build = Bun.spawn(["npm", "run", "build"], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(build.stdout).text(), new Response(build.stderr).text(), build.exited]);
  if (code !== 0) throw new Error(`npm run build failed:\n${out}\n${err}`);
  buildOutput = out + err;
  dir = mkdtempSync(join(tmpdir(), "clanker-bin-"));
  copyFileSync(join(ROOT, "dist/clanker"), join(dir, "clanker"));
  Bun.spawnSync(["chmod", "+x", join(dir, "clanker")]);
  fake = startFakeModel("openai");
}, 120_000);

afterAll(async () => {
  server?.kill();
  await server?.exited;
  fake?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("the build lays the bytecode out in the order its recorded starts loaded it (scripts/build.ts)", () => {
  // The recording runs the first build: a failure there leaves a working binary that starts slower, and says so.
  expect(buildOutput).not.toContain("start-up recording failed");
  expect(buildOutput).toMatch(/bytecode laid out by the functions serve, mcp and keys create loaded \(\d+, \d+, \d+\)/);
});

test("the folder holds nothing but the binary", () => {
  expect(readdirSync(dir)).toEqual(["clanker"]);
});

test("keys create prints the key last, and the binary serves an authenticated request with it", async () => {
  const r = await run(["keys", "create", "--name", "bin", "--email", "bin@example.test", "--data", "./data"]);
  expect(r.code).toBe(0);
  key = r.stdout.trim().split("\n").pop()!;
  expect(key).toMatch(/^ck_/);
  server = Bun.spawn([join(dir, "clanker"), "serve", "--port", "0", "--data", "./data"], {
    cwd: dir,
    stdout: "pipe",
    stderr: "inherit",
    env: { PATH: "/usr/bin:/bin", OPENAI_BASE_URL: `${fake.url}/v1`, CLANKER_WORKERS: "1" },
  });
  let log = "";
  for await (const chunk of server.stdout as ReadableStream<Uint8Array>) {
    log += new TextDecoder().decode(chunk);
    const m = /listening on (http:\/\/\S+)/.exec(log);
    if (m) {
      url = m[1]!;
      break;
    }
  }
  const res = await fetch(`${url}/api/v1/profile`, { headers: { "x-api-key": key } });
  expect(res.status).toBe(200);
  expect(((await res.json()) as any).email).toBe("bin@example.test");
}, 30_000);

test("query and path values are checked as from source: a limit out of 1–100 or not a number is a 400 naming it", async () => {
  // Elysia tells a failed coercion by its error class's name: a build that minifies names let `limit=0` through.
  for (const limit of ["0", "-1", "101", "abc"]) {
    const res = await fetch(`${url}/api/v1/executions?limit=${limit}`, { headers: { "x-api-key": key } });
    const body = (await res.json()) as any;
    expect({ limit, status: res.status, type: body.error?.type, param: body.error?.param }).toEqual({ limit, status: 400, type: "invalid_request_error", param: "limit" });
  }
  const ok = await fetch(`${url}/api/v1/executions?limit=1`, { headers: { "x-api-key": key } });
  expect(ok.status).toBe(200);
});

test("the embedded catalog is the whole skills/ folder", async () => {
  const slugs: string[] = [];
  let after = "";
  for (let i = 0; i < 20; i++) {
    const page = (await (await fetch(`${url}/api/v1/marketplace/skills?limit=100${after ? `&after_id=${after}` : ""}`)).json()) as any;
    slugs.push(...page.data.map((s: { slug: string }) => s.slug));
    if (!page.has_more) break;
    after = page.last_id;
  }
  expect(slugs.sort()).toEqual(readdirSync(join(ROOT, "skills")).sort());
});

test("a skill runs to completion on the binary's embedded worker", async () => {
  const h = { "x-api-key": key, "content-type": "application/json" };
  const started = (await (await fetch(`${url}/api/v1/skills/summarize/run`, { method: "POST", headers: h, body: JSON.stringify({ input: "hello from the binary" }) })).json()) as any;
  expect(started.status).toBe("started");
  let status: any;
  for (let i = 0; i < 200; i++) {
    status = await (await fetch(`${url}/api/v1/executions/${started.executionId}/status`, { headers: h })).json();
    if (status.status !== "queued" && status.status !== "running") break;
    await Bun.sleep(25);
  }
  expect(status.status).toBe("completed");
  expect(status.outputBlocks.map((b: { content: string }) => b.content).join("")).toContain("hello from the binary");
  expect(existsSync(join(dir, "data", "artifacts"))).toBe(true);
}, 30_000);

test("the binary serves the web app from the empty folder: / and /executions are whole pages, scripts and styles inline by hash", async () => {
  for (const path of ["/", "/login", "/executions", "/executions/exec_1", "/settings", "/settings/keys", "/settings/mcp", "/activate", "/library", "/skills/summarize"]) {
    const res = await fetch(`${url}${path}`);
    const html = await res.text();
    expect({ path, status: res.status, type: res.headers.get("content-type") }).toEqual({ path, status: 200, type: "text/html; charset=utf-8" });
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toMatch(/script-src 'sha256-[^']+'/);
    expect(csp).toMatch(/style-src 'sha256-[^']+'/);
    // Everything the page needs is in it: no script or stylesheet fetched from anywhere, ours or a CDN.
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet/);
    expect(readdirSync(dir).sort()).toEqual(["clanker", "data"]);
  }
  // `/` itself: 200, and its inline blocks are the app's own (the shared client library and style), each one
  // allowed by its hash in the page's CSP, so the browser runs them with nothing fetched.
  const home = await fetch(`${url}/`);
  const html = await home.text();
  expect(home.status).toBe(200);
  expect(html).toContain("Send me a code");
  const csp = home.headers.get("content-security-policy")!;
  const blocks = [...html.matchAll(/<(script|style)>([\s\S]*?)<\/\1>/g)];
  expect(blocks.map((b) => b[1]).sort()).toEqual(["script", "style"]);
  for (const [, , body] of blocks) expect(csp).toContain(`'sha256-${new Bun.CryptoHasher("sha256").update(body!).digest("base64")}'`);
  expect(blocks.find((b) => b[1] === "script")![2]).toContain("async function api(path, opts)");
  expect(blocks.find((b) => b[1] === "style")![2]).toContain("prefers-color-scheme:dark");
  expect(await (await fetch(`${url}/settings/keys`)).text()).toContain('<nav aria-label="Settings"');
  // The Markdown renderer (marked + DOMPurify) is embedded at build time, only in the pages that render Markdown.
  expect(await (await fetch(`${url}/skills/summarize`)).text()).toContain("DOMPurify");
  expect(await (await fetch(`${url}/library`)).text()).not.toContain("DOMPurify");
});

test("the binary serves /docs with Scalar's build embedded (no node_modules beside it) and /openapi.json", async () => {
  const html = await (await fetch(`${url}/docs`)).text();
  const src = /<script src="(\/docs\/scalar\.[0-9a-f]{16}\.js)">/.exec(html)?.[1];
  expect(src).toBeDefined();
  const js = await fetch(`${url}${src}`, { headers: { "accept-encoding": "gzip" } });
  expect(js.status).toBe(200);
  expect(js.headers.get("cache-control")).toContain("immutable");
  expect((await js.text())).toContain("createApiReference");
  const doc: any = await (await fetch(`${url}/openapi.json`)).json();
  expect(doc.openapi).toMatch(/^3\.1\./);
  expect(doc.paths["/api/v1/skills/{slug}/run"].post.requestBody.content["application/json"].schema.required).toEqual(["input"]);
});

test("backup writes a restorable folder and restore brings it back into a new data dir", async () => {
  const r = await run(["backup", "./bk", "--data", "./data"]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  for (const f of ["clanker.db", "SECRET-master.key", "clanker-backup.json", "artifacts"]) expect(existsSync(join(dir, "bk", f))).toBe(true);
  const again = await run(["backup", "./bk", "--data", "./data"]);
  expect(again.code).toBe(2);
  const restored = await run(["restore", "./bk", "--data", "./restored"]);
  expect({ code: restored.code, stderr: restored.stderr }).toEqual({ code: 0, stderr: "" });
  expect(restored.stdout).toContain(`Start it with: ./clanker serve --data ${join(dir, "restored")}`);
  expect(readFileSync(join(dir, "restored", "master.key"), "utf8")).toBe(readFileSync(join(dir, "data", "master.key"), "utf8"));
  const keys = await run(["keys", "create", "--name", "after", "--email", "bin@example.test", "--data", "./restored"]);
  expect(keys.code).toBe(0);
}, 30_000);

test("health answers 0 against the binary's server (the image's HEALTHCHECK)", async () => {
  const r = await run(["health", "--port", new URL(url).port]);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
});

test("the binary explains itself: --version, a command's own --help, and exit 2 with one line for a usage error", async () => {
  const version = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version;
  expect(await run(["--version"])).toEqual({ stdout: `${version}\n`, stderr: "", code: 0 });
  const root = await run(["--help"]);
  expect(root.code).toBe(0);
  expect(root.stdout).toMatch(/^ +keys {2,}Create, list and revoke API keys$/m);
  const help = await run(["keys", "create", "--help"]);
  expect({ code: help.code, stderr: help.stderr }).toEqual({ code: 0, stderr: "" });
  expect(help.stdout).toContain("USAGE clanker keys create");
  expect(help.stdout).toContain("--data=<DIR>");
  expect(help.stdout).not.toContain("COMMANDS");
  const bad = await run(["keys", "create", "--data", "./data"]);
  expect({ code: bad.code, stdout: bad.stdout }).toEqual({ code: 2, stdout: "" });
  expect(bad.stderr.trim().split("\n")).toHaveLength(1);
});

test("a first start names the binary as it was run: ./clanker keys create, with its --data", async () => {
  const p = Bun.spawn([join(dir, "clanker"), "serve", "--port", "0", "--data", "./fresh"], { cwd: dir, stdout: "pipe", stderr: "inherit", env: { PATH: "/usr/bin:/bin" } });
  const log = await stdoutUntil(p, "listening on");
  expect(logMessages(log)).toContain(`Create your first API key:  ./clanker keys create --name "my key" --email you@example.com --data ${join(dir, "fresh")}\n`);
  expect(log).toMatch(/Open the web app: http:\/\/127\.0\.0\.1:\d+\//);
}, 30_000);

test("its log is JSON lines only, through public, authenticated, idempotent and unknown routes", async () => {
  // Minified, a hook written as a method (`transform(c) {…}`) defeated Elysia's reading of it: the binary printed
  // "[Sucrose] warning … please report" and the hook's code into its log at the first request.
  const srv = await startServer({ binary: join(dir, "clanker"), env: { CLANKER_LOG_FORMAT: "json", CLANKER_RATE_LIMIT_PER_MINUTE: "10000" } });
  try {
    const api = client(srv, { apiKey: await srv.createKey({ email: uniqueEmail("binary") }) });
    expect((await client(srv)("GET", "/healthz")).status).toBe(200);
    expect((await api("GET", "/api/v1/profile")).status).toBe(200);
    expect((await client(srv)("GET", "/api/v1/marketplace/skills?limit=2")).status).toBe(200);
    expect((await api("POST", "/api/v1/workspaces", { body: { name: "From the binary" }, headers: { "idempotency-key": "binary-1" } })).status).toBe(200);
    expect((await api("GET", "/api/v1/no-such-thing")).status).toBe(404);
    expect((await client(srv)("GET", "/api/v1/profile")).status).toBe(401);
    await Bun.sleep(100);
    const lines = srv.logs().trim().split("\n");
    const notJson = lines.filter((l) => {
      try {
        return typeof JSON.parse(l) !== "object";
      } catch {
        return true;
      }
    });
    expect(notJson).toEqual([]);
    expect(lines.filter((l) => l.includes('"/api/v1/profile"'))).toHaveLength(2);
  } finally {
    await srv.stop();
    cleanup(srv);
  }
}, 30_000);

test("`clanker mcp` from the binary answers tools/list with the list the source makes", async () => {
  const c = new Client({ name: "binary-test", version: "1.0.0" });
  await c.connect(new StdioClientTransport({ command: join(dir, "clanker"), args: ["mcp", "--data", join(dir, "data")], env: { PATH: "/usr/bin:/bin" }, stderr: "pipe" }));
  try {
    expect((await c.listTools()).tools).toEqual(TOOL_LIST);
  } finally {
    await c.close();
  }
}, 30_000);
