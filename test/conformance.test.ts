// The official MCP tooling against the real server:
// - the @modelcontextprotocol/conformance suite in server mode. Every scenario passes except the ones listed in
//   test/conformance-baseline.json. Those expect the reference server's test tools, or capabilities we don't
//   offer, and each one must still fail, so the baseline can't silently go stale.
// - the @modelcontextprotocol/inspector CLI, which lists our tools and calls them.
// Both run under bun (process.execPath): they need Node >= 22 or bun.
// The conformance CLI has no option for sending an API key, so a small proxy in front of the server adds x-api-key.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Server } from "bun";
import { cleanup, startServer, type TestServer } from "./helpers/server";
import { SPEC_TOOL_NAMES } from "./helpers/mcp-tools";

const ROOT = resolve(import.meta.dir, "..");
const BASELINE_FILE = join(ROOT, "test/conformance-baseline.json");
const TOOL_NAMES = SPEC_TOOL_NAMES;
/** A full run takes about a second. Past this limit the run is killed and the test fails. */
const SUITE_TIMEOUT = 120_000;
const INSPECTOR_TIMEOUT = 30_000;

let srv: TestServer;
let key: string;
let proxy: Server<undefined>;
let work: string;

beforeAll(async () => {
  srv = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "100000" } });
  key = await srv.createKey({ name: "conformance" });
  work = mkdtempSync(join(tmpdir(), "clanker-conformance-"));
  proxy = startKeyProxy(srv.url, key);
}, 30_000);

afterAll(async () => {
  proxy?.stop(true);
  await srv?.stop();
  if (srv) cleanup(srv);
  if (work) rmSync(work, { recursive: true, force: true });
}, 30_000);

// ---------------------------------------------------------------------------------------------------------------
// Helpers

/**
 * A pass-through proxy on 127.0.0.1 that adds x-api-key. Bodies are streamed both ways untouched, so SSE
 * responses and resumption work as they do directly. A loopback Host is rewritten to the server's own address.
 * Any other Host (the DNS-rebinding scenario sends one) is forwarded as-is, so the server's own Host check
 * decides.
 */
function startKeyProxy(serverUrl: string, apiKey: string): Server<undefined> {
  const target = new URL(serverUrl);
  return Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0, // SSE streams stay open for as long as the client wants
    async fetch(req) {
      const url = new URL(req.url);
      const headers = new Headers(req.headers);
      const host = headers.get("host") ?? "";
      if (/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/i.test(host)) headers.set("host", target.host);
      headers.set("x-api-key", apiKey);
      return fetch(`${target.origin}${url.pathname}${url.search}`, {
        method: req.method,
        headers,
        body: req.body,
        redirect: "manual",
        signal: req.signal,
        decompress: false,
      } as RequestInit);
    },
  });
}

/** A package's bin script, read from its package.json, so a relayout of the package doesn't break the test. */
function binOf(pkg: string, name: string): string {
  const dir = join(ROOT, "node_modules", pkg);
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const bin = typeof manifest.bin === "string" ? manifest.bin : manifest.bin?.[name];
  if (!bin) throw new Error(`${pkg} has no bin '${name}'`);
  return join(dir, bin);
}

/** Runs a JS CLI under bun with a hard time limit; returns its output whatever the exit code. */
async function runBun(
  args: string[],
  opts: { timeout: number; env?: Record<string, string> },
): Promise<{ stdout: string; stderr: string; code: number | null; ms: number }> {
  const started = Date.now();
  const p = Bun.spawn([process.execPath, ...args], {
    cwd: ROOT,
    env: { ...(process.env as Record<string, string>), NO_PROXY: "127.0.0.1,localhost", no_proxy: "127.0.0.1,localhost", ...opts.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    p.kill("SIGKILL");
  }, opts.timeout);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  if (timedOut) throw new Error(`${args.join(" ")} took more than ${opts.timeout} ms\nstdout:\n${stdout}\nstderr:\n${stderr}`);
  return { stdout, stderr, code, ms: Date.now() - started };
}

// ---------------------------------------------------------------------------------------------------------------
// Conformance

interface Check {
  id: string;
  status: "SUCCESS" | "FAILURE" | "WARNING" | "INFO" | string;
  errorMessage?: string;
  description?: string;
  details?: any;
}

interface ScenarioResult {
  passed: number;
  failed: number;
  /** The scenario's failed checks: "[<check id>] <message>". */
  failures: string[];
  warnings: string[];
  checks: Check[];
}

interface SuiteRun {
  scenarios: Map<string, ScenarioResult>;
  ms: number;
  stdout: string;
  stderr: string;
}

let suiteRun: Promise<SuiteRun> | undefined;

/**
 * Runs the whole suite once, the pending scenarios included ("all"; a run takes about a second), against the
 * proxy. The verdicts come from the CLI's own summary; failure messages come from each scenario's checks.json.
 */
function runSuite(): Promise<SuiteRun> {
  suiteRun ??= (async () => {
    const out = join(work, "results");
    const url = `${proxy.url.origin}/mcp`;
    const r = await runBun([binOf("@modelcontextprotocol/conformance", "conformance"), "server", "--url", url, "--suite", "all", "-o", out], {
      timeout: SUITE_TIMEOUT,
    });
    const scenarios = new Map<string, ScenarioResult>();
    for (const m of r.stdout.matchAll(/^[✓✗] (\S+): (\d+) passed, (\d+) failed$/gmu)) {
      scenarios.set(m[1]!, { passed: Number(m[2]), failed: Number(m[3]), failures: [], warnings: [], checks: [] });
    }
    if (scenarios.size === 0) throw new Error(`the conformance CLI printed no summary (exit ${r.code})\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    for (const dir of existsSync(out) ? readdirSync(out) : []) {
      const m = /^server-(.+)-\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/.exec(dir);
      const s = m && scenarios.get(m[1]!);
      const file = join(out, dir, "checks.json");
      if (!s || !existsSync(file)) continue;
      s.checks = JSON.parse(readFileSync(file, "utf8"));
      for (const c of s.checks) {
        const line = `[${c.id}] ${c.errorMessage ?? c.description ?? ""}`;
        if (c.status === "FAILURE") s.failures.push(line);
        else if (c.status === "WARNING") s.warnings.push(line);
      }
    }
    return { scenarios, ms: r.ms, stdout: r.stdout, stderr: r.stderr };
  })();
  return suiteRun;
}

const baseline: Record<string, string> = JSON.parse(readFileSync(BASELINE_FILE, "utf8"));

describe("@modelcontextprotocol/conformance (server scenarios)", () => {
  test(
    "the suite runs and reports every scenario, the baseline ones included",
    async () => {
      const run = await runSuite();
      console.log(
        `conformance: ${run.scenarios.size} scenarios in ${run.ms} ms; ` +
          `${[...run.scenarios.values()].filter((s) => s.failed === 0).length} pass, ${Object.keys(baseline).length} in the baseline`,
      );
      for (const [name, s] of run.scenarios) if (s.warnings.length) console.log(`conformance warning in ${name}: ${s.warnings.join("; ")}`);
      // The core scenarios any MCP server must pass are reported, so the run really reached the server.
      for (const name of ["server-initialize", "ping", "tools-list", "dns-rebinding-protection"]) expect([...run.scenarios.keys()]).toContain(name);
      // Every baseline entry names a scenario this suite still has, and says why it doesn't apply.
      const unknown = Object.keys(baseline).filter((name) => !run.scenarios.has(name));
      expect(unknown, `scenarios in test/conformance-baseline.json that the suite no longer has; remove them`).toEqual([]);
      for (const [name, why] of Object.entries(baseline)) expect({ name, why: why.length > 20 }).toEqual({ name, why: true });
    },
    SUITE_TIMEOUT + 10_000,
  );

  test(
    "every scenario outside the baseline passes",
    async () => {
      const run = await runSuite();
      const failing = [...run.scenarios]
        .filter(([name, s]) => !(name in baseline) && s.failed > 0)
        .map(([name, s]) => `${name}: ${s.failures.join("; ") || `${s.failed} failed check(s)`}`);
      expect(failing, `conformance scenarios that fail (fix the server, or if the scenario truly does not apply, add it to test/conformance-baseline.json with the reason)`).toEqual([]);
    },
    SUITE_TIMEOUT + 10_000,
  );

  test(
    "every scenario in the baseline still fails",
    async () => {
      const run = await runSuite();
      const nowPassing = Object.keys(baseline).filter((name) => run.scenarios.get(name)?.failed === 0);
      expect(nowPassing, `these scenarios pass now: remove them from test/conformance-baseline.json`).toEqual([]);
    },
    SUITE_TIMEOUT + 10_000,
  );

  test(
    "dns-rebinding-protection: a foreign Host is refused by the server's own Host check, not the proxy",
    async () => {
      const run = await runSuite();
      const checks = run.scenarios.get("dns-rebinding-protection")!.checks;
      const rejected = checks.find((c) => c.id === "localhost-host-rebinding-rejected");
      expect(rejected?.status).toBe("SUCCESS");
      expect(rejected?.details?.statusCode).toBe(403);
      expect(rejected?.details?.body?.error?.code).toBe("HOST_NOT_ALLOWED");
      expect(checks.find((c) => c.id === "localhost-host-valid-accepted")?.status).toBe("SUCCESS");
    },
    SUITE_TIMEOUT + 10_000,
  );
});

// ---------------------------------------------------------------------------------------------------------------
// Inspector

describe("@modelcontextprotocol/inspector --cli", () => {
  /** One inspector CLI call over Streamable HTTP, straight to the server with --header x-api-key. */
  async function inspect(...args: string[]): Promise<any> {
    const home = join(work, "inspector-home"); // it keeps a catalog and storage under $HOME; keep them out of the real one
    const r = await runBun(
      [binOf("@modelcontextprotocol/inspector", "mcp-inspector"), "--cli", `${srv.url}/mcp`, "--transport", "http", "--header", `x-api-key: ${key}`, "--format", "json", ...args],
      { timeout: INSPECTOR_TIMEOUT, env: { HOME: home, MCP_CATALOG_PATH: join(home, "mcp.json"), MCP_CLIENT_CONFIG_PATH: join(home, "client.json") } },
    );
    if (r.code !== 0) throw new Error(`inspector ${args.join(" ")} exited with ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
    return JSON.parse(r.stdout).result;
  }

  test(
    "tools/list lists exactly our tools",
    async () => {
      const result = await inspect("--method", "tools/list");
      const names: string[] = result.tools.map((t: { name: string }) => t.name);
      expect(names.toSorted()).toEqual(TOOL_NAMES.toSorted());
      for (const t of result.tools) expect({ name: t.name, type: t.inputSchema?.type }).toEqual({ name: t.name, type: "object" });
    },
    INSPECTOR_TIMEOUT + 5_000,
  );

  test(
    "tools/call: write-memory then read-memory returns the note",
    async () => {
      const note = `written by the MCP inspector ${Date.now()}`;
      const written = await inspect("--method", "tools/call", "--tool-name", "write-memory", "--tool-args-json", JSON.stringify({ content: note, mode: "overwrite" }));
      expect(written.isError ?? false).toBe(false);
      expect(written.structuredContent).toMatchObject({ content: note, version: 1 });

      const read = await inspect("--method", "tools/call", "--tool-name", "read-memory");
      expect(read.isError ?? false).toBe(false);
      expect(read.structuredContent).toMatchObject({ content: note, version: 1 });
      expect(JSON.parse(read.content[0].text)).toEqual(read.structuredContent);
    },
    2 * INSPECTOR_TIMEOUT + 5_000,
  );
});
