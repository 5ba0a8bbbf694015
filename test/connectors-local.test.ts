// The connectors service with the `local` connector, over REST and MCP (official SDK client): a real git
// repository made here (branches, content at a ref, binary, too large) and a plain folder (working tree);
// `..`, absolute paths and symlinks out of the root refused; roles and unclaimed-agent scopes.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { cleanup, client, startServer, uniqueEmail, type TestServer } from "./helpers/server";
import { expectError } from "./helpers/api";
import { connectMcp, toolError, toolOk } from "./helpers/mcp-client";
import { makeRepo } from "./helpers/git-repo";
import { makeTeam, teamMember } from "./helpers/team";

type Call = ReturnType<typeof client>;
let srv: TestServer;
let tmp: string;
let owner: Call;
let member: Call;
let ownerMcp: Client;
const clients: Client[] = [];
const MAX = 4096;
const BINARY = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 255, 254]);

const content = (call: Call, source: string, query = "") => call("GET", `/api/v1/connectors/local/sources/${encodeURIComponent(source)}/content${query}`);

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "clanker-local-src-"));
  mkdirSync(join(tmp, "outside"));
  writeFileSync(join(tmp, "outside", "secret.txt"), "OUTSIDE-SECRET");
  const roots = join(tmp, "roots");
  await makeRepo(
    join(roots, "app"),
    {
      "README.md": "# App\nThe app's readme.\n",
      "src/index.ts": "export const main = 1;\n",
      "img/logo.png": BINARY,
      "big.txt": "x".repeat(MAX + 1),
      "src/inner-link.ts": { symlink: "index.ts" },
      "escape": { symlink: "../../../outside/secret.txt" },
    },
    { feature: { "src/index.ts": "export const main = 2; // feature\n" } },
  );
  mkdirSync(join(roots, "notes", "sub"), { recursive: true });
  writeFileSync(join(roots, "notes", "todo.txt"), "buy milk\n");
  writeFileSync(join(roots, "notes", "sub", "deep.md"), "deep\n");
  symlinkSync(join(tmp, "outside", "secret.txt"), join(roots, "notes", "abs-escape"));
  symlinkSync("../../outside", join(roots, "notes", "dir-escape"));
  // A root holding several repositories lists each.
  await makeRepo(join(roots, "many", "one"), { "a.txt": "one\n" });
  await makeRepo(join(roots, "many", "two"), { "b.txt": "two\n" });

  srv = await startServer({
    env: {
      CLANKER_RATE_LIMIT_PER_MINUTE: "10000",
      CLANKER_LOCAL_SOURCES: [join(roots, "app"), join(roots, "notes"), join(roots, "many")].join(","),
      CLANKER_MAX_SOURCE_BYTES: String(MAX),
    },
  });
  const t = await makeTeam(srv);
  owner = t.owner;
  member = (await teamMember(t)).call;
  ownerMcp = await connectMcp(srv.url, "streamable", { "x-auth-token": t.ownerSession, "x-workspace-id": t.id });
  clients.push(ownerMcp);
}, 30_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await srv?.stop();
  if (srv) cleanup(srv);
  rmSync(tmp, { recursive: true, force: true });
});

describe("local connector over REST", () => {
  test("GET /connectors: local configured and ready, github configured but not connected", async () => {
    const r = await member("GET", "/api/v1/connectors");
    expect(r.status).toBe(200);
    const byId = Object.fromEntries(r.body.data.map((c: any) => [c.id, c]));
    expect(byId.local).toMatchObject({ configured: true, connected: true, needsConnection: false, account: null });
    expect(byId.github).toMatchObject({ configured: true, connected: false, needsConnection: true });
    expect((await member("GET", "/api/v1/connectors/local")).body).toMatchObject({ id: "local", connected: true });
    expectError(await member("GET", "/api/v1/connectors/nope"), 404, "not_found_error");
  });

  test("sources: a repository root, a folder root, and each repository inside a root; cursor paging", async () => {
    const r = await member("GET", "/api/v1/connectors/local/sources");
    expect(r.status).toBe(200);
    expect(r.body.data.map((s: any) => s.id)).toEqual(["app", "notes", "many/one", "many/two"]);
    expect(r.body.has_more).toBe(false);
    const p1 = await member("GET", "/api/v1/connectors/local/sources?limit=3");
    expect(p1.body).toMatchObject({ has_more: true, next_cursor: "3" });
    const p2 = await member("GET", `/api/v1/connectors/local/sources?limit=3&cursor=${p1.body.next_cursor}`);
    expect(p2.body.data.map((s: any) => s.id)).toEqual(["many/two"]);
  });

  test("branches from git; a plain folder has none", async () => {
    const r = await member("GET", "/api/v1/connectors/local/sources/app/branches");
    expect(r.status).toBe(200);
    expect(r.body.data.map((b: any) => [b.name, b.default])).toEqual([["feature", false], ["main", true]]);
    expect(r.body.data[0].sha).toMatch(/^[0-9a-f]{40}$/);
    expect((await member("GET", "/api/v1/connectors/local/sources/notes/branches")).body.data).toEqual([]);
    expect((await member("GET", `/api/v1/connectors/local/sources/${encodeURIComponent("many/two")}/branches`)).body.data.map((b: any) => b.name)).toEqual(["main"]);
    expectError(await member("GET", "/api/v1/connectors/local/sources/unknown/branches"), 404, "not_found_error");
  });

  test("content: root dir, a file at the default branch and at another ref, a binary file, too large", async () => {
    const root = await member("GET", "/api/v1/connectors/local/sources/app/content");
    expect(root.body).toMatchObject({ type: "dir", path: "", ref: "main" });
    expect(root.body.entries.map((e: any) => [e.name, e.type])).toEqual([["README.md", "file"], ["big.txt", "file"], ["escape", "symlink"], ["img", "dir"], ["src", "dir"]]);
    const src = await content(member, "app", "?path=src");
    expect(src.body).toMatchObject({ type: "dir", path: "src", ref: "main" });
    expect(src.body.entries.map((e: any) => [e.name, e.type])).toEqual([["index.ts", "file"], ["inner-link.ts", "symlink"]]);
    const main = await content(member, "app", "?path=src/index.ts");
    expect(main.body).toEqual({ type: "file", path: "src/index.ts", ref: "main", size: 23, content: "export const main = 1;\n" });
    const feature = await content(member, "app", "?path=src/index.ts&ref=feature");
    expect(feature.body).toMatchObject({ ref: "feature", content: "export const main = 2; // feature\n" });
    // A symlink that stays inside the repository is followed.
    expect((await content(member, "app", "?path=src/inner-link.ts")).body.content).toBe("export const main = 1;\n");
    const bin = await content(member, "app", "?path=img/logo.png");
    expect(bin.body).toEqual({ type: "file", path: "img/logo.png", ref: "main", size: BINARY.length, encoding: "base64", content: Buffer.from(BINARY).toString("base64") });
    expectError(await content(member, "app", "?path=big.txt"), 413, "request_too_large", "SOURCE_FILE_TOO_LARGE");
    expectError(await content(member, "app", "?path=src/missing.ts"), 404, "not_found_error");
    expectError(await content(member, "app", "?path=README.md&ref=no-such-branch"), 404, "not_found_error");
    // A sha that names a blob, not a commit, is no ref either (it was a 500).
    const blobSha = createHash("sha1").update("blob 23\0export const main = 1;\n").digest("hex");
    expectError(await content(member, "app", `?path=README.md&ref=${blobSha}`), 404, "not_found_error");
  });

  test("a plain folder serves its working tree; refs are refused", async () => {
    const dir = await content(member, "notes");
    expect(dir.body.type).toBe("dir");
    expect(dir.body.entries.find((e: any) => e.name === "todo.txt")).toEqual({ name: "todo.txt", type: "file", size: 9 });
    expect((await content(member, "notes", "?path=sub/deep.md")).body).toEqual({ type: "file", path: "sub/deep.md", ref: null, size: 5, content: "deep\n" });
    expectError(await content(member, "notes", "?path=todo.txt&ref=main"), 400, "invalid_request_error");
  });

  test("`..`, absolute paths and symlinks out of the root → 400, and nothing outside is read", async () => {
    for (const [src, path] of [
      ["app", "../notes/todo.txt"],
      ["app", "src/../../x"],
      ["app", "/etc/passwd"],
      ["app", "escape"],
      ["notes", "../app/README.md"],
      ["notes", "/etc/passwd"],
      ["notes", "abs-escape"],
      ["notes", "dir-escape/secret.txt"],
      ["notes", "dir-escape"],
    ] as const) {
      const r = await content(member, src, `?path=${encodeURIComponent(path)}`);
      expect({ src, path, status: r.status, type: r.body?.error?.type }).toEqual({ src, path, status: 400, type: "invalid_request_error" });
      expect(r.text).not.toContain("OUTSIDE-SECRET");
    }
  });

  test("a member may not connect or disconnect (403 ROLE_REQUIRED); the owner may", async () => {
    expectError(await member("POST", "/api/v1/connectors/local/connect", { body: {} }), 403, "permission_error", "ROLE_REQUIRED");
    expectError(await member("DELETE", "/api/v1/connectors/github"), 403, "permission_error", "ROLE_REQUIRED");
    expectError(await member("POST", "/api/v1/connectors/github/connect", { body: { token: "ghp_x" } }), 403, "permission_error", "ROLE_REQUIRED");
    expect((await owner("POST", "/api/v1/connectors/local/connect", { body: {} })).body).toMatchObject({ connector: "local", connected: true });
  });

  test("the server's folders are for the workspaces its owner is in: a member there reads them; anyone else who signs in does not, by any way", async () => {
    expect((await member("GET", "/api/v1/connectors/local/sources/notes/content?path=todo.txt")).body.content).toBe("buy milk\n");
    const key = await srv.createKey({ email: uniqueEmail("stranger") });
    const stranger = client(srv, { apiKey: key });
    const status = (await stranger("GET", "/api/v1/connectors/local")).body;
    expect(status).toMatchObject({ configured: false, connected: false });
    expect(status.reason).toContain("shared with the workspaces its owner is a member of");
    expectError(await stranger("GET", "/api/v1/connectors/local/sources"), 400, "invalid_request_error", "CONNECTOR_NOT_CONFIGURED");
    const read = await stranger("GET", "/api/v1/connectors/local/sources/notes/content?path=todo.txt");
    expectError(read, 400, "invalid_request_error", "CONNECTOR_NOT_CONFIGURED");
    expect(read.text).not.toContain("buy milk");
    expectError(await stranger("POST", "/api/v1/connectors/local/connect", { body: {} }), 400, "invalid_request_error", "CONNECTOR_NOT_CONFIGURED");
    const viaRun = await stranger("POST", "/api/v1/skills/code-review/run", { body: { input: "x", connector: { type: "local", fields: { source: "notes" } } } });
    expectError(viaRun, 400, "invalid_request_error", "CONNECTOR_NOT_CONFIGURED");
    const mcp = await connectMcp(srv.url, "streamable", { "x-api-key": key });
    clients.push(mcp);
    expect((await toolError(mcp, "get-source-content", { connector: "local", source: "notes", path: "todo.txt" })).code).toBe("CONNECTOR_NOT_CONFIGURED");
  });

  test("an unclaimed agent key is refused every connector verb (scopes), over REST and MCP", async () => {
    const reg = await client(srv)("POST", "/agent/auth", { body: { type: "anonymous" } });
    expect(reg.status).toBe(200);
    const agent = client(srv, { apiKey: reg.body.credential });
    expectError(await agent("GET", "/api/v1/connectors"), 403, "permission_error", "SCOPE_REQUIRED");
    expectError(await agent("GET", "/api/v1/connectors/local/sources/app/content?path=README.md"), 403, "permission_error", "SCOPE_REQUIRED");
    expectError(await agent("POST", "/api/v1/connectors/github/connect", { body: { token: "t" } }), 403, "permission_error", "SCOPE_REQUIRED");
    // Nor can it read a source through a run: the run would show the model, and its record the agent, the files.
    const viaRun = await agent("POST", "/api/v1/skills/code-review/run", { body: { input: "x", connector: { type: "local", fields: { source: "app" } } } });
    expectError(viaRun, 403, "permission_error", "SCOPE_REQUIRED");
    const mcp = await connectMcp(srv.url, "streamable", { "x-api-key": reg.body.credential });
    clients.push(mcp);
    expect((await toolError(mcp, "get-source-content", { connector: "local", source: "app", path: "README.md" })).code).toBe("SCOPE_REQUIRED");
  });

  test("without CLANKER_LOCAL_SOURCES the connector says it is not configured", async () => {
    const bare = await startServer();
    try {
      const c = client(bare, { apiKey: await bare.createKey() });
      const r = await c("GET", "/api/v1/connectors/local");
      expect(r.body).toMatchObject({ configured: false, connected: false });
      expect(r.body.reason).toContain("CLANKER_LOCAL_SOURCES");
      expectError(await c("GET", "/api/v1/connectors/local/sources"), 400, "invalid_request_error", "CONNECTOR_NOT_CONFIGURED");
    } finally {
      await bare.stop();
      cleanup(bare);
    }
  }, 30_000);
});

describe("local connector over MCP", () => {
  test("list-connectors, get-connector-status, list-sources, list-branches, get-source-content", async () => {
    const list = await toolOk(ownerMcp, "list-connectors");
    expect(list.data.map((c: any) => c.id).sort()).toEqual(["github", "local", "remote"]);
    expect(await toolOk(ownerMcp, "get-connector-status", { connector: "local" })).toMatchObject({ configured: true, connected: true });
    expect((await toolOk(ownerMcp, "list-sources", { connector: "local", limit: 2 })).data.map((s: any) => s.id)).toEqual(["app", "notes"]);
    expect((await toolOk(ownerMcp, "list-branches", { connector: "local", source: "app" })).data.map((b: any) => b.name)).toEqual(["feature", "main"]);
    expect(await toolOk(ownerMcp, "get-source-content", { connector: "local", source: "app", path: "src/index.ts", ref: "feature" })).toMatchObject({
      type: "file",
      content: "export const main = 2; // feature\n",
    });
    expect((await toolError(ownerMcp, "get-source-content", { connector: "local", source: "app", path: "../x" })).code).toBe("PATH_OUTSIDE_SOURCE");
    expect((await toolError(ownerMcp, "get-source-content", { connector: "local", source: "app", path: "big.txt" })).code).toBe("SOURCE_FILE_TOO_LARGE");
  });

  test("connect-connector / disconnect-connector for local are no-ops; list-github-repos needs a github connection", async () => {
    expect(await toolOk(ownerMcp, "connect-connector", { connector: "local" })).toMatchObject({ connected: true });
    expect(await toolOk(ownerMcp, "disconnect-connector", { connector: "local" })).toMatchObject({ disconnected: false });
    expect((await toolError(ownerMcp, "list-github-repos", {})).code).toBe("CONNECTOR_NOT_CONNECTED");
  });
});

describe("what a local source's folder may hold that must not be followed or read", () => {
  let srv2: TestServer;
  let dir: string;
  let reader: Call;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "clanker-local-links-"));
    await makeRepo(join(dir, "outside", "private"), { "creds.txt": "PRIVATE-REPO-CONTENT" });
    const repos = join(dir, "roots", "repos");
    await makeRepo(join(repos, "good"), { "ok.txt": "fine" });
    await makeRepo(join(repos, "swapped"), { "ok.txt": "fine" });
    // A .git that is a link to a repository outside the roots, and one that is a gitdir: file naming it.
    mkdirSync(join(repos, "linked"));
    symlinkSync(join(dir, "outside", "private", ".git"), join(repos, "linked", ".git"));
    mkdirSync(join(repos, "pointed"));
    writeFileSync(join(repos, "pointed", ".git"), `gitdir: ${join(dir, "outside", "private", ".git")}\n`);
    // A folder holding a named pipe: reading it waits for a writer that never comes.
    mkdirSync(join(dir, "roots", "plain"));
    writeFileSync(join(dir, "roots", "plain", "a.txt"), "a\n");
    expect(Bun.spawnSync(["mkfifo", join(dir, "roots", "plain", "fifo")]).exitCode).toBe(0);
    srv2 = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", CLANKER_LOCAL_SOURCES: [repos, join(dir, "roots", "plain")].join(",") } });
    reader = client(srv2, { apiKey: await srv2.createKey() });
  }, 30_000);
  afterAll(async () => {
    await srv2?.stop();
    if (srv2) cleanup(srv2);
    rmSync(dir, { recursive: true, force: true });
  });

  test("a .git that is a link or a gitdir: file out of the roots is no repository here: not listed, not read (and one swapped in later is refused)", async () => {
    const ids = (await reader("GET", "/api/v1/connectors/local/sources")).body.data.map((s: any) => s.id);
    expect(ids).toEqual(["repos/good", "repos/swapped", "plain"]);
    for (const src of ["repos/linked", "repos/pointed"]) expectError(await content(reader, src, "?path=creds.txt"), 404, "not_found_error");
    expect((await content(reader, "repos/swapped", "?path=ok.txt")).status).toBe(200);
    rmSync(join(dir, "roots", "repos", "swapped", ".git"), { recursive: true, force: true });
    symlinkSync(join(dir, "outside", "private", ".git"), join(dir, "roots", "repos", "swapped", ".git"));
    const swapped = await content(reader, "repos/swapped", "?path=creds.txt");
    expect(swapped.status).toBeGreaterThanOrEqual(400);
    expect(swapped.text).not.toContain("PRIVATE-REPO-CONTENT");
  });

  test("a named pipe is neither listed nor read (its read held every request of the server)", async () => {
    const listing = await content(reader, "plain");
    expect(listing.body.entries.map((e: any) => e.name)).toEqual(["a.txt"]);
    const refused = await content(reader, "plain", "?path=fifo");
    expectError(refused, 400, "invalid_request_error", "NOT_A_FILE");
    expect(refused.body.error.message).toBe("fifo is not a regular file (a pipe, a device or a socket): it is not served");
    expect((await fetch(`${srv2.url}/healthz`)).status).toBe(200);
  });
});
