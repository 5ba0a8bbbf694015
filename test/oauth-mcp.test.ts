// OAuth 2.1 for MCP clients: the official SDK client, given only the server's /mcp URL, discovers the authorization
// server (RFC 9728 → RFC 8414), registers itself (RFC 7591), sends a person to /oauth/authorize with PKCE; the person
// approves with their session; the client trades the code for a key and connects. Then what must be refused is.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { discoverAuthorizationServerMetadata, discoverOAuthProtectedResourceMetadata } from "@modelcontextprotocol/sdk/client/auth.js";
import { client, startServer, uniqueEmail, type TestServer } from "./helpers/server";
import { makeTeam, type Team } from "./helpers/team";
import { callTool } from "./helpers/mcp-client";
import { MemoryProvider, beginAuthorization } from "./helpers/oauth-client";
import { stopAll } from "./helpers/suite";

const REDIRECT = "http://127.0.0.1:9/oauth/callback";

let srv: TestServer;
let team: Team;

beforeAll(async () => {
  // Registrations and token requests are public (rate-limited per address): this suite sends more than a client would.
  srv = await startServer({ env: { CLANKER_PUBLIC_RATE_LIMIT_PER_MINUTE: "100000" } });
  team = await makeTeam(srv, "Agents' team");
});
afterAll(async () => {
  await srv?.stop();
});

const form = (fields: Record<string, string>) => ({ raw: new URLSearchParams(fields).toString(), headers: { "content-type": "application/x-www-form-urlencoded" } });

/** The person's Approve (or Deny) on the consent page: the API call the page makes with their session. */
async function decide(url: URL, decision: "approve" | "deny", as: { session?: string; apiKey?: string; workspace?: string }, extra: Record<string, string> = {}) {
  const params = Object.fromEntries(url.searchParams);
  return client(srv, as)("POST", "/api/v1/oauth/authorize", { body: { decision, ...params, ...extra } });
}

describe("an MCP client signs in through a browser (OAuth 2.1 with PKCE)", () => {
  test("discovery documents are RFC 8414 / RFC 9728 and the SDK reads them", async () => {
    const meta = await discoverAuthorizationServerMetadata(new URL(srv.url));
    expect(meta).toMatchObject({
      issuer: srv.url,
      authorization_endpoint: `${srv.url}/oauth/authorize`,
      token_endpoint: `${srv.url}/oauth/token`,
      registration_endpoint: `${srv.url}/oauth/register`,
      response_types_supported: ["code"],
      code_challenge_methods_supported: ["S256"],
      authorization_response_iss_parameter_supported: true,
    });
    // The activation API is not RFC 8628's device endpoint: not advertised as one.
    expect((meta as Record<string, unknown>).device_authorization_endpoint).toBeUndefined();
    expect((meta as { agent_auth?: Record<string, string> }).agent_auth?.device_activation_uri).toBe(`${srv.url}/api/v1/activate`);
    const prm = await (await fetch(`${srv.url}/.well-known/oauth-protected-resource`)).json();
    expect(prm).toMatchObject({ resource: srv.url, authorization_servers: [srv.url] });
    // A client not told the metadata URL asks the path-suffixed form for /mcp first (RFC 9728 §3.1), as the SDK does.
    const forMcp = await discoverOAuthProtectedResourceMetadata(`${srv.url}/mcp`);
    expect(forMcp).toMatchObject({ resource: `${srv.url}/mcp`, authorization_servers: [srv.url] });
    const unauth = await fetch(`${srv.url}/mcp`, { method: "POST", headers: { "content-type": "application/json", accept: "application/json, text/event-stream" }, body: "{}" });
    expect(unauth.status).toBe(401);
    expect(unauth.headers.get("www-authenticate")).toContain(`resource_metadata="${srv.url}/.well-known/oauth-protected-resource"`);
  });

  test("register → authorize (consent page, approve in a team workspace) → token → the SDK client connects and acts there", async () => {
    const provider = new MemoryProvider(REDIRECT, "Desk <App>");
    const url = await beginAuthorization(srv.url, provider);
    expect(url.origin + url.pathname).toBe(`${srv.url}/oauth/authorize`);
    expect(url.searchParams.get("client_id")).toBe(provider.info!.client_id);
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("resource")).toBe(srv.url);

    // The page a browser opens: the app's name (escaped) and where the answer goes; signed out, the same page
    // (its script sends the person to sign in and back).
    const page = await fetch(url, { headers: { cookie: `clanker_session=${team.ownerSession}`, accept: "text/html" } });
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("Allow Desk &#60;App&#62; to use Clanker?");
    expect(html).toContain("<code>127.0.0.1:9</code>");
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");

    // The page sends the workspace it showed: one switched since (another tab) is refused, not approved unseen.
    const switched = await decide(url, "approve", { session: team.ownerSession, workspace: team.id }, { workspace_id: "ws_someotherone" });
    expect(switched.status).toBe(400);
    expect(switched.body.error.code).toBe("WORKSPACE_CHANGED");
    const approved = await decide(url, "approve", { session: team.ownerSession, workspace: team.id }, { workspace_id: team.id });
    expect(approved.status).toBe(200);
    const back = new URL(approved.body.redirect_to);
    expect(back.origin + back.pathname).toBe(REDIRECT);
    expect(back.searchParams.get("state")).toBe(provider.sentState);
    expect(back.searchParams.get("iss")).toBe(srv.url);
    const code = back.searchParams.get("code")!;
    expect(code.length).toBeGreaterThan(20);

    const transport = new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), { authProvider: provider });
    await transport.finishAuth(code);
    expect(provider.saved?.access_token).toMatch(/^ck_/);
    expect(provider.saved?.token_type).toBe("Bearer");

    const mcp = new Client({ name: "oauth-test", version: "1.0.0" });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), { authProvider: provider }));
    const note = `written over OAuth ${crypto.randomUUID()}`;
    const wrote = await callTool(mcp, "write-memory", { content: note, mode: "append" });
    expect(wrote.isError).toBeFalsy();
    await mcp.close();
    // In the workspace the person chose, not their personal one.
    expect((await team.owner("GET", "/api/v1/memory")).body.content).toContain(note);

    // The token is an API key of the person's, named after the app, listed and audited with the approval.
    const keys = await team.owner("GET", "/api/v1/api-keys");
    expect(keys.body.data.map((k: { name: string }) => k.name)).toContain("Desk <App> (MCP sign-in)");
    const audit = (await team.owner("GET", "/api/v1/audit-logs?limit=20")).body.data as { action: string; metadata: Record<string, unknown> | null }[];
    expect(audit.find((a) => a.action === "oauth.authorize")?.metadata).toMatchObject({ client_name: "Desk <App>", redirect_uri: REDIRECT });
    expect(audit.find((a) => a.action === "api_key.create" && a.metadata?.via === "oauth")).toBeDefined();

    // The code again (a replay): refused. Without the verifier (someone who saw the code in a browser's history)
    // that is all; with it, the key the code bought stops working (RFC 6749 §4.1.2).
    const replay = (verifier: string) => client(srv)("POST", "/oauth/token", form({ grant_type: "authorization_code", code, code_verifier: verifier, client_id: provider.info!.client_id, redirect_uri: REDIRECT }));
    expect((await replay("w".repeat(43))).body.error).toBe("invalid_grant");
    expect((await client(srv, { apiKey: provider.saved!.access_token })("GET", "/api/v1/profile")).status).toBe(200);
    const again = await replay(provider.verifier!);
    expect(again.status).toBe(400);
    expect(again.body.error).toBe("invalid_grant");
    const afterReplay = await client(srv, { apiKey: provider.saved!.access_token })("GET", "/api/v1/profile");
    expect(afterReplay.status).toBe(401);
    // What sends an MCP client back to sign in (RFC 6750 §3.1).
    expect(afterReplay.headers.get("www-authenticate")).toContain('error="invalid_token"');
    const revoked = (await team.owner("GET", "/api/v1/audit-logs?limit=20")).body.data.find((a: { action: string }) => a.action === "api_key.revoke");
    expect(revoked?.metadata).toMatchObject({ reason: "its OAuth code was redeemed twice" });
  });

  test("Deny sends the app access_denied with its state, and nothing is minted", async () => {
    const provider = new MemoryProvider(REDIRECT, "Denied App");
    const url = await beginAuthorization(srv.url, provider);
    const denied = await decide(url, "deny", { session: team.ownerSession });
    expect(denied.status).toBe(200);
    const back = new URL(denied.body.redirect_to);
    expect(back.searchParams.get("error")).toBe("access_denied");
    expect(back.searchParams.get("state")).toBe(provider.sentState);
    expect(back.searchParams.get("code")).toBeNull();
  });

  test("only a signed-in person approves: an API key cannot, nor can nobody", async () => {
    const provider = new MemoryProvider(REDIRECT);
    const url = await beginAuthorization(srv.url, provider);
    const key = await srv.createKey({ email: uniqueEmail("oauth-key") });
    const byKey = await decide(url, "approve", { apiKey: key });
    expect(byKey.status).toBe(403);
    expect(byKey.body.error.code).toBe("SESSION_REQUIRED");
    expect((await decide(url, "approve", {})).status).toBe(401);
  });

  test("the token endpoint checks the verifier, the client, the grant and the parameters", async () => {
    const provider = new MemoryProvider(REDIRECT);
    const url = await beginAuthorization(srv.url, provider);
    const code = new URL((await decide(url, "approve", { session: team.ownerSession })).body.redirect_to).searchParams.get("code")!;
    const clientId = provider.info!.client_id;
    const token = (fields: Record<string, string>) => client(srv)("POST", "/oauth/token", form({ grant_type: "authorization_code", code, client_id: clientId, redirect_uri: REDIRECT, ...fields }));

    const wrongVerifier = await token({ code_verifier: "x".repeat(43) });
    expect(wrongVerifier.status).toBe(400);
    expect(wrongVerifier.body).toMatchObject({ error: "invalid_grant" });
    expect(wrongVerifier.headers.get("cache-control")).toBe("no-store");
    expect((await token({ code_verifier: provider.verifier!, redirect_uri: "http://127.0.0.1:9/other" })).body.error).toBe("invalid_grant");
    expect((await token({ code_verifier: provider.verifier!, resource: "https://elsewhere.example.test" })).body.error).toBe("invalid_target");
    const other = await client(srv)("POST", "/oauth/register", { body: { client_name: "Other", redirect_uris: [REDIRECT] } });
    expect(other.status).toBe(201);
    expect((await token({ code_verifier: provider.verifier!, client_id: other.body.client_id })).body.error).toBe("invalid_grant");
    const unknown = await token({ code_verifier: provider.verifier!, client_id: "oac_nobody" });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error).toBe("invalid_client");
    expect((await token({ code_verifier: provider.verifier!, grant_type: "password" })).body.error).toBe("unsupported_grant_type");
    const twice = await client(srv)("POST", "/oauth/token", { raw: `grant_type=authorization_code&code=${code}&code=${code}&client_id=${clientId}&code_verifier=${provider.verifier}`, headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(twice.body).toMatchObject({ error: "invalid_request", error_description: "code is given more than once" });
    // A name repeated 300,000 times (3.6 MB, under the body limit) is read in one pass, not one per repeat.
    const flood = await client(srv)("POST", "/oauth/token", { raw: `grant_type=authorization_code&${"client_id=x&".repeat(300_000)}`, headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(flood.body).toMatchObject({ error: "invalid_request", error_description: "client_id is given more than once" });

    // None of those spent the code: the right request still gets a key that works.
    const good = await token({ code_verifier: provider.verifier! });
    expect(good.status).toBe(200);
    expect((await client(srv, { apiKey: good.body.access_token })("GET", "/api/v1/profile")).status).toBe(200);
  });

  test("a refusal before the endpoint (a malformed body, the rate limit) still answers in OAuth's shape", async () => {
    const tight = await startServer({ env: { CLANKER_PUBLIC_RATE_LIMIT_PER_MINUTE: "2" } });
    try {
      const call = client(tight);
      const malformed = await call("POST", "/oauth/register", { raw: "{not json", headers: { "content-type": "application/json" } });
      expect(malformed.status).toBe(400);
      expect(malformed.body).toEqual({ error: "invalid_client_metadata", error_description: expect.stringContaining("JSON") });
      let last = await call("POST", "/oauth/token", form({ grant_type: "authorization_code" }));
      for (let i = 0; i < 2 && last.status !== 429; i++) last = await call("POST", "/oauth/token", form({ grant_type: "authorization_code" }));
      expect(last.status).toBe(429);
      expect(last.body).toEqual({ error: "temporarily_unavailable", error_description: expect.any(String) });
      expect(Number(last.headers.get("retry-after"))).toBeGreaterThan(0);
    } finally {
      await stopAll([tight]);
    }
  });

  test("registration refuses redirect URIs a code must not go to", async () => {
    const register = (body: unknown) => client(srv)("POST", "/oauth/register", { body });
    for (const uri of ["http://app.example.test/cb", "javascript:alert(1)", "data:text/html,x", "https://app.example.test/cb#frag", "not a url"]) {
      const r = await register({ client_name: "Bad", redirect_uris: [uri] });
      expect(r.status).toBe(400);
      expect(r.body.error).toBe("invalid_redirect_uri");
    }
    expect((await register({ client_name: "Bad" })).body.error).toBe("invalid_redirect_uri");
    // What a page on another site can post without a CORS preflight: refused.
    const plain = await client(srv)("POST", "/oauth/register", { raw: JSON.stringify({ redirect_uris: [REDIRECT] }), headers: { "content-type": "text/plain" } });
    expect(plain.status).toBe(400);
    expect(plain.body.error).toBe("invalid_client_metadata");
    // The rule every name a person gives follows: one line, nothing hidden, something to see.
    for (const client_name of ["x\u0007", "Claude\u2028Desktop", "lone \ud800", "\u3164", "key\u202Etxt.exe", " "])
      expect([client_name, (await register({ client_name, redirect_uris: [REDIRECT] })).body.error]).toEqual([client_name, "invalid_client_metadata"]);
    expect((await register({ redirect_uris: [REDIRECT], grant_types: ["client_credentials"] })).body.error).toBe("invalid_client_metadata");
    // A native app's own scheme, a loopback http address and https anywhere are fine.
    const ok = await register({ client_name: "Native", redirect_uris: ["cursor://anysphere.cursor-mcp/oauth/callback", "http://localhost:33418/cb", "https://app.example.test/cb"], token_endpoint_auth_method: "client_secret_basic" });
    expect(ok.status).toBe(201);
    expect(ok.body).toMatchObject({ client_name: "Native", token_endpoint_auth_method: "none", grant_types: ["authorization_code"] });
    expect(ok.body.client_id).toMatch(/^oac_/);
    expect(ok.body.client_secret).toBeUndefined();
  });

  test("an app that signs in again gets a new key that replaces its old one, in that workspace only", async () => {
    const provider = new MemoryProvider(REDIRECT, "Repeat App");
    const signIn = async (as: { session: string; workspace?: string }) => {
      provider.authorizationUrl = undefined;
      const url = await beginAuthorization(srv.url, provider);
      const code = new URL((await decide(url, "approve", as)).body.redirect_to).searchParams.get("code")!;
      const r = await client(srv)("POST", "/oauth/token", form({ grant_type: "authorization_code", code, code_verifier: provider.verifier!, client_id: provider.info!.client_id, redirect_uri: REDIRECT }));
      expect(r.status).toBe(200);
      provider.saved = undefined;
      return r.body.access_token as string;
    };
    const works = async (key: string) => (await client(srv, { apiKey: key })("GET", "/api/v1/profile")).status;
    const first = await signIn({ session: team.ownerSession });
    const inTeam = await signIn({ session: team.ownerSession, workspace: team.id });
    expect(await works(first)).toBe(200);
    const second = await signIn({ session: team.ownerSession });
    expect(await works(second)).toBe(200);
    expect(await works(first)).toBe(401);
    expect(await works(inTeam)).toBe(200);

    // The app's key stays where it was approved, and is the only key the app holds: it neither moves to the person's
    // other workspaces nor makes keys that would outlive revoking it.
    const app = client(srv, { apiKey: inTeam });
    const personal = (await client(srv, { apiKey: second })("GET", "/api/v1/workspaces/current")).body.id;
    expect(personal).not.toBe(team.id);
    const moved = await app("PUT", "/api/v1/workspaces/current", { body: { workspace: personal } });
    expect({ status: moved.status, code: moved.body.error?.code }).toEqual({ status: 403, code: "APP_KEY_LIMITED" });
    expect((await app("PUT", "/api/v1/workspaces/current", { body: { workspace: team.id } })).status).toBe(200);
    const minted = await app("POST", "/api/v1/api-keys", { body: { name: "escape hatch" } });
    expect({ status: minted.status, code: minted.body.error?.code }).toEqual({ status: 403, code: "APP_KEY_LIMITED" });
    expect((await app("GET", "/api/v1/workspaces/current")).body.id).toBe(team.id);

    // Nor does it get one by replaying its person's idempotency-key: the person's answer (a new key, shown once) is
    // theirs, and the app's retry under the same key is a request of its own, refused as one.
    const idem = { "idempotency-key": "create-ci-key" };
    const persons = await client(srv, { session: team.ownerSession, workspace: team.id })("POST", "/api/v1/api-keys", { body: { name: "ci" }, headers: idem });
    expect(persons.status).toBe(200);
    const replayed = await app("POST", "/api/v1/api-keys", { body: { name: "ci" }, headers: idem });
    expect({ status: replayed.status, code: replayed.body.error?.code, leaked: replayed.text.includes(persons.body.key) }).toEqual({ status: 403, code: "APP_KEY_LIMITED", leaked: false });
  });

  test("registrations nobody approves are bounded: past 1,000 waiting, the oldest waiting one is forgotten", async () => {
    const kept = new MemoryProvider(REDIRECT, "Kept App");
    expect((await decide(await beginAuthorization(srv.url, kept), "approve", { session: team.ownerSession })).status).toBe(200);
    const register = () => client(srv)("POST", "/oauth/register", { body: { client_name: "Flood", redirect_uris: [REDIRECT] } });
    const oldest = (await register()).body.client_id as string;
    const authorize = (clientId: string) =>
      fetch(`${srv.url}/oauth/authorize?${new URLSearchParams({ response_type: "code", client_id: clientId, redirect_uri: REDIRECT, code_challenge: "c".repeat(43), code_challenge_method: "S256" })}`);
    expect((await authorize(oldest)).status).toBe(200);
    for (let i = 0; i < 20; i++) await Promise.all(Array.from({ length: 50 }, register));
    expect((await authorize(oldest)).status).toBe(400);
    const newest = (await register()).body.client_id as string;
    expect((await authorize(newest)).status).toBe(200);
    // An approved client is not "waiting": it stays.
    expect((await authorize(kept.info!.client_id)).status).toBe(200);
  });

  test("a loopback redirect matches whatever port the app listens on when it asks (RFC 8252 §7.3), nothing else does", async () => {
    const reg = await client(srv)("POST", "/oauth/register", { body: { client_name: "Native", redirect_uris: ["http://127.0.0.1/callback"] } });
    expect(reg.status).toBe(201);
    const verifier = "v".repeat(50);
    const challenge = new Bun.CryptoHasher("sha256").update(verifier).digest("base64url");
    const authorize = (redirect: string) =>
      new URL(`${srv.url}/oauth/authorize?${new URLSearchParams({ response_type: "code", client_id: reg.body.client_id, redirect_uri: redirect, code_challenge: challenge, code_challenge_method: "S256", state: "s1" })}`);
    expect((await fetch(authorize("http://127.0.0.1:54321/callback"))).status).toBe(200);
    for (const other of ["http://127.0.0.1:54321/elsewhere", "http://localhost:54321/callback", "https://127.0.0.1:54321/callback", "http://127.0.0.1:54321/callback?x=1"])
      expect((await fetch(authorize(other), { redirect: "manual" })).status).toBe(400);
    // The code is bound to the port it was sent to: the token request names that one.
    const code = new URL((await decide(authorize("http://127.0.0.1:54321/callback"), "approve", { session: team.ownerSession })).body.redirect_to);
    expect(code.port).toBe("54321");
    const token = (redirect: string) =>
      client(srv)("POST", "/oauth/token", form({ grant_type: "authorization_code", code: code.searchParams.get("code")!, code_verifier: verifier, client_id: reg.body.client_id, redirect_uri: redirect }));
    expect((await token("http://127.0.0.1:54322/callback")).body.error).toBe("invalid_grant");
    expect((await token("http://127.0.0.1:54321/callback")).body.access_token).toMatch(/^ck_/);
  });

  test("an authorization request with an unknown client or redirect URI is an error page; a bad one is sent back to the app", async () => {
    const provider = new MemoryProvider(REDIRECT);
    const url = await beginAuthorization(srv.url, provider);
    const get = async (change: Record<string, string | null>) => {
      const u = new URL(url);
      for (const [k, v] of Object.entries(change)) v === null ? u.searchParams.delete(k) : u.searchParams.set(k, v);
      return fetch(u, { redirect: "manual", headers: { accept: "text/html" } });
    };
    const unknown = await get({ client_id: "oac_nobody" });
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get("location")).toBeNull();
    expect(await unknown.text()).toContain("Unknown client_id");
    const elsewhere = await get({ redirect_uri: "https://attacker.example.test/cb" });
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.headers.get("location")).toBeNull();

    for (const [change, error] of [
      [{ code_challenge: null }, "invalid_request"],
      [{ code_challenge_method: "plain" }, "invalid_request"],
      [{ response_type: "token" }, "unsupported_response_type"],
      [{ resource: "https://elsewhere.example.test" }, "invalid_target"],
    ] as const) {
      const r = await get(change);
      expect(r.status).toBe(302);
      const back = new URL(r.headers.get("location")!);
      expect(back.origin + back.pathname).toBe(REDIRECT);
      expect(back.searchParams.get("error")).toBe(error);
      expect(back.searchParams.get("state")).toBe(provider.sentState);
      // RFC 9207, as the metadata promises: a client must refuse a response that does not say which server answered.
      expect(back.searchParams.get("iss")).toBe(srv.url);
    }
    // The approval API refuses the same requests with our error shape, and mints no code.
    const bad = new URL(url);
    bad.searchParams.set("code_challenge_method", "plain");
    const refused = await decide(bad, "approve", { session: team.ownerSession });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: "invalid_request", param: "code_challenge_method" });
  });
});
