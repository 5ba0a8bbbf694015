// What an agent can discover and use over MCP (issue 13): search-skills and list-workflows, annotations and
// output schemas on every tool, compact run results, resources (skills, memory with update notifications,
// artifacts, workflows) per workspace, skill prompts, completions and per-session logging — with the official
// SDK client over Streamable HTTP and over stdio (`clanker mcp`), against a real server and the fake model.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join, resolve } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { CallToolResultSchema, LoggingMessageNotificationSchema, McpError, ResourceListChangedNotificationSchema, ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { cleanup, client, startServer, uniqueEmail, type TestServer } from "./helpers/server";
import { startFakeModel, type FakeModel } from "./helpers/fake-models";
import { httpTransport } from "./helpers/mcp-client";
import { stdioStartMs } from "./bench/mcp-stdio-start";
import { runSql } from "./helpers/sql";
import { TOOL_LIST } from "../src/mcp/built-tool-list";

const ROOT = resolve(import.meta.dir, "..");
const MAIN = join(ROOT, "src/main.ts");
const HINTS = ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] as const;

let srv: TestServer;
let fake: FakeModel;
const clients: Client[] = [];

beforeAll(async () => {
  fake = startFakeModel("anthropic");
  srv = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", ANTHROPIC_API_KEY: "sk-ant-mcp-test-000000000000000000", ANTHROPIC_BASE_URL: fake.url } });
}, 30_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await srv?.stop();
  if (srv) cleanup(srv);
  fake?.stop();
}, 30_000);

type Kind = "http" | "stdio";

async function connect(kind: Kind, key: string): Promise<Client> {
  const c = new Client({ name: `discovery-${kind}`, version: "1.0.0" });
  const env: Record<string, string> = { ...srv.env };
  delete env.CLANKER_API_KEY;
  await c.connect(
    kind === "http"
      ? httpTransport(srv.url, "streamable", { "x-api-key": key })
      : new StdioClientTransport({ command: process.execPath, args: [MAIN, "mcp", "--data", srv.dataDir, "--api-key", key], env, cwd: ROOT, stderr: "pipe" }),
  );
  clients.push(c);
  return c;
}

async function call(c: Client, name: string, args: Record<string, unknown> = {}): Promise<any> {
  return c.callTool({ name, arguments: args }, undefined, { timeout: 20_000 });
}

/** Resolves with the first notification `pick` accepts, or rejects after `ms`. */
function waitFor<T>(register: (resolve: (v: T) => void) => void, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
    register((v) => {
      clearTimeout(timer);
      resolve(v);
    });
  });
}

describe.each(["http", "stdio"] as const)("MCP discovery over %s", (kind) => {
  let key: string;
  let other: string;
  let a: Client;
  let b: Client;
  let catalogCount: number;

  beforeAll(async () => {
    key = await srv.createKey({ email: uniqueEmail(`disc-${kind}`) });
    other = await srv.createKey({ email: uniqueEmail(`disc-${kind}-other`) });
    [a, b] = await Promise.all([connect(kind, key), connect(kind, other)]);
    const rest = await client(srv)("GET", "/api/v1/marketplace/skills?limit=100");
    expect(rest.status).toBe(200);
    catalogCount = rest.body.data.length;
    expect(catalogCount).toBeGreaterThan(10);
  }, 30_000);

  test("every tool has a title, all four hints, an output schema, and a description on every parameter", async () => {
    const { tools } = await a.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(["search-skills", "list-workflows"]));
    const problems: string[] = [];
    for (const t of tools) {
      if (!t.title || t.annotations?.title !== t.title) problems.push(`${t.name}: no title`);
      for (const h of HINTS) if (typeof t.annotations?.[h] !== "boolean") problems.push(`${t.name}: no ${h}`);
      if (t.outputSchema?.type !== "object") problems.push(`${t.name}: no outputSchema`);
      for (const [p, schema] of Object.entries((t.inputSchema.properties ?? {}) as Record<string, { description?: string }>))
        if (!schema.description) problems.push(`${t.name}.${p}: no description`);
    }
    expect(problems).toEqual([]);
    const byName = new Map(tools.map((t) => [t.name, t.annotations!]));
    expect(byName.get("search-skills")).toMatchObject({ readOnlyHint: true, destructiveHint: false });
    expect(byName.get("delete-artifact")).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    expect(byName.get("execute-skill")).toMatchObject({ readOnlyHint: false, idempotentHint: false, openWorldHint: true });
    expect(byName.get("write-memory")).toMatchObject({ readOnlyHint: false, destructiveHint: true, idempotentHint: false });
  }, 20_000);

  test("tools/list answers the list made at build time (test/mcp-tool-list.test.ts: it is the SDK's own)", async () => {
    expect((await a.listTools()).tools).toEqual(TOOL_LIST);
  }, 20_000);

  test("search-skills answers the compact catalog, filtered by query and category", async () => {
    const all = (await call(a, "search-skills")).structuredContent;
    expect(all.total).toBe(catalogCount);
    expect(Object.keys(all.skills[0]).sort()).toEqual(["category", "description", "name", "slug"]);
    expect(all.categories.reduce((n: number, c: any) => n + c.count, 0)).toBe(catalogCount);
    const found = (await call(a, "search-skills", { query: "summar" })).structuredContent;
    expect(found.skills.map((s: any) => s.slug)).toContain("summarize");
    expect(found.total).toBeLessThan(catalogCount);
    const dev = (await call(a, "search-skills", { category: "development" })).structuredContent;
    expect(dev.total).toBe(all.categories.find((c: any) => c.name === "development").count);
    expect(new Set(dev.skills.map((s: any) => s.category))).toEqual(new Set(["development"]));
  }, 20_000);

  test("list-workflows names the definitions start-workflow takes", async () => {
    const { workflows } = (await call(a, "list-workflows")).structuredContent;
    const ids = workflows.map((w: any) => w.id);
    expect(ids).toContain("research-draft-approve");
    const rest = await client(srv, { apiKey: key })("GET", "/api/v1/workflows/definitions");
    expect(ids.sort()).toEqual(rest.body.data.map((d: any) => d.id).sort());
    expect(workflows[0]).toMatchObject({ id: expect.any(String), name: expect.any(String), steps: expect.any(Array) });
  }, 20_000);

  test("execute-skill's result is small: the output and its status, not the chunk log", async () => {
    const r = await call(a, "execute-skill", { slug: "summarize", input: `A short text to summarize over ${kind}. ${"x".repeat(20)}`, timeoutSeconds: 15 });
    expect(r.isError ?? false).toBe(false);
    const out = r.structuredContent.output as string;
    expect(out.length).toBeGreaterThan(50);
    expect(out.length).toBeLessThan(150);
    const bytes = JSON.stringify(r).length;
    console.log(`execute-skill over ${kind}: ${out.length}-char output → ${bytes}-byte result`);
    // Before: every streamed chunk with timestamps, twice (3.7 KB for a 100-char output).
    expect(bytes).toBeLessThan(out.length * 2 + 700);
    expect(r.content).toHaveLength(1);
    expect(r.content[0].text).toStartWith(out);
  }, 30_000);

  test("resources: memory, every skill's SKILL.md, the workspace's artifacts and workflows — listed, templated, readable", async () => {
    const { resources } = await a.listResources();
    const uris = resources.map((r) => r.uri);
    expect(uris).toContain("clanker://memory");
    expect(uris.filter((u) => u.startsWith("clanker://skills/"))).toHaveLength(catalogCount);
    expect(uris).toContain("clanker://workflows/research-draft-approve");
    const artifacts = uris.filter((u) => u.startsWith("clanker://artifacts/"));
    expect(artifacts.length).toBeGreaterThan(0); // the run above made one
    // Per workspace: the other key's list has no artifact of this one.
    const theirs = (await b.listResources()).resources.map((r) => r.uri);
    for (const u of artifacts) expect(theirs).not.toContain(u);
    await expect(b.readResource({ uri: artifacts[0]! })).rejects.toThrow(/-32002/);

    const { resourceTemplates } = await a.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate).sort()).toEqual(["clanker://artifacts/{id}", "clanker://skills/{slug}", "clanker://workflows/{id}"]);

    const skill = (await a.readResource({ uri: "clanker://skills/summarize" })).contents[0] as { text: string; mimeType: string };
    expect(skill.mimeType).toBe("text/markdown");
    expect(skill.text).toStartWith("---\nname: summarize\n");
    expect(skill.text).toContain("parameters:");
    const art = (await a.readResource({ uri: artifacts[0]! })).contents[0] as { text: string };
    const id = artifacts[0]!.slice("clanker://artifacts/".length);
    expect(art.text).toBe((await client(srv, { apiKey: key })("GET", `/api/v1/artifacts/${id}/download`)).text);
    const wf = (await a.readResource({ uri: "clanker://workflows/research-draft-approve" })).contents[0] as { text: string };
    expect(JSON.parse(wf.text).id).toBe("research-draft-approve");
    await expect(a.readResource({ uri: "clanker://skills/no-such-skill" })).rejects.toThrow(/-32002/);
    // Said once: the client prefixes the code itself.
    const notFound = (await a.readResource({ uri: "clanker://skills/no-such-skill" }).catch((e: Error) => e)) as Error;
    expect(notFound.message).toMatch(/^MCP error -32002: (?!MCP error)/);
    // A URI no template matches is not found either (the SDK said -32602, its code twice in the message).
    for (const uri of ["clanker://nothing/x", "file:///etc/passwd"]) {
      const e = (await a.readResource({ uri }).catch((e: Error) => e)) as Error;
      expect(e.message).toBe(`MCP error -32002: Resource ${uri} not found: this server's resources are clanker:// URIs (resources/templates/list names their shapes)`);
    }
  }, 20_000);

  test("a request whose params break the method's schema is -32602 Invalid params naming the field, not -32603 with a schema dump", async () => {
    for (const [method, params, field] of [
      ["tools/call", { name: "write-memory", arguments: "str" }, "params.arguments"],
      ["tools/call", {}, "params.name"],
      ["logging/setLevel", { level: "loud" }, "params.level"],
    ] as const) {
      const e = (await a.request({ method, params } as never, CallToolResultSchema).catch((err: Error) => err)) as McpError;
      expect({ method, code: e.code }).toEqual({ method, code: -32602 });
      expect(e.message).toStartWith(`MCP error -32602: Invalid params for ${method}: ${field}: `);
      expect(e.message).not.toContain("\n");
    }
  }, 20_000);

  test("download-artifact: over stdio the content, no URL; over HTTP the URL too", async () => {
    const list = (await call(a, "list-artifacts", { limit: 1 })).structuredContent;
    const dl = (await call(a, "download-artifact", { id: list.data[0].id })).structuredContent;
    expect(dl.uri).toBe(`clanker://artifacts/${list.data[0].id}`);
    expect(typeof dl.content).toBe("string");
    if (kind === "stdio") expect(dl.downloadUrl).toBeUndefined();
    else expect(dl.downloadUrl).toStartWith(srv.url);
  }, 20_000);

  test("resources/subscribe clanker://memory: a write — over REST or MCP — sends notifications/resources/updated", async () => {
    const updates: string[] = [];
    let notify: ((uri: string) => void) | undefined;
    a.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updates.push(n.params.uri);
      notify?.(n.params.uri);
    });
    await a.subscribeResource({ uri: "clanker://memory" });
    // Over stdio the process has its own bus: a write through the HTTP server cannot reach it, an MCP write can.
    const first = waitFor<string>((r) => (notify = r), 5_000, "resources/updated");
    if (kind === "http") expect((await client(srv, { apiKey: key })("PUT", "/api/v1/memory", { body: { content: "written over REST" } })).status).toBe(200);
    else await call(b, "read-memory"); // another workspace's activity is not ours…
    if (kind === "stdio") await call(a, "write-memory", { content: "written over MCP", mode: "overwrite" });
    expect(await first).toBe("clanker://memory");
    const second = waitFor<string>((r) => (notify = r), 5_000, "resources/updated");
    await call(a, "write-memory", { content: "appended over MCP" });
    expect(await second).toBe("clanker://memory");
    // …and another workspace's write is not either.
    const before = updates.length;
    await call(b, "write-memory", { content: "someone else's note" });
    await call(a, "read-memory");
    expect(updates.length).toBe(before);
    const mem = (await a.readResource({ uri: "clanker://memory" })).contents[0] as { text: string };
    expect(mem.text).toEndWith("appended over MCP");
    await a.unsubscribeResource({ uri: "clanker://memory" });
    await expect(a.subscribeResource({ uri: "clanker://skills/summarize" })).rejects.toThrow(/-32602/);
  }, 30_000);

  test("notifications/resources/list_changed: a run that leaves an artifact, an artifact deleted, a workflow definition saved or deleted; another workspace's not", async () => {
    let heard = 0;
    let notify: (() => void) | undefined;
    a.setNotificationHandler(ResourceListChangedNotificationSchema, () => {
      heard++;
      notify?.();
    });
    const next = () => waitFor<void>((r) => (notify = () => r()), 10_000, "resources/list_changed");
    const quiet = async () => {
      // Longer than the 250 ms in which changes make one notification.
      const before = heard;
      await Bun.sleep(600);
      return heard - before;
    };
    await quiet(); // what earlier tests' runs announced
    // Another workspace's run and its artifact: not announced here.
    const theirs = (await call(b, "execute-skill", { slug: "summarize", input: `Their run over ${kind}`, timeoutSeconds: 15 })).structuredContent;
    expect(theirs.artifactId).toStartWith("art_");
    expect(await quiet()).toBe(0);
    let changed = next();
    const ours = (await call(a, "execute-skill", { slug: "summarize", input: `Our run over ${kind}`, timeoutSeconds: 15 })).structuredContent;
    expect(ours.artifactId).toStartWith("art_");
    await changed;
    expect((await a.listResources()).resources.map((r) => r.uri)).toContain(`clanker://artifacts/${ours.artifactId}`);
    changed = next();
    expect((await call(a, "delete-artifact", { id: ours.artifactId })).isError ?? false).toBe(false);
    await changed;
    expect((await a.listResources()).resources.map((r) => r.uri)).not.toContain(`clanker://artifacts/${ours.artifactId}`);
    // Definitions are saved over REST (no tool saves one): a `clanker mcp` process has its own bus and hears of them
    // only with Redis between it and the server.
    if (kind === "stdio") return;
    const rest = client(srv, { apiKey: key });
    const def = { id: `notified-${process.pid}`, name: "Notified", steps: [{ id: "one", kind: "skill", skill: "summarize", input: "Summarize this" }] };
    changed = next();
    expect((await rest("POST", "/api/v1/workflows/definitions", { body: def })).status).toBe(200);
    await changed;
    expect((await a.listResources()).resources.map((r) => r.uri)).toContain(`clanker://workflows/${def.id}`);
    changed = next();
    expect((await rest("DELETE", `/api/v1/workflows/definitions/${def.id}`)).status).toBe(200);
    await changed;
    // Another workspace's definition: not announced here.
    expect((await client(srv, { apiKey: other })("POST", "/api/v1/workflows/definitions", { body: def })).status).toBe(200);
    expect(await quiet()).toBe(0);
  }, 60_000);

  test("resources/list pages artifacts by cursor: following nextCursor lists each of 230 artifacts once, the rest on the first page", async () => {
    const own = await srv.createKey({ email: uniqueEmail(`disc-${kind}-many`) });
    const ws = Number((await client(srv, { apiKey: own })("GET", "/api/v1/workspaces/current")).body.id.replace("ws_", ""));
    // Rows only, straight into the store in one statement: listing reads no file.
    const rows = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 230)";
    await runSql(srv, `${rows} INSERT INTO artifacts (workspace_id, name, media_type, size, path, created_at) SELECT ?, 'a' || i || '.txt', 'text/plain', 1, 'none.txt', ? FROM n`, ws, Date.now());
    const c = await connect(kind, own);
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await c.listResources(cursor === undefined ? undefined : { cursor });
      pages.push(page.resources.map((r) => r.uri));
      cursor = page.nextCursor;
    } while (cursor !== undefined && pages.length < 10);
    expect(pages.map((p) => p.filter((u) => u.startsWith("clanker://artifacts/")).length)).toEqual([100, 100, 30]);
    const artifacts = pages.flat().filter((u) => u.startsWith("clanker://artifacts/"));
    expect(new Set(artifacts).size).toBe(230);
    expect(pages[0]).toContain("clanker://memory");
    expect(pages[0]!.filter((u) => u.startsWith("clanker://skills/"))).toHaveLength(catalogCount);
    for (const p of pages.slice(1)) expect(p.every((u) => u.startsWith("clanker://artifacts/"))).toBe(true);
    await expect(c.listResources({ cursor: "not-a-cursor" })).rejects.toThrow(/^MCP error -32602: Invalid cursor 'not-a-cursor'/);
  }, 60_000);

  test("prompts: every skill, its parameters as arguments; prompts/get gives its instructions with the values", async () => {
    const { prompts } = await a.listPrompts();
    expect(prompts).toHaveLength(catalogCount);
    const summarize = prompts.find((p) => p.name === "summarize")!;
    expect(summarize.description?.length).toBeGreaterThan(10);
    const args = new Map(summarize.arguments!.map((x) => [x.name, x]));
    expect(args.get("text")?.required).toBe(true);
    expect(args.get("length")?.required ?? false).toBe(false);
    for (const x of summarize.arguments!) expect(x.description?.length ?? 0).toBeGreaterThan(0);
    const got = await a.getPrompt({ name: "summarize", arguments: { text: "The launch moved to May.", length: "one_line" } });
    const text = (got.messages[0]!.content as { text: string }).text;
    expect(text).toContain("# Skill: Summarize");
    expect(text).toContain("- length: one_line");
    expect(text).toContain("The launch moved to May.");
    // The client adds "MCP error <code>: " once; the server's message carried it already (it read twice).
    const missing = (await a.getPrompt({ name: "summarize", arguments: {} }).catch((e: Error) => e)) as Error;
    expect(missing.message).toMatch(/^MCP error -32602: Invalid arguments for prompt summarize: .*\btext\b/s);
    expect(missing.message).not.toContain("MCP error -32602: MCP error");
    const unknown = (await a.getPrompt({ name: "summarise" }).catch((e: Error) => e)) as Error;
    expect(unknown.message).toMatch(/^MCP error -32602: Unknown prompt: summarise \(prompts\/list names the \d+ prompts of this server\)$/);
    // A misspelt argument is refused naming it, as a tool's is (it was dropped without a word).
    const misspelt = (await a.getPrompt({ name: "summarize", arguments: { text: "x", lenght: "one_line" } }).catch((e: Error) => e)) as Error;
    expect(misspelt.message).toMatch(/^MCP error -32602: Invalid argument lenght for prompt summarize: not an argument of it \(it takes .*length.*\)$/);
  }, 20_000);

  test("completions: skill slugs, workflow ids, artifact ids and a prompt argument's values", async () => {
    const slugs = await a.complete({ ref: { type: "ref/resource", uri: "clanker://skills/{slug}" }, argument: { name: "slug", value: "summ" } });
    expect(slugs.completion.values).toEqual(["summarize"]);
    const wfs = await a.complete({ ref: { type: "ref/resource", uri: "clanker://workflows/{id}" }, argument: { name: "id", value: "research" } });
    expect(wfs.completion.values).toEqual(["research-draft-approve"]);
    const arts = await a.complete({ ref: { type: "ref/resource", uri: "clanker://artifacts/{id}" }, argument: { name: "id", value: "art_" } });
    expect(arts.completion.values.length).toBeGreaterThan(0);
    const theirs = await b.complete({ ref: { type: "ref/resource", uri: "clanker://artifacts/{id}" }, argument: { name: "id", value: "art_" } });
    for (const v of arts.completion.values) expect(theirs.completion.values).not.toContain(v);
    const lengths = await a.complete({ ref: { type: "ref/prompt", name: "summarize" }, argument: { name: "length", value: "" } });
    expect(lengths.completion.values).toEqual(["one_line", "short", "medium", "detailed"]);
  }, 20_000);

  test("logging: tool calls are logged to the session at info; logging/setLevel warning silences them", async () => {
    const logs: { level: string; data: unknown }[] = [];
    a.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params));
    await a.setLoggingLevel("info");
    await call(a, "read-memory");
    expect(logs.some((l) => l.level === "info" && String(l.data).startsWith("read-memory"))).toBe(true);
    await a.setLoggingLevel("warning");
    const before = logs.length;
    await call(a, "read-memory");
    await call(a, "get-artifact", { id: "art_99999999" }); // a failed call logs a warning
    expect(logs.slice(before).map((l) => l.level)).toEqual(["warning"]);
  }, 20_000);
});

describe("stdio start", () => {
  test("prints how long `clanker mcp` takes to its first tools/list (never fails on time)", async () => {
    await stdioStartMs({ dataDir: srv.dataDir, env: srv.env }); // warm the file cache
    const times: number[] = [];
    for (let i = 0; i < 3; i++) times.push(await stdioStartMs({ dataDir: srv.dataDir, env: srv.env }));
    times.sort((x, y) => x - y);
    console.log(`clanker mcp (bun src/main.ts): first tools/list after ${times[1]!.toFixed(0)} ms (median of 3)`);
    expect(times[0]).toBeGreaterThan(0);
  }, 60_000);
});

describe("/skill.md and /auth.md describe this server", () => {
  let key: string;
  let doc: string;

  beforeAll(async () => {
    key = await srv.createKey({ email: uniqueEmail("skill-md") });
    const r = await client(srv)("GET", "/skill.md");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toContain("text/markdown");
    doc = r.text;
  }, 20_000);

  test("its MCP tool table is the live tools/list: every tool, no other", async () => {
    const c = await connect("http", key);
    const { tools } = await c.listTools();
    const table = [...doc.matchAll(/^\| `([a-z-]+)` \| /gm)].map((m) => m[1]!);
    for (const t of tools) expect(table).toContain(t.name);
    // The tool table is the part between "Its N tools:" and the next heading: exactly the live names.
    const section = doc.slice(doc.indexOf(`Its ${tools.length} tools:`), doc.indexOf("Beyond tools:"));
    expect(section.length).toBeGreaterThan(0);
    expect([...section.matchAll(/^\| `([a-z-]+)` \| /gm)].map((m) => m[1]!).sort()).toEqual(tools.map((t) => t.name).sort());
    // Each says its first sentence whole: not cut at the period of an "e.g." inside it.
    for (const line of section.split("\n").filter((l) => l.startsWith("| `"))) expect(line).not.toMatch(/\((e\.g|i\.e)\. \|$/);
    void table;
  }, 20_000);

  test("its skill count and categories are the catalog's; no promises of what is not here", async () => {
    const skills = await client(srv)("GET", "/api/v1/marketplace/skills?limit=100");
    const cats = await client(srv)("GET", "/api/v1/marketplace/skills/categories");
    expect(doc).toContain(`**${skills.body.data.length} skills** in ${cats.body.data.length} categories`);
    for (const c of cats.body.data) expect(doc).toContain(`${c.name} (${c.count})`);
    for (const s of skills.body.data) expect(doc).toContain(`| \`${s.slug}\` |`);
    for (const bad of ["176", "mobile", "Settings > API Keys", "app_download_url", "{{"]) expect({ bad, found: doc.includes(bad) }).toEqual({ bad, found: false });
    // This test server runs on loopback, where anonymous registration is on by default.
    expect(doc).toContain("Anonymous agent registration is **on** here");
  });

  test("every path it mentions answers (not 404), with the method it names", async () => {
    // A real run, so the :id paths name things that exist.
    const run = await client(srv, { apiKey: key })("POST", "/api/v1/skills/summarize/run", { body: { input: "Paths in skill.md" } });
    expect(run.status).toBe(200);
    const execId: string = run.body.executionId;
    let artId: string | null = null;
    for (let i = 0; i < 100 && !artId; i++) {
      artId = (await client(srv, { apiKey: key })("GET", `/api/v1/executions/${execId}/status`)).body.artifactId;
      if (!artId) await new Promise((r) => setTimeout(r, 100));
    }
    expect(artId).toMatch(/^art_/);
    // The table's :params and the examples' ids (exec_1) stand for the caller's own objects.
    const fillIds = (p: string) => p.replace(":slug", "summarize").replace(/\/executions\/exec_\d+/, "/executions/:id").replace("/executions/:id", `/executions/${execId}`).replace("/artifacts/:id", `/artifacts/${artId}`).replace("/workflows/:id", "/workflows/research-draft-approve");

    const calls = new Map<string, string>(); // path → method
    for (const m of doc.matchAll(/^\| (GET|POST|PUT|DELETE|PATCH) \| `([^`]+)` \|/gm)) calls.set(fillIds(m[2]!), m[1]!);
    for (const m of doc.matchAll(/(?:`|curl (?:-X (\w+) )?"?)(?:https?:\/\/[^/\s`"]+)(\/[A-Za-z0-9_\-/.:]*)/g)) {
      const path = fillIds(m[2]!.replace(/[.:]$/, ""));
      if (!calls.has(path)) calls.set(path, m[1] ?? "GET");
    }
    expect(calls.size).toBeGreaterThan(25);
    const missing: string[] = [];
    for (const [path, method] of calls) {
      const res = await fetch(srv.url + path, {
        method,
        headers: { "x-api-key": key, "content-type": "application/json", accept: "application/json" },
        body: method === "GET" ? undefined : "{}",
        redirect: "manual",
        signal: AbortSignal.timeout(5_000),
      });
      await res.body?.cancel();
      if (res.status === 404) missing.push(`${method} ${path}`);
    }
    expect(missing).toEqual([]);
  }, 30_000);

  test("/auth.md says whether anonymous registration is on, and names this server's MCP endpoint", async () => {
    const r = await client(srv)("GET", "/auth.md");
    expect(r.text).toContain("Anonymous registration is on on this server");
    expect(r.text).not.toContain("Anonymous registration is off");
    expect(r.text).toContain(`${srv.url}/mcp`);
  });
});
