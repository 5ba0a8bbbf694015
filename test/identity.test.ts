// Identity resources over real HTTP: profile, workspaces (current, rebind, members), sessions with
// x-workspace-id, API keys, the audit trail and its filters, and isolation between workspaces.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cleanup, client, startServer, uniqueEmail, type ApiResponse, type TestServer } from "./helpers/server";

type Call = ReturnType<typeof client>;

let srv: TestServer;
const emailA = uniqueEmail("alice");
const emailB = uniqueEmail("bob");
let keyA: string;
let keyA2: string;
let keyB: string;
let a: Call; // alice's first key, stays bound to her personal workspace
let a2: Call; // alice's second key, the one we rebind
let b: Call; // bob's key, in his own personal workspace
let wsA: { id: string; slug: string };
let wsB: { id: string; slug: string };
let team: { id: string; slug: string; name: string };
const t0 = new Date(Date.now() - 1000).toISOString();

function expectError(r: ApiResponse, status: number, type: string, extra: { code?: string; param?: string } = {}) {
  expect({ status: r.status, type: r.body?.error?.type, text: r.text }).toMatchObject({ status, type });
  expect(Object.keys(r.body)).toEqual(["error"]);
  if (extra.code !== undefined) expect(r.body.error.code).toBe(extra.code);
  if (extra.param !== undefined) expect(r.body.error.param).toBe(extra.param);
}

async function audit(call: Call, query = ""): Promise<any[]> {
  const r = await call("GET", `/api/v1/audit-logs?limit=100${query}`);
  expect(r.status).toBe(200);
  return r.body.data;
}

const numeric = (id: string) => id.replace(/^[a-z]+_/, "");

beforeAll(async () => {
  // Away from UTC, as many hosts are: nothing the API reads or writes may move with the server's zone.
  srv = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", TZ: "Asia/Kolkata" } });
  keyA = await srv.createKey({ email: emailA, name: "alice main" });
  keyA2 = await srv.createKey({ email: emailA, name: "alice roaming" });
  keyB = await srv.createKey({ email: emailB, name: "bob main" });
  a = client(srv, { apiKey: keyA });
  a2 = client(srv, { apiKey: keyA2 });
  b = client(srv, { apiKey: keyB });
  const ca = await a("GET", "/api/v1/workspaces/current");
  const cb = await b("GET", "/api/v1/workspaces/current");
  expect(ca.status).toBe(200);
  expect(cb.status).toBe(200);
  wsA = ca.body;
  wsB = cb.body;
  expect(wsA.id).not.toBe(wsB.id);
});

afterAll(async () => {
  await srv?.stop();
  if (srv) cleanup(srv);
});

describe("profile", () => {
  test("GET /profile describes the key's user and workspace", async () => {
    const r = await a("GET", "/api/v1/profile");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ email: emailA, workspaceId: wsA.id, role: "owner", authMethod: "api_key" });
    expect(r.body.id).toMatch(/^usr_\d+$/);
    expect(r.body.apiKeyId).toMatch(/^key_\d+$/);
    expect(new Date(r.body.createdAt).toISOString()).toBe(r.body.createdAt);
    const rb = await b("GET", "/api/v1/profile");
    expect(rb.body.email).toBe(emailB);
    expect(rb.body.id).not.toBe(r.body.id);
  });

  test("PATCH /profile renames, and writes a profile.update audit row with the request id", async () => {
    const me = (await a("GET", "/api/v1/profile")).body;
    const r = await a("PATCH", "/api/v1/profile", { body: { name: "Ada Lovelace" }, headers: { "x-request-id": "identity-profile-1", "user-agent": "identity-test/1.0" } });
    expect(r.status).toBe(200);
    expect(r.body.name).toBe("Ada Lovelace");
    expect((await a("GET", "/api/v1/profile")).body.name).toBe("Ada Lovelace");
    // Another key of the same user sees the same profile.
    expect((await a2("GET", "/api/v1/profile")).body.name).toBe("Ada Lovelace");
    const rows = (await audit(a, "&action=profile.update")).filter((e) => e.requestId === "identity-profile-1");
    expect(rows.length).toBe(1);
    expect(rows[0]).toMatchObject({
      action: "profile.update",
      resourceType: "user",
      resourceId: me.id,
      actor: { type: "apiKey", userId: me.id, apiKeyId: me.apiKeyId },
      userAgent: "identity-test/1.0",
      requestId: "identity-profile-1",
    });
    expect(rows[0].id).toMatch(/^aud_\d+$/);
    expect(rows[0].ip).toBeTruthy();
    // A PATCH that changes nothing (no field, or the name it has) answers the profile and writes no audit row.
    const before = (await audit(a, "&action=profile.update")).length;
    for (const body of [{}, { name: "Ada Lovelace" }, { name: "  Ada Lovelace " }]) expect((await a("PATCH", "/api/v1/profile", { body })).body).toMatchObject({ id: me.id, name: "Ada Lovelace" });
    expect((await audit(a, "&action=profile.update")).length).toBe(before);
  });

  test("PATCH /profile with a blank name is 400 param name and changes nothing", async () => {
    expectError(await a("PATCH", "/api/v1/profile", { body: { name: "" } }), 400, "invalid_request_error", { param: "name" });
    expectError(await a("PATCH", "/api/v1/profile", { body: { name: "   " } }), 400, "invalid_request_error", { param: "name" });
    expect((await a("GET", "/api/v1/profile")).body.name).toBe("Ada Lovelace");
  });

  test("PATCH /profile with an unknown field is 400 naming it (email cannot be changed this way)", async () => {
    const r = await a("PATCH", "/api/v1/profile", { body: { email: "hijack@example.test" } });
    expectError(r, 400, "invalid_request_error", { param: "email" });
    expect((await a("GET", "/api/v1/profile")).body.email).toBe(emailA);
  });
});

describe("workspaces", () => {
  test("GET /workspaces/current is the personal workspace the key was made in", async () => {
    const r = await a("GET", "/api/v1/workspaces/current");
    expect(r.body).toMatchObject({ id: wsA.id, role: "owner", personal: true });
    expect(r.body.id).toMatch(/^ws_\d+$/);
  });

  test("POST /workspaces creates one the caller owns; GET /workspaces lists it first", async () => {
    const slug = `team-${process.pid}-${Date.now()}`;
    const r = await a("POST", "/api/v1/workspaces", { body: { name: "Team Rocket", slug }, headers: { "x-request-id": "identity-ws-create" } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: "Team Rocket", slug, role: "owner", personal: false });
    expect(r.body.id).toMatch(/^ws_\d+$/);
    team = r.body;
    const list = await a("GET", "/api/v1/workspaces");
    expect(list.status).toBe(200);
    expect(list.body.data.map((w: { id: string }) => w.id)).toEqual([team.id, wsA.id]);
    expect(list.body).toMatchObject({ first_id: team.id, last_id: wsA.id, has_more: false });
    // Bob does not see it.
    expect((await b("GET", "/api/v1/workspaces")).body.data.map((w: { id: string }) => w.id)).toEqual([wsB.id]);
  });

  test("POST /workspaces with a taken slug is 409, a bad slug is 400 param slug", async () => {
    expectError(await b("POST", "/api/v1/workspaces", { body: { name: "Copycat", slug: team.slug } }), 409, "conflict_error");
    expectError(await b("POST", "/api/v1/workspaces", { body: { name: "Bad", slug: "Not A Slug!" } }), 400, "invalid_request_error", { param: "slug" });
  });

  test("POST /workspaces without a slug makes one of the name; a taken one gets a suffix, later ones sorting later", async () => {
    const name = `  Tëam ${process.pid} -- ${Date.now()}!  `;
    // Accents come off their letters, whether the name came composed (ë) or decomposed (e + U+0308).
    const root = `team-${process.pid}-${/\d+(?=!)/.exec(name)![0]}`;
    const made = [];
    for (let i = 0; i < 6; i++) {
      const r = await b("POST", "/api/v1/workspaces", { body: { name } });
      expect(r.status).toBe(200);
      made.push(r.body.slug as string);
    }
    expect(made[0]).toBe(root);
    const decomposed = await b("POST", "/api/v1/workspaces", { body: { name: name.normalize("NFD") } });
    expect(decomposed.body.slug).toMatch(new RegExp(`^${root}-[a-z0-9]{6}$`));
    for (const slug of made.slice(1)) expect(slug).toMatch(new RegExp(`^${root}-[a-z0-9]{6}$`));
    expect(new Set(made).size).toBe(6);
    // In the slug index, each lands next to the one before (insert.ts, clockSuffix): random ones were in order 1 time in 120.
    expect(made.slice(1).toSorted()).toEqual(made.slice(1));
    // The longest name still gives a slug one could ask for (1–48 of a-z, 0-9 and '-'), suffix included.
    const long = "W".repeat(100);
    for (let i = 0; i < 2; i++) {
      const slug = (await b("POST", "/api/v1/workspaces", { body: { name: long } })).body.slug as string;
      expect(slug).toMatch(/^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/);
      expect(slug.startsWith("w".repeat(40))).toBe(true);
    }
  });

  test("GET /workspaces/:id/members lists the members; prefixed and raw ids both work", async () => {
    const me = (await a("GET", "/api/v1/profile")).body;
    for (const ref of [wsA.id, numeric(wsA.id)]) {
      const r = await a("GET", `/api/v1/workspaces/${ref}/members`);
      expect(r.status).toBe(200);
      expect(r.body.data).toEqual([expect.objectContaining({ id: me.id, email: emailA, role: "owner" })]);
      expect(r.body.has_more).toBe(false);
    }
  });

  test("GET /workspaces/:id/members of another workspace → 404, never 403", async () => {
    for (const ref of [wsB.id, numeric(wsB.id), "ws_999999"]) {
      expectError(await a("GET", `/api/v1/workspaces/${ref}/members`), 404, "not_found_error");
    }
    expectError(await b("GET", `/api/v1/workspaces/${wsA.id}/members`), 404, "not_found_error");
    expectError(await b("GET", `/api/v1/workspaces/${team.id}/members`), 404, "not_found_error");
  });

  test("PUT /workspaces/current rebinds the key by id, by raw id and by slug", async () => {
    const r = await a2("PUT", "/api/v1/workspaces/current", { body: { workspace: team.id } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: team.id, role: "owner" });
    expect((await a2("GET", "/api/v1/workspaces/current")).body.id).toBe(team.id);
    expect((await a2("GET", "/api/v1/profile")).body.workspaceId).toBe(team.id);
    // The other key of the same user is not affected.
    expect((await a("GET", "/api/v1/workspaces/current")).body.id).toBe(wsA.id);
    // Now the key acts in the team: its members endpoint answers, the old one is 404.
    expect((await a2("GET", `/api/v1/workspaces/${team.id}/members`)).status).toBe(200);

    const bySlug = await a2("PUT", "/api/v1/workspaces/current", { body: { workspace: wsA.slug } });
    expect(bySlug.status).toBe(200);
    expect(bySlug.body.id).toBe(wsA.id);
    expect((await a2("GET", "/api/v1/workspaces/current")).body.id).toBe(wsA.id);

    const byRaw = await a2("PUT", "/api/v1/workspaces/current", { body: { workspace: numeric(team.id) } });
    expect(byRaw.status).toBe(200);
    expect((await a2("GET", "/api/v1/workspaces/current")).body.id).toBe(team.id);
    // The id as a JSON number too, as a binding takes a secret's.
    expect((await a2("PUT", "/api/v1/workspaces/current", { body: { workspace: Number(numeric(wsA.id)) } })).body.id).toBe(wsA.id);
    expect((await a2("PUT", "/api/v1/workspaces/current", { body: { workspace: Number(numeric(team.id)) } })).body.id).toBe(team.id);
    expect((await a2("PUT", "/api/v1/workspaces/current", { body: { workspace: 0 } })).body.error.param).toBe("workspace");
    // Past 2^53 a number arrives rounded: refused, not looked up (and echoed) as another.
    const huge = await a2("PUT", "/api/v1/workspaces/current", { raw: '{"workspace":99999999999999999999}', headers: { "content-type": "application/json" } });
    expect({ status: huge.status, param: huge.body.error?.param }).toEqual({ status: 400, param: "workspace" });

    const rows = await audit(a2, "&action=api_key.rebind");
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows[0]).toMatchObject({ action: "api_key.rebind", resourceType: "api_key", resourceId: (await a2("GET", "/api/v1/profile")).body.apiKeyId });
    // Rebinding to where it already is changes nothing: answered, not audited.
    expect((await a2("PUT", "/api/v1/workspaces/current", { body: { workspace: team.id } })).body.id).toBe(team.id);
    expect((await audit(a2, "&action=api_key.rebind")).length).toBe(rows.length);
  });

  test("PUT /workspaces/current to a workspace the owner does not belong to → 404, binding unchanged", async () => {
    const before = (await a2("GET", "/api/v1/workspaces/current")).body.id;
    for (const ref of [wsB.id, numeric(wsB.id), wsB.slug, "ws_999999", "no-such-slug"]) {
      expectError(await a2("PUT", "/api/v1/workspaces/current", { body: { workspace: ref } }), 404, "not_found_error");
    }
    expect((await a2("GET", "/api/v1/workspaces/current")).body.id).toBe(before);
    expectError(await b("PUT", "/api/v1/workspaces/current", { body: { workspace: team.id } }), 404, "not_found_error");
    expect((await b("GET", "/api/v1/workspaces/current")).body.id).toBe(wsB.id);
  });

  test("PUT /workspaces/current with a session → 400", async () => {
    const s = client(srv, { session: await srv.createSession(emailA) });
    expectError(await s("PUT", "/api/v1/workspaces/current", { body: { workspace: team.id } }), 400, "invalid_request_error");
    expect((await s("GET", "/api/v1/workspaces/current")).body.id).toBe(wsA.id);
  });

  test("PUT /workspaces/current without a body field is 400 param workspace", async () => {
    expectError(await a2("PUT", "/api/v1/workspaces/current", { body: {} }), 400, "invalid_request_error", { param: "workspace" });
  });
});

describe("sessions (x-auth-token, x-workspace-id)", () => {
  test("a session acts in the personal workspace by default", async () => {
    const s = client(srv, { session: await srv.createSession(emailA) });
    const r = await s("GET", "/api/v1/profile");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ email: emailA, workspaceId: wsA.id, authMethod: "session", apiKeyId: null, name: "Ada Lovelace" });
  });

  test("x-workspace-id switches to a workspace the user belongs to (prefixed or raw)", async () => {
    const token = await srv.createSession(emailA);
    for (const ref of [team.id, numeric(team.id)]) {
      const s = client(srv, { session: token, workspace: ref });
      expect((await s("GET", "/api/v1/profile")).body.workspaceId).toBe(team.id);
      expect((await s("GET", "/api/v1/workspaces/current")).body).toMatchObject({ id: team.id, role: "owner" });
    }
    // The team's audit trail holds its creation, with the request id that created it.
    const rows = await audit(client(srv, { session: token, workspace: team.id }), "&action=workspace.create");
    expect(rows).toEqual([expect.objectContaining({ action: "workspace.create", resourceType: "workspace", resourceId: team.id, requestId: "identity-ws-create" })]);
  });

  test("x-workspace-id of a workspace the user is not in → 404", async () => {
    const token = await srv.createSession(emailA);
    for (const ref of [wsB.id, numeric(wsB.id), "ws_999999"]) {
      expectError(await client(srv, { session: token, workspace: ref })("GET", "/api/v1/profile"), 404, "not_found_error");
    }
    const bob = await srv.createSession(emailB);
    expectError(await client(srv, { session: bob, workspace: team.id })("GET", "/api/v1/memory"), 404, "not_found_error");
  });

  test("x-workspace-id is ignored for API keys", async () => {
    const r = await client(srv, { apiKey: keyB, workspace: wsA.id })("GET", "/api/v1/profile");
    expect(r.status).toBe(200);
    expect(r.body.workspaceId).toBe(wsB.id);
  });

  test("a session's writes are audited as the user", async () => {
    const token = await srv.createSession(emailA);
    const s = client(srv, { session: token, workspace: team.id });
    expect((await s("PUT", "/api/v1/memory", { body: { content: "from a session" }, headers: { "x-request-id": "identity-session-write" } })).status).toBe(200);
    const rows = (await audit(s, "&action=memory.update")).filter((e) => e.requestId === "identity-session-write");
    expect(rows.length).toBe(1);
    expect(rows[0].actor).toMatchObject({ type: "user", apiKeyId: null, userId: (await s("GET", "/api/v1/profile")).body.id });
  });
});

describe("API keys", () => {
  test("the list shows this workspace's keys without any secret", async () => {
    const r = await a("GET", "/api/v1/api-keys");
    expect(r.status).toBe(200);
    const me = (await a("GET", "/api/v1/profile")).body;
    const ids = r.body.data.map((k: { id: string }) => k.id);
    expect(ids).toContain(me.apiKeyId);
    for (const k of r.body.data) {
      expect(Object.keys(k).sort()).toEqual(["createdAt", "id", "last4", "lastUsedAt", "name", "owner", "prefix", "revokedAt", "status", "userId", "workspaceId"]);
      expect(k.workspaceId).toBe(wsA.id);
    }
    expect(r.text).not.toContain(keyA);
    expect(r.text).not.toContain(keyB);
  });

  test("create shows the key once; it works and is bound to the creator's workspace", async () => {
    const r = await a("POST", "/api/v1/api-keys", { body: { name: "CI pipeline" }, headers: { "x-request-id": "identity-key-create" } });
    expect(r.status).toBe(200);
    expect(r.body.key).toMatch(/^ck_[A-Za-z0-9_-]{43}$/);
    expect(r.body).toMatchObject({ name: "CI pipeline", status: "active", workspaceId: wsA.id, revokedAt: null, prefix: r.body.key.slice(0, 7), last4: r.body.key.slice(-4) });
    const fresh = client(srv, { apiKey: r.body.key });
    const p = await fresh("GET", "/api/v1/profile");
    expect(p.body).toMatchObject({ email: emailA, workspaceId: wsA.id, apiKeyId: r.body.id });
    const rows = (await audit(a, "&action=api_key.create")).filter((e) => e.requestId === "identity-key-create");
    expect(rows).toEqual([expect.objectContaining({ resourceType: "api_key", resourceId: r.body.id })]);
  });

  test("revoking another workspace's key → 404, and it keeps working", async () => {
    const bobKeyId = (await b("GET", "/api/v1/profile")).body.apiKeyId;
    for (const ref of [bobKeyId, numeric(bobKeyId)]) expectError(await a("POST", `/api/v1/api-keys/${ref}/revoke`), 404, "not_found_error");
    expectError(await a("POST", "/api/v1/api-keys/key_999999/revoke"), 404, "not_found_error");
    expect((await b("GET", "/api/v1/profile")).status).toBe(200);
    const bobKeys = await b("GET", "/api/v1/api-keys");
    expect(bobKeys.body.data.find((k: { id: string }) => k.id === bobKeyId).status).toBe("active");
  });

  test("revoke (by raw id) → the key then gets 401 KEY_REVOKED; the list says revoked", async () => {
    const created = await a("POST", "/api/v1/api-keys", { body: { name: "short lived" } });
    const victim = client(srv, { apiKey: created.body.key });
    expect((await victim("GET", "/api/v1/profile")).status).toBe(200);
    const r = await a("POST", `/api/v1/api-keys/${numeric(created.body.id)}/revoke`, { headers: { "x-request-id": "identity-key-revoke" } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: created.body.id, status: "revoked" });
    expect(r.body.revokedAt).toBeTruthy();
    expect(r.body.key).toBeUndefined();
    expectError(await victim("GET", "/api/v1/profile"), 401, "authentication_error", { code: "KEY_REVOKED" });
    expectError(await victim("POST", "/api/v1/api-keys", { body: { name: "escape" } }), 401, "authentication_error", { code: "KEY_REVOKED" });
    const listed = (await a("GET", "/api/v1/api-keys?limit=100")).body.data.find((k: { id: string }) => k.id === created.body.id);
    expect(listed.status).toBe("revoked");
    const rows = (await audit(a, "&action=api_key.revoke")).filter((e) => e.requestId === "identity-key-revoke");
    expect(rows).toEqual([expect.objectContaining({ resourceType: "api_key", resourceId: created.body.id })]);
  });
});

describe("audit logs", () => {
  test("every entry has the documented fields", async () => {
    const rows = await audit(a);
    expect(rows.length).toBeGreaterThan(3);
    for (const e of rows) {
      expect(e.id).toMatch(/^aud_\d+$/);
      expect(typeof e.action).toBe("string");
      expect(typeof e.resourceType).toBe("string");
      expect(typeof e.requestId).toBe("string");
      expect(e.actor).toHaveProperty("type");
      expect(e).toHaveProperty("ip");
      expect(e).toHaveProperty("userAgent");
      expect(new Date(e.createdAt).toISOString()).toBe(e.createdAt);
    }
    const nums = rows.map((e) => Number(numeric(e.id)));
    expect(nums).toEqual([...nums].sort((x, y) => y - x));
  });

  test("action and resource_type filters", async () => {
    const creates = await audit(a, "&action=api_key.create");
    expect(creates.length).toBeGreaterThanOrEqual(2);
    for (const e of creates) expect(e.action).toBe("api_key.create");
    const keys = await audit(a, "&resource_type=api_key");
    expect(new Set(keys.map((e) => e.action))).toEqual(new Set(["api_key.create", "api_key.revoke", "api_key.rebind"]));
    for (const e of keys) expect(e.resourceType).toBe("api_key");
    const users = await audit(a, "&resource_type=user");
    expect(users.length).toBeGreaterThanOrEqual(1);
    for (const e of users) expect(e.resourceType).toBe("user");
    expect(await audit(a, "&action=no.such.action")).toEqual([]);
    const both = await audit(a, "&action=api_key.revoke&resource_type=api_key");
    expect(both.length).toBe(1);
  });

  test("start_date and end_date filters (dates and times, inclusive)", async () => {
    const all = await audit(a);
    // Days counted from the entries' own (newest first), not from now: run just after midnight UTC, "yesterday" held
    // the entries made just before it.
    const day = (from: string, offset: number) => new Date(Date.parse(from) + offset * 86_400_000).toISOString().slice(0, 10);
    const [newest, oldest] = [all[0].createdAt, all.at(-1).createdAt];
    expect(await audit(a, `&start_date=${day(newest, 1)}`)).toEqual([]);
    expect(await audit(a, `&end_date=${day(oldest, -1)}`)).toEqual([]);
    expect(await audit(a, `&start_date=${day(oldest, -1)}&end_date=${day(newest, 1)}`)).toEqual(all);
    expect(await audit(a, `&start_date=${encodeURIComponent(t0)}`)).toEqual(all);
    // A time window around one entry picks it (and only entries of that instant).
    const mid = all[Math.floor(all.length / 2)];
    const at = encodeURIComponent(mid.createdAt);
    const picked = await audit(a, `&start_date=${at}&end_date=${at}`);
    expect(picked.map((e) => e.id)).toContain(mid.id);
    for (const e of picked) expect(e.createdAt).toBe(mid.createdAt);
    const after = await audit(a, `&start_date=${encodeURIComponent(new Date(Date.parse(all[0].createdAt) + 1).toISOString())}`);
    expect(after).toEqual([]);
    // An end_date to the minute or to the second includes all of that minute or second, as a date includes its day.
    const minute = mid.createdAt.slice(0, 16) + "Z";
    const second = mid.createdAt.slice(0, 19) + "Z";
    for (const end of [minute, second]) expect((await audit(a, `&start_date=${encodeURIComponent(minute)}&end_date=${encodeURIComponent(end)}`)).map((e) => e.id)).toContain(mid.id);
    // A time without a zone is UTC, as every time the API writes (read in the server's zone, it was 5.5 h off here).
    const bare = mid.createdAt.slice(0, 19);
    expect((await audit(a, `&start_date=${encodeURIComponent(bare)}&end_date=${encodeURIComponent(bare)}`)).map((e) => e.id)).toContain(mid.id);
  });

  test("a bad date → 400 naming it", async () => {
    expectError(await a("GET", "/api/v1/audit-logs?start_date=yesterday"), 400, "invalid_request_error", { param: "start_date" });
    expectError(await a("GET", "/api/v1/audit-logs?start_date=2025-13-45"), 400, "invalid_request_error", { param: "start_date" });
    expectError(await a("GET", "/api/v1/audit-logs?end_date=not-a-date"), 400, "invalid_request_error", { param: "end_date" });
    // A day that does not exist, which Date.parse would roll over into March.
    for (const q of ["start_date=2026-02-30", "start_date=2026-02-30T00:00:00Z", "end_date=2025-04-31T10:00Z"]) expectError(await a("GET", `/api/v1/audit-logs?${q}`), 400, "invalid_request_error", { param: q.split("=")[0] });
    expect((await a("GET", "/api/v1/audit-logs?start_date=2024-02-29&end_date=2024-02-29T23:59Z")).status).toBe(200);
    // Years below 100 are years (Date.UTC would read 0001 as 1901): "from the start".
    expect((await a("GET", "/api/v1/audit-logs?start_date=0001-01-01&limit=1")).body.data.length).toBe(1);
  });

  test("cursors page through the trail", async () => {
    const all = await audit(a);
    const p1 = await a("GET", "/api/v1/audit-logs?limit=2");
    expect(p1.body.data.map((e: { id: string }) => e.id)).toEqual(all.slice(0, 2).map((e) => e.id));
    expect(p1.body.has_more).toBe(true);
    const p2 = await a("GET", `/api/v1/audit-logs?limit=2&after_id=${p1.body.last_id}`);
    expect(p2.body.data.map((e: { id: string }) => e.id)).toEqual(all.slice(2, 4).map((e) => e.id));
    const back = await a("GET", `/api/v1/audit-logs?limit=2&before_id=${p2.body.first_id}`);
    expect(back.body.data.map((e: { id: string }) => e.id)).toEqual(all.slice(0, 2).map((e) => e.id));
  });
});

describe("workspace isolation", () => {
  test("a key of workspace B never sees A's keys, audit rows or memory", async () => {
    const put = await a("PUT", "/api/v1/memory", { body: { content: "alice's private notes" }, headers: { "x-request-id": "identity-iso-mem" } });
    expect(put.status).toBe(200);
    const aKeys = (await a("GET", "/api/v1/api-keys?limit=100")).body.data.map((k: { id: string }) => k.id);
    const aAudit = await audit(a);
    expect(aKeys.length).toBeGreaterThan(0);

    const bKeys = await b("GET", "/api/v1/api-keys?limit=100");
    expect(bKeys.status).toBe(200);
    expect(bKeys.body.data.length).toBeGreaterThan(0);
    for (const k of bKeys.body.data) {
      expect(aKeys).not.toContain(k.id);
      expect(k.workspaceId).toBe(wsB.id);
    }

    const bAudit = await audit(b);
    const aAuditIds = new Set(aAudit.map((e) => e.id));
    const aRequestIds = new Set(aAudit.map((e) => e.requestId).filter((id) => id.startsWith("identity-")));
    expect(aRequestIds.size).toBeGreaterThan(2);
    for (const e of bAudit) {
      expect(aAuditIds.has(e.id)).toBe(false);
      expect(aRequestIds.has(e.requestId)).toBe(false);
    }
    expect(await audit(b, "&action=memory.update")).toEqual([]);

    const mem = await b("GET", "/api/v1/memory");
    expect(mem.status).toBe(200);
    expect(mem.body).toMatchObject({ content: "", version: 0 });
    expect(mem.text).not.toContain("alice");
    expect((await b("PUT", "/api/v1/memory", { body: { content: "bob's" } })).status).toBe(200);
    expect((await a("GET", "/api/v1/memory")).body.content).toBe("alice's private notes");
  });
});
