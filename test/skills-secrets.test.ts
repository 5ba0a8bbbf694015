// Installed skills, secrets and their bindings, and BYOK over real HTTP: round-trips, idempotency, validation,
// isolation between workspaces (404, never 403), audit rows, and no plaintext in any file of the data dir.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, statSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { cleanup, client, startServer, testDialect, uniqueEmail, type ApiResponse, type TestServer } from "./helpers/server";
import { filesUnder, storedBytes } from "./helpers/files";

type Call = ReturnType<typeof client>;

let srv: TestServer;
let a: Call; // alice, in her personal workspace
let b: Call; // bob, another workspace
let wsA: string;

/** Every plaintext this file sends as a secret value or a BYOK key: none may reach the data dir or the log. */
const plaintexts: string[] = [];
const secretValue = (tag: string) => {
  const v = `plain-${tag}-${randomBytes(12).toString("hex")}`;
  plaintexts.push(v);
  return v;
};
const anthropicKey = () => {
  const k = `sk-ant-api03-${randomBytes(30).toString("base64url")}`;
  plaintexts.push(k);
  return k;
};

const numeric = (id: string) => id.replace(/^[a-z]+_/, "");

function expectError(r: ApiResponse, status: number, type: string, extra: { param?: string } = {}) {
  expect({ status: r.status, type: r.body?.error?.type, text: r.text }).toMatchObject({ status, type });
  expect(Object.keys(r.body)).toEqual(["error"]);
  if (extra.param !== undefined) expect({ param: r.body.error.param, text: r.text }).toMatchObject({ param: extra.param });
}

async function audit(call: Call, query = ""): Promise<any[]> {
  const r = await call("GET", `/api/v1/audit-logs?limit=100${query}`);
  expect(r.status).toBe(200);
  return r.body.data;
}

/** `control` is a secret's (non-secret) name: seeing it proves the scan reads what the store wrote. */
async function expectNoPlaintextIn(srv: TestServer, secrets: string[], control: string) {
  const dir = srv.dataDir;
  const files = await storedBytes(srv);
  const names = files.map((f) => (f.path.startsWith(dir) ? f.path.slice(dir.length + 1) : f.path));
  expect(names).toContain(testDialect() === "postgres" ? "postgres:secrets" : "clanker.db");
  expect(files.some((f) => f.bytes.includes(Buffer.from(control)))).toBe(true);
  for (const f of files) {
    for (const s of secrets) {
      expect({ file: f.path, found: f.bytes.includes(Buffer.from(s)) }).toEqual({ file: f.path, found: false });
    }
  }
  return names;
}

beforeAll(async () => {
  srv = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000" } });
  a = client(srv, { apiKey: await srv.createKey({ email: uniqueEmail("alice"), name: "alice" }) });
  b = client(srv, { apiKey: await srv.createKey({ email: uniqueEmail("bob"), name: "bob" }) });
  wsA = (await a("GET", "/api/v1/workspaces/current")).body.id;
  expect(wsA).toMatch(/^ws_\d+$/);
  expect((await b("GET", "/api/v1/workspaces/current")).body.id).not.toBe(wsA);
});

afterAll(async () => {
  await srv?.stop();
  if (srv) cleanup(srv);
});

// ---------------------------------------------------------------------------------------------------------
describe("installed skills", () => {
  test("GET /skills starts empty", async () => {
    const r = await a("GET", "/api/v1/skills");
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ data: [], first_id: null, last_id: null, has_more: false });
  });

  test("install → listed; installing again is harmless: listed once, ONE skill.install audit row", async () => {
    const r = await a("POST", "/api/v1/skills/code-review/install", { headers: { "x-request-id": "skills-install-1" } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ slug: "code-review", installed: true });
    expect(new Date(r.body.installedAt).toISOString()).toBe(r.body.installedAt);
    const again = await a("POST", "/api/v1/skills/code-review/install");
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ slug: "code-review", installed: true, installedAt: r.body.installedAt });
    const list = await a("GET", "/api/v1/skills");
    expect(list.body.data.map((s: { slug: string }) => s.slug)).toEqual(["code-review"]);
    expect(list.body.data[0]).toMatchObject({ id: "code-review", slug: "code-review", installed: true });
    const rows = (await audit(a, "&action=skill.install")).filter((e) => e.resourceId === "code-review");
    expect(rows.length).toBe(1);
    expect(rows[0]).toMatchObject({ action: "skill.install", requestId: "skills-install-1" });
  });

  test("uninstall → gone; uninstalling again is harmless with ONE skill.uninstall row; reinstall lists it again", async () => {
    const r = await a("POST", "/api/v1/skills/code-review/uninstall");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ slug: "code-review", installed: false });
    expect((await a("GET", "/api/v1/skills")).body.data).toEqual([]);
    const again = await a("POST", "/api/v1/skills/code-review/uninstall");
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ slug: "code-review", installed: false });
    expect((await audit(a, "&action=skill.uninstall")).filter((e) => e.resourceId === "code-review").length).toBe(1);
    // Uninstalling a skill that was never installed is harmless too.
    expect((await a("POST", "/api/v1/skills/summarize/uninstall")).status).toBe(200);
    expect((await a("GET", "/api/v1/skills")).body.data).toEqual([]);

    expect((await a("POST", "/api/v1/skills/code-review/install")).status).toBe(200);
    expect((await a("GET", "/api/v1/skills")).body.data.map((s: { slug: string }) => s.slug)).toEqual(["code-review"]);
    expect((await audit(a, "&action=skill.install")).filter((e) => e.resourceId === "code-review").length).toBe(2);
  });

  test("an unknown slug → 404 for install, uninstall and bindings", async () => {
    expectError(await a("POST", "/api/v1/skills/no-such-skill/install"), 404, "not_found_error");
    expectError(await a("POST", "/api/v1/skills/no-such-skill/uninstall"), 404, "not_found_error");
    expectError(await a("GET", "/api/v1/skills/no-such-skill/secrets"), 404, "not_found_error");
    expect((await a("GET", "/api/v1/skills")).body.data.map((s: { slug: string }) => s.slug)).not.toContain("no-such-skill");
    expect((await audit(a, "&action=skill.install")).filter((e) => e.resourceId === "no-such-skill")).toEqual([]);
  });

  test("GET /skills pages with slugs as cursors (after_id and before_id)", async () => {
    for (const slug of ["summarize", "data-analysis", "cold-email", "ai-seo", "brainstorming"]) {
      expect((await a("POST", `/api/v1/skills/${slug}/install`)).status).toBe(200);
    }
    const full = await a("GET", "/api/v1/skills?limit=100");
    const all: string[] = full.body.data.map((s: { slug: string }) => s.slug);
    expect(new Set(all)).toEqual(new Set(["code-review", "summarize", "data-analysis", "cold-email", "ai-seo", "brainstorming"]));
    expect(all.length).toBe(6);

    const pages: string[][] = [];
    let after = "";
    for (let i = 0; i < 10; i++) {
      const r: ApiResponse = await a("GET", `/api/v1/skills?limit=2${after ? `&after_id=${after}` : ""}`);
      expect(r.status).toBe(200);
      const ids: string[] = r.body.data.map((s: { id: string }) => s.id);
      expect(ids).toEqual(r.body.data.map((s: { slug: string }) => s.slug));
      expect(r.body.first_id).toBe(ids[0]);
      expect(r.body.last_id).toBe(ids[ids.length - 1]);
      pages.push(ids);
      if (!r.body.has_more) break;
      after = r.body.last_id;
    }
    expect(pages.length).toBe(3);
    expect(pages.flat()).toEqual(all);
    // Back from the last page.
    const back = await a("GET", `/api/v1/skills?limit=2&before_id=${pages[2]![0]}`);
    expect(back.status).toBe(200);
    expect(back.body.data.map((s: { slug: string }) => s.slug)).toEqual(pages[1]);
    expect(back.body.has_more).toBe(true);
    const first = await a("GET", `/api/v1/skills?limit=2&before_id=${pages[1]![0]}`);
    expect(first.body.data.map((s: { slug: string }) => s.slug)).toEqual(pages[0]);
    expect(first.body.has_more).toBe(false);

    // The last skill a client saw is uninstalled before it asks for the next page: its slug still marks the place.
    const seen = pages[0]![1]!;
    expect((await a("POST", `/api/v1/skills/${seen}/uninstall`)).status).toBe(200);
    const next = await a("GET", `/api/v1/skills?limit=2&after_id=${seen}`);
    expect(next.status).toBe(200);
    expect(next.body.data.map((s: { slug: string }) => s.slug)).toEqual(pages[1]);
    const before = await a("GET", `/api/v1/skills?limit=2&before_id=${seen}`);
    expect(before.body.data.map((s: { slug: string }) => s.slug)).toEqual([pages[0]![0]]);
    expect((await a("GET", "/api/v1/skills?limit=100")).body.data.map((s: { slug: string }) => s.slug)).toEqual(all.filter((s) => s !== seen));
    // Installed again, it is the newest install.
    expect((await a("POST", `/api/v1/skills/${seen}/install`)).status).toBe(200);
    expect((await a("GET", "/api/v1/skills?limit=1")).body.data.map((s: { slug: string }) => s.slug)).toEqual([seen]);
    // A slug this workspace never installed is no cursor.
    expectError(await a("GET", "/api/v1/skills?after_id=frontend-design"), 400, "invalid_request_error");
  });

  test("another workspace does not see these installs", async () => {
    const r = await b("GET", "/api/v1/skills");
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual([]);
    expect((await audit(b, "&action=skill.install"))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------------------
describe("secrets", () => {
  let openai: { id: string; name: string };
  const v1 = secretValue("openai");

  test("POST /secrets creates one (names only in the answer); a replay with the same idempotency-key is the same answer", async () => {
    const req = { body: { name: "OPENAI_KEY", value: v1 }, headers: { "idempotency-key": `create-openai-${Date.now()}` } };
    const r = await a("POST", "/api/v1/secrets", req);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: "OPENAI_KEY", workspaceId: wsA });
    expect(r.body.id).toMatch(/^sec_\d+$/);
    expect(r.body).not.toHaveProperty("value");
    expect(r.text).not.toContain(v1);
    expect(r.headers.get("idempotency-replayed")).toBeNull();
    openai = r.body;

    const replay = await a("POST", "/api/v1/secrets", req);
    expect(replay.status).toBe(200);
    expect(replay.headers.get("idempotency-replayed")).toBe("true");
    expect(replay.body).toEqual(r.body);
    expect(replay.text).not.toContain(v1);

    const list = await a("GET", "/api/v1/secrets");
    expect(list.body.data.filter((s: { name: string }) => s.name === "OPENAI_KEY").length).toBe(1);
    const rows = (await audit(a, "&action=secret.create")).filter((e) => e.resourceId === openai.id);
    expect(rows.length).toBe(1);
    expect(JSON.stringify(rows)).not.toContain(v1);
  });

  test("the list never contains a value", async () => {
    const v = secretValue("github");
    expect((await a("POST", "/api/v1/secrets", { body: { name: "GITHUB_TOKEN", value: v } })).status).toBe(200);
    const list = await a("GET", "/api/v1/secrets?limit=100");
    expect(list.status).toBe(200);
    expect(list.body.data.map((s: { name: string }) => s.name)).toEqual(expect.arrayContaining(["OPENAI_KEY", "GITHUB_TOKEN"]));
    for (const s of list.body.data) {
      expect(s).not.toHaveProperty("value");
      expect(s.id).toMatch(/^sec_\d+$/);
    }
    for (const p of plaintexts) expect(list.text).not.toContain(p);
  });

  test("PATCH renames and replaces the value (prefixed and raw ids), audited as secret.update", async () => {
    const renamed = await a("PATCH", `/api/v1/secrets/${openai.id}`, { body: { name: "OPENAI_API_TOKEN" } });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ id: openai.id, name: "OPENAI_API_TOKEN" });
    const v2 = secretValue("openai-rotated");
    const revalued = await a("PATCH", `/api/v1/secrets/${numeric(openai.id)}`, { body: { value: v2 } });
    expect(revalued.status).toBe(200);
    expect(revalued.body).toMatchObject({ id: openai.id, name: "OPENAI_API_TOKEN" });
    expect(revalued.text).not.toContain(v2);
    const list = await a("GET", "/api/v1/secrets?limit=100");
    expect(list.body.data.find((s: { id: string }) => s.id === openai.id)?.name).toBe("OPENAI_API_TOKEN");
    // Renamed to the name it has: nothing changes, nothing is audited.
    const same = await a("PATCH", `/api/v1/secrets/${openai.id}`, { body: { name: "OPENAI_API_TOKEN" } });
    expect({ status: same.status, updatedAt: same.body.updatedAt }).toEqual({ status: 200, updatedAt: revalued.body.updatedAt });
    const rows = (await audit(a, "&action=secret.update")).filter((e) => e.resourceId === openai.id);
    expect(rows.length).toBe(2);
    expect(JSON.stringify(rows)).not.toContain(v2);
    openai = renamed.body;
  });

  test("a duplicate name → 409 (on create and on rename)", async () => {
    expectError(await a("POST", "/api/v1/secrets", { body: { name: "GITHUB_TOKEN", value: secretValue("dup") } }), 409, "conflict_error");
    expectError(await a("PATCH", `/api/v1/secrets/${openai.id}`, { body: { name: "GITHUB_TOKEN" } }), 409, "conflict_error");
    const list = await a("GET", "/api/v1/secrets?limit=100");
    expect(list.body.data.filter((s: { name: string }) => s.name === "GITHUB_TOKEN").length).toBe(1);
    expect(list.body.data.find((s: { id: string }) => s.id === openai.id)?.name).toBe("OPENAI_API_TOKEN");
  });

  test("an invalid name → 400 param name", async () => {
    for (const name of ["has space", "semi;colon", "", "x".repeat(300)]) {
      expectError(await a("POST", "/api/v1/secrets", { body: { name, value: secretValue("bad-name") } }), 400, "invalid_request_error", { param: "name" });
    }
    expectError(await a("PATCH", `/api/v1/secrets/${openai.id}`, { body: { name: "has space" } }), 400, "invalid_request_error", { param: "name" });
    const names = (await a("GET", "/api/v1/secrets?limit=100")).body.data.map((s: { name: string }) => s.name);
    expect(names).not.toContain("has space");
  });

  test("an unknown secret → 404 for PATCH and DELETE", async () => {
    expectError(await a("PATCH", "/api/v1/secrets/sec_999999", { body: { name: "X" } }), 404, "not_found_error");
    expectError(await a("DELETE", "/api/v1/secrets/sec_999999"), 404, "not_found_error");
  });
});

// ---------------------------------------------------------------------------------------------------------
describe("bindings", () => {
  let sec: { id: string; name: string; updatedAt: string };
  let bind1: any;
  let bind2: any;

  beforeAll(async () => {
    const r = await a("POST", "/api/v1/secrets", { body: { name: "REVIEW_TOKEN", value: secretValue("review") } });
    expect(r.status).toBe(200);
    sec = r.body;
    expect((await a("POST", "/api/v1/skills/code-review/install")).status).toBe(200);
  });

  test("POST /skills/:slug/secrets binds with secretId as a number or as sec_N", async () => {
    const r1 = await a("POST", "/api/v1/skills/code-review/secrets", { body: { secretId: Number(numeric(sec.id)), envVar: "OPENAI_API_KEY" } });
    expect(r1.status).toBe(200);
    expect(r1.body).toMatchObject({ skillSlug: "code-review", secretId: sec.id, envVar: "OPENAI_API_KEY" });
    expect(typeof r1.body.id).toBe("string");
    bind1 = r1.body;
    const r2 = await a("POST", "/api/v1/skills/code-review/secrets", { body: { secretId: sec.id, envVar: "REVIEW_TOKEN_2" } });
    expect(r2.status).toBe(200);
    expect(r2.body).toMatchObject({ skillSlug: "code-review", secretId: sec.id, envVar: "REVIEW_TOKEN_2" });
    expect(r2.body.id).not.toBe(bind1.id);
    bind2 = r2.body;
    for (const p of plaintexts) {
      expect(r1.text).not.toContain(p);
      expect(r2.text).not.toContain(p);
    }
  });

  test("an invalid envVar → 400 param envVar", async () => {
    for (const envVar of ["1BAD", "has space", "A-B", "", "X=Y"]) {
      expectError(await a("POST", "/api/v1/skills/code-review/secrets", { body: { secretId: sec.id, envVar } }), 400, "invalid_request_error", { param: "envVar" });
    }
    const list = await a("GET", "/api/v1/skills/code-review/secrets");
    expect(list.body.data.length).toBe(2);
  });

  test("binding a secret that does not exist → 404", async () => {
    expectError(await a("POST", "/api/v1/skills/code-review/secrets", { body: { secretId: "sec_999999", envVar: "NOPE" } }), 404, "not_found_error");
  });

  test("GET /skills/:slug/secrets lists the bindings (no values); another skill's list is separate", async () => {
    const r = await a("GET", "/api/v1/skills/code-review/secrets");
    expect(r.status).toBe(200);
    expect(r.body.data.map((x: { id: string }) => x.id).sort()).toEqual([bind1.id, bind2.id].sort());
    for (const x of r.body.data) expect(x).toMatchObject({ skillSlug: "code-review", secretId: sec.id });
    expect(r.body.data.map((x: { envVar: string }) => x.envVar).sort()).toEqual(["OPENAI_API_KEY", "REVIEW_TOKEN_2"]);
    for (const p of plaintexts) expect(r.text).not.toContain(p);
    expect((await a("GET", "/api/v1/skills/summarize/secrets")).body.data).toEqual([]);
  });

  test("DELETE /skills/:slug/secrets/:id removes one binding; again → 404", async () => {
    const r = await a("DELETE", `/api/v1/skills/code-review/secrets/${bind2.id}`);
    expect(r.status).toBe(200);
    const list = await a("GET", "/api/v1/skills/code-review/secrets");
    expect(list.body.data.map((x: { id: string }) => x.id)).toEqual([bind1.id]);
    expectError(await a("DELETE", `/api/v1/skills/code-review/secrets/${bind2.id}`), 404, "not_found_error");
    // The secret itself is untouched.
    expect((await a("GET", "/api/v1/secrets?limit=100")).body.data.map((s: { id: string }) => s.id)).toContain(sec.id);
  });

  test("bind and unbind are audited", async () => {
    const binds = (await audit(a, "&action=skill.secret.bind")).map((e) => e.resourceId);
    expect(binds).toEqual(expect.arrayContaining([bind1.id, bind2.id]));
    const unbinds = (await audit(a, "&action=skill.secret.unbind")).map((e) => e.resourceId);
    expect(unbinds).toEqual([bind2.id]);
  });

  test("DELETE /secrets/:id removes the secret and all its bindings", async () => {
    const tmp = (await a("POST", "/api/v1/secrets", { body: { name: "SHORT_LIVED", value: secretValue("short") } })).body;
    for (const slug of ["code-review", "summarize"]) {
      expect((await a("POST", `/api/v1/skills/${slug}/secrets`, { body: { secretId: tmp.id, envVar: "SHORT_LIVED" } })).status).toBe(200);
    }
    const del = await a("DELETE", `/api/v1/secrets/${numeric(tmp.id)}`);
    expect(del.status).toBe(200);
    for (const slug of ["code-review", "summarize"]) {
      const list = await a("GET", `/api/v1/skills/${slug}/secrets`);
      expect(list.body.data.filter((x: { secretId: string }) => x.secretId === tmp.id)).toEqual([]);
    }
    // The other secret's binding stays.
    expect((await a("GET", "/api/v1/skills/code-review/secrets")).body.data.map((x: { id: string }) => x.id)).toEqual([bind1.id]);
    expect((await a("GET", "/api/v1/secrets?limit=100")).body.data.map((s: { id: string }) => s.id)).not.toContain(tmp.id);
    expectError(await a("DELETE", `/api/v1/secrets/${tmp.id}`), 404, "not_found_error");
    expectError(await a("PATCH", `/api/v1/secrets/${tmp.id}`, { body: { name: "BACK" } }), 404, "not_found_error");
    expect((await audit(a, "&action=secret.delete")).map((e) => e.resourceId)).toContain(tmp.id);
  });

  describe("workspace isolation", () => {
    test("another workspace gets 404 for the secret (PATCH, DELETE) and changes nothing", async () => {
      for (const ref of [sec.id, numeric(sec.id)]) {
        expectError(await b("PATCH", `/api/v1/secrets/${ref}`, { body: { name: "STOLEN" } }), 404, "not_found_error");
        expectError(await b("PATCH", `/api/v1/secrets/${ref}`, { body: { value: "overwritten" } }), 404, "not_found_error");
        expectError(await b("DELETE", `/api/v1/secrets/${ref}`), 404, "not_found_error");
      }
      const mine = (await a("GET", "/api/v1/secrets?limit=100")).body.data.find((s: { id: string }) => s.id === sec.id);
      expect(mine).toMatchObject({ id: sec.id, name: "REVIEW_TOKEN", updatedAt: sec.updatedAt });
      const theirs = await b("GET", "/api/v1/secrets?limit=100");
      expect(theirs.status).toBe(200);
      expect(theirs.body.data.map((s: { id: string }) => s.id)).not.toContain(sec.id);
      expect(theirs.text).not.toContain("REVIEW_TOKEN");
    });

    test("another workspace cannot see, delete or bind the first workspace's binding and secret", async () => {
      const list = await b("GET", "/api/v1/skills/code-review/secrets");
      expect(list.status).toBe(200);
      expect(list.body.data).toEqual([]);
      expectError(await b("DELETE", `/api/v1/skills/code-review/secrets/${bind1.id}`), 404, "not_found_error");
      expectError(await b("DELETE", `/api/v1/skills/code-review/secrets/${numeric(bind1.id)}`), 404, "not_found_error");
      for (const secretId of [sec.id, Number(numeric(sec.id))]) {
        expectError(await b("POST", "/api/v1/skills/code-review/secrets", { body: { secretId, envVar: "STOLEN" } }), 404, "not_found_error");
      }
      expect((await b("GET", "/api/v1/skills/code-review/secrets")).body.data).toEqual([]);
      expect((await a("GET", "/api/v1/skills/code-review/secrets")).body.data.map((x: { id: string }) => x.id)).toEqual([bind1.id]);
      expect(await audit(b, "&action=skill.secret.bind")).toEqual([]);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------
describe("BYOK", () => {
  let key1: string;

  test("GET /byok is initially configured: false", async () => {
    const r = await a("GET", "/api/v1/byok");
    expect(r.status).toBe(200);
    expect(r.body.configured).toBe(false);
    expect(r.body.last4 ?? null).toBeNull();
  });

  test("PUT a valid sk-ant-… key → configured with last4 only; the key appears nowhere in the answer", async () => {
    key1 = anthropicKey();
    const r = await a("PUT", "/api/v1/byok", { body: { anthropicKey: key1 } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ configured: true, last4: key1.slice(-4) });
    expect(r.text).not.toContain(key1);
    expect(r.text).not.toContain(key1.slice(0, -4));
    expect(r.text).not.toContain(key1.slice(13, -4));
    const g = await a("GET", "/api/v1/byok");
    expect(g.body).toMatchObject({ configured: true, last4: key1.slice(-4) });
    expect(g.text).not.toContain(key1.slice(13, -4));
    // Another workspace has none.
    expect((await b("GET", "/api/v1/byok")).body.configured).toBe(false);
  });

  test("PUT a malformed key → 400 param anthropicKey; the stored key is unchanged", async () => {
    for (const bad of ["not-a-key", "sk-live-abcdefghijklmnopqrstuvwxyz", "sk-ant-"]) {
      expectError(await a("PUT", "/api/v1/byok", { body: { anthropicKey: bad } }), 400, "invalid_request_error", { param: "anthropicKey" });
    }
    expect((await a("GET", "/api/v1/byok")).body).toMatchObject({ configured: true, last4: key1.slice(-4) });
  });

  test("PUT again replaces the key; DELETE → configured: false", async () => {
    const key2 = anthropicKey();
    const r = await a("PUT", "/api/v1/byok", { body: { anthropicKey: key2 } });
    expect(r.body).toMatchObject({ configured: true, last4: key2.slice(-4) });
    const d = await a("DELETE", "/api/v1/byok");
    expect(d.status).toBe(200);
    expect(d.body.configured).toBe(false);
    const g = await a("GET", "/api/v1/byok");
    expect(g.body.configured).toBe(false);
    expect(g.body.last4 ?? null).toBeNull();
  });

  test("byok.set and byok.delete are audited, without the key", async () => {
    const sets = await audit(a, "&action=byok.set");
    expect(sets.length).toBe(2);
    expect((await audit(a, "&action=byok.delete")).length).toBe(1);
    const text = JSON.stringify(await audit(a));
    for (const p of plaintexts) expect(text).not.toContain(p);
  });

  test("set a key again to leave one stored for the data-dir check", async () => {
    const k = anthropicKey();
    expect((await a("PUT", "/api/v1/byok", { body: { anthropicKey: k } })).body).toMatchObject({ configured: true, last4: k.slice(-4) });
  });
});

// ---------------------------------------------------------------------------------------------------------
describe("at rest and in the trail", () => {
  test("every mutation above left its audit row with the spec's action name", async () => {
    const actions = new Set((await audit(a)).map((e) => e.action));
    for (const action of [
      "skill.install",
      "skill.uninstall",
      "secret.create",
      "secret.update",
      "secret.delete",
      "skill.secret.bind",
      "skill.secret.unbind",
      "byok.set",
      "byok.delete",
    ]) {
      expect({ action, present: actions.has(action) }).toEqual({ action, present: true });
    }
  });

  test("no plaintext secret value or BYOK key in any file of the data dir (raw bytes), nor in the log", async () => {
    // One more write after everything else, so the WAL holds fresh pages too.
    const last = secretValue("last");
    expect((await a("POST", "/api/v1/secrets", { body: { name: "LAST_ONE", value: last } })).status).toBe(200);
    expect(plaintexts.length).toBeGreaterThan(8);
    const names = await expectNoPlaintextIn(srv, plaintexts, "LAST_ONE");
    expect(names).toContain("master.key");
    for (const p of plaintexts) expect(srv.logs()).not.toContain(p);
  });

  test("master.key is mode 0600", () => {
    const st = statSync(join(srv.dataDir, "master.key"));
    expect((st.mode & 0o777).toString(8)).toBe("600");
  });
});

// ---------------------------------------------------------------------------------------------------------
describe("CLANKER_MASTER_KEY from the environment", () => {
  let srv2: TestServer;
  let c: Call;

  beforeAll(async () => {
    srv2 = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", CLANKER_MASTER_KEY: randomBytes(32).toString("hex") } });
    c = client(srv2, { apiKey: await srv2.createKey({ email: uniqueEmail("carol") }) });
  });

  afterAll(async () => {
    await srv2?.stop();
    if (srv2) cleanup(srv2);
  });

  test("no master.key file is made, and secrets, bindings and BYOK still work", async () => {
    const v = secretValue("env-master");
    const r = await c("POST", "/api/v1/secrets", { body: { name: "ENV_KEYED", value: v } });
    expect(r.status).toBe(200);
    const v2 = secretValue("env-master-2");
    expect((await c("PATCH", `/api/v1/secrets/${r.body.id}`, { body: { value: v2 } })).status).toBe(200);
    const bound = await c("POST", "/api/v1/skills/summarize/secrets", { body: { secretId: r.body.id, envVar: "ENV_KEYED" } });
    expect(bound.status).toBe(200);
    const k = anthropicKey();
    expect((await c("PUT", "/api/v1/byok", { body: { anthropicKey: k } })).body).toMatchObject({ configured: true, last4: k.slice(-4) });
    expect((await c("GET", "/api/v1/secrets")).body.data.map((s: { name: string }) => s.name)).toEqual(["ENV_KEYED"]);
    expect((await c("GET", "/api/v1/skills/summarize/secrets")).body.data.map((x: { envVar: string }) => x.envVar)).toEqual(["ENV_KEYED"]);

    expect(existsSync(join(srv2.dataDir, "master.key"))).toBe(false);
    await expectNoPlaintextIn(srv2, [v, v2, k], "ENV_KEYED");
    expect(filesUnder(srv2.dataDir).map((f) => f.path)).not.toContain(join(srv2.dataDir, "master.key"));

    // And after a restart with the same key everything is still there.
    await srv2.stop();
    await srv2.restart();
    expect((await c("GET", "/api/v1/secrets")).body.data.map((s: { name: string }) => s.name)).toEqual(["ENV_KEYED"]);
    expect((await c("GET", "/api/v1/byok")).body).toMatchObject({ configured: true, last4: k.slice(-4) });
    expect(existsSync(join(srv2.dataDir, "master.key"))).toBe(false);
  });
});
