// Cursor pagination over GET /api/v1/api-keys: newest first, after_id = older page, before_id = newer page,
// exact ids across several pages, raw and prefixed cursors, and the parameter errors.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cleanup, client, startServer, uniqueEmail, type ApiResponse, type TestServer } from "./helpers/server";

let srv: TestServer;
let api: ReturnType<typeof client>;
/** Every key in the workspace, newest first, as the server should list them. */
let all: string[];
let otherIds: string[];

const num = (id: string) => Number(id.replace(/^key_/, ""));
const ids = (r: ApiResponse) => (r.body.data as { id: string }[]).map((k) => k.id);

function expectPage(r: ApiResponse, expected: string[], hasMore: boolean) {
  expect(r.status).toBe(200);
  expect(Object.keys(r.body).sort()).toEqual(["data", "first_id", "has_more", "last_id"]);
  expect(ids(r)).toEqual(expected);
  expect(r.body.first_id).toBe(expected[0] ?? null);
  expect(r.body.last_id).toBe(expected[expected.length - 1] ?? null);
  expect(r.body.has_more).toBe(hasMore);
}

function expectBadParam(r: ApiResponse, params: string[]) {
  expect(r.status).toBe(400);
  expect(Object.keys(r.body)).toEqual(["error"]);
  expect(r.body.error.type).toBe("invalid_request_error");
  expect(typeof r.body.error.message).toBe("string");
  expect(params).toContain(r.body.error.param);
  // The schema's code whether the schema or the service refused it (a cursor is checked by the service).
  expect(r.body.error.code).toBe("INVALID_PARAMETER");
}

beforeAll(async () => {
  srv = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000" } });
  const email = uniqueEmail("pages");
  api = client(srv, { apiKey: await srv.createKey({ email }) });
  // Another workspace's keys are interleaved with ours: they must never appear, nor shift the pages.
  const other = client(srv, { apiKey: await srv.createKey({ email: uniqueEmail("other") }) });
  const created: string[] = [];
  otherIds = [];
  for (let i = 0; i < 25; i++) {
    const r = await api("POST", "/api/v1/api-keys", { body: { name: `page key ${i}` } });
    expect(r.status).toBe(200);
    created.push(r.body.id);
    if (i % 5 === 0) {
      const o = await other("POST", "/api/v1/api-keys", { body: { name: `other ${i}` } });
      expect(o.status).toBe(200);
      otherIds.push(o.body.id);
    }
  }
  const first = await api("GET", "/api/v1/api-keys?limit=100");
  expect(first.status).toBe(200);
  all = ids(first);
  // 25 created over HTTP plus the CLI key, newest first.
  expect(all.length).toBe(26);
  expect(all.slice(0, 25)).toEqual([...created].reverse());
  for (const id of all) expect(id).toMatch(/^key_[1-9][0-9]*$/);
});

afterAll(async () => {
  await srv?.stop();
  if (srv) cleanup(srv);
});

describe("walking GET /api/v1/api-keys with limit=10", () => {
  test("the list is newest first and holds only this workspace's keys", () => {
    const sorted = [...all].sort((a, b) => num(b) - num(a));
    expect(all).toEqual(sorted);
    for (const o of otherIds) expect(all).not.toContain(o);
  });

  test("forward with after_id, then back with before_id, exact ids on every page", async () => {
    const p1 = await api("GET", "/api/v1/api-keys?limit=10");
    expectPage(p1, all.slice(0, 10), true);
    const p2 = await api("GET", `/api/v1/api-keys?limit=10&after_id=${p1.body.last_id}`);
    expectPage(p2, all.slice(10, 20), true);
    const p3 = await api("GET", `/api/v1/api-keys?limit=10&after_id=${p2.body.last_id}`);
    expectPage(p3, all.slice(20, 26), false);

    const back2 = await api("GET", `/api/v1/api-keys?limit=10&before_id=${p3.body.first_id}`);
    expectPage(back2, all.slice(10, 20), true);
    const back1 = await api("GET", `/api/v1/api-keys?limit=10&before_id=${back2.body.first_id}`);
    expectPage(back1, all.slice(0, 10), false);
  });

  test("before_id from the middle gives the newer neighbours, still newest first", async () => {
    const r = await api("GET", `/api/v1/api-keys?limit=3&before_id=${all[7]}`);
    expectPage(r, all.slice(4, 7), true);
    const edge = await api("GET", `/api/v1/api-keys?limit=10&before_id=${all[3]}`);
    expectPage(edge, all.slice(0, 3), false);
  });

  test("after_id from the middle gives the older neighbours", async () => {
    const r = await api("GET", `/api/v1/api-keys?limit=4&after_id=${all[5]}`);
    expectPage(r, all.slice(6, 10), true);
  });

  test("an exact-fit last page says has_more false", async () => {
    const r = await api("GET", `/api/v1/api-keys?limit=6&after_id=${all[19]}`);
    expectPage(r, all.slice(20, 26), false);
    const r2 = await api("GET", `/api/v1/api-keys?limit=5&after_id=${all[19]}`);
    expectPage(r2, all.slice(20, 25), true);
  });

  test("past either end is an empty page", async () => {
    const end = await api("GET", `/api/v1/api-keys?limit=10&after_id=${all[25]}`);
    expectPage(end, [], false);
    const start = await api("GET", `/api/v1/api-keys?limit=10&before_id=${all[0]}`);
    expectPage(start, [], false);
  });

  test("raw numeric cursors work like prefixed ones", async () => {
    for (const [param, at] of [["after_id", 9], ["before_id", 20], ["after_id", 0]] as const) {
      const prefixed = await api("GET", `/api/v1/api-keys?limit=10&${param}=${all[at]}`);
      const raw = await api("GET", `/api/v1/api-keys?limit=10&${param}=${num(all[at]!)}`);
      expect(prefixed.status).toBe(200);
      expect(prefixed.body.data.length).toBeGreaterThan(0);
      expectPage(raw, ids(prefixed), prefixed.body.has_more);
    }
  });

  test("the default limit is 20", async () => {
    const r = await api("GET", "/api/v1/api-keys");
    expectPage(r, all.slice(0, 20), true);
  });

  test("limit=1 and limit=100 are the bounds", async () => {
    expectPage(await api("GET", "/api/v1/api-keys?limit=1"), all.slice(0, 1), true);
    expectPage(await api("GET", "/api/v1/api-keys?limit=100"), all, false);
  });
});

describe("parameter errors", () => {
  test("after_id and before_id together → 400", async () => {
    const r = await api("GET", `/api/v1/api-keys?after_id=${all[10]}&before_id=${all[2]}`);
    expectBadParam(r, ["after_id", "before_id"]);
  });

  test("a bad cursor → 400 param after_id (or before_id)", async () => {
    for (const bad of ["banana", "key_", "key_abc", "ws_3", "-4", "0", "key_0"]) {
      expectBadParam(await api("GET", `/api/v1/api-keys?after_id=${encodeURIComponent(bad)}`), ["after_id"]);
    }
    expectBadParam(await api("GET", "/api/v1/api-keys?before_id=nope"), ["before_id"]);
  });

  test("limit 0 and 101 → 400 param limit", async () => {
    for (const limit of ["0", "101"]) expectBadParam(await api("GET", `/api/v1/api-keys?limit=${limit}`), ["limit"]);
  });

  test("a limit that is no number → 400 saying what it takes", async () => {
    const r = await api("GET", "/api/v1/api-keys?limit=abc");
    expectBadParam(r, ["limit"]);
    expect(r.body.error.message).toBe("Invalid query parameter 'limit': Expected an integer from 1 to 100");
    // Decimal digits only: what Number() would also read (hex, binary, an exponent, a sign, spaces, blank) is refused.
    for (const odd of ["0x3", "0b11", "1e1", "%2B5", "%205", "5%20", "%20", "5.0"]) {
      const o = await api("GET", `/api/v1/api-keys?limit=${odd}`);
      expect({ odd, status: o.status, param: o.body.error?.param }).toEqual({ odd, status: 400, param: "limit" });
    }
    expect((await api("GET", "/api/v1/api-keys?limit=05")).status).toBe(200);
  });

  test("another workspace's key as a cursor leaks nothing", async () => {
    const r = await api("GET", `/api/v1/api-keys?limit=100&after_id=${otherIds[otherIds.length - 1]}`);
    expect(r.status).toBe(200);
    for (const o of otherIds) expect(ids(r)).not.toContain(o);
  });
});

// Issue 13 point 8: three lists answered a bare {data}; the spec says every list is paginated.
describe("categories, a skill's secret bindings and workflow definitions answer the pagination envelope", () => {
  /** Every page of `path` at limit=2 going forward, then back from the end with before_id: both give `expected`. */
  async function expectWalks(call: ReturnType<typeof client>, path: string, expected: string[]) {
    const sep = path.includes("?") ? "&" : "?";
    const forward: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 50; i++) {
      const r: ApiResponse = await call("GET", `${path}${sep}limit=2${cursor ? `&after_id=${encodeURIComponent(cursor)}` : ""}`);
      const page = expected.slice(forward.length, forward.length + 2);
      expectPage(r, page, forward.length + page.length < expected.length);
      forward.push(...ids(r));
      if (!r.body.has_more) break;
      cursor = r.body.last_id;
    }
    expect(forward).toEqual(expected);
    const last = expected[expected.length - 1]!;
    const back = await call("GET", `${path}${sep}limit=2&before_id=${encodeURIComponent(last)}`);
    expectPage(back, expected.slice(-3, -1), expected.length > 3);
  }

  test("GET /api/v1/marketplace/skills/categories: by name, cursor = name", async () => {
    const all = await client(srv)("GET", "/api/v1/marketplace/skills/categories?limit=100");
    const names = ids(all);
    expectPage(all, names, false);
    expect(names.length).toBeGreaterThan(3);
    expect(names).toEqual([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    await expectWalks(client(srv), "/api/v1/marketplace/skills/categories", names);
    expectBadParam(await client(srv)("GET", "/api/v1/marketplace/skills/categories?limit=0"), ["limit"]);
  });

  test("GET /api/v1/skills/:slug/secrets: newest first, cursor = binding id", async () => {
    const made: string[] = [];
    for (let i = 0; i < 5; i++) {
      const sec = await api("POST", "/api/v1/secrets", { body: { name: `PAGE_SECRET_${i}`, value: `v${i}` } });
      const b = await api("POST", "/api/v1/skills/code-review/secrets", { body: { secretId: sec.body.id, envVar: `PAGE_ENV_${4 - i}` } });
      expect(b.status).toBe(200);
      made.push(b.body.id);
    }
    const newestFirst = [...made].reverse();
    expectPage(await api("GET", "/api/v1/skills/code-review/secrets"), newestFirst, false);
    await expectWalks(api, "/api/v1/skills/code-review/secrets", newestFirst);
    expectBadParam(await api("GET", "/api/v1/skills/code-review/secrets?after_id=sec_1"), ["after_id"]);
  });

  test("GET /api/v1/workflows/definitions: bundled and the workspace's, by id, cursor = id", async () => {
    for (const id of ["page-flow-b", "page-flow-a"])
      expect((await api("POST", "/api/v1/workflows/definitions", { body: { id, name: id, steps: [{ id: "s", kind: "skill", skill: "summarize", input: "x" }] } })).status).toBe(200);
    const all = await api("GET", "/api/v1/workflows/definitions?limit=100");
    const defs = ids(all);
    expectPage(all, defs, false);
    expect(defs).toEqual(expect.arrayContaining(["page-flow-a", "page-flow-b", "pr-review"]));
    expect(defs).toEqual([...defs].sort());
    await expectWalks(api, "/api/v1/workflows/definitions", defs);
    expect(all.body.data.find((d: { id: string }) => d.id === "page-flow-a")).toMatchObject({ source: "workspace", name: "page-flow-a" });
  });
});
