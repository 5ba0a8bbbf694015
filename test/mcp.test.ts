// The MCP server over real transports, with the official SDK Client: Streamable HTTP (/mcp), legacy SSE
// (/mcp/sse + /mcp/messages) and stdio (`clanker mcp`). Every tool family is called for real against a running
// server and the protocol-faithful fake Anthropic model; auth, session binding, workspace isolation and the
// DNS-rebinding guard are checked over raw HTTP where the SDK would hide the status code.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import { cleanup, client, ownStoreEnv, readResponse, startServer, testDialect, uniqueEmail, type ApiResponse, type TestServer } from "./helpers/server";
import { startFakeModel, type FakeModel } from "./helpers/fake-models";
import pkg from "../package.json";
import { SPEC_TOOL_NAMES } from "./helpers/mcp-tools";
import { runSql } from "./helpers/sql";
import { waitUntil } from "./helpers/suite";
import { metric } from "./helpers/metrics";
import { httpTransport } from "./helpers/mcp-client";

const ROOT = resolve(import.meta.dir, "..");
const MAIN = join(ROOT, "src/main.ts");
const SEP = "\n\n---\n\n";
const TOOL_NAMES = SPEC_TOOL_NAMES;
const CALL_TIMEOUT = 20_000;

type Kind = "streamable" | "sse" | "stdio";

let srv: TestServer;
let fake: FakeModel;
const openClients: Client[] = [];
const tempDirs: string[] = [];

beforeAll(async () => {
  fake = startFakeModel("anthropic");
  srv = await startServer({
    env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", ANTHROPIC_API_KEY: "sk-ant-mcp-test-000000000000000000", ANTHROPIC_BASE_URL: fake.url },
  });
}, 30_000);

afterAll(async () => {
  await Promise.allSettled(openClients.map((c) => within(c.close(), 5_000, "client close")));
  await srv?.stop();
  if (srv) cleanup(srv);
  fake?.stop();
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
}, 30_000);

// ---------------------------------------------------------------------------------------------------------------
// Helpers

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
    }),
  ]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ConnectOptions {
  /** HTTP: send `Authorization: Bearer` instead of x-api-key. stdio: pass the key as CLANKER_API_KEY instead of --api-key. */
  alt?: boolean;
  /** stdio: this data dir instead of the server's (with env: its own database, under PostgreSQL). */
  dataDir?: string;
  env?: Record<string, string>;
  /** stdio: launch with no key at all. */
  noKey?: boolean;
}

function authHeaders(key: string, bearer = false): Record<string, string> {
  return bearer ? { authorization: `Bearer ${key}` } : { "x-api-key": key };
}

function stdioEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { ...srv.env, ...extra };
  if (!("CLANKER_API_KEY" in extra)) delete env.CLANKER_API_KEY;
  return env;
}

function transportFor(kind: Kind, key: string | null, opts: ConnectOptions = {}): Transport {
  if (kind === "streamable" || kind === "sse") return httpTransport(srv.url, kind, authHeaders(key!, opts.alt));
  const args = [MAIN, "mcp", "--data", opts.dataDir ?? srv.dataDir];
  let extra: Record<string, string> = {};
  if (!opts.noKey) {
    if (opts.alt) extra = { CLANKER_API_KEY: key! };
    else args.push("--api-key", key!);
  }
  return new StdioClientTransport({ command: process.execPath, args, env: stdioEnv({ ...opts.env, ...extra }), cwd: ROOT, stderr: "pipe" });
}

async function connect(kind: Kind, key: string | null, opts: ConnectOptions = {}): Promise<Client> {
  const c = new Client({ name: `clanker-mcp-test-${kind}`, version: "1.0.0" });
  await within(c.connect(transportFor(kind, key, opts)), 15_000, `connecting over ${kind}`);
  openClients.push(c);
  return c;
}

interface ToolResult {
  isError?: boolean;
  structuredContent?: any;
  content: { type: string; text?: string }[];
}

async function call(c: Client, name: string, args: Record<string, unknown> = {}, onprogress?: (p: { progress: number; message?: string }) => void): Promise<ToolResult> {
  const r = await c.callTool({ name, arguments: args }, undefined, { timeout: CALL_TIMEOUT, ...(onprogress ? { onprogress } : {}) });
  return r as unknown as ToolResult;
}

/** A successful tool result's structured content (and its text twin says the same). */
async function ok(c: Client, name: string, args: Record<string, unknown> = {}): Promise<any> {
  const r = await call(c, name, args);
  expect({ name, isError: r.isError ?? false, content: r.content }).toMatchObject({ isError: false });
  expect(r.structuredContent).toBeDefined();
  expect(JSON.parse(r.content[0]!.text!)).toEqual(r.structuredContent);
  return r.structuredContent;
}

/** A failed tool result: isError, the typed error in structuredContent. */
async function fails(c: Client, name: string, args: Record<string, unknown>): Promise<{ type: string; code?: string; message: string }> {
  const r = await call(c, name, args);
  expect({ name, isError: r.isError }).toEqual({ name, isError: true });
  expect(Object.keys(r.structuredContent ?? {})).toEqual(["error"]);
  expect(JSON.parse(r.content[0]!.text!)).toEqual(r.structuredContent);
  return r.structuredContent.error;
}

function expectApiError(r: ApiResponse | { status: number; body: any; text: string }, status: number, type: string, code?: string) {
  expect({ status: r.status, type: r.body?.error?.type, text: r.text }).toMatchObject({ status, type });
  if (code !== undefined) expect(r.body.error.code).toBe(code);
}

const INIT = (id = 1) => ({
  jsonrpc: "2.0",
  id,
  method: "initialize",
  params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: { name: "raw-fetch", version: "1.0.0" } },
});

/** A raw request to the MCP endpoints; the body is parsed as JSON when it is JSON. */
async function raw(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  return readResponse(await fetch(srv.url + path, {
    method,
    headers: { accept: "application/json, text/event-stream", ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  }));
}

/** The JSON-RPC messages in a Streamable HTTP response (JSON, or SSE `data:` lines). */
function rpcMessages(text: string): any[] {
  try {
    const j = JSON.parse(text);
    return Array.isArray(j) ? j : [j];
  } catch {}
  return text
    .split("\n")
    .filter((l) => l.startsWith("data:"))
    .map((l) => l.slice(5).trim())
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** Opens a Streamable HTTP session with raw fetch; returns its id. */
async function openSession(headers: Record<string, string>): Promise<string> {
  const r = await raw("POST", "/mcp", headers, INIT());
  expect({ status: r.status, text: r.text }).toMatchObject({ status: 200 });
  const sid = r.headers.get("mcp-session-id");
  expect(sid).toBeTruthy();
  const init = rpcMessages(r.text).find((m) => m.id === 1);
  // The version the CLI reports (`clanker --version`), not a constant of its own.
  expect(init?.result?.serverInfo).toMatchObject({ name: "clanker", version: pkg.version });
  const note = await raw("POST", "/mcp", { ...headers, "mcp-session-id": sid!, "mcp-protocol-version": LATEST_PROTOCOL_VERSION }, { jsonrpc: "2.0", method: "notifications/initialized" });
  expect(note.status).toBe(202);
  return sid!;
}

/** Opens a legacy SSE stream with raw fetch; returns the message endpoint it announces, and a way to close it. */
async function openLegacySse(headers: Record<string, string>): Promise<{ endpoint: string; close: () => void }> {
  const ac = new AbortController();
  const res = await fetch(`${srv.url}/mcp/sse`, { headers: { accept: "text/event-stream", ...headers }, signal: ac.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/event-stream");
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let buf = "";
  const endpoint = await within(
    (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`SSE stream ended before the endpoint event: ${buf}`);
        buf += dec.decode(value);
        const m = /event: endpoint\ndata: (\S+)/.exec(buf);
        if (m) return m[1]!;
      }
    })(),
    5_000,
    "the SSE endpoint event",
  );
  return {
    endpoint,
    close: () => {
      void reader.cancel().catch(() => {});
      ac.abort();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Every tool family over every transport

describe.each(["streamable", "sse", "stdio"] as const)("MCP over %s", (kind) => {
  let keyA: string; // the workspace's first key
  let keyA2: string; // a second key of the same user, same workspace
  let keyB: string; // a key of another user, in another workspace
  let a: Client;
  let a2: Client;
  let b: Client;
  let restA: ReturnType<typeof client>;
  let run: any; // execute-skill's completed result
  let slowId: string | undefined; // the cancelled run

  beforeAll(async () => {
    const email = uniqueEmail(`mcp-${kind}`);
    keyA = await srv.createKey({ email, name: `${kind} main` });
    keyA2 = await srv.createKey({ email, name: `${kind} second` });
    keyB = await srv.createKey({ email: uniqueEmail(`mcp-${kind}-other`), name: `${kind} other` });
    restA = client(srv, { apiKey: keyA });
    // The second client of A authenticates the other documented way: Bearer (HTTP) or CLANKER_API_KEY (stdio).
    [a, a2, b] = await Promise.all([connect(kind, keyA), connect(kind, keyA2, { alt: true }), connect(kind, keyB)]);
  }, 40_000);

  test("tools/list returns exactly the spec's tools of the shipped capabilities", async () => {
    for (const c of [a, a2, b]) {
      const { tools } = await within(c.listTools(), 10_000, "tools/list");
      expect(tools.map((t) => t.name).sort()).toEqual([...TOOL_NAMES].sort());
      expect(tools.length).toBe(TOOL_NAMES.length);
      for (const t of tools) {
        expect(t.description?.length ?? 0).toBeGreaterThan(0);
        expect(t.inputSchema.type).toBe("object");
      }
    }
    // Precise input schemas: the required arguments are declared.
    const { tools } = await a.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    expect(byName.get("execute-skill")!.inputSchema.required).toEqual(expect.arrayContaining(["slug", "input"]));
    expect(byName.get("get-artifact")!.inputSchema.required).toEqual(["id"]);
    expect(Object.keys(byName.get("write-memory")!.inputSchema.properties ?? {})).toEqual(expect.arrayContaining(["content", "mode"]));
  }, 20_000);

  test("get-credit-balance matches REST /billing/balance", async () => {
    const sc = await ok(a, "get-credit-balance");
    const rest = await restA("GET", "/api/v1/billing/balance");
    expect(rest.status).toBe(200);
    expect(sc).toMatchObject(rest.body);
    const tier = await restA("GET", "/api/v1/billing/subscription/tier");
    expect(tier.status).toBe(200);
    expect(sc.subscription).toEqual(tier.body);
  }, 20_000);

  test("install-skill, then list-installed-skills shows it; get-skill-details; uninstall-skill removes it", async () => {
    const slug = "code-review";
    const before = await ok(a, "list-installed-skills", { limit: 100 });
    expect(before.data.map((s: any) => s.slug)).not.toContain(slug);

    const installed = await ok(a, "install-skill", { slug });
    expect(installed.slug).toBe(slug);

    const list = await ok(a, "list-installed-skills", { limit: 100 });
    expect(list.data.map((s: any) => s.slug)).toContain(slug);
    expect(list.data.find((s: any) => s.slug === slug)).toMatchObject({ slug, installed: true });
    // The same service as REST: the install is visible there too.
    const rest = await restA("GET", "/api/v1/skills?limit=100");
    expect(rest.status).toBe(200);
    expect(rest.body.data.map((s: any) => s.slug)).toContain(slug);

    const detail = await ok(a, "get-skill-details", { slug: "summarize" });
    expect(detail).toMatchObject({ slug: "summarize", name: "Summarize" });
    expect((await fails(a, "get-skill-details", { slug: "no-such-skill-xyz" })).type).toBe("not_found_error");
    // A tool that does not exist is a protocol error (the MCP spec's -32602), not a tool's failure.
    const unknown = (await a.callTool({ name: "no-such-tool", arguments: {} }).catch((e: Error) => e)) as Error & { code?: number };
    expect({ code: unknown.code, message: unknown.message }).toMatchObject({ code: -32602, message: expect.stringContaining("Unknown tool: no-such-tool") });

    // Another workspace does not see it.
    const other = await ok(b, "list-installed-skills", { limit: 100 });
    expect(other.data.map((s: any) => s.slug)).not.toContain(slug);

    await ok(a, "uninstall-skill", { slug });
    const after = await ok(a, "list-installed-skills", { limit: 100 });
    expect(after.data.map((s: any) => s.slug)).not.toContain(slug);
  }, 20_000);

  test("write-memory append from two clients at once (20 notes each) loses no note", async () => {
    const notesA = Array.from({ length: 20 }, (_, i) => `${kind} note A-${i}`);
    const notesB = Array.from({ length: 20 }, (_, i) => `${kind} note B-${i}`);
    const results = await within(
      Promise.all([
        ...notesA.map((n) => call(a, "write-memory", { content: n, mode: "append" })),
        ...notesB.map((n) => call(a2, "write-memory", { content: n, mode: "append" })),
      ]),
      25_000,
      "40 concurrent appends",
    );
    for (const r of results) expect({ isError: r.isError ?? false, text: r.content[0]?.text }).toMatchObject({ isError: false });
    // Each append saw a distinct version: no two writes were based on the same state.
    expect(new Set(results.map((r) => r.structuredContent.version)).size).toBe(40);

    const mem = await ok(a, "read-memory");
    const parts = mem.content.split(SEP);
    expect(parts.sort()).toEqual([...notesA, ...notesB].sort());
    expect(mem.version).toBe(40);
    // The other key of the workspace reads the same document; REST too.
    expect((await ok(a2, "read-memory")).content).toBe(mem.content);
    const rest = await restA("GET", "/api/v1/memory");
    expect(rest.status).toBe(200);
    expect(rest.body.content).toBe(mem.content);
  }, 30_000);

  test("execute-skill waits for the fake model, sending progress whose messages add up to the output", async () => {
    // Deltas 40 ms apart: each block goes out (and is read) on its own. All at once, a test process that reads
    // late under load got every progress line in the read that held the result, and the SDK client dropped them.
    const input = `Hello over ${kind} ${Date.now()}`;
    const progress: { progress: number; message?: string }[] = [];
    const r = await call(a, "execute-skill", { slug: "summarize", input: `${input} [[slow:40]]`, timeoutSeconds: 15 }, (p) => progress.push(p));
    expect({ isError: r.isError ?? false, text: r.content[0]?.text }).toMatchObject({ isError: false });
    run = r.structuredContent;
    expect(run).toMatchObject({ status: "completed", skillSlug: "summarize" });
    expect(run.executionId).toMatch(/^exec_\d+$/);
    expect(run.artifactId).toMatch(/^art_\d+$/);
    expect(run.output).toContain(input);
    // Compact: the output and the status, not the chunk log; the text is the output, then one status line.
    expect(run.outputBlocks).toBeUndefined();
    expect(r.content[0]!.text).toStartWith(run.output);
    expect(r.content[0]!.text).toContain(`status: completed · ${run.executionId}`);

    // Every block reaches the agent as progress before the result. (The SDK Client handles notifications a
    // microtask late but responses at once, so a last progress event that shares a read with the result is
    // dropped: the server must let it go out ahead of the result.)
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.map((p) => p.message ?? "").join("")).toBe(run.output);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.progress).toBeGreaterThan(progress[i - 1]!.progress);

    // REST agrees about the run.
    const rest = await restA("GET", `/api/v1/executions/${run.executionId}/status`);
    expect(rest.status).toBe(200);
    expect(rest.body).toMatchObject({ status: "completed", artifactId: run.artifactId });
  }, 30_000);

  test("list-executions and get-execution-status show the run", async () => {
    expect(run?.executionId).toBeDefined();
    const list = await ok(a, "list-executions", { limit: 100 });
    expect(list.data.map((e: any) => e.id)).toContain(run.executionId);
    const only = await ok(a, "list-executions", { limit: 100, status: "completed", skill: "summarize" });
    expect(only.data.map((e: any) => e.id)).toContain(run.executionId);
    const st = await ok(a, "get-execution-status", { id: run.executionId });
    expect(st).toMatchObject({ status: "completed", artifactId: run.artifactId });
    expect(st.outputBlocks.map((b: any) => b.content).join("")).toBe(run.output);
    // Delta polling: nothing after the last block.
    const delta = await ok(a, "get-execution-status", { id: run.executionId, blocksAfter: st.outputBlocks.length });
    expect(delta.outputBlocks).toEqual([]);
  }, 20_000);

  test("list-artifacts, get-artifact and download-artifact return the run's artifact; content equals the REST download", async () => {
    expect(run?.artifactId).toBeDefined();
    const list = await ok(a, "list-artifacts", { limit: 100 });
    expect(list.data.map((x: any) => x.id)).toContain(run.artifactId);

    const art = await ok(a, "get-artifact", { id: run.artifactId });
    expect(art).toMatchObject({ id: run.artifactId, executionId: run.executionId, skillSlug: "summarize" });
    const restMeta = await restA("GET", `/api/v1/artifacts/${run.artifactId}`);
    expect(restMeta.status).toBe(200);
    expect(art).toEqual(restMeta.body);

    const dl = await ok(a, "download-artifact", { id: run.artifactId });
    const rest = await restA("GET", `/api/v1/artifacts/${run.artifactId}/download`);
    expect(rest.status).toBe(200);
    expect(typeof dl.content).toBe("string");
    expect(dl.content).toBe(rest.text);
    expect(dl.content).toContain(run.output.trim());
    expect(dl.uri).toBe(`clanker://artifacts/${run.artifactId}`);
    // Over stdio no HTTP server need be running: no URL, the content comes inline.
    if (kind === "stdio") expect(dl.downloadUrl).toBeUndefined();
    else {
      // Over HTTP the URL is this server's, and it downloads the same bytes.
      expect(dl.downloadUrl).toBe(`${srv.url}/api/v1/artifacts/${run.artifactId}/download`);
      const res = await fetch(dl.downloadUrl, { headers: { "x-api-key": keyA }, signal: AbortSignal.timeout(5_000) });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(dl.content);
    }
  }, 20_000);

  test("a tool error is a tool result with isError and the REST error's type and code", async () => {
    const missing = "art_99999999";
    const err = await fails(a, "get-artifact", { id: missing });
    expect(err.type).toBe("not_found_error");
    const rest = await restA("GET", `/api/v1/artifacts/${missing}`);
    expectApiError(rest, 404, "not_found_error");
    expect({ type: err.type, code: err.code }).toEqual({ type: rest.body.error.type, code: rest.body.error.code });

    // One with a code: cancelling a run that already ended.
    expect(run?.executionId).toBeDefined();
    const ended = await fails(a, "cancel-execution", { id: run.executionId });
    const restEnded = await restA("POST", `/api/v1/executions/${run.executionId}/cancel`);
    expect(restEnded.status).toBeGreaterThanOrEqual(400);
    expect(restEnded.body.error.code).toBeTruthy();
    expect({ type: ended.type, code: ended.code }).toEqual({ type: restEnded.body.error.type, code: restEnded.body.error.code });

    // Arguments that break the tool's schema: REST's schema refusal (type, INVALID_PARAMETER, the argument as param).
    const restLimit = await restA("GET", "/api/v1/executions?limit=0");
    expectApiError(restLimit, 400, "invalid_request_error", "INVALID_PARAMETER");
    const limit = await fails(a, "list-executions", { limit: 0 });
    expect({ type: limit.type, code: limit.code, param: (limit as { param?: string }).param }).toEqual({ type: "invalid_request_error", code: "INVALID_PARAMETER", param: restLimit.body.error.param });
    expect(limit.message).toContain("limit");
    expect(await fails(a, "get-artifact", {})).toMatchObject({ type: "invalid_request_error", code: "INVALID_PARAMETER", param: "id" });

    // An argument the tool does not take is refused, as REST refuses a field its route does not take: a misspelled
    // precondition must not let an overwrite through unchecked.
    const before = await ok(a, "read-memory");
    const restExtra = await restA("PUT", "/api/v1/memory", { body: { content: "clobbered", ifMatch: 0 } });
    expectApiError(restExtra, 400, "invalid_request_error", "INVALID_PARAMETER");
    const extra = await fails(a, "write-memory", { content: "clobbered", mode: "overwrite", ifMatch: 0 });
    expect({ type: extra.type, code: extra.code, param: (extra as { param?: string }).param }).toEqual({ type: "invalid_request_error", code: "INVALID_PARAMETER", param: restExtra.body.error.param });
    expect(extra.message).toContain("it takes content, mode, ifMatchVersion");
    expect(await ok(a, "read-memory")).toMatchObject({ content: before.content, version: before.version });
    expect(await fails(a, "execute-skill", { slug: "summarize", input: "x", wiat: false })).toMatchObject({ code: "INVALID_PARAMETER", param: "wiat" });
    // Inside an attachment too, as REST refuses it (it was dropped, and the run went ahead).
    const file = { name: "n.md", mediaType: "text/markdown", content: "hi", bogus: 1 };
    const restFile = await restA("POST", "/api/v1/skills/summarize/run", { body: { input: "x", attachments: [file] } });
    expectApiError(restFile, 400, "invalid_request_error", "INVALID_PARAMETER");
    expect(await fails(a, "execute-skill", { slug: "summarize", input: "x", attachments: [file] })).toMatchObject({ code: "INVALID_PARAMETER", param: restFile.body.error.param });
    // An empty note is refused as REST refuses it (it would add a bare separator), and nothing changes.
    const unchanged = await ok(a, "read-memory");
    expect(await fails(a, "write-memory", { content: "", mode: "append" })).toMatchObject({ type: "invalid_request_error", code: "INVALID_PARAMETER", param: "content" });
    expectApiError(await restA("POST", "/api/v1/memory/append", { body: { content: "" } }), 400, "invalid_request_error", "INVALID_PARAMETER");
    expect((await ok(a, "read-memory")).version).toBe(unchanged.version);
    // A tool that takes nothing takes no argument either.
    for (const name of ["read-memory", "get-credit-balance", "list-connectors"])
      expect({ name, ...(await fails(a, name, { bogus: 1 })) }).toMatchObject({ name, code: "INVALID_PARAMETER", param: "bogus", message: expect.stringContaining("it takes none") });
  }, 20_000);

  test("execute-skill of a run that fails (the model answers 500) is a tool error: isError, with the run's status and error", async () => {
    const r = await call(a, "execute-skill", { slug: "summarize", input: `fails over ${kind} [[fail:500]] ${Date.now()}`, timeoutSeconds: 15 });
    expect(r.isError).toBe(true);
    expect(r.structuredContent).toMatchObject({ status: "failed", error: { code: expect.any(String) } });
    expect(r.content[0]!.text).toContain(`status: failed · ${r.structuredContent.executionId}`);
  }, 20_000);

  /** Starts execute-skill on `c` for a slow run (~1 s a block) and resolves, once that run is running, with its id, the call and its input. */
  async function slowCall(c: Client, label: string, extraArgs: Record<string, unknown> = {}, signal?: AbortSignal) {
    const newest = async () => (await restA("GET", "/api/v1/executions?limit=1")).body.data[0] as { id: string; status: string } | undefined;
    const before = (await newest())?.id;
    const input = `[[slow:1000]] ${label} over ${kind} ${Date.now()}`;
    const waiting = c.callTool({ name: "execute-skill", arguments: { slug: "summarize", input, ...extraArgs } }, undefined, { signal, timeout: CALL_TIMEOUT });
    waiting.catch(() => {});
    const id = await waitUntil("the run to start", async () => {
      const e = await newest();
      return e && e.id !== before && e.status === "running" ? e.id : false;
    });
    return { id, waiting, input };
  }

  test("execute-skill withdrawn by its client (notifications/cancelled, a person pressing stop) cancels the run it waits for; with an idempotencyKey it does not", async () => {
    const stop = new AbortController();
    const { id, waiting } = await slowCall(a, "withdrawn", {}, stop.signal);
    stop.abort("the person pressed stop");
    await expect(waiting).rejects.toThrow();
    await waitUntil("the run to be cancelled", async () => (await restA("GET", `/api/v1/executions/${id}/status`)).body.status === "cancelled");

    // A call with a key is one its caller means to ask again: the run goes on, and the retry joins it.
    const key = `withdrawn-${kind}-${Date.now()}`;
    const again = new AbortController();
    const kept = await slowCall(a, "kept", { idempotencyKey: key }, again.signal);
    again.abort("timed out");
    await expect(kept.waiting).rejects.toThrow();
    const retried = await ok(a, "execute-skill", { slug: "summarize", input: kept.input, idempotencyKey: key, wait: false });
    expect(retried.executionId).toBe(kept.id);
    await waitUntil("the kept run to complete", async () => (await restA("GET", `/api/v1/executions/${kept.id}/status`)).body.status === "completed", 20_000);
  }, 40_000);

  test.if(kind === "streamable")("execute-skill whose session ends while it waits (DELETE): the run goes on to complete, to be found later", async () => {
    const c = await connect(kind, keyA);
    const { id } = await slowCall(c, "cut off");
    await (c.transport as StreamableHTTPClientTransport).terminateSession();
    await waitUntil("the run to complete", async () => (await restA("GET", `/api/v1/executions/${id}/status`)).body.status === "completed", 20_000);
  }, 30_000);

  // Over HTTP: a stdio process is its operator's own, with the key it was started with.
  test.if(kind !== "stdio")("execute-skill waiting when its key is revoked: the call is answered with the typed refusal at once, not left unanswered", async () => {
    const created = await restA("POST", "/api/v1/api-keys", { body: { name: `revoked mid-call ${kind}` } });
    const c = await connect(kind, created.body.key);
    const { waiting } = await slowCall(c, "revoked mid-call");
    expect((await restA("POST", `/api/v1/api-keys/${created.body.id}/revoke`)).status).toBe(200);
    const answer = await within(
      waiting.then(
        () => null,
        (e: unknown) => e,
      ),
      3_000,
      "the waiting call's answer",
    );
    expect(answer).toMatchObject({ code: -32000, data: { type: "authentication_error", code: "KEY_REVOKED" } });
  }, 30_000);

  test("cancel-execution of a [[slow]] run started with wait:false → cancelled, and it stays cancelled", async () => {
    const started = await ok(a, "execute-skill", { slug: "summarize", input: `[[slow]] cancel me over ${kind} ${Date.now()}`, wait: false });
    expect(started.executionId).toMatch(/^exec_\d+$/);
    expect(started.status).not.toBe("completed");
    slowId = started.executionId;
    const cancelled = await ok(a, "cancel-execution", { id: slowId });
    expect(cancelled).toMatchObject({ id: slowId, status: "cancelled" });
    expect((await ok(a, "get-execution-status", { id: slowId })).status).toBe("cancelled");
    // The slow answer would have finished by now (4 deltas × 150 ms): the run must not come back to life.
    await sleep(900);
    const later = await ok(a, "get-execution-status", { id: slowId });
    expect(later).toMatchObject({ status: "cancelled", artifactId: null });
    const rest = await restA("GET", `/api/v1/executions/${slowId}/status`);
    expect(rest.body.status).toBe("cancelled");
  }, 20_000);

  test("execute-skill and start-workflow with an idempotencyKey: a retry starts nothing new and answers as the first call", async () => {
    const key = `mcp-retry-${kind}-${Date.now()}`;
    const args = { slug: "summarize", input: `once over ${kind} ${Date.now()}`, wait: false, idempotencyKey: key };
    const first = await ok(a, "execute-skill", args);
    const again = await ok(a, "execute-skill", args);
    expect(again.executionId).toBe(first.executionId);
    // Waiting on the retry waits for the first call's run.
    const waited = await call(a, "execute-skill", { ...args, wait: true });
    expect({ isError: waited.isError ?? false, id: (waited.structuredContent as { executionId: string }).executionId }).toEqual({ isError: false, id: first.executionId });
    const listed = (await restA("GET", "/api/v1/executions?limit=100")).body.data.filter((e: { id: string }) => e.id === first.executionId);
    expect(listed.length).toBe(1);
    // The same key with other arguments is refused, as REST refuses it.
    const reused = await fails(a, "execute-skill", { ...args, input: "something else" });
    expect({ type: reused.type, code: reused.code }).toEqual({ type: "invalid_request_error", code: "IDEMPOTENCY_KEY_REUSED" });
    // Keys are the person's, as over REST: their other API key's retry finds the same run.
    expect((await ok(a2, "execute-skill", args)).executionId).toBe(first.executionId);

    const launch = { workflowId: "parallel-review", inputData: { code: "x", doc: "y" }, idempotencyKey: `${key}-wf` };
    const run = await ok(a, "start-workflow", launch);
    expect(run.trigger).toBe("mcp");
    expect((await ok(a, "start-workflow", launch)).id).toBe(run.id);
  }, 20_000);

  test("a key of another workspace sees none of the first workspace's artifacts, executions or memory", async () => {
    expect(run?.artifactId).toBeDefined();
    expect(slowId).toBeDefined();
    const arts = await ok(b, "list-artifacts", { limit: 100 });
    expect(arts.data).toEqual([]);
    const execs = await ok(b, "list-executions", { limit: 100 });
    expect(execs.data).toEqual([]);
    const mem = await ok(b, "read-memory");
    expect(mem.content).toBe("");
    expect(mem.content).not.toContain(`${kind} note A-0`);

    for (const [tool, id] of [
      ["get-artifact", run.artifactId],
      ["download-artifact", run.artifactId],
      ["delete-artifact", run.artifactId],
      ["get-execution-status", run.executionId],
      ["cancel-execution", slowId!],
    ] as const) {
      const err = await fails(b, tool, { id });
      expect({ tool, type: err.type }).toEqual({ tool, type: "not_found_error" });
    }
    // B's write lands in B's memory only.
    await ok(b, "write-memory", { content: `${kind} B's own note`, mode: "overwrite" });
    expect((await ok(a, "read-memory")).content).not.toContain("B's own note");
    // B's failed delete left A's artifact alone.
    expect((await ok(a, "get-artifact", { id: run.artifactId })).id).toBe(run.artifactId);
  }, 20_000);

  test("write-memory with an idempotencyKey: a retried append adds its note once", async () => {
    const note = `once-${process.pid}-${Date.now()}`;
    const args = { content: note, mode: "append", idempotencyKey: note };
    const first = await ok(a, "write-memory", args);
    expect(await ok(a, "write-memory", args)).toEqual(first);
    const doc = await ok(a, "read-memory");
    expect(doc.content.split(note).length - 1).toBe(1);
  });

  test("write-memory overwrite with ifMatchVersion: a stale version is refused like REST's If-Match", async () => {
    const cur = await ok(a, "read-memory");
    const next = await ok(a, "write-memory", { content: `${kind} rewritten`, mode: "overwrite", ifMatchVersion: cur.version });
    expect(next).toMatchObject({ content: `${kind} rewritten`, version: cur.version + 1 });
    const stale = await fails(a, "write-memory", { content: "lost update", mode: "overwrite", ifMatchVersion: cur.version });
    const rest = await restA("PUT", "/api/v1/memory", { body: { content: "lost update" }, headers: { "if-match": `"v${cur.version}"` } });
    expect(rest.status).toBe(412);
    expect({ type: stale.type, code: stale.code }).toEqual({ type: rest.body.error.type, code: rest.body.error.code });
    expect((await ok(a, "read-memory")).content).toBe(`${kind} rewritten`);
    // Append takes it too, as REST's append does.
    const appended = await ok(a, "write-memory", { content: `${kind} a note`, ifMatchVersion: next.version });
    expect(appended).toMatchObject({ content: `${kind} rewritten\n\n---\n\n${kind} a note`, version: next.version + 1 });
    const staleAppend = await fails(a, "write-memory", { content: "a late note", ifMatchVersion: next.version });
    expect({ type: staleAppend.type, code: staleAppend.code }).toEqual({ type: rest.body.error.type, code: rest.body.error.code });
    expect((await ok(a, "read-memory")).version).toBe(next.version + 1);
  }, 20_000);

  test("delete-artifact removes it for MCP and REST alike", async () => {
    expect(run?.artifactId).toBeDefined();
    await ok(a, "delete-artifact", { id: run.artifactId });
    expect((await fails(a, "get-artifact", { id: run.artifactId })).type).toBe("not_found_error");
    expect((await restA("GET", `/api/v1/artifacts/${run.artifactId}/download`)).status).toBe(404);
    const list = await ok(a, "list-artifacts", { limit: 100 });
    expect(list.data.map((x: any) => x.id)).not.toContain(run.artifactId);
  }, 20_000);
});

// ---------------------------------------------------------------------------------------------------------------
// HTTP transports: authentication, session binding, DNS rebinding, allowed hosts, rate limits

describe("MCP over HTTP: authentication", () => {
  let keyA: string;
  let restA: ReturnType<typeof client>;

  beforeAll(async () => {
    keyA = await srv.createKey({ email: uniqueEmail("mcp-auth"), name: "auth main" });
    restA = client(srv, { apiKey: keyA });
  }, 20_000);

  test("no key → 401 with the typed error and a WWW-Authenticate header, on every MCP endpoint", async () => {
    const post = await raw("POST", "/mcp", {}, INIT());
    expectApiError(post, 401, "authentication_error", "MISSING_CREDENTIALS");
    expect(Object.keys(post.body)).toEqual(["error"]);
    expect(post.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
    expect(post.headers.get("mcp-session-id")).toBeNull();

    for (const [method, path, body] of [
      ["GET", "/mcp", undefined],
      ["DELETE", "/mcp", undefined],
      ["GET", "/mcp/sse", undefined],
      ["POST", "/mcp/messages?sessionId=whatever", { jsonrpc: "2.0", id: 1, method: "tools/list" }],
    ] as const) {
      const r = await raw(method, path, {}, body);
      expectApiError(r, 401, "authentication_error", "MISSING_CREDENTIALS");
      expect({ path, wwwAuth: r.headers.get("www-authenticate") }).toMatchObject({ path, wwwAuth: expect.stringMatching(/^Bearer\b/) });
    }
  }, 20_000);

  test("an unknown key → 401, and the SDK client fails to connect", async () => {
    const r = await raw("POST", "/mcp", { "x-api-key": "ck_" + "Z".repeat(43) }, INIT());
    expectApiError(r, 401, "authentication_error");
    expect(r.body.error.code).not.toBe("MISSING_CREDENTIALS");
    const c = new Client({ name: "bad-key", version: "1" });
    await expect(within(c.connect(transportFor("streamable", "ck_" + "Z".repeat(43))), 10_000, "connect")).rejects.toThrow();
    const s = new Client({ name: "bad-key-sse", version: "1" });
    await expect(within(s.connect(transportFor("sse", "ck_" + "Z".repeat(43))), 10_000, "connect")).rejects.toThrow();
    await Promise.allSettled([c.close(), s.close()]);
  }, 20_000);

  test("a revoked key → 401 KEY_REVOKED, on a new session and on the session it had opened", async () => {
    const created = await restA("POST", "/api/v1/api-keys", { body: { name: "mcp victim" } });
    expect(created.status).toBe(200);
    const victim: string = created.body.key;
    const c = await connect("streamable", victim);
    expect((await c.listTools()).tools.length).toBe(TOOL_NAMES.length);
    const sid = await openSession(authHeaders(victim));

    const revoked = await restA("POST", `/api/v1/api-keys/${created.body.id}/revoke`);
    expect(revoked.status).toBe(200);

    expectApiError(await raw("POST", "/mcp", authHeaders(victim), INIT()), 401, "authentication_error", "KEY_REVOKED");
    expectApiError(await raw("POST", "/mcp", authHeaders(victim, true), INIT()), 401, "authentication_error", "KEY_REVOKED");
    expectApiError(await raw("GET", "/mcp/sse", authHeaders(victim)), 401, "authentication_error", "KEY_REVOKED");
    const onSession = await raw(
      "POST",
      "/mcp",
      { ...authHeaders(victim), "mcp-session-id": sid, "mcp-protocol-version": LATEST_PROTOCOL_VERSION },
      { jsonrpc: "2.0", id: 2, method: "tools/list" },
    );
    expectApiError(onSession, 401, "authentication_error", "KEY_REVOKED");
    // The SDK client's open session fails too.
    await expect(within(c.callTool({ name: "read-memory", arguments: {} }, undefined, { timeout: 5_000 }), 8_000, "call")).rejects.toThrow();
  }, 20_000);

  test("a revoked key's open streams end at once: a session's GET stream and a legacy SSE stream", async () => {
    const created = await restA("POST", "/api/v1/api-keys", { body: { name: "mcp stream victim" } });
    const victim: string = created.body.key;
    const sid = await openSession(authHeaders(victim));
    const ac = new AbortController();
    const open = (path: string, extra: Record<string, string> = {}) =>
      fetch(srv.url + path, { headers: { accept: "text/event-stream", ...authHeaders(victim), ...extra }, signal: ac.signal });
    // Each answers at once, not with its first keep-alive 5 s later.
    const standalone = await within(open("/mcp", { "mcp-session-id": sid, "mcp-protocol-version": LATEST_PROTOCOL_VERSION }), 3_000, "the GET stream's headers");
    const legacy = await within(open("/mcp/sse"), 3_000, "the legacy stream's headers");
    expect([standalone.status, legacy.status]).toEqual([200, 200]);
    // Each stream read to its end, with when it ended.
    const ended = (res: Response) => new Response(res.body).text().then(() => Date.now());
    const ends = Promise.all([ended(standalone), ended(legacy)]);
    try {
      expect((await restA("POST", `/api/v1/api-keys/${created.body.id}/revoke`)).status).toBe(200);
      const revokedAt = Date.now();
      // Not at the next 5 s recheck: the revoke itself has the sessions ask again.
      const [a, b] = await within(ends, 3_000, "both streams to end after the revoke");
      expect(Math.max(a, b) - revokedAt).toBeLessThan(3_000);
    } finally {
      ac.abort();
    }
    // The session is gone with its stream, whoever asks for it.
    const again = await raw("POST", "/mcp", { ...authHeaders(keyA), "mcp-session-id": sid, "mcp-protocol-version": LATEST_PROTOCOL_VERSION }, { jsonrpc: "2.0", id: 2, method: "tools/list" });
    expect(again.status).toBe(404);
  }, 20_000);

  test("an open session holds what is its own only: 96 of them grow the server by well under 96 MB (each made every tool's and prompt's schemas anew: ~1.7 MB)", async () => {
    const rss = async () => Number(/VmRSS:\s+(\d+)/.exec(await Bun.file(`/proc/${srv.pid}/status`).text())![1]) / 1024;
    const keys = [];
    for (let i = 0; i < 6; i++) keys.push((await restA("POST", "/api/v1/api-keys", { body: { name: `memory ${i}` } })).body.key as string);
    await openSession(authHeaders(keys[0]!)); // the first session of the process makes what every later one shares
    const before = await rss();
    for (const key of keys) for (let i = 0; i < 16; i++) await openSession(authHeaders(key));
    // RSS until the collector has run: what a session made and dropped is no part of what it holds.
    const grown = await waitUntil("the sessions' garbage to be collected", async () => {
      const mb = (await rss()) - before;
      return mb < 64 && { mb };
    });
    expect(grown.mb).toBeLessThan(64);
  }, 30_000);

  test("one key holds at most 16 sessions: a 17th ends its least recently used one (404, initialize again); others' sessions stay", async () => {
    const many = await srv.createKey({ email: uniqueEmail("mcp-many"), name: "many sessions" });
    const other = await openSession(authHeaders(keyA));
    const list = (key: string, sid: string) =>
      raw("POST", "/mcp", { ...authHeaders(key), "mcp-session-id": sid, "mcp-protocol-version": LATEST_PROTOCOL_VERSION }, { jsonrpc: "2.0", id: 2, method: "tools/list" });
    const sids: string[] = [];
    for (let i = 0; i < 16; i++) sids.push(await openSession(authHeaders(many)));
    // The first is used again, so the second is now the least recently used.
    expect((await list(many, sids[0]!)).status).toBe(200);
    sids.push(await openSession(authHeaders(many)));
    const ended = await list(many, sids[1]!);
    expect(ended.status).toBe(404);
    // What to do about it: initialize again (or, behind a balancer, route by mcp-session-id).
    expect(JSON.parse(ended.text).error).toMatchObject({ code: -32001, message: expect.stringContaining("Initialize a new session") });
    for (const sid of [sids[0]!, sids[2]!, sids[16]!]) expect((await list(many, sid)).status).toBe(200);
    expect((await list(keyA, other)).status).toBe(200);
  }, 20_000);

  test("a session answering a call is not the one ended to make room; ended all the same, its call is answered with the reason, not left to time out", async () => {
    const busy = await srv.createKey({ email: uniqueEmail("mcp-busy"), name: "busy" });
    const c = await connect("streamable", busy);
    const pending = call(c, "execute-skill", { slug: "summarize", input: `[[slow:500]] busy session ${Date.now()}`, timeoutSeconds: 20 });
    await Bun.sleep(300);
    // 15 more, each used once (settled): 16 in all. A 17th ends one of them, idle, and not the one answering.
    for (let i = 0; i < 16; i++) await openSession(authHeaders(busy));
    const r = await within(pending, 15_000, "the busy session's call");
    expect({ isError: r.isError ?? false, status: r.structuredContent?.status }).toEqual({ isError: false, status: "completed" });
    // When only sessions still starting are left to end instead, the busy one ends: its call hears why at once.
    const other = await srv.createKey({ email: uniqueEmail("mcp-busy-2"), name: "busy 2" });
    const c2 = await connect("streamable", other);
    const cut = call(c2, "execute-skill", { slug: "summarize", input: `[[slow:500]] ended session ${Date.now()}`, timeoutSeconds: 20 }).then(
      () => "answered",
      (e: Error) => e.message,
    );
    await Bun.sleep(300);
    await Promise.all(Array.from({ length: 16 }, () => raw("POST", "/mcp", authHeaders(other), INIT())));
    expect(await within(cut, 5_000, "the ended session's call")).toContain("closed to make room");
  }, 40_000);

  test("24 initializes at once by one key: 16 open and all stay usable (none ended in its handshake for another); 8 are told 429 to retry; once settled, a new one ends the least recently used", async () => {
    const burst = await srv.createKey({ email: uniqueEmail("mcp-burst"), name: "burst" });
    const answers = await Promise.all(Array.from({ length: 24 }, () => raw("POST", "/mcp", authHeaders(burst), INIT())));
    const opened = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 429);
    expect({ opened: opened.length, refused: refused.length }).toEqual({ opened: 16, refused: 8 });
    // When the oldest of the 16 stops counting as starting (10 s after it opened), not sooner: a retry then finds room.
    expect(Number(refused[0]!.headers.get("retry-after"))).toBeWithin(9, 11);
    expect(JSON.parse(refused[0]!.text).error.message).toContain("Too many MCP sessions");
    const list = (sid: string) => raw("POST", "/mcp", { ...authHeaders(burst), "mcp-session-id": sid, "mcp-protocol-version": LATEST_PROTOCOL_VERSION }, { jsonrpc: "2.0", id: 2, method: "tools/list" });
    const sids = opened.map((a) => a.headers.get("mcp-session-id")!);
    // Each in turn (oldest use first): all 16 answer.
    for (const sid of sids) expect((await list(sid)).status).toBe(200);
    // Settled now: a 17th opens and ends the least recently used (the first listed).
    expect((await raw("POST", "/mcp", authHeaders(burst), INIT())).status).toBe(200);
    expect((await list(sids[0]!)).status).toBe(404);
    expect((await list(sids[1]!)).status).toBe(200);
  }, 30_000);

  test("past the bound, a session in use ends before one still starting, even one used more recently", async () => {
    const k = await srv.createKey({ email: uniqueEmail("mcp-starting"), name: "starting" });
    const list = (sid: string) => raw("POST", "/mcp", { ...authHeaders(k), "mcp-session-id": sid, "mcp-protocol-version": LATEST_PROTOCOL_VERSION }, { jsonrpc: "2.0", id: 2, method: "tools/list" });
    const sids: string[] = [];
    for (let i = 0; i < 16; i++) sids.push((await raw("POST", "/mcp", authHeaders(k), INIT())).headers.get("mcp-session-id")!);
    // Only the newest is used; the other 15 are still starting (their clients' next requests on their way).
    expect((await list(sids[15]!)).status).toBe(200);
    expect((await raw("POST", "/mcp", authHeaders(k), INIT())).status).toBe(200);
    expect((await list(sids[15]!)).status).toBe(404);
    for (const sid of sids.slice(0, 15)) expect((await list(sid)).status).toBe(200);
  }, 30_000);

  test("an initialize the transport refuses (Accept without text/event-stream, 406) opens no session and holds nothing", async () => {
    const [sessions, listeners] = [await metric(srv.url, "clanker_mcp_sessions"), await metric(srv.url, "clanker_event_listeners")];
    for (let i = 0; i < 20; i++) {
      const r = await raw("POST", "/mcp", { ...authHeaders(keyA), accept: "application/json" }, INIT());
      expect(r.status).toBe(406);
    }
    expect(await metric(srv.url, "clanker_mcp_sessions")).toBe(sessions!);
    expect(await metric(srv.url, "clanker_event_listeners")).toBe(listeners!);
    // An accepted one is counted while it lasts, and let go with it.
    const sid = await openSession(authHeaders(keyA));
    expect(await metric(srv.url, "clanker_mcp_sessions")).toBe(sessions! + 1);
    expect(await metric(srv.url, "clanker_event_listeners")).toBeGreaterThan(listeners!);
    expect((await raw("DELETE", "/mcp", { ...authHeaders(keyA), "mcp-session-id": sid, "mcp-protocol-version": LATEST_PROTOCOL_VERSION })).status).toBe(200);
    expect(await metric(srv.url, "clanker_mcp_sessions")).toBe(sessions!);
    expect(await metric(srv.url, "clanker_event_listeners")).toBe(listeners!);
  }, 20_000);

  test("Authorization: Bearer ck_… works like x-api-key, in the same workspace", async () => {
    const r = await raw("POST", "/mcp", authHeaders(keyA, true), INIT());
    expect(r.status).toBe(200);
    expect(r.headers.get("mcp-session-id")).toBeTruthy();
    const viaBearer = await connect("streamable", keyA, { alt: true });
    const viaHeader = await connect("sse", keyA);
    await ok(viaBearer, "write-memory", { content: "written with Bearer", mode: "overwrite" });
    expect((await ok(viaHeader, "read-memory")).content).toBe("written with Bearer");
    // A Bearer token that is not a key is refused.
    expectApiError(await raw("POST", "/mcp", { authorization: "Bearer not-a-key" }, INIT()), 401, "authentication_error");
  }, 20_000);

  test("a Streamable HTTP session id opened by one key, used by another key → 404", async () => {
    const email = uniqueEmail("mcp-sess");
    const owner = await srv.createKey({ email, name: "session owner" });
    const sameUser = await srv.createKey({ email, name: "same user, other key" });
    const stranger = await srv.createKey({ email: uniqueEmail("mcp-stranger") });
    const sid = await openSession(authHeaders(owner));
    const list = (id: number) => ({ jsonrpc: "2.0", id, method: "tools/list" });
    const h = (key: string, bearer = false) => ({ ...authHeaders(key, bearer), "mcp-session-id": sid, "mcp-protocol-version": LATEST_PROTOCOL_VERSION });

    for (const [who, key] of [
      ["stranger", stranger],
      ["same user, other key", sameUser],
    ] as const) {
      const r = await raw("POST", "/mcp", h(key), list(2));
      expect({ who, status: r.status }).toEqual({ who, status: 404 });
      expect({ who, tools: r.text.includes("list-artifacts") }).toEqual({ who, tools: false });
      expect((await raw("DELETE", "/mcp", h(key))).status).toBe(404);
    }
    // The owner's session is intact (the DELETEs above did not end it), and Bearer with the same key is the same principal.
    const mine = await raw("POST", "/mcp", h(owner), list(3));
    expect(mine.status).toBe(200);
    expect(rpcMessages(mine.text).find((m) => m.id === 3)?.result?.tools?.map((t: any) => t.name).sort()).toEqual([...TOOL_NAMES].sort());
    expect((await raw("POST", "/mcp", h(owner, true), list(4))).status).toBe(200);
    // An unknown session id is 404 as well.
    expect((await raw("POST", "/mcp", { ...h(owner), "mcp-session-id": crypto.randomUUID() }, list(5))).status).toBe(404);
  }, 20_000);

  test("a legacy SSE session id opened by one key, used by another key → 404", async () => {
    const owner = await srv.createKey({ email: uniqueEmail("mcp-sse-sess") });
    const stranger = await srv.createKey({ email: uniqueEmail("mcp-sse-stranger") });
    const sse = await openLegacySse(authHeaders(owner));
    try {
      expect(sse.endpoint).toMatch(/^\/mcp\/messages\?sessionId=[\w-]+$/);
      const msg = INIT(1);
      expect((await raw("POST", sse.endpoint, authHeaders(stranger), msg)).status).toBe(404);
      expect((await raw("POST", sse.endpoint, authHeaders(owner), msg)).status).toBe(202);
      // Not a JSON-RPC message: 400 with the parse error Streamable HTTP answers, not a 500 and an error log.
      for (const bad of [{ foo: 1 }, [INIT(2)], "just text"]) {
        const r = await raw("POST", sse.endpoint, authHeaders(owner), bad);
        expect({ status: r.status, error: r.body?.error?.code }).toEqual({ status: 400, error: -32700 });
      }
      expect(srv.logs()).not.toContain("ZodError");
      // Not JSON at all: JSON-RPC's parse error too, on both transports (after the 401 for a caller not known).
      for (const path of [sse.endpoint, "/mcp"]) {
        const post = (headers: Record<string, string>) =>
          fetch(srv.url + path, { method: "POST", headers: { accept: "application/json, text/event-stream", "content-type": "application/json", ...headers }, body: "{not json" });
        const r = await post(authHeaders(owner));
        expect({ path, status: r.status, body: await r.json() }).toMatchObject({ path, status: 400, body: { jsonrpc: "2.0", id: null, error: { code: -32700 } } });
        expect((await post({})).status).toBe(401);
      }
    } finally {
      sse.close();
    }
  }, 20_000);

  test("sessions are not shared: another workspace's SDK client sees none of this workspace's data", async () => {
    // Also covered per transport above; here across transports: A writes over SSE, B reads over Streamable HTTP.
    const keyX = await srv.createKey({ email: uniqueEmail("mcp-x") });
    const keyY = await srv.createKey({ email: uniqueEmail("mcp-y") });
    const x = await connect("sse", keyX);
    const y = await connect("streamable", keyY);
    await ok(x, "write-memory", { content: "x's secret plan", mode: "overwrite" });
    expect((await ok(x, "read-memory")).content).toBe("x's secret plan");
    expect((await ok(y, "read-memory")).content).toBe("");
  }, 20_000);
});

describe("MCP over HTTP: DNS-rebinding protection on loopback", () => {
  let key: string;
  let port: string;

  beforeAll(async () => {
    key = await srv.createKey({ email: uniqueEmail("mcp-dns") });
    port = new URL(srv.url).port;
  }, 20_000);

  test("POST /mcp with Host: evil.example → 403, even with a valid key", async () => {
    const r = await raw("POST", "/mcp", { ...authHeaders(key), host: "evil.example" }, INIT());
    expectApiError(r, 403, "permission_error", "HOST_NOT_ALLOWED");
    expect(r.headers.get("mcp-session-id")).toBeNull();
    const withPort = await raw("POST", "/mcp", { ...authHeaders(key), host: `evil.example:${port}` }, INIT());
    expectApiError(withPort, 403, "permission_error", "HOST_NOT_ALLOWED");
    // The SSE endpoints are guarded the same way.
    expectApiError(await raw("GET", "/mcp/sse", { ...authHeaders(key), host: "evil.example" }), 403, "permission_error", "HOST_NOT_ALLOWED");
    expectApiError(await raw("POST", "/mcp/messages?sessionId=x", { ...authHeaders(key), host: "evil.example" }, INIT()), 403, "permission_error", "HOST_NOT_ALLOWED");
  }, 20_000);

  test("POST /mcp with Origin: http://evil.example → 403", async () => {
    const r = await raw("POST", "/mcp", { ...authHeaders(key), origin: "http://evil.example" }, INIT());
    expectApiError(r, 403, "permission_error", "ORIGIN_NOT_ALLOWED");
    expect(r.headers.get("mcp-session-id")).toBeNull();
    const sneaky = await raw("POST", "/mcp", { ...authHeaders(key), origin: `http://evil.example:${port}` }, INIT());
    expectApiError(sneaky, 403, "permission_error", "ORIGIN_NOT_ALLOWED");
    expectApiError(await raw("GET", "/mcp/sse", { ...authHeaders(key), origin: "http://evil.example" }), 403, "permission_error", "ORIGIN_NOT_ALLOWED");
  }, 20_000);

  test("the server's own names are served: Host 127.0.0.1 / localhost, Origin of the server", async () => {
    expect((await raw("POST", "/mcp", { ...authHeaders(key), host: `localhost:${port}` }, INIT())).status).toBe(200);
    expect((await raw("POST", "/mcp", { ...authHeaders(key), host: `127.0.0.1:${port}` }, INIT())).status).toBe(200);
    expect((await raw("POST", "/mcp", { ...authHeaders(key), origin: `http://127.0.0.1:${port}` }, INIT())).status).toBe(200);
    expect((await raw("POST", "/mcp", { ...authHeaders(key), origin: `http://localhost:${port}` }, INIT())).status).toBe(200);
  }, 20_000);
});

describe("MCP over HTTP: CLANKER_ALLOWED_HOSTS and rate limits", () => {
  let srv2: TestServer;

  beforeAll(async () => {
    srv2 = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "4", CLANKER_ALLOWED_HOSTS: "mcp.example.test" } });
  }, 30_000);

  afterAll(async () => {
    await srv2?.stop();
    if (srv2) cleanup(srv2);
  }, 20_000);

  const post = (key: string, headers: Record<string, string> = {}) =>
    fetch(`${srv2.url}/mcp`, {
      method: "POST",
      headers: { accept: "application/json, text/event-stream", "content-type": "application/json", ...authHeaders(key), ...headers },
      body: JSON.stringify(INIT()),
      signal: AbortSignal.timeout(10_000),
    });

  test("a configured host (behind a proxy) is served; others are still refused", async () => {
    const key = await srv2.createKey({ email: uniqueEmail("mcp-proxy") });
    const served = await post(key, { host: "mcp.example.test" });
    expect(served.status).toBe(200);
    expect(served.headers.get("mcp-session-id")).toBeTruthy();
    await served.body?.cancel();
    const viaOrigin = await post(key, { host: "mcp.example.test", origin: "https://mcp.example.test" });
    expect(viaOrigin.status).toBe(200);
    await viaOrigin.body?.cancel();
    const evil = await post(key, { host: "evil.example" });
    expect(evil.status).toBe(403);
    expect(((await evil.json()) as any).error.type).toBe("permission_error");
    const evilOrigin = await post(key, { host: "mcp.example.test", origin: "https://evil.example" });
    expect(evilOrigin.status).toBe(403);
    await evilOrigin.body?.cancel();
  }, 20_000);

  test("the per-key rate limit applies to /mcp: past it, 429 rate_limit_error", async () => {
    const key = await srv2.createKey({ email: uniqueEmail("mcp-limited") });
    const statuses: number[] = [];
    let last: Response | undefined;
    for (let i = 0; i < 6; i++) {
      last = await post(key);
      statuses.push(last.status);
      if (last.status !== 429) await last.body?.cancel();
    }
    expect(statuses.slice(0, 4)).toEqual([200, 200, 200, 200]);
    expect(statuses[5]).toBe(429);
    expect(((await last!.json()) as any).error.type).toBe("rate_limit_error");
  }, 20_000);

  test("past it, a client may still withdraw its calls: notifications/cancelled is not counted (a run it could not stop went on, charged)", async () => {
    const key = await srv2.createKey({ email: uniqueEmail("mcp-cancel-limited") });
    const first = await post(key);
    const sid = first.headers.get("mcp-session-id")!;
    await first.body?.cancel();
    for (let i = 0; i < 4; i++) await (await post(key)).body?.cancel();
    const send = (body: unknown) =>
      fetch(`${srv2.url}/mcp`, {
        method: "POST",
        headers: { accept: "application/json, text/event-stream", "content-type": "application/json", "mcp-session-id": sid, ...authHeaders(key) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
    const cancel = { jsonrpc: "2.0", method: "notifications/cancelled", params: { requestId: 9, reason: "the person pressed stop" } };
    expect((await send(cancel)).status).toBe(202);
    expect((await send([cancel, cancel])).status).toBe(202);
    // Anything else, a cancel beside it included, is counted as before.
    expect((await send({ jsonrpc: "2.0", method: "notifications/initialized" })).status).toBe(429);
    expect((await send([cancel, { jsonrpc: "2.0", id: 3, method: "ping" }])).status).toBe(429);
    // A body larger than any post of cancels needs is counted before it is read, as every body is.
    expect((await send({ ...cancel, params: { requestId: 9, reason: "x".repeat(20_000) } })).status).toBe(429);
  }, 20_000);
});

// ---------------------------------------------------------------------------------------------------------------
// Streamable HTTP resumability

describe("MCP over Streamable HTTP: resumability", () => {
  test("server-sent events carry ids, so a client can resume with Last-Event-ID", async () => {
    const key = await srv.createKey({ email: uniqueEmail("mcp-resume") });
    const sid = await openSession(authHeaders(key));
    const r = await raw(
      "POST",
      "/mcp",
      { ...authHeaders(key), "mcp-session-id": sid, "mcp-protocol-version": LATEST_PROTOCOL_VERSION },
      { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "read-memory", arguments: {} } },
    );
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toContain("text/event-stream");
    const events = r.text.split("\n\n").filter((e) => /^data:/m.test(e));
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect({ event: e, hasId: /^id: ?\S+/m.test(e) }).toEqual({ event: e, hasId: true });
  }, 20_000);
});

// ---------------------------------------------------------------------------------------------------------------
// stdio specifics

/** `clanker mcp` on a fresh data dir, spoken to in raw lines: what it answered, as JSON, once `n` lines came. */
async function rawStdio(env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "clanker-mcp-stdio-"));
  tempDirs.push(dir);
  const proc = Bun.spawn([process.execPath, MAIN, "mcp", "--data", dir], { env: stdioEnv({ ...(await ownStoreEnv(dir)), ...env }), cwd: ROOT, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  const reader = proc.stdout.getReader();
  let out = "";
  return {
    proc,
    async write(text: string) {
      proc.stdin.write(text);
      await proc.stdin.flush();
    },
    async answers(n: number): Promise<any[]> {
      const deadline = Date.now() + 15_000;
      while (out.split("\n").length <= n && Date.now() < deadline) {
        const { value, done } = await within(reader.read(), 15_000, "reading stdout");
        if (done) break;
        out += new TextDecoder().decode(value);
      }
      return out.trim().split("\n").map((l) => JSON.parse(l));
    },
  };
}
const RAW_INIT = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } };

describe("MCP over stdio: the local owner and bad keys", () => {
  test("with no --api-key against a fresh data dir it acts as the local owner and works", async () => {
    const dir = mkdtempSync(join(tmpdir(), "clanker-mcp-stdio-"));
    tempDirs.push(dir);
    const c = await connect("stdio", null, { dataDir: dir, noKey: true, env: await ownStoreEnv(dir) });
    const { tools } = await c.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual([...TOOL_NAMES].sort());
    expect(await ok(c, "read-memory")).toMatchObject({ content: "", version: 0 });
    expect(await ok(c, "write-memory", { content: "first", mode: "overwrite" })).toMatchObject({ content: "first", version: 1 });
    expect(await ok(c, "write-memory", { content: "second" })).toMatchObject({ content: `first${SEP}second`, version: 2 });
    expect((await ok(c, "read-memory")).content).toBe(`first${SEP}second`);
    const balance = await ok(c, "get-credit-balance");
    expect(balance).toHaveProperty("subscription");
    await within(c.close(), 5_000, "close");

    // A second launch on the same store is the same owner, in the same workspace.
    const again = await connect("stdio", null, { dataDir: dir, noKey: true, env: await ownStoreEnv(dir) });
    expect((await ok(again, "read-memory")).content).toBe(`first${SEP}second`);
  }, 30_000);

  test("a line that is not JSON, or JSON that is not a message, is answered with JSON-RPC's error (id null), and the session goes on", async () => {
    const { proc, write, answers } = await rawStdio();
    try {
      // Blank lines between messages are no messages: no answer for them.
      await write(`\n  \r\nthis is not json\n\n{"hello":"world"}\n${JSON.stringify(RAW_INIT)}\n`);
      const [parse, invalid, initialized] = await answers(3);
      expect(parse).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32700 } });
      expect(invalid).toMatchObject({ jsonrpc: "2.0", id: null, error: { code: -32600 } });
      expect(initialized).toMatchObject({ jsonrpc: "2.0", id: 1, result: { serverInfo: { name: "clanker" } } });
    } finally {
      proc.kill();
    }
  }, 30_000);

  test("a message over CLANKER_MAX_BODY_BYTES is answered as too large (with its id when its first or last bytes show it), in pieces or whole, and the session goes on (it exited 0 without a word past 10 MiB)", async () => {
    const { proc, write, answers } = await rawStdio({ CLANKER_MAX_BODY_BYTES: "4096" });
    try {
      const params = { name: "search-skills", arguments: { query: "x".repeat(20_000) } };
      // Written as most clients do (the id first), in pieces across writes; then as the MCP SDK does (the id last); then
      // one with no id to be found; then a message that fits.
      const big = JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params });
      for (let i = 0; i < big.length; i += 3000) {
        await write(big.slice(i, i + 3000));
        await Bun.sleep(5);
      }
      await write(`\n${JSON.stringify({ method: "tools/call", params, jsonrpc: "2.0", id: "sdk-3" })}\n${JSON.stringify({ method: "tools/call", params })}\n${JSON.stringify(RAW_INIT)}\n`);
      const [first, second, third, initialized] = await answers(4);
      const tooLarge = (id: unknown) => ({ jsonrpc: "2.0", id, error: { code: -32600, message: expect.stringContaining("over 4096 bytes was not read (CLANKER_MAX_BODY_BYTES)") } });
      expect([first, second, third]).toMatchObject([tooLarge(2), tooLarge("sdk-3"), tooLarge(null)]);
      expect(initialized).toMatchObject({ jsonrpc: "2.0", id: 1, result: { serverInfo: { name: "clanker" } } });
      expect(proc.exitCode).toBeNull();
    } finally {
      proc.kill();
    }
    expect(await new Response(proc.stderr).text()).toContain("a message over 4096 bytes (CLANKER_MAX_BODY_BYTES) was not read");
  }, 30_000);

  test("it runs what it queued itself, even behind runs another process left queued in its workspace", async () => {
    const dir = mkdtempSync(join(tmpdir(), "clanker-mcp-stdio-"));
    tempDirs.push(dir);
    // One run at a time per workspace: the runs left behind fill the head of the workspace's queue.
    const env = { ...(await ownStoreEnv(dir)), CLANKER_WORKSPACE_CONCURRENCY: "1" };
    const c = await connect("stdio", null, { dataDir: dir, noKey: true, env });
    const store = { dataDir: dir, env } as unknown as TestServer;
    const leftBehind = `INSERT INTO executions (workspace_id, skill_slug, skill_name, status, input, interface, created_at)
      SELECT id, 'summarize', 'Summarize', 'queued', 'queued by a server that stopped', 'api', 0 FROM workspaces`;
    for (let i = 0; i < 3; i++) expect(await runSql(store, leftBehind)).toBe(1);
    const r = await call(c, "execute-skill", { slug: "summarize", input: `Mine ${Date.now()}`, timeoutSeconds: 15 });
    expect(r.structuredContent).toMatchObject({ status: "completed" });
  }, 40_000);

  test("with one run at a time per workspace, it runs every run it queued, one after the other", async () => {
    const dir = mkdtempSync(join(tmpdir(), "clanker-mcp-stdio-"));
    tempDirs.push(dir);
    const c = await connect("stdio", null, { dataDir: dir, noKey: true, env: { ...(await ownStoreEnv(dir)), CLANKER_WORKSPACE_CONCURRENCY: "1" } });
    // Deltas 100 ms apart: the second is queued while the first runs, and waits its turn.
    const runs = await Promise.all([1, 2].map((n) => call(c, "execute-skill", { slug: "summarize", input: `Run ${n} [[slow:100]] ${Date.now()}`, timeoutSeconds: 15 })));
    expect(runs.map((r) => r.structuredContent?.status)).toEqual(["completed", "completed"]);
  }, 40_000);

  test("closed by its SDK client mid-run (stdin, then SIGTERM 2 s later), its run goes back to the queue and the server on the data dir runs it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "clanker-mcp-stdio-"));
    tempDirs.push(dir);
    const env = await ownStoreEnv(dir);
    const server = await startServer({ dataDir: dir, env: { ...env, ANTHROPIC_API_KEY: "sk-ant-mcp-test-000000000000000000", ANTHROPIC_BASE_URL: fake.url } });
    try {
      const c = await connect("stdio", null, { dataDir: dir, noKey: true, env });
      // ~6 s of output (1.5 s per delta): past the client's SIGTERM, well within the default 30 s grace.
      const started = await ok(c, "execute-skill", { slug: "summarize", input: `[[slow:1500]] handed back ${Date.now()}`, wait: false });
      await waitUntil("the run to start", async () => (await ok(c, "get-execution-status", { id: started.executionId })).status === "running");
      await within(c.close(), 10_000, "the SDK client's close");
      // The client's SIGTERM cut the grace short and the run went back to the queue (killed, it stayed `running`
      // with nobody running it); the idle server found it there by itself and ran it to the end.
      const id = Number(started.executionId.replace("exec_", ""));
      const is = async (status: string) => (await runSql(server, "UPDATE executions SET status = status WHERE id = ? AND status = ?", id, status)) === 1;
      await waitUntil("the server to finish the handed-back run", () => is("completed"), 25_000);
    } finally {
      await server.stop();
    }
  }, 45_000);

  test("stopped past its lease it keeps its run; killed mid-run (SIGKILL), its run is not left running: the server on the data dir runs it again", async () => {
    const dir = mkdtempSync(join(tmpdir(), "clanker-mcp-stdio-"));
    tempDirs.push(dir);
    const env = { ...(await ownStoreEnv(dir)), CLANKER_LEASE_SECONDS: "2" };
    const server = await startServer({ dataDir: dir, env: { ...env, ANTHROPIC_API_KEY: "sk-ant-mcp-test-000000000000000000", ANTHROPIC_BASE_URL: fake.url } });
    try {
      const transport = transportFor("stdio", null, { dataDir: dir, noKey: true, env }) as StdioClientTransport;
      const c = new Client({ name: "clanker-mcp-test-killed", version: "1.0.0" });
      await within(c.connect(transport), 15_000, "connecting over stdio");
      const started = await ok(c, "execute-skill", { slug: "summarize", input: `[[slow:1500]] killed with its process ${Date.now()}`, wait: false });
      await waitUntil("the run to start", async () => (await ok(c, "get-execution-status", { id: started.executionId })).status === "running");
      const id = Number(started.executionId.replace("exec_", ""));
      const is = async (status: string) => (await runSql(server, "UPDATE executions SET status = status WHERE id = ? AND status = ?", id, status)) === 1;
      // SQLite: stopped for longer than its lease (a stall, a laptop's sleep), it is still alive, and the server leaves
      // its run alone rather than run it a second time beside it. (PostgreSQL's replicas go by the lease alone.)
      if (testDialect() !== "postgres") {
        process.kill(transport.pid!, "SIGSTOP");
        await sleep(3000);
        process.kill(transport.pid!, "SIGCONT");
        expect(await is("running")).toBe(true);
        expect(server.logs()).not.toContain("whose holder is gone");
      }
      process.kill(transport.pid!, "SIGKILL");
      await waitUntil("the server to take the run back and finish it", () => is("completed"), 25_000);
    } finally {
      await server.stop();
    }
  }, 45_000);

  // SQLite only: on PostgreSQL every process counts the runs running anywhere, so the server leaves that run waiting,
  // and Redis carries the events between the two processes anyway.
  test.skipIf(testDialect() === "postgres")("a run it queued that the server beside it took (it waited a poll behind this process's own) still answers execute-skill as soon as it ends", async () => {
    const dir = mkdtempSync(join(tmpdir(), "clanker-mcp-stdio-"));
    tempDirs.push(dir);
    const env = { ...(await ownStoreEnv(dir)), CLANKER_WORKSPACE_CONCURRENCY: "1", ANTHROPIC_API_KEY: "sk-ant-mcp-test-000000000000000000", ANTHROPIC_BASE_URL: fake.url };
    const server = await startServer({ dataDir: dir, env });
    try {
      const c = await connect("stdio", null, { dataDir: dir, noKey: true, env });
      // ~12 s of output holds this process's one slot for the workspace…
      const slow = await ok(c, "execute-skill", { slug: "summarize", input: `[[slow:3000]] holding the slot ${Date.now()}`, wait: false });
      await waitUntil("the slow run to start", async () => (await ok(c, "get-execution-status", { id: slow.executionId })).status === "running");
      // …so the next one waits here, and the server, which counts only its own runs, takes it after a poll. Its events
      // go to the server's bus, not this process's: only the store says it ended.
      const t0 = performance.now();
      const r = await call(c, "execute-skill", { slug: "summarize", input: `Taken by the server ${Date.now()}`, timeoutSeconds: 30 });
      expect(r.structuredContent).toMatchObject({ status: "completed" });
      // Answered while the slow run still runs (the server's poll, its wait of a poll, the run, this process's poll of
      // the store: ~3–4 s); without the store's poll, only when the 30 s wait ran out.
      expect(performance.now() - t0).toBeLessThan(9_000);
      expect((await ok(c, "get-execution-status", { id: slow.executionId })).status).toBe("running");
      await within(c.close(), 10_000, "close");
    } finally {
      await server.stop();
    }
  }, 60_000);

  test("a run made by `clanker mcp` beside the server reaches a live /api/events stream of the server at once, not only after the server's next event", async () => {
    const key = await srv.createKey({ email: uniqueEmail("mcp-stdio-live"), name: "stdio live" });
    const stream = await fetch(`${srv.url}/api/events`, { headers: { "x-api-key": key } });
    expect(stream.status).toBe(200);
    const seen: string[] = [];
    const reader = stream.body!.pipeThrough(new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>).getReader();
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        seen.push(value!);
      }
    })();
    try {
      const c = await connect("stdio", key);
      const r = await call(c, "execute-skill", { slug: "summarize", input: `Run by a stdio agent ${Date.now()}`, timeoutSeconds: 30 });
      expect(r.structuredContent).toMatchObject({ status: "completed" });
      const id = r.structuredContent.executionId as string;
      // Nothing else happens in this workspace: the server has only the log to learn of the run from.
      const statuses = () =>
        seen
          .join("")
          .split("\n")
          .filter((l) => l.startsWith("data: "))
          .map((l) => JSON.parse(l.slice(6)) as { executionId?: string; status?: string })
          .filter((e) => e.executionId === id)
          .map((e) => e.status);
      const end = Date.now() + 5_000;
      while (Date.now() < end && !statuses().includes("completed")) await sleep(50);
      expect(statuses()).toEqual(expect.arrayContaining(["queued", "running", "completed"]));
    } finally {
      await reader.cancel().catch(() => {});
    }
  }, 60_000);

  test("a `clanker mcp` whose environment names no model, beside a server that has one, leaves its runs to the server (its client's config holds only a key)", async () => {
    const key = await srv.createKey({ email: uniqueEmail("mcp-stdio-nomodel"), name: "stdio no model" });
    const env = stdioEnv();
    for (const name of Object.keys(env)) if (/^(ANTHROPIC|OPENAI)_/.test(name)) delete env[name];
    const c = new Client({ name: "clanker-mcp-test-no-model", version: "1.0.0" });
    await within(c.connect(new StdioClientTransport({ command: process.execPath, args: [MAIN, "mcp", "--data", srv.dataDir, "--api-key", key], env, cwd: ROOT, stderr: "pipe" })), 15_000, "connecting over stdio");
    openClients.push(c);
    const progress: { progress: number; message?: string }[] = [];
    const r = await call(c, "execute-skill", { slug: "summarize", input: `Left to the server [[slow:400]] ${Date.now()}`, timeoutSeconds: 30 }, (p) => progress.push(p));
    expect({ isError: r.isError ?? false, status: r.structuredContent?.status, error: r.structuredContent?.error }).toEqual({ isError: false, status: "completed", error: null });
    expect(r.structuredContent.output).toContain("Fake answer");
    // Its progress too, though the server streams it (on the store, polled), each block once, in order.
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.map((p) => p.message ?? "").join("")).toBe(r.structuredContent.output);
    // A workflow it starts too: its engine (in that process) hears of its step's end, run by the server, from the store.
    const def = { id: `stdio-no-model-${Date.now()}`, name: "one step", steps: [{ id: "s", kind: "skill", skill: "summarize", input: "one step" }] };
    expect((await client(srv, { apiKey: key })("POST", "/api/v1/workflows/definitions", { body: def })).status).toBe(200);
    const started = await ok(c, "start-workflow", { workflowId: def.id });
    let run: any;
    for (let i = 0; i < 150 && run?.status !== "completed"; i++) {
      await sleep(100);
      run = await ok(c, "get-workflow-run", { runId: started.runId });
    }
    expect({ status: run.status, step: run.steps.s.status }).toEqual({ status: "completed", step: "completed" });
  }, 60_000);

  test("an unknown key makes `clanker mcp` exit with an error instead of serving", async () => {
    const p = Bun.spawn([process.execPath, MAIN, "mcp", "--data", srv.dataDir, "--api-key", "ck_" + "Q".repeat(43)], {
      env: stdioEnv(),
      cwd: ROOT,
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    const code = await within(p.exited, 10_000, "clanker mcp with a bad key to exit").catch((e) => {
      p.kill("SIGKILL");
      throw e;
    });
    expect(code).not.toBe(0);
    expect(await new Response(p.stdout).text()).toBe("");
    expect(await new Response(p.stderr).text()).toContain("clanker mcp: Invalid API key: check --api-key or CLANKER_API_KEY (clanker keys create makes a key; keys list shows them)");
  }, 20_000);
});
