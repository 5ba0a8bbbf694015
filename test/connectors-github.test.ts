// The `github` connector against a fake GitHub speaking the real REST shapes (Octokit unchanged): connect by
// token and by the OAuth web flow (a confirmation page, then a same-origin post; state reuse and expiry, a demoted
// starter and a revoked key refused), Link-paged sources, branches, content (file,
// dir, binary, raw over 1 MB, too large, symlink, traversal), workspace isolation, roles, disconnect forgetting
// the token, and no plaintext token in any byte of the data dir.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { cleanup, client, startServer, uniqueEmail, type ApiResponse, type TestServer } from "./helpers/server";
import { storedBytes } from "./helpers/files";
import { expectError } from "./helpers/api";
import { runSql } from "./helpers/sql";
import { connectMcp, toolError, toolOk } from "./helpers/mcp-client";
import { startFakeGithub, type FakeGithub, githubOAuthEnv } from "./helpers/fake-github";
import { freePort } from "./helpers/suite";
import { confirmCallback, openConfirmation, postConfirmation, unescape } from "./helpers/oauth-confirm";

type Call = ReturnType<typeof client>;
const TOKEN = `ghp_${randomBytes(18).toString("hex")}`;
const OTHER_TOKEN = `ghp_${randomBytes(18).toString("hex")}`;
const MAX = 1536 * 1024;
const BINARY = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 255, 254]);
const RAW_BIG = "r".repeat(1200 * 1024); // over GitHub's 1 MB inline limit, under ours
let gh: FakeGithub;
let srv: TestServer;
let a: Call; // owner of workspace A (key)
let b: Call; // another person's workspace
let aKey: string;
let bKey: string;
const clients: Client[] = [];

const content = (call: Call, source: string, query = "") => call("GET", `/api/v1/connectors/github/sources/${encodeURIComponent(source)}/content${query}`);

beforeAll(async () => {
  const repos: Record<string, any> = {
    "octocat/alpha": {
      branches: {
        main: { "README.md": "# Alpha\n", "src/app.ts": "export const v = 'main';\n", "logo.png": BINARY, "raw-big.txt": RAW_BIG, "huge.bin": "h".repeat(MAX + 1), "out": { symlink: "/etc/passwd" } },
        dev: { "README.md": "# Alpha dev\n", "src/app.ts": "export const v = 'dev';\n" },
      },
    },
  };
  for (const n of ["beta", "gamma", "delta", "epsilon"]) repos[`octocat/${n}`] = { private: true, branches: { main: { "README.md": `# ${n}\n` } } };
  gh = startFakeGithub({ tokens: { [TOKEN]: "octocat", [OTHER_TOKEN]: "hubot" }, repos, clientId: "Iv1.client", clientSecret: "client-secret-xyz" });
  srv = await startServer({
    env: {
      CLANKER_RATE_LIMIT_PER_MINUTE: "10000",
      ...githubOAuthEnv(gh, "Iv1.client", "client-secret-xyz"),
      CLANKER_MAX_SOURCE_BYTES: String(MAX),
    },
  });
  aKey = await srv.createKey({ email: uniqueEmail("alice") });
  bKey = await srv.createKey({ email: uniqueEmail("bob") });
  a = client(srv, { apiKey: aKey });
  b = client(srv, { apiKey: bKey });
}, 30_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await srv?.stop();
  if (srv) cleanup(srv);
  gh?.stop();
});

describe("github by token (REST)", () => {
  test("a token GitHub refuses → 400 CONNECTOR_AUTH_FAILED, nothing stored; a rate-limited one → 429", async () => {
    expectError(await a("POST", "/api/v1/connectors/github/connect", { body: { token: "ghp_wrong" } }), 400, "invalid_request_error", "CONNECTOR_AUTH_FAILED");
    // A token pasted with the docs' ellipsis (or a typographic quote) cannot go in a header: the token's fault, not GitHub's.
    const pasted = await a("POST", "/api/v1/connectors/github/connect", { body: { token: "ghp_…" } });
    expectError(pasted, 400, "invalid_request_error", undefined, "token");
    expect(pasted.body.error.message).toContain("paste the token itself");
    const limited = await a("POST", "/api/v1/connectors/github/connect", { body: { token: "ghp_ratelimited" } });
    expectError(limited, 429, "rate_limit_error");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await a("GET", "/api/v1/connectors/github")).body).toMatchObject({ connected: false, account: null });
  });

  test("a GitHub that cannot be reached → 503 naming that, not an answer GitHub never gave; nothing stored", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const offline = await startServer({ env: { CLANKER_GITHUB_API_URL: url } });
    try {
      const call = client(offline, { apiKey: await offline.createKey({ email: uniqueEmail("offline") }) });
      const r = await call("POST", "/api/v1/connectors/github/connect", { body: { token: TOKEN } });
      expectError(r, 503, "overloaded_error", "CONNECTOR_UPSTREAM_ERROR");
      expect(r.body.error.message).toStartWith("Could not reach GitHub (");
      expect(r.body.error.message).not.toContain("answered");
      expect((await call("GET", "/api/v1/connectors/github")).body).toMatchObject({ connected: false });
    } finally {
      await offline.stop();
      cleanup(offline);
    }
  });

  test("a GitHub that answers 200 with what its API never returns → 503 saying so: no account stored, no code quoted, the caller's path not blamed", async () => {
    // Say a proxy's page at CLANKER_GITHUB_API_URL: JSON for /user with one token (so a connection exists), else not.
    const impostor = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req) =>
        new URL(req.url).pathname === "/user" && req.headers.get("authorization")?.endsWith("ghp_fine")
          ? Response.json({ login: "someone" })
          : new Response("<html>not json", { headers: { "content-type": "application/json" } }),
    });
    const odd = await startServer({ env: { CLANKER_GITHUB_API_URL: `http://127.0.0.1:${impostor.port}` } });
    try {
      const call = client(odd, { apiKey: await odd.createKey({ email: uniqueEmail("impostor") }) });
      const refused = await call("POST", "/api/v1/connectors/github/connect", { body: { token: "ghp_other" } });
      expectError(refused, 503, "overloaded_error", "CONNECTOR_UPSTREAM_ERROR");
      expect(refused.body.error.message).toContain("CLANKER_GITHUB_API_URL");
      expect((await call("GET", "/api/v1/connectors/github")).body).toMatchObject({ connected: false, account: null });
      // No token and no OAuth app on this server: refused, and no OAuth flow is recorded as started.
      expectError(await call("POST", "/api/v1/connectors/github/connect", { body: {} }), 400, "invalid_request_error", undefined, "token");
      expect((await call("GET", "/api/v1/audit-logs?action=connector.oauth_start")).body.data).toEqual([]);
      expect((await call("POST", "/api/v1/connectors/github/connect", { body: { token: "ghp_fine" } })).body).toMatchObject({ connected: true, account: "someone" });
      for (const path of ["/sources", "/sources/a%2Fb/branches", "/sources/a%2Fb/content?path=x", "/sources/a%2Fb/content"]) {
        const r = await call("GET", `/api/v1/connectors/github${path}`);
        expectError(r, 503, "overloaded_error", "CONNECTOR_UPSTREAM_ERROR");
        expect({ path, message: r.body.error.message }).toMatchObject({ message: expect.stringContaining("is not what its API returns") });
      }
    } finally {
      await odd.stop();
      cleanup(odd);
      impostor.stop(true);
    }
  });

  test("connect with a token: checked with GET /user, answer {connected, account}, audited without the token", async () => {
    const r = await a("POST", "/api/v1/connectors/github/connect", { body: { token: TOKEN }, headers: { "x-request-id": "gh-connect-1" } });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ connector: "github", connected: true, account: "octocat" });
    expect(gh.requests.some((q) => q.path === "/user" && q.authorization?.endsWith(TOKEN))).toBe(true);
    expect((await a("GET", "/api/v1/connectors/github")).body).toMatchObject({ connected: true, account: "octocat" });
    const audit = await a("GET", "/api/v1/audit-logs?action=connector.connect");
    expect(audit.body.data[0]).toMatchObject({ action: "connector.connect", resourceId: "github", requestId: "gh-connect-1" });
    expect(audit.text).not.toContain(TOKEN);
  });

  test("sources follow GitHub's Link pagination", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: ApiResponse = await a("GET", `/api/v1/connectors/github/sources?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(r.status).toBe(200);
      seen.push(...r.body.data.map((s: any) => s.id));
      expect(r.body.has_more).toBe(r.body.next_cursor !== null);
      cursor = r.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen.sort()).toEqual(["octocat/alpha", "octocat/beta", "octocat/delta", "octocat/epsilon", "octocat/gamma"]);
    expect(gh.requests.some((q) => q.path.startsWith("/user/repos") && q.path.includes("page=3"))).toBe(true);
  });

  test("branches, with the default marked", async () => {
    const r = await a("GET", `/api/v1/connectors/github/sources/${encodeURIComponent("octocat/alpha")}/branches`);
    expect(r.body.data.map((x: any) => [x.name, x.default])).toEqual([["main", true], ["dev", false]]);
    expectError(await a("GET", `/api/v1/connectors/github/sources/${encodeURIComponent("octocat/nope")}/branches`), 404, "not_found_error");
  });

  test("content: dir, file at a ref, binary as base64, raw over 1 MB, too large → 413, symlink and traversal → 400", async () => {
    const dir = await content(a, "octocat/alpha");
    expect(dir.body.type).toBe("dir");
    expect(dir.body.entries.find((e: any) => e.name === "src")).toEqual({ name: "src", type: "dir", size: null });
    expect((await content(a, "octocat/alpha", "?path=src/app.ts&ref=dev")).body).toEqual({ type: "file", path: "src/app.ts", ref: "dev", size: 24, content: "export const v = 'dev';\n" });
    expect((await content(a, "octocat/alpha", "?path=logo.png")).body).toMatchObject({ encoding: "base64", content: Buffer.from(BINARY).toString("base64"), size: BINARY.length });
    const raw = await content(a, "octocat/alpha", "?path=raw-big.txt");
    expect({ status: raw.status, size: raw.body.size, same: raw.body.content === RAW_BIG }).toEqual({ status: 200, size: RAW_BIG.length, same: true });
    expectError(await content(a, "octocat/alpha", "?path=huge.bin"), 413, "request_too_large", "SOURCE_FILE_TOO_LARGE");
    expectError(await content(a, "octocat/alpha", "?path=out"), 400, "invalid_request_error", "PATH_OUTSIDE_SOURCE");
    const before = gh.requests.length;
    expectError(await content(a, "octocat/alpha", `?path=${encodeURIComponent("../../user")}`), 400, "invalid_request_error", "PATH_OUTSIDE_SOURCE");
    expect(gh.requests.length).toBe(before); // refused before anything is asked of GitHub
    const missing = await content(a, "octocat/alpha", "?path=missing.txt");
    expectError(missing, 404, "not_found_error");
    expect(missing.body.error.message).toStartWith("GitHub has nothing at 'missing.txt' of octocat/alpha (GitHub: Not Found): check the repository's name");
    // An unknown repository or ref says so too, not "no path found with id 'octocat/nope:'".
    expect((await content(a, "octocat/nope")).body.error.message).toStartWith("GitHub has nothing at the top of octocat/nope (GitHub: Not Found)");
    expect((await content(a, "octocat/alpha", "?ref=no-such-branch")).body.error.message).toStartWith("GitHub has nothing at the top of octocat/alpha at ref 'no-such-branch'");
    expectError(await content(a, "not-a-repo"), 400, "invalid_request_error");
  });

  test("another workspace sees none of it: not connected there, and its own token acts as its own account", async () => {
    expect((await b("GET", "/api/v1/connectors/github")).body).toMatchObject({ connected: false, account: null });
    expectError(await b("GET", "/api/v1/connectors/github/sources"), 400, "invalid_request_error", "CONNECTOR_NOT_CONNECTED");
    expectError(await content(b, "octocat/alpha", "?path=README.md"), 400, "invalid_request_error", "CONNECTOR_NOT_CONNECTED");
  });
});

describe("github over MCP", () => {
  test("connect-connector with a token, list-github-repos, list-sources, list-branches, get-source-content, get-connector-status, disconnect-connector", async () => {
    const mcp = await connectMcp(srv.url, "streamable", { "x-api-key": bKey });
    clients.push(mcp);
    expect(await toolOk(mcp, "connect-connector", { connector: "github", token: OTHER_TOKEN })).toEqual({ connector: "github", connected: true, account: "hubot" });
    const repos = await toolOk(mcp, "list-github-repos", { limit: 3 });
    expect({ n: repos.data.length, has_more: repos.has_more, next: repos.next_cursor }).toEqual({ n: 3, has_more: true, next: "2" });
    expect((await toolOk(mcp, "list-sources", { connector: "github", limit: 3, cursor: "2" })).data.length).toBe(2);
    expect((await toolOk(mcp, "list-branches", { connector: "github", source: "octocat/alpha" })).data.map((x: any) => x.name)).toEqual(["main", "dev"]);
    expect(await toolOk(mcp, "get-source-content", { connector: "github", source: "octocat/alpha", path: "README.md" })).toMatchObject({ type: "file", content: "# Alpha\n" });
    expect(await toolOk(mcp, "get-connector-status", { connector: "github" })).toMatchObject({ connected: true, account: "hubot" });
    // Workspace A still acts as octocat: B's connection is B's alone.
    expect((await a("GET", "/api/v1/connectors/github")).body.account).toBe("octocat");
    expect(await toolOk(mcp, "disconnect-connector", { connector: "github" })).toEqual({ connector: "github", connected: false, disconnected: true });
    expect((await toolError(mcp, "list-github-repos", {})).code).toBe("CONNECTOR_NOT_CONNECTED");
  });
});

describe("github OAuth web flow", () => {
  async function authorize(call: Call): Promise<string> {
    const r = await call("POST", "/api/v1/connectors/github/connect", { body: {} });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ connector: "github", connected: false });
    const url = new URL(r.body.url);
    expect(`${url.origin}${url.pathname}`).toBe(`${gh.url}/login/oauth/authorize`);
    expect(url.searchParams.get("client_id")).toBe("Iv1.client");
    expect(url.searchParams.get("redirect_uri")).toBe(`${srv.url}/api/v1/connectors/github/callback`);
    expect(url.searchParams.get("state")!.length).toBeGreaterThan(20);
    // The person agrees at GitHub, which sends the browser back with a code and the state.
    const back = await fetch(url, { redirect: "manual" });
    expect(back.status).toBe(302);
    return back.headers.get("location")!;
  }

  const exchanges = () => gh.requests.filter((q) => q.path === "/login/oauth/access_token").length;

  test("connect without a token → authorize URL; the callback only asks; the confirmation exchanges the code and shows a page; the state works once", async () => {
    const email = uniqueEmail("carol");
    const c = client(srv, { apiKey: await srv.createKey({ email }) });
    const callback = await authorize(c);
    const before = exchanges();
    // The callback alone: a page naming GitHub, the workspace and who started, and nothing exchanged or stored.
    const { form, html: ask } = await openConfirmation(callback);
    const ws = (await c("GET", "/api/v1/workspaces/current")).body;
    expect(ask).toContain("Connect GitHub?");
    expect(unescape(ask)).toContain(`workspace <code>${ws.name}</code>`);
    expect(unescape(ask)).toContain(`<${email}> started this`);
    expect(form.action).toBe(`${srv.url}/api/v1/connectors/github/callback`);
    expect(exchanges()).toBe(before);
    expect((await c("GET", "/api/v1/connectors/github")).body.connected).toBe(false);
    // Opening it again is harmless: nothing was used up.
    expect((await openConfirmation(callback)).form).toEqual(form);

    const done = await postConfirmation(form);
    expect(done.status).toBe(200);
    expect(done.html).toContain("GitHub connected");
    expect(done.html).toContain("octocat");
    expect((await c("GET", "/api/v1/connectors/github")).body).toMatchObject({ connected: true, account: "octocat" });
    expect(gh.requests.some((q) => q.path === "/login/oauth/access_token" && q.body.client_secret === "client-secret-xyz")).toBe(true);
    const audit = await c("GET", "/api/v1/audit-logs?action=connector.connect");
    expect(audit.body.data[0]).toMatchObject({ resourceId: "github", metadata: { via: "oauth", account: "octocat" }, actor: { type: "apiKey" } });
    // Used once: the same callback again is refused, on the page and on a second post.
    const again = await fetch(callback);
    expect(again.status).toBe(400);
    expect(await again.text()).toContain("already used");
    const reposted = await postConfirmation(form);
    expect(reposted.status).toBe(400);
    expect(reposted.html).toContain("already used");
    // A state nobody issued is refused too.
    const forged = new URL(callback);
    forged.searchParams.set("state", "made-up-state-0000000000000000");
    expect((await fetch(forged)).status).toBe(400);
    expect((await postConfirmation({ ...form, state: "made-up-state-0000000000000000" })).status).toBe(400);
  });

  test("an expired state is refused and stores nothing", async () => {
    const d = client(srv, { apiKey: await srv.createKey({ email: uniqueEmail("dave") }) });
    const callback = await authorize(d);
    const { form } = await openConfirmation(callback);
    await runSql(srv, "UPDATE oauth_states SET expires_at = ? WHERE used_at IS NULL", Date.now() - 1000);
    const r = await fetch(callback);
    expect(r.status).toBe(400);
    expect(await r.text()).toContain("expired");
    const posted = await postConfirmation(form);
    expect(posted.status).toBe(400);
    expect(posted.html).toContain("expired");
    expect((await d("GET", "/api/v1/connectors/github")).body.connected).toBe(false);
  });

  test("a cross-site post and a browser signed in as another user are refused; the starter's cookie is fine", async () => {
    const email = uniqueEmail("erin");
    const e = client(srv, { apiKey: await srv.createKey({ email }) });
    const { form } = await openConfirmation(await authorize(e));
    expect((await postConfirmation(form, { origin: "http://127.0.0.1:1" })).status).toBe(403);
    const stranger = `clanker_session=${await srv.createSession(uniqueEmail("stranger"))}`;
    const refused = await postConfirmation(form, { headers: { cookie: stranger } });
    expect(refused.status).toBe(403);
    expect(refused.html).toContain("signed in as someone other than the person who started");
    expect((await e("GET", "/api/v1/connectors/github")).body.connected).toBe(false);
    // The starter, signed in in this browser, confirms a fresh flow.
    const done = await confirmCallback(await authorize(e), { cookie: `clanker_session=${await srv.createSession(email)}` });
    expect(done.status).toBe(200);
    expect((await e("GET", "/api/v1/connectors/github")).body).toMatchObject({ connected: true, account: "octocat" });
  });

  test("a starter demoted from owner to member since starting cannot complete (the role is checked now, not assumed)", async () => {
    const session = await srv.createSession(uniqueEmail("frank"));
    const f = client(srv, { session });
    const ws = (await f("GET", "/api/v1/workspaces/current")).body.id;
    const me = (await f("GET", "/api/v1/profile")).body.id;
    const { form } = await openConfirmation(await authorize(f));
    expect(await runSql(srv, "UPDATE memberships SET role = 'member' WHERE user_id = ? AND workspace_id = ?", Number(me.replace(/^usr_/, "")), Number(ws.replace(/^ws_/, "")))).toBe(1);
    const before = exchanges();
    const r = await postConfirmation(form, { headers: { cookie: `clanker_session=${session}` } });
    expect(r.status).toBe(403);
    expect(r.html).toContain("Only workspace owners and admins can connect connectors");
    expect(exchanges()).toBe(before);
    expect((await f("GET", "/api/v1/connectors/github")).body.connected).toBe(false);
  });

  test("a flow started with an API key revoked since cannot complete", async () => {
    const key = await srv.createKey({ email: uniqueEmail("gina") });
    const g = client(srv, { apiKey: key });
    const { form } = await openConfirmation(await authorize(g));
    expect(await runSql(srv, "UPDATE api_keys SET revoked_at = ? WHERE key_hash = ?", Date.now(), new Bun.CryptoHasher("sha256").update(key).digest("hex"))).toBe(1);
    const r = await postConfirmation(form);
    expect(r.status).toBe(403);
    expect(r.html).toContain("API key that started connecting has been revoked");
    const session = client(srv, { session: await srv.createSession(uniqueEmail("unrelated")) });
    expect((await session("GET", "/api/v1/connectors/github")).body.connected).toBe(false);
  });
});

describe("disconnect", () => {
  test("a member may not connect or disconnect github", async () => {
    const owner = await srv.createSession(uniqueEmail("owner"));
    const team = (await client(srv, { session: owner })("POST", "/api/v1/workspaces", { body: { name: "T" } })).body.id;
    // A member is simulated by demoting the owner's membership (there is no other way to be one without mail here).
    await runSql(srv, "UPDATE memberships SET role = 'member' WHERE workspace_id = ?", Number(team.replace(/^ws_/, "")));
    const m = client(srv, { session: owner, workspace: team });
    expectError(await m("POST", "/api/v1/connectors/github/connect", { body: { token: TOKEN } }), 403, "permission_error", "ROLE_REQUIRED");
    expectError(await m("DELETE", "/api/v1/connectors/github"), 403, "permission_error", "ROLE_REQUIRED");
  });

  test("forgets the token; no plaintext token in any byte of the data dir", async () => {
    const r = await a("DELETE", "/api/v1/connectors/github");
    expect(r.body).toEqual({ connector: "github", connected: false, disconnected: true });
    expect((await a("GET", "/api/v1/connectors/github")).body).toMatchObject({ connected: false, account: null });
    expectError(await a("GET", "/api/v1/connectors/github/sources"), 400, "invalid_request_error", "CONNECTOR_NOT_CONNECTED");
    expect((await a("GET", "/api/v1/audit-logs?action=connector.disconnect")).body.data.length).toBe(1);
    const files = await storedBytes(srv);
    // The control: the account name, which is stored in clear, is found by the same scan.
    expect(files.some((f) => f.bytes.includes(Buffer.from("octocat")))).toBe(true);
    for (const f of files) for (const t of [TOKEN, OTHER_TOKEN]) expect({ file: f.path, found: f.bytes.includes(Buffer.from(t)) }).toEqual({ file: f.path, found: false });
  });
});
