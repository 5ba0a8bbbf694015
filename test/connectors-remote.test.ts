// The `remote` connector: git repositories by URL. file:// inside CLANKER_LOCAL_SOURCES read in place (outside,
// traversal, symlinks out refused); http(s) cloned shallowly through the SSRF-guarded client from a real git
// smart-HTTP server on 127.0.0.1 (the `git upload-pack` binary), bounded in size, refreshed after the TTL, one
// transfer shared by concurrent readers; disguised loopback refused with private targets off; REST, MCP and runs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import git from "isomorphic-git";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { cleanup, client, startServer, uniqueEmail, type TestServer } from "./helpers/server";
import { expectError, finished } from "./helpers/api";
import { connectMcp, toolError, toolOk } from "./helpers/mcp-client";
import { makeRepo } from "./helpers/git-repo";
import { startGitHttpServer, type GitHttpServer } from "./helpers/git-http";
import { startFakeModel, type FakeModel } from "./helpers/fake-models";
import { makeTeam, teamMember } from "./helpers/team";
import { guardedGitHttp } from "../src/modules/connectors/providers/git-http";

type Call = ReturnType<typeof client>;
let tmp: string;
let srv: TestServer;
let strict: TestServer;
let gitSrv: GitHttpServer;
let model: FakeModel;
let owner: Call;
let member: Call;
let ownerMcp: Client;
let fileUrl: string;
let webUrl: string;
const clients: Client[] = [];

const src = (url: string) => `/api/v1/connectors/remote/sources/${encodeURIComponent(url)}`;
const connect = (call: Call, url: string) => call("POST", "/api/v1/connectors/remote/connect", { body: { url } });

/** A new commit on `branch` of the repository at dir. */
async function commitOn(dir: string, branch: string, path: string, text: string) {
  await git.checkout({ fs, dir, ref: branch, force: true });
  fs.writeFileSync(join(dir, path), text);
  await git.add({ fs, dir, filepath: path });
  await git.commit({ fs, dir, message: `change ${path}`, author: { name: "Test", email: "test@example.test" } });
  await git.checkout({ fs, dir, ref: "main", force: true });
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(join(tmpdir(), "clanker-remote-src-"));
  const roots = join(tmp, "roots");
  await makeRepo(join(roots, "app"), { "README.md": "# App\nFILE-README-MARKER\n", "src/index.ts": "export const FILE_MAIN_MARKER = 1;\n" }, { feature: { "src/index.ts": "export const FILE_FEATURE_MARKER = 2;\n" } });
  fs.mkdirSync(join(roots, "plain"));
  await makeRepo(join(tmp, "outside", "repo"), { "secret.txt": "OUTSIDE-SECRET\n" });
  fs.symlinkSync(join(tmp, "outside", "repo"), join(roots, "link-out"));
  await makeRepo(join(tmp, "served", "web"), { "README.md": "# Web\nHTTP-README-MARKER\n", "lib/a.ts": "export const HTTP_MAIN = 1;\n" }, { feature: { "lib/a.ts": "export const HTTP_FEATURE_V1 = 1;\n" } });
  await makeRepo(join(tmp, "served", "big"), { "blob.bin": randomBytes(60_000) });
  gitSrv = startGitHttpServer({ web: join(tmp, "served", "web"), big: join(tmp, "served", "big"), slow1: join(tmp, "served", "web"), slow2: join(tmp, "served", "web") });
  model = startFakeModel("anthropic");
  fileUrl = pathToFileURL(join(roots, "app")).href;
  webUrl = `${gitSrv.url}/web.git`;

  const env = {
    CLANKER_RATE_LIMIT_PER_MINUTE: "10000",
    CLANKER_LOCAL_SOURCES: roots,
    CLANKER_REMOTE_MAX_BYTES: "20000",
    CLANKER_REMOTE_TTL_SECONDS: "1",
    ANTHROPIC_API_KEY: "sk-ant-test-remote-00000000000000000",
    ANTHROPIC_BASE_URL: model.url,
  };
  [srv, strict] = await Promise.all([
    startServer({ env: { ...env, CLANKER_WEBHOOK_ALLOW_PRIVATE: "true" } }),
    startServer({ env: { ...env, CLANKER_WEBHOOK_ALLOW_PRIVATE: "false" } }),
  ]);
  const t = await makeTeam(srv);
  owner = t.owner;
  member = (await teamMember(t)).call;
  ownerMcp = await connectMcp(srv.url, "streamable", { "x-auth-token": t.ownerSession, "x-workspace-id": t.id });
  clients.push(ownerMcp);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await Promise.allSettled([srv?.stop(), strict?.stop()]);
  if (srv) cleanup(srv);
  if (strict) cleanup(strict);
  gitSrv?.stop();
  model?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe("remote connector: file:// inside the local roots", () => {
  test("listed and configured; nothing to read before the workspace adds a URL; members may not add", async () => {
    const r = await member("GET", "/api/v1/connectors/remote");
    expect(r.body).toMatchObject({ id: "remote", configured: true, needsConnection: true, connected: false });
    expectError(await member("GET", "/api/v1/connectors/remote/sources"), 400, "invalid_request_error", "CONNECTOR_NOT_CONNECTED");
    expectError(await connect(member, fileUrl), 403, "permission_error", "ROLE_REQUIRED");
  });

  test("add, list-sources, list-branches, content (file and dir) at each branch", async () => {
    const c = await connect(owner, fileUrl);
    expect(c.status).toBe(200);
    expect(c.body).toMatchObject({ connector: "remote", connected: true, source: { id: fileUrl, name: "app", url: fileUrl } });
    expect((await member("GET", "/api/v1/connectors/remote")).body.connected).toBe(true);
    expect((await member("GET", "/api/v1/connectors/remote/sources")).body).toMatchObject({ data: [{ id: fileUrl, name: "app" }], has_more: false });
    const b = await member("GET", `${src(fileUrl)}/branches`);
    expect(b.body.data.map((x: any) => [x.name, x.default])).toEqual([["feature", false], ["main", true]]);
    const root = await member("GET", `${src(fileUrl)}/content`);
    expect(root.body).toMatchObject({ type: "dir", path: "", ref: "main" });
    expect(root.body.entries.map((e: any) => [e.name, e.type])).toEqual([["README.md", "file"], ["src", "dir"]]);
    const dir = await member("GET", `${src(fileUrl)}/content?path=src&ref=feature`);
    expect(dir.body).toMatchObject({ type: "dir", path: "src", ref: "feature", entries: [{ name: "index.ts", type: "file" }] });
    expect((await member("GET", `${src(fileUrl)}/content?path=src/index.ts`)).body).toMatchObject({ type: "file", ref: "main", content: "export const FILE_MAIN_MARKER = 1;\n" });
    expect((await member("GET", `${src(fileUrl)}/content?path=src/index.ts&ref=feature`)).body).toMatchObject({ ref: "feature", content: "export const FILE_FEATURE_MARKER = 2;\n" });
    const logs = await owner("GET", "/api/v1/audit-logs?action=connector.connect");
    expect(logs.body.data[0]).toMatchObject({ action: "connector.connect", resourceId: "remote" });
    expect(JSON.stringify(logs.body.data[0])).toContain(fileUrl);
  });

  test("file:// outside the roots, traversal, a symlink out, a non-repository, other schemes → 400; nothing added", async () => {
    const roots = join(tmp, "roots");
    for (const url of [
      pathToFileURL(join(tmp, "outside", "repo")).href,
      `file://${roots}/../outside/repo`,
      `file://${roots}/%2e%2e/outside/repo`,
      `file://${roots}/app/../../outside/repo`,
      pathToFileURL(join(roots, "link-out")).href,
      "file:///etc",
      `file://otherhost${roots}/app`,
      "ssh://git@example.test/x.git",
      "git://example.test/x.git",
    ]) {
      const r = await connect(owner, url);
      expect({ url, status: r.status, code: r.body?.error?.code }).toEqual({ url, status: 400, code: "SOURCE_URL_REFUSED" });
      expect(r.text).not.toContain("OUTSIDE-SECRET");
    }
    expectError(await connect(owner, pathToFileURL(join(roots, "plain")).href), 400, "invalid_request_error", "SOURCE_NOT_A_REPOSITORY");
    expectError(await connect(owner, "not a url"), 400, "invalid_request_error", "SOURCE_URL_INVALID");
    expect((await member("GET", "/api/v1/connectors/remote/sources")).body.data.map((s: any) => s.id)).toEqual([fileUrl]);
    // A URL the workspace has not added cannot be read, even one that would be allowed.
    expectError(await member("GET", `${src(pathToFileURL(join(roots, "plain")).href)}/branches`), 404, "not_found_error");
    expectError(await member("GET", `${src(fileUrl)}/content?path=${encodeURIComponent("../outside/repo/secret.txt")}`), 400, "invalid_request_error", "PATH_OUTSIDE_SOURCE");
  });

  test("a run with {type:'remote'} gives the model the files at the ref; another workspace is refused before the run", async () => {
    const r = await owner("POST", "/api/v1/skills/code-review/run", { body: { input: "Review REMOTE-RUN-1", connector: { type: "remote", fields: { source: fileUrl, ref: "feature", paths: ["src/"] } } } });
    expect(r.status).toBe(200);
    const done = await finished(owner, r.body.executionId);
    expect({ status: done.status, error: done.error }).toEqual({ status: "completed", error: null });
    const prompt = model.requests.map((q) => JSON.stringify(q.body)).find((b) => b.includes("REMOTE-RUN-1"))!;
    expect(prompt).toContain("FILE_FEATURE_MARKER");
    expect(prompt).toContain("FILE-README-MARKER");
    expect(prompt).not.toContain("FILE_MAIN_MARKER");
    expect(done.connector.context).toMatchObject({ connector: "remote", source: fileUrl, ref: "feature" });
    expect(done.connector.context.included.map((f: any) => f.path)).toEqual(["README.md", "src/index.ts"]);
    const other = client(srv, { apiKey: await srv.createKey({ email: uniqueEmail("other") }) });
    expectError(await other("POST", "/api/v1/skills/code-review/run", { body: { input: "x", connector: { type: "remote", fields: { url: fileUrl } } } }), 400, "invalid_request_error", "CONNECTOR_NOT_CONNECTED");
    // A URL this workspace never added (another's, or none) is refused up front, as the source routes refuse it: no
    // run that fails at its start.
    const runs = (await owner("GET", "/api/v1/executions?limit=100")).body.data.length;
    const unknown = `${fileUrl}-not-added`;
    expectError(await owner("POST", "/api/v1/skills/code-review/run", { body: { input: "x", connector: { type: "remote", fields: { url: unknown } } } }), 404, "not_found_error");
    expectError(await owner("GET", `/api/v1/connectors/remote/sources/${encodeURIComponent(unknown)}/branches`), 404, "not_found_error");
    expect((await owner("GET", "/api/v1/executions?limit=100")).body.data.length).toBe(runs);
  });
});

describe("remote connector: http(s) clones through the guarded client", () => {
  test("cloned shallowly into an owner-only cache; branches and content at each branch", async () => {
    const before = gitSrv.requests.length;
    const c = await connect(owner, webUrl);
    expect(c.status).toBe(200);
    expect(c.body.source).toMatchObject({ id: webUrl, name: "web" });
    expect(gitSrv.requests.slice(before)).toEqual(["GET /web.git/info/refs?service=git-upload-pack", "POST /web.git/git-upload-pack"]);
    const cache = join(srv.dataDir, "cache", "connectors", "remote");
    expect(fs.statSync(cache).mode & 0o077).toBe(0);
    const clones = fs.readdirSync(cache);
    expect(clones).toHaveLength(1);
    // Shallow: the clone knows the tips only.
    expect(fs.readFileSync(join(cache, clones[0]!, ".git", "shallow"), "utf8").trim().split("\n")).toHaveLength(2);
    const b = await member("GET", `${src(webUrl)}/branches`);
    expect(b.body.data.map((x: any) => [x.name, x.default])).toEqual([["feature", false], ["main", true]]);
    expect((await member("GET", `${src(webUrl)}/content?path=lib/a.ts`)).body.content).toBe("export const HTTP_MAIN = 1;\n");
    expect((await member("GET", `${src(webUrl)}/content?path=lib/a.ts&ref=feature`)).body.content).toBe("export const HTTP_FEATURE_V1 = 1;\n");
    expect((await member("GET", `${src(webUrl)}/content?path=lib`)).body).toMatchObject({ type: "dir", entries: [{ name: "a.ts", type: "file" }] });
    const sources = (await member("GET", "/api/v1/connectors/remote/sources")).body.data.map((s: any) => s.id);
    expect(sources).toEqual([fileUrl, webUrl]);
  });

  test("within the TTL reads fetch nothing; after it, concurrent readers share one refresh that brings new commits", async () => {
    const before = gitSrv.requests.length;
    await member("GET", `${src(webUrl)}/content?path=lib/a.ts&ref=feature`);
    expect(gitSrv.requests.length).toBe(before);
    await commitOn(join(tmp, "served", "web"), "feature", "lib/a.ts", "export const HTTP_FEATURE_V2 = 2;\n");
    await Bun.sleep(1100);
    const reads = await Promise.all(Array.from({ length: 5 }, () => member("GET", `${src(webUrl)}/content?path=lib/a.ts&ref=feature`)));
    for (const r of reads) expect(r.body.content).toBe("export const HTTP_FEATURE_V2 = 2;\n");
    expect(gitSrv.requests.slice(before).filter((q) => q.includes("info/refs"))).toHaveLength(1);
  });

  test("clones go one at a time, server-wide (each holds its whole pack in memory): two adds at once both succeed, one after the other", async () => {
    const [one, two] = await Promise.all(["remote-first", "remote-second"].map(async (who) => client(srv, { apiKey: await srv.createKey({ email: uniqueEmail(who) }) })));
    const [a, b] = await Promise.all([connect(one!, `${gitSrv.url}/slow1.git`), connect(two!, `${gitSrv.url}/slow2.git`)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(gitSrv.maxTransfers()).toBe(1);
  });

  test("a run names the URL (fields.url) and reads the clone", async () => {
    const r = await owner("POST", "/api/v1/skills/code-review/run", { body: { input: "Review REMOTE-RUN-2", connector: { type: "remote", fields: { url: webUrl, paths: ["lib/"] } } } });
    expect(r.status).toBe(200);
    const done = await finished(owner, r.body.executionId);
    expect(done.status).toBe("completed");
    const prompt = model.requests.map((q) => JSON.stringify(q.body)).find((b) => b.includes("REMOTE-RUN-2"))!;
    expect(prompt).toContain("HTTP-README-MARKER");
    expect(prompt).toContain("HTTP_MAIN");
  });

  test("the spec's {\"type\":\"remote\",\"fields\":{}} reads the workspace's one remote source; with two it names fields.source", async () => {
    const solo = client(srv, { apiKey: await srv.createKey({ email: uniqueEmail("solo") }) });
    const run = () => solo("POST", "/api/v1/skills/code-review/run", { body: { input: "Review REMOTE-SOLE", connector: { type: "remote", fields: {} } } });
    expectError(await run(), 400, "invalid_request_error", "CONNECTOR_NOT_CONNECTED");
    expect((await connect(solo, webUrl)).status).toBe(200);
    const r = await run();
    expect(r.status).toBe(200);
    expect((await finished(solo, r.body.executionId)).status).toBe("completed");
    expect(model.requests.map((q) => JSON.stringify(q.body)).find((b) => b.includes("REMOTE-SOLE"))).toContain("HTTP-README-MARKER");
    // This server's own folders are not for a workspace of someone else than its owner.
    expectError(await connect(solo, fileUrl), 400, "invalid_request_error", "SOURCE_URL_REFUSED", "url");
    // Two sources: which one is the caller's to say.
    expect((await connect(solo, `${gitSrv.url}/slow1.git`)).status).toBe(200);
    expectError(await run(), 400, "invalid_request_error", undefined, "connector.fields.source");
  });

  test("a repository over CLANKER_REMOTE_MAX_BYTES → 413 REMOTE_TOO_LARGE; not added, no half clone left", async () => {
    const cache = join(srv.dataDir, "cache", "connectors", "remote");
    const had = fs.readdirSync(cache).sort();
    expectError(await connect(owner, `${gitSrv.url}/big.git`), 413, "request_too_large", "REMOTE_TOO_LARGE");
    expect(fs.readdirSync(cache).sort()).toEqual(had);
    expect((await member("GET", "/api/v1/connectors/remote/sources")).body.data.map((s: any) => s.id)).not.toContain(`${gitSrv.url}/big.git`);
    expectError(await connect(owner, `${gitSrv.url}/missing.git`), 400, "invalid_request_error", "REMOTE_FETCH_FAILED");
  });

  test("a workspace has at most two fetches waiting or under way: a third is 429 at once (abandoned slow ones held every workspace's turn)", async () => {
    const slow = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: async () => (await Bun.sleep(1500), new Response("no", { status: 404 })) });
    try {
      const crowd = client(srv, { apiKey: await srv.createKey({ email: uniqueEmail("crowd") }) });
      const answers = await Promise.all([1, 2, 3].map((n) => connect(crowd, `http://127.0.0.1:${slow.port}/slow${n}.git`)));
      const limited = answers.filter((r) => r.status === 429);
      expect(limited).toHaveLength(1);
      expectError(limited[0]!, 429, "rate_limit_error", "RATE_LIMITED");
      expect(limited[0]!.body.error.message).toBe("This workspace already has 2 repositories being fetched: retry once they are done");
      expect(answers.filter((r) => r.status === 400)).toHaveLength(2);
      // Once they are done, it may fetch again.
      expectError(await connect(crowd, `http://127.0.0.1:${slow.port}/again.git`), 400, "invalid_request_error", "REMOTE_FETCH_FAILED");
    } finally {
      slow.stop(true);
    }
  });

  test("a URL that is no git server → 400 REMOTE_FETCH_FAILED saying so, without quoting what that server answered", async () => {
    const page = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("INTERNAL-PAGE-CONTENT of some service") });
    try {
      const r = await connect(owner, `http://127.0.0.1:${page.port}/repo.git`);
      expectError(r, 400, "invalid_request_error", "REMOTE_FETCH_FAILED");
      expect(r.body.error.message).toContain("does not answer as a git server");
      expect(r.text).not.toContain("INTERNAL-PAGE-CONTENT");
    } finally {
      page.stop(true);
    }
  });

  test("private targets off: disguised loopback and plain http refused (400), nothing fetched", async () => {
    const a = client(strict, { apiKey: await strict.createKey({ email: uniqueEmail("strict") }) });
    const before = gitSrv.requests.length;
    const port = new URL(gitSrv.url).port;
    for (const url of [`https://2130706433:${port}/web.git`, `https://0x7f.1:${port}/web.git`, `https://[::ffff:127.0.0.1]:${port}/web.git`, `https://127.1:${port}/web.git`, `https://localhost:${port}/web.git`, webUrl]) {
      const r = await connect(a, url);
      expect({ url, status: r.status, code: r.body?.error?.code }).toEqual({ url, status: 400, code: "SOURCE_URL_REFUSED" });
    }
    expect(gitSrv.requests.length).toBe(before);
    expect((await a("GET", "/api/v1/connectors/remote")).body.connected).toBe(false);
  });

  test("the guarded client itself: refuses a loopback name and a literal with private off, and bounds the bytes", async () => {
    const before = gitSrv.requests.length;
    const off = guardedGitHttp({ allowPrivate: false, timeoutMs: 5000, maxBytes: 1 << 20 });
    await expect(off.http.request({ url: `${webUrl}/info/refs?service=git-upload-pack` })).rejects.toThrow();
    expect(off.transfer.refused).toContain("plain http");
    await expect(off.http.request({ url: `https://localhost:${new URL(gitSrv.url).port}/web.git/info/refs` })).rejects.toThrow();
    expect(off.transfer.refused).toContain("loopback");
    expect(gitSrv.requests.length).toBe(before);
    const small = guardedGitHttp({ allowPrivate: true, timeoutMs: 5000, maxBytes: 10 });
    const res = await small.http.request({ url: `${webUrl}/info/refs?service=git-upload-pack` });
    expect(res.statusCode).toBe(200);
    await expect((async () => {
      for await (const _ of res.body);
    })()).rejects.toThrow();
    expect(small.transfer.tooLarge).toBe(true);
    const slow = guardedGitHttp({ allowPrivate: true, timeoutMs: 300, maxBytes: 1 << 20 });
    const t0 = Date.now();
    await expect(slow.http.request({ url: `${gitSrv.url}/stall.git/info/refs?service=git-upload-pack` })).rejects.toThrow();
    expect(slow.transfer.timedOut).toBe(true);
    expect(Date.now() - t0).toBeLessThan(3000);
    // The deadline is the transfer's, not each request's: a later request past it is not even sent.
    await Bun.sleep(50);
    await expect(slow.http.request({ url: `${webUrl}/info/refs?service=git-upload-pack` })).rejects.toThrow("time is up");
  });
});

describe("remote connector over MCP", () => {
  test("list-connectors, connect-connector {url}, list-sources, list-branches, get-source-content; a refused URL is a tool error", async () => {
    const list = await toolOk(ownerMcp, "list-connectors");
    expect(list.data.map((c: any) => c.id).sort()).toEqual(["github", "local", "remote"]);
    expect(list.data.find((c: any) => c.id === "remote")).toMatchObject({ configured: true, connected: true });
    const added = await toolOk(ownerMcp, "connect-connector", { connector: "remote", url: webUrl });
    expect(added).toMatchObject({ connected: true, source: { id: webUrl } });
    expect((await toolOk(ownerMcp, "list-sources", { connector: "remote", limit: 1 })).data.map((s: any) => s.id)).toEqual([fileUrl]);
    expect((await toolOk(ownerMcp, "list-branches", { connector: "remote", source: fileUrl })).data.map((b: any) => b.name)).toEqual(["feature", "main"]);
    expect(await toolOk(ownerMcp, "get-source-content", { connector: "remote", source: webUrl, path: "README.md" })).toMatchObject({ type: "file", content: "# Web\nHTTP-README-MARKER\n" });
    expect((await toolError(ownerMcp, "connect-connector", { connector: "remote", url: pathToFileURL(join(tmp, "outside", "repo")).href })).code).toBe("SOURCE_URL_REFUSED");
    expect((await toolError(ownerMcp, "get-source-content", { connector: "remote", source: fileUrl, path: "../x" })).code).toBe("PATH_OUTSIDE_SOURCE");
  });

  test("one source can be removed (REST ?source=, MCP source), audited; the others stay", async () => {
    expectError(await member("DELETE", `/api/v1/connectors/remote?source=${encodeURIComponent(webUrl)}`), 403, "permission_error", "ROLE_REQUIRED");
    const r = await owner("DELETE", `/api/v1/connectors/remote?source=${encodeURIComponent(webUrl)}`);
    expect(r.body).toEqual({ connector: "remote", connected: true, disconnected: false, source: webUrl });
    expect((await member("GET", "/api/v1/connectors/remote/sources")).body.data.map((s: any) => s.id)).toEqual([fileUrl]);
    expectError(await member("GET", `${src(webUrl)}/branches`), 404, "not_found_error");
    expectError(await owner("DELETE", `/api/v1/connectors/remote?source=${encodeURIComponent(webUrl)}`), 404, "not_found_error");
    expectError(await owner("DELETE", "/api/v1/connectors/github?source=a%2Fb"), 400, "invalid_request_error");
    expect((await toolOk(ownerMcp, "connect-connector", { connector: "remote", url: webUrl })).connected).toBe(true);
    expect(await toolOk(ownerMcp, "disconnect-connector", { connector: "remote", source: webUrl })).toMatchObject({ connected: true, source: webUrl });
    expect((await owner("GET", "/api/v1/audit-logs?action=connector.source_remove")).body.data).toHaveLength(2);
  });

  test("disconnect forgets the workspace's remote sources", async () => {
    expectError(await member("DELETE", "/api/v1/connectors/remote"), 403, "permission_error", "ROLE_REQUIRED");
    expect((await toolOk(ownerMcp, "disconnect-connector", { connector: "remote" })).disconnected).toBe(true);
    expectError(await member("GET", `${src(fileUrl)}/branches`), 400, "invalid_request_error", "CONNECTOR_NOT_CONNECTED");
  });
});
