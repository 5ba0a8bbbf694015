// The HTTP contract every /api/v1 route shares: typed errors, request ids, versions, body limits, rate limits,
// health and docs. Each server here runs on a fresh data dir over real HTTP.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cleanup, client, readResponse, startServer, uniqueEmail, type ApiResponse, type TestServer } from "./helpers/server";

const STATUS_OF: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  conflict_error: 409,
  precondition_failed_error: 412,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  overloaded_error: 503,
};

/** The exact typed error shape: `{ error: { type, message, code?, param? } }` and nothing else. */
function expectError(r: ApiResponse, status: number, type: string, extra: { code?: string; param?: string } = {}) {
  expect({ status: r.status, type: r.body?.error?.type, body: r.text }).toMatchObject({ status, type });
  expect(STATUS_OF[type]).toBe(status);
  expect(r.headers.get("content-type") ?? "").toContain("application/json");
  expect(Object.keys(r.body)).toEqual(["error"]);
  for (const k of Object.keys(r.body.error)) expect(["type", "message", "code", "param"]).toContain(k);
  expect(typeof r.body.error.message).toBe("string");
  expect(r.body.error.message.length).toBeGreaterThan(0);
  if (r.body.error.code !== undefined) expect(typeof r.body.error.code).toBe("string");
  if (r.body.error.param !== undefined) expect(typeof r.body.error.param).toBe("string");
  if (extra.code !== undefined) expect(r.body.error.code).toBe(extra.code);
  if (extra.param !== undefined) expect(r.body.error.param).toBe(extra.param);
  // Typed errors carry no stack traces or HTML.
  expect(r.text).not.toMatch(/<html|\n\s+at .+:\d+:\d+/i);
  expect(r.headers.get("x-request-id")).toBeTruthy();
}

let srv: TestServer;
let key: string;
let api: ReturnType<typeof client>;
let anon: ReturnType<typeof client>;

beforeAll(async () => {
  srv = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", CLANKER_PUBLIC_RATE_LIMIT_PER_MINUTE: "10000" } });
  key = await srv.createKey({ email: uniqueEmail("contract") });
  api = client(srv, { apiKey: key });
  anon = client(srv);
});

afterAll(async () => {
  await srv?.stop();
  if (srv) cleanup(srv);
});

describe("typed errors", () => {
  test("a browser at an address that is no page gets a 404 page saying where to go; the API stays JSON", async () => {
    const asBrowser = (path: string) => fetch(`${srv.url}${path}`, { headers: { accept: "text/html,application/xhtml+xml" } }).then(readResponse);
    const page = await asBrowser("/no-such-page/%3Cscript%3E");
    expect(page.status).toBe(404);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(page.text).toContain('<a href="/">the web app</a>');
    expect(page.text).toContain("/no-such-page/%3Cscript%3E");
    expect(page.text).not.toContain("<script>");
    for (const path of ["/api/v1/no-such-thing", "/mcp/nope", "/.well-known/nope"]) expectError(await asBrowser(path), 404, "not_found_error");
    expectError(await anon("GET", "/no-such-page"), 404, "not_found_error");
  });

  test("an unknown /api/v1 route is a typed 404, code ROUTE_NOT_FOUND; an object not found, RESOURCE_NOT_FOUND", async () => {
    const r = await api("GET", "/api/v1/no-such-thing");
    expectError(r, 404, "not_found_error", { code: "ROUTE_NOT_FOUND" });
    const p = await api("POST", "/api/v1/profile/nope/deeper", { body: {} });
    expectError(p, 404, "not_found_error", { code: "ROUTE_NOT_FOUND" });
    const a = await anon("GET", "/api/v1/definitely/not/here");
    expectError(a, 404, "not_found_error", { code: "ROUTE_NOT_FOUND" });
    for (const path of ["/api/v1/executions/exec_999999/status", "/api/v1/artifacts/art_999999", "/api/v1/marketplace/skills/no-such-skill", "/api/v1/workflows/runs/run_999999"])
      expect({ path, error: (await api("GET", path)).body.error }).toEqual({ path, error: { type: "not_found_error", message: expect.any(String), code: "RESOURCE_NOT_FOUND" } });
  });

  test("malformed JSON is 400 param body, code INVALID_JSON", async () => {
    const r = await api("PATCH", "/api/v1/profile", { raw: '{"name": "x",', headers: { "content-type": "application/json" } });
    expectError(r, 400, "invalid_request_error", { code: "INVALID_JSON", param: "body" });
    const w = await api("POST", "/api/v1/workspaces", { raw: "not json at all", headers: { "content-type": "application/json" } });
    expectError(w, 400, "invalid_request_error", { code: "INVALID_JSON", param: "body" });
    expect(w.body.error.message).toBe("Malformed JSON in request body");
    // A form body (curl -d name=x) is told that this API takes JSON; JSON sent as a form still works.
    const form = await api("POST", "/api/v1/workspaces", { raw: "name=x", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expectError(form, 400, "invalid_request_error", { code: "INVALID_JSON", param: "body" });
    expect(form.body.error.message).toBe(
      "Malformed JSON in request body: this API takes JSON bodies, and this one was sent as application/x-www-form-urlencoded (send content-type: application/json with a JSON object)",
    );
    const jsonAsForm = await api("PATCH", "/api/v1/profile", { raw: '{"name":"Form Sent"}', headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(jsonAsForm.status).toBe(200);
  });

  test("a body schema violation is 400 naming the field", async () => {
    const wrongType = await api("PATCH", "/api/v1/profile", { body: { name: 123 } });
    expectError(wrongType, 400, "invalid_request_error", { code: "INVALID_PARAMETER", param: "name" });
    const missing = await api("POST", "/api/v1/workspaces", { body: { slug: "no-name-given" } });
    expectError(missing, 400, "invalid_request_error", { code: "INVALID_PARAMETER", param: "name" });
    const tooLong = await api("POST", "/api/v1/api-keys", { body: { name: "x".repeat(101) } });
    expectError(tooLong, 400, "invalid_request_error", { code: "INVALID_PARAMETER", param: "name" });
    const memory = await api("PUT", "/api/v1/memory", { body: { content: ["not", "a", "string"] } });
    expectError(memory, 400, "invalid_request_error", { code: "INVALID_PARAMETER", param: "content" });
  });

  test("a query schema violation is 400 param limit", async () => {
    for (const limit of ["500", "abc", "0", "-1", "1.5", "99999999999999999999", "9007199254740993"]) {
      const r = await api("GET", `/api/v1/api-keys?limit=${limit}`);
      expectError(r, 400, "invalid_request_error", { code: "INVALID_PARAMETER", param: "limit" });
    }
    const audit = await api("GET", "/api/v1/audit-logs?limit=500");
    expectError(audit, 400, "invalid_request_error", { param: "limit" });
  });

  test("a bad request does not mutate anything", async () => {
    const before = await api("GET", "/api/v1/workspaces?limit=100");
    await api("POST", "/api/v1/workspaces", { body: { name: 42 } });
    await api("POST", "/api/v1/workspaces", { raw: "{", headers: { "content-type": "application/json" } });
    const after = await api("GET", "/api/v1/workspaces?limit=100");
    expect(after.status).toBe(200);
    expect(after.body.data.map((w: { id: string }) => w.id)).toEqual(before.body.data.map((w: { id: string }) => w.id));
  });
});

describe("authentication", () => {
  test("no credentials → 401 MISSING_CREDENTIALS", async () => {
    const r = await anon("GET", "/api/v1/profile");
    expectError(r, 401, "authentication_error", { code: "MISSING_CREDENTIALS" });
  });

  test("an unknown key → 401", async () => {
    const r = await client(srv, { apiKey: "ck_" + "A".repeat(43) })("GET", "/api/v1/profile");
    expectError(r, 401, "authentication_error");
    expect(r.body.error.code).not.toBe("MISSING_CREDENTIALS");
    const junk = await client(srv, { apiKey: "not-even-a-key" })("GET", "/api/v1/api-keys");
    expectError(junk, 401, "authentication_error");
  });

  test("an unknown session token → 401", async () => {
    const r = await client(srv, { session: "cks_nope" })("GET", "/api/v1/profile");
    expectError(r, 401, "authentication_error");
  });

  test("a revoked key → 401 KEY_REVOKED", async () => {
    const created = await api("POST", "/api/v1/api-keys", { body: { name: "to revoke" } });
    expect(created.status).toBe(200);
    const victim = client(srv, { apiKey: created.body.key });
    expect((await victim("GET", "/api/v1/profile")).status).toBe(200);
    const revoked = await api("POST", `/api/v1/api-keys/${created.body.id}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe("revoked");
    const r = await victim("GET", "/api/v1/profile");
    expectError(r, 401, "authentication_error", { code: "KEY_REVOKED" });
  });

  test("an anonymous request with a bad body is 401, not 400", async () => {
    const schema = await anon("POST", "/api/v1/workspaces", { body: { name: 12345, bogus: true } });
    expectError(schema, 401, "authentication_error", { code: "MISSING_CREDENTIALS" });
    const badKeySchema = await client(srv, { apiKey: "ck_wrong" })("PATCH", "/api/v1/profile", { body: { name: [] } });
    expectError(badKeySchema, 401, "authentication_error");
  });

  test("an anonymous request with malformed JSON is 401, not 400", async () => {
    const r = await anon("POST", "/api/v1/workspaces", { raw: "{oops", headers: { "content-type": "application/json" } });
    expectError(r, 401, "authentication_error", { code: "MISSING_CREDENTIALS" });
  });
});

describe("request ids", () => {
  test("a sane incoming x-request-id is echoed, on success and on error", async () => {
    const id = "trace-abc_123.def:456";
    const ok = await api("GET", "/api/v1/profile", { headers: { "x-request-id": id } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("x-request-id")).toBe(id);
    const err = await anon("GET", "/api/v1/profile", { headers: { "x-request-id": "err-trace-1" } });
    expect(err.status).toBe(401);
    expect(err.headers.get("x-request-id")).toBe("err-trace-1");
  });

  test("without one, each response gets a fresh generated id", async () => {
    const a = await api("GET", "/api/v1/profile");
    const b = await api("GET", "/api/v1/profile");
    expect(a.headers.get("x-request-id")).toMatch(/^req_\S+$/);
    expect(b.headers.get("x-request-id")).toMatch(/^req_\S+$/);
    expect(a.headers.get("x-request-id")).not.toBe(b.headers.get("x-request-id"));
  });

  test("an insane x-request-id is replaced by a generated one", async () => {
    for (const insane of ["x".repeat(300), "has spaces in it", "semi;colon<script>"]) {
      const r = await api("GET", "/api/v1/profile", { headers: { "x-request-id": insane } });
      expect(r.status).toBe(200);
      const got = r.headers.get("x-request-id");
      expect(got).not.toBe(insane);
      expect(got).toMatch(/^req_[A-Za-z0-9_-]+$/);
    }
  });
});

describe("clanker-version", () => {
  test("2025-01-01 is accepted", async () => {
    const r = await api("GET", "/api/v1/profile", { headers: { "clanker-version": "2025-01-01" } });
    expect(r.status).toBe(200);
    expect(r.body.email).toContain("@example.test");
  });

  test("a malformed version is 400 param clanker-version", async () => {
    for (const v of ["banana", "2025-13-45", "2025-02-30", "2025-1-1"]) {
      const r = await api("GET", "/api/v1/profile", { headers: { "clanker-version": v } });
      expectError(r, 400, "invalid_request_error", { code: "INVALID_VERSION", param: "clanker-version" });
      expect(r.headers.get("clanker-version")).toBe("2025-01-01");
    }
  });

  test("the answer names the version it was made in: an earlier date is answered in 2025-01-01; a later one is refused", async () => {
    const earlier = await api("GET", "/api/v1/profile", { headers: { "clanker-version": "2024-06-01" } });
    expect(earlier.status).toBe(200);
    expect(earlier.headers.get("clanker-version")).toBe("2025-01-01");
    const later = await api("GET", "/api/v1/profile", { headers: { "clanker-version": "2099-01-01" } });
    expectError(later, 400, "invalid_request_error", { code: "INVALID_VERSION", param: "clanker-version" });
    expect(later.body.error.message).toContain("2099-01-01 is newer than this server's API version, 2025-01-01");
    expect(later.headers.get("clanker-version")).toBe("2025-01-01");
  });
});

describe("health and docs", () => {
  test("GET /healthz", async () => {
    const r = await anon("GET", "/healthz");
    expect(r.status).toBe(200);
    expect(r.body.status).toBe("ok");
  });

  test("GET /openapi.json is an OpenAPI 3 document listing the routes", async () => {
    const r = await anon("GET", "/openapi.json");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type") ?? "").toContain("application/json");
    expect(String(r.body.openapi)).toMatch(/^3\.\d+\.\d+$/);
    const paths = Object.keys(r.body.paths);
    for (const p of ["/api/v1/profile", "/api/v1/workspaces", "/api/v1/workspaces/current", "/api/v1/api-keys", "/api/v1/audit-logs", "/api/v1/memory"])
      expect(paths).toContain(p);
    expect(Object.keys(r.body.paths["/api/v1/profile"])).toEqual(expect.arrayContaining(["get", "patch"]));
    expect(paths.some((p) => p.startsWith("/api/v1/api-keys/") && p.endsWith("/revoke"))).toBe(true);
  });

  test("GET /docs is an HTML page", async () => {
    const r = await anon("GET", "/docs");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type") ?? "").toContain("text/html");
    expect(r.text).toMatch(/<html/i);
    expect(r.text).toContain("/openapi.json");
  });
});

describe("body limit (CLANKER_MAX_BODY_BYTES=2048)", () => {
  let small: TestServer;
  let smallApi: ReturnType<typeof client>;
  let smallKey: string;
  beforeAll(async () => {
    small = await startServer({ env: { CLANKER_MAX_BODY_BYTES: "2048", CLANKER_RATE_LIMIT_PER_MINUTE: "10000" } });
    smallKey = await small.createKey({ email: uniqueEmail("limit") });
    smallApi = client(small, { apiKey: smallKey });
  });
  afterAll(async () => {
    await small?.stop();
    if (small) cleanup(small);
  });

  test("a body under the limit passes", async () => {
    const r = await smallApi("PUT", "/api/v1/memory", { body: { content: "y".repeat(1500) } });
    expect(r.status).toBe(200);
    expect(r.body.content.length).toBe(1500);
  });

  test("a body just over the limit is a typed 413, and changes nothing", async () => {
    for (const n of [2100, 2900]) {
      const r = await smallApi("PUT", "/api/v1/memory", { body: { content: "z".repeat(n) } });
      expectError(r, 413, "request_too_large");
    }
    const after = await smallApi("GET", "/api/v1/memory");
    expect(after.body.content).toBe("y".repeat(1500));
  });

  test("a body far over the limit is a typed 413 too", async () => {
    for (const n of [4000, 100_000]) {
      const r = await smallApi("PUT", "/api/v1/memory", { body: { content: "z".repeat(n) } });
      expectError(r, 413, "request_too_large");
    }
  });

  for (const n of [2500, 5000]) {
    test(`a chunked body (no content-length) of ${n}+ bytes is a typed 413`, async () => {
      const payload = new TextEncoder().encode(JSON.stringify({ content: "w".repeat(n) }));
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(payload.slice(0, 50));
          c.enqueue(payload.slice(50));
          c.close();
        },
      });
      const res = await fetch(small.url + "/api/v1/memory", {
        method: "PUT",
        headers: { "x-api-key": smallKey, "content-type": "application/json" },
        body: stream,
        duplex: "half",
      } as RequestInit);
      expectError(await readResponse(res), 413, "request_too_large");
    });
  }
});

describe("rate limit (CLANKER_RATE_LIMIT_PER_MINUTE=5)", () => {
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "5" } });
  });
  afterAll(async () => {
    await limited?.stop();
    if (limited) cleanup(limited);
  });

  test("headers count down on every response; the 6th request is 429 with retry-after", async () => {
    const call = client(limited, { apiKey: await limited.createKey({ email: uniqueEmail("rl") }) });
    const remaining: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await call("GET", "/api/v1/profile");
      expect(r.status).toBe(200);
      expect(r.headers.get("x-ratelimit-limit")).toBe("5");
      const reset = Number(r.headers.get("x-ratelimit-reset"));
      expect(Number.isInteger(reset)).toBe(true);
      expect(reset).toBeGreaterThan(0);
      expect(reset).toBeLessThanOrEqual(60);
      remaining.push(Number(r.headers.get("x-ratelimit-remaining")));
    }
    expect(remaining).toEqual([4, 3, 2, 1, 0]);
    const sixth = await call("GET", "/api/v1/profile");
    expectError(sixth, 429, "rate_limit_error");
    const retry = Number(sixth.headers.get("retry-after"));
    expect(Number.isInteger(retry)).toBe(true);
    expect(retry).toBeGreaterThan(0);
    expect(retry).toBeLessThanOrEqual(60);
    expect(sixth.headers.get("x-ratelimit-limit")).toBe("5");
    expect(sixth.headers.get("x-ratelimit-remaining")).toBe("0");
    expect(sixth.headers.get("x-ratelimit-reset")).toBeTruthy();
    // Writes are limited too, and a limited write changes nothing.
    const write = await call("PATCH", "/api/v1/profile", { body: { name: "should not stick" } });
    expectError(write, 429, "rate_limit_error");
  });

  test("limits are per key: another key still has its full budget", async () => {
    const other = client(limited, { apiKey: await limited.createKey({ email: uniqueEmail("rl2") }) });
    const r = await other("GET", "/api/v1/profile");
    expect(r.status).toBe(200);
    expect(r.headers.get("x-ratelimit-remaining")).toBe("4");
    expect(r.body.name).not.toBe("should not stick");
  });

  test("error responses on /api/v1 also carry the rate-limit headers", async () => {
    const call = client(limited, { apiKey: await limited.createKey({ email: uniqueEmail("rl3") }) });
    const bad = await call("GET", "/api/v1/api-keys?limit=500");
    expectError(bad, 400, "invalid_request_error", { param: "limit" });
    expect(bad.headers.get("x-ratelimit-limit")).toBe("5");
    expect(bad.headers.get("x-ratelimit-remaining")).toBe("4");
    expect(bad.headers.get("x-ratelimit-reset")).toBeTruthy();
  });

  test("refusals made before the caller is known carry them too, counted against the client's address, with the version", async () => {
    const key = await limited.createKey({ email: uniqueEmail("rl4") });
    const call = (headers: Record<string, string>, body?: string) =>
      fetch(`${limited.url}/api/v1/memory`, { method: body === undefined ? "GET" : "PUT", headers: { "x-api-key": key, "content-type": "application/json", ...headers }, body }).then(readResponse);
    const refusals = [
      { r: await call({ "clanker-version": "banana" }), status: 400, type: "invalid_request_error" },
      { r: await call({ host: "evil.example" }), status: 403, type: "permission_error" },
      // Over CLANKER_MAX_BODY_BYTES (10 MiB) as declared: refused before the body is read.
      { r: await call({}, JSON.stringify({ content: "x".repeat(10 * 1024 * 1024 + 1) })), status: 413, type: "request_too_large" },
    ];
    const remaining: number[] = [];
    for (const { r, status, type } of refusals) {
      expectError(r, status, type);
      // The client address's budget (CLANKER_PUBLIC_RATE_LIMIT_PER_MINUTE, 300), not the key's (5): the key was never read.
      expect(r.headers.get("x-ratelimit-limit")).toBe("300");
      expect(r.headers.get("x-ratelimit-reset")).toBeTruthy();
      remaining.push(Number(r.headers.get("x-ratelimit-remaining")));
      expect(r.headers.get("clanker-version")).toBe("2025-01-01");
    }
    expect(remaining[1]).toBe(remaining[0]! - 1);
    expect(remaining[2]).toBe(remaining[1]! - 1);
    // None of them spent the key's budget.
    expect((await call({})).headers.get("x-ratelimit-remaining")).toBe("4");
  });
});
