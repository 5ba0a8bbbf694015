// Idempotency keys on POST /api/v1/workspaces and /api/v1/api-keys: replay, reuse with another body,
// 50 concurrent requests, per-workspace scope, restart, TTL, and a created key's secret replayed but never stored in the clear.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { cleanup, client, startServer, testDialect, uniqueEmail, type ApiResponse, type TestServer } from "./helpers/server";
import { storedBytes } from "./helpers/files";
import { startFakeModel, type FakeModel } from "./helpers/fake-models";
import { querySql, runSql } from "./helpers/sql";

let srv: TestServer;
let api: ReturnType<typeof client>;
let seq = 0;
const freshKey = (tag: string) => `idem-${tag}-${process.pid}-${++seq}`;

async function workspaceIds(call: ReturnType<typeof client>): Promise<string[]> {
  const r = await call("GET", "/api/v1/workspaces?limit=100");
  expect(r.status).toBe(200);
  expect(r.body.has_more).toBe(false);
  return (r.body.data as { id: string }[]).map((w) => w.id);
}

/** A replay is the first answer byte for byte, with the first answer's content type (Response.json's). */
function expectReplayOf(replay: ApiResponse, first: ApiResponse) {
  expect(replay.status).toBe(first.status);
  expect(replay.text).toBe(first.text);
  expect(replay.headers.get("idempotency-replayed")).toBe("true");
  expect(replay.headers.get("content-type")).toBe("application/json;charset=utf-8");
  expect(first.headers.get("content-type")).toBe("application/json;charset=utf-8");
}

beforeAll(async () => {
  srv = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000" } });
  api = client(srv, { apiKey: await srv.createKey({ email: uniqueEmail("idem") }) });
});

afterAll(async () => {
  await srv?.stop();
  if (srv) cleanup(srv);
});

describe("POST /api/v1/workspaces with idempotency-key", () => {
  test("a replay returns the same status and body, marked replayed, and creates nothing", async () => {
    const key = freshKey("replay");
    const before = await workspaceIds(api);
    const first = await api("POST", "/api/v1/workspaces", { body: { name: "Replay Co" }, headers: { "idempotency-key": key } });
    expect(first.status).toBe(200);
    expect(first.body.id).toMatch(/^ws_\d+$/);
    expect(first.body.name).toBe("Replay Co");
    expect(first.headers.get("idempotency-replayed")).toBeNull();
    for (let i = 0; i < 3; i++) {
      const again = await api("POST", "/api/v1/workspaces", { body: { name: "Replay Co" }, headers: { "idempotency-key": key } });
      expectReplayOf(again, first);
    }
    expect(await workspaceIds(api)).toEqual([first.body.id, ...before]);
    // Each replay is its own request: a fresh request id, not the original's.
    const again = await api("POST", "/api/v1/workspaces", { body: { name: "Replay Co" }, headers: { "idempotency-key": key, "x-request-id": "replay-trace-1" } });
    expect(again.headers.get("x-request-id")).toBe("replay-trace-1");
  });

  test("without a key, the same request twice creates two workspaces", async () => {
    const before = await workspaceIds(api);
    const a = await api("POST", "/api/v1/workspaces", { body: { name: "No Key" } });
    const b = await api("POST", "/api/v1/workspaces", { body: { name: "No Key" } });
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.body.id).not.toBe(b.body.id);
    expect((await workspaceIds(api)).length).toBe(before.length + 2);
  });

  test("the same key with a different body → 400 IDEMPOTENCY_KEY_REUSED, nothing created", async () => {
    const key = freshKey("reuse");
    const first = await api("POST", "/api/v1/workspaces", { body: { name: "Original" }, headers: { "idempotency-key": key } });
    expect(first.status).toBe(200);
    const before = await workspaceIds(api);
    const r = await api("POST", "/api/v1/workspaces", { body: { name: "Different" }, headers: { "idempotency-key": key } });
    expect(r.status).toBe(400);
    expect(Object.keys(r.body)).toEqual(["error"]);
    expect(r.body.error.type).toBe("invalid_request_error");
    expect(r.body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(await workspaceIds(api)).toEqual(before);
    // The original answer is still what the key replays.
    expectReplayOf(await api("POST", "/api/v1/workspaces", { body: { name: "Original" }, headers: { "idempotency-key": key } }), first);
  });

  test("the same fields in another order are the same request: a replay", async () => {
    const key = freshKey("order");
    const slug = `order-${process.pid}-${Date.now()}`;
    const first = await api("POST", "/api/v1/workspaces", { body: { name: "Order Co", slug }, headers: { "idempotency-key": key } });
    expect(first.status).toBe(200);
    const before = await workspaceIds(api);
    expectReplayOf(await api("POST", "/api/v1/workspaces", { body: { slug, name: "Order Co" }, headers: { "idempotency-key": key } }), first);
    // A value that differs is still another request.
    expect((await api("POST", "/api/v1/workspaces", { body: { slug, name: "Order Co." }, headers: { "idempotency-key": key } })).body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(await workspaceIds(api)).toEqual(before);
  });

  test("the same key on another endpoint → 400 IDEMPOTENCY_KEY_REUSED", async () => {
    const key = freshKey("cross");
    expect((await api("POST", "/api/v1/workspaces", { body: { name: "Cross" }, headers: { "idempotency-key": key } })).status).toBe(200);
    const r = await api("POST", "/api/v1/api-keys", { body: { name: "Cross" }, headers: { "idempotency-key": key } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
  });

  test("a refusal is not stored: the retry is tried again, and goes through once its cause is gone", async () => {
    const name = `TAKEN_${process.pid}_${Date.now()}`;
    const first = await api("POST", "/api/v1/secrets", { body: { name, value: "one" } });
    expect(first.status).toBe(200);
    const key = freshKey("conflict");
    const refused = await api("POST", "/api/v1/secrets", { body: { name, value: "two" }, headers: { "idempotency-key": key } });
    expect({ status: refused.status, code: refused.body.error?.code }).toEqual({ status: 409, code: "SECRET_EXISTS" });
    expect((await api("DELETE", `/api/v1/secrets/${first.body.id}`)).status).toBe(200);
    const retried = await api("POST", "/api/v1/secrets", { body: { name, value: "two" }, headers: { "idempotency-key": key } });
    expect(retried.status).toBe(200);
    expect(retried.headers.get("idempotency-replayed")).toBeNull();
    // Once it did something, its answer is the key's: the next retry replays it.
    expectReplayOf(await api("POST", "/api/v1/secrets", { body: { name, value: "two" }, headers: { "idempotency-key": key } }), retried);
  });

  test("50 concurrent identical requests with one key create exactly one workspace", async () => {
    const key = freshKey("burst");
    const before = await workspaceIds(api);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => api("POST", "/api/v1/workspaces", { body: { name: "Burst Ltd" }, headers: { "idempotency-key": key } })),
    );
    const after = await workspaceIds(api);
    expect(after.length).toBe(before.length + 1);
    const created = after.find((id) => !before.includes(id))!;
    let originals = 0;
    for (const a of answers) {
      if (a.status === 200) {
        expect(a.body.id).toBe(created);
        expect(a.body.name).toBe("Burst Ltd");
        if (a.headers.get("idempotency-replayed") !== "true") originals++;
      } else {
        expect({ status: a.status, code: a.body?.error?.code, type: a.body?.error?.type }).toEqual({
          status: 409,
          code: "IDEMPOTENCY_IN_FLIGHT",
          type: "conflict_error",
        });
        expect(a.headers.get("retry-after")).toBe("1");
      }
    }
    expect(originals).toBe(1);
  });

  test("keys are per workspace: the same key in another workspace is independent", async () => {
    const key = freshKey("scope");
    const other = client(srv, { apiKey: await srv.createKey({ email: uniqueEmail("scope") }) });
    const mine = await api("POST", "/api/v1/workspaces", { body: { name: "Scoped" }, headers: { "idempotency-key": key } });
    const theirs = await other("POST", "/api/v1/workspaces", { body: { name: "Scoped" }, headers: { "idempotency-key": key } });
    expect(mine.status).toBe(200);
    expect(theirs.status).toBe(200);
    expect(theirs.headers.get("idempotency-replayed")).toBeNull();
    expect(theirs.body.id).not.toBe(mine.body.id);
    expect(await workspaceIds(other)).toContain(theirs.body.id);
    expect(await workspaceIds(other)).not.toContain(mine.body.id);
    // And another body under the same key in the other workspace is not a reuse of ours.
    const otherKey = freshKey("scope2");
    expect((await api("POST", "/api/v1/workspaces", { body: { name: "Mine" }, headers: { "idempotency-key": otherKey } })).status).toBe(200);
    const diff = await other("POST", "/api/v1/workspaces", { body: { name: "Theirs" }, headers: { "idempotency-key": otherKey } });
    expect(diff.status).toBe(200);
    expect(diff.body.name).toBe("Theirs");
  });

  test("an invalid idempotency-key is a 400 naming it", async () => {
    const r = await api("POST", "/api/v1/workspaces", { body: { name: "Bad key" }, headers: { "idempotency-key": "x".repeat(300) } });
    expect(r.status).toBe(400);
    expect(r.body.error.param).toBe("idempotency-key");
  });
});

describe("POST /api/v1/api-keys with idempotency-key", () => {
  test("a replay is byte-identical to the first answer, key included; the key is sealed at rest, in no byte of the data dir", async () => {
    const idem = freshKey("apikey");
    const first = await api("POST", "/api/v1/api-keys", { body: { name: "Shown once" }, headers: { "idempotency-key": idem } });
    expect(first.status).toBe(200);
    const secret: string = first.body.key;
    expect(secret).toMatch(/^ck_[A-Za-z0-9_-]{20,}$/);
    const replay = await api("POST", "/api/v1/api-keys", { body: { name: "Shown once" }, headers: { "idempotency-key": idem } });
    expect(replay.status).toBe(200);
    expect(replay.headers.get("idempotency-replayed")).toBe("true");
    expect(replay.text).toBe(first.text);
    // Only one key was made, and it works.
    const list = await api("GET", "/api/v1/api-keys?limit=100");
    expect(list.body.data.filter((k: { name: string }) => k.name === "Shown once").length).toBe(1);
    expect(list.text).not.toContain(secret);
    expect((await client(srv, { apiKey: secret })("GET", "/api/v1/profile")).status).toBe(200);

    const files = await storedBytes(srv);
    if (testDialect() === "sqlite") {
      const names = files.map((f) => f.path.slice(srv.dataDir.length + 1));
      expect(names).toContain("clanker.db");
      expect(names).toContain("clanker.db-wal");
    }
    // The stored answer is there (its key id is readable), only its secret is sealed.
    expect(files.some((f) => f.bytes.includes(Buffer.from('"$sealed"')))).toBe(true);
    for (const { path: f, bytes } of files) {
      expect({ file: f, found: bytes.includes(Buffer.from(secret)) }).toEqual({ file: f, found: false });
      // Nor the part after the public prefix (in case the key was stored re-encoded without "ck_").
      expect({ file: f, found: bytes.includes(Buffer.from(secret.slice(7))) }).toEqual({ file: f, found: false });
    }

    // From the store, not the in-memory cache: the same bytes after a restart.
    await srv.stop();
    await srv.restart();
    const afterRestart = await api("POST", "/api/v1/api-keys", { body: { name: "Shown once" }, headers: { "idempotency-key": idem } });
    expect(afterRestart.headers.get("idempotency-replayed")).toBe("true");
    expect(afterRestart.text).toBe(first.text);
  });
});

describe("restart", () => {
  test("a stored key survives a restart", async () => {
    const key = freshKey("restart");
    const first = await api("POST", "/api/v1/workspaces", { body: { name: "Durable" }, headers: { "idempotency-key": key } });
    expect(first.status).toBe(200);
    const reuseKey = freshKey("restart-reuse");
    expect((await api("POST", "/api/v1/workspaces", { body: { name: "Durable 2" }, headers: { "idempotency-key": reuseKey } })).status).toBe(200);
    const before = await workspaceIds(api);
    await srv.stop();
    await srv.restart();
    expectReplayOf(await api("POST", "/api/v1/workspaces", { body: { name: "Durable" }, headers: { "idempotency-key": key } }), first);
    const reuse = await api("POST", "/api/v1/workspaces", { body: { name: "Not Durable 2" }, headers: { "idempotency-key": reuseKey } });
    expect(reuse.status).toBe(400);
    expect(reuse.body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(await workspaceIds(api)).toEqual(before);
  });

  test("keys stored by earlier versions (a plain SHA-256 of the sorted body, or of the body in the client's field order) still replay", async () => {
    const hash = (body: string) => createHash("sha256").update(`POST /api/v1/workspaces\n${body}`).digest("hex");
    for (const [what, legacy] of [
      ["sorted", (slug: string) => hash(JSON.stringify({ name: "Legacy Co", slug }))],
      ["as sent", (slug: string) => hash(JSON.stringify({ slug, name: "Legacy Co" }))],
    ] as const) {
      const key = freshKey(`legacy-${what.replace(" ", "-")}`);
      const slug = `legacy-${process.pid}-${Date.now()}`;
      const first = await api("POST", "/api/v1/workspaces", { body: { slug, name: "Legacy Co" }, headers: { "idempotency-key": key } });
      expect(first.status).toBe(200);
      // What an older version stored in place of this one's keyed hash.
      expect(await runSql(srv, "UPDATE idempotency_keys SET fingerprint = ? WHERE key LIKE ?", legacy(slug), `% ${key}`)).toBe(1);
      await srv.stop();
      await srv.restart(); // the answer is read from the database, not from this process's memory of it
      expectReplayOf(await api("POST", "/api/v1/workspaces", { body: { slug, name: "Legacy Co" }, headers: { "idempotency-key": key } }), first);
      expect((await api("POST", "/api/v1/workspaces", { body: { slug, name: "Other Co" }, headers: { "idempotency-key": key } })).body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    }
  });

  test("a key stored by a version before keys were each caller's (under the key alone) replays across the upgrade: the run is not made twice", async () => {
    const key = freshKey("legacy-bare");
    const slug = `legacy-bare-${process.pid}-${Date.now()}`;
    const first = await api("POST", "/api/v1/workspaces", { body: { slug, name: "Bare Co" }, headers: { "idempotency-key": key } });
    expect(first.status).toBe(200);
    const oldFingerprint = createHash("sha256").update(`POST /api/v1/workspaces\n${JSON.stringify({ slug, name: "Bare Co" })}`).digest("hex");
    // As that version stored it: the key alone, a plain SHA-256 of the body as sent.
    expect(await runSql(srv, "UPDATE idempotency_keys SET key = ?, fingerprint = ? WHERE key LIKE ?", key, oldFingerprint, `% ${key}`)).toBe(1);
    await srv.stop();
    await srv.restart();
    const before = await workspaceIds(api);
    expectReplayOf(await api("POST", "/api/v1/workspaces", { body: { slug, name: "Bare Co" }, headers: { "idempotency-key": key } }), first);
    expect((await api("POST", "/api/v1/workspaces", { body: { slug, name: "Other Co" }, headers: { "idempotency-key": key } })).body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect(await workspaceIds(api)).toEqual(before);
    // Another key is a request of its own.
    expect((await api("POST", "/api/v1/workspaces", { body: { name: "Fresh Co" }, headers: { "idempotency-key": freshKey("legacy-fresh") } })).headers.get("idempotency-replayed")).toBeNull();
  });

  test("the stored fingerprint is keyed: a secret's value in the body cannot be guessed from the table (or a backup) alone", async () => {
    const key = freshKey("secret-fingerprint");
    const body = { name: `FP_${process.pid}_${Date.now()}`, value: "Summer2026!" };
    expect((await api("POST", "/api/v1/secrets", { body, headers: { "idempotency-key": key } })).status).toBe(200);
    const [row] = await querySql(srv, "SELECT fingerprint FROM idempotency_keys WHERE key LIKE ?", `% ${key}`);
    const guess = createHash("sha256").update(`POST /api/v1/secrets\n${JSON.stringify({ name: body.name, value: "Summer2026!" })}`).digest("hex");
    expect(typeof row?.fingerprint).toBe("string");
    expect(row!.fingerprint).not.toBe(guess);
    // Still a retry's fingerprint: the same body replays, another is refused.
    expect((await api("POST", "/api/v1/secrets", { body, headers: { "idempotency-key": key } })).headers.get("idempotency-replayed")).toBe("true");
    expect((await api("POST", "/api/v1/secrets", { body: { ...body, value: "Winter2026!" }, headers: { "idempotency-key": key } })).body.error.code).toBe("IDEMPOTENCY_KEY_REUSED");
  });
});

describe("TTL (CLANKER_IDEMPOTENCY_TTL_SECONDS=1)", () => {
  let short: TestServer;
  beforeAll(async () => {
    short = await startServer({ env: { CLANKER_IDEMPOTENCY_TTL_SECONDS: "1", CLANKER_RATE_LIMIT_PER_MINUTE: "10000" } });
  });
  afterAll(async () => {
    await short?.stop();
    if (short) cleanup(short);
  });

  test("after the TTL the same key creates a new object, and accepts another body", async () => {
    const call = client(short, { apiKey: await short.createKey({ email: uniqueEmail("ttl") }) });
    const key = freshKey("ttl");
    const bodyKey = freshKey("ttl-body");
    const first = await call("POST", "/api/v1/workspaces", { body: { name: "Short lived" }, headers: { "idempotency-key": key } });
    expect(first.status).toBe(200);
    expect((await call("POST", "/api/v1/workspaces", { body: { name: "Body A" }, headers: { "idempotency-key": bodyKey } })).status).toBe(200);
    expectReplayOf(await call("POST", "/api/v1/workspaces", { body: { name: "Short lived" }, headers: { "idempotency-key": key } }), first);
    await Bun.sleep(1200);
    const later = await call("POST", "/api/v1/workspaces", { body: { name: "Short lived" }, headers: { "idempotency-key": key } });
    expect(later.status).toBe(200);
    expect(later.headers.get("idempotency-replayed")).toBeNull();
    expect(later.body.id).not.toBe(first.body.id);
    // The new answer is what the key replays now.
    expectReplayOf(await call("POST", "/api/v1/workspaces", { body: { name: "Short lived" }, headers: { "idempotency-key": key } }), later);
    // An expired key with another body is a new request, not a reuse.
    const other = await call("POST", "/api/v1/workspaces", { body: { name: "Body B" }, headers: { "idempotency-key": bodyKey } });
    expect(other.status).toBe(200);
    expect(other.body.name).toBe("Body B");
  });
});

describe("every POST that creates or appends honours idempotency-key", () => {
  let model: FakeModel;
  let s2: TestServer;
  let call: ReturnType<typeof client>;

  beforeAll(async () => {
    model = startFakeModel("anthropic");
    s2 = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", ANTHROPIC_API_KEY: "sk-ant-idem-000000000000000000", ANTHROPIC_BASE_URL: model.url } });
    call = client(s2, { apiKey: await s2.createKey({ email: uniqueEmail("idem-more") }) });
  });

  afterAll(async () => {
    await s2?.stop();
    if (s2) cleanup(s2);
    model?.stop();
  });

  test("a retried memory append appends once", async () => {
    const key = { "idempotency-key": freshKey("append") };
    const first = await call("POST", "/api/v1/memory/append", { body: { content: "note once" }, headers: key });
    expect(first.status).toBe(200);
    expectReplayOf(await call("POST", "/api/v1/memory/append", { body: { content: "note once" }, headers: key }), first);
    expect((await call("GET", "/api/v1/memory")).body.content.split("note once").length - 1).toBe(1);
  });

  test("a retried workflow launch starts one run", async () => {
    const key = { "idempotency-key": freshKey("launch") };
    const body = { inputData: { code: "let x = 1", doc: "one run" } };
    const first = await call("POST", "/api/v1/workflows/parallel-review/launch", { body, headers: key });
    expect(first.status).toBe(200);
    expectReplayOf(await call("POST", "/api/v1/workflows/parallel-review/launch", { body, headers: key }), first);
    const runs = (await call("GET", "/api/v1/workflows/runs?limit=100")).body.data;
    expect(runs.map((r: { runId: string }) => r.runId)).toEqual([first.body.runId]);
  });

  test("a retried rerun starts one execution", async () => {
    // A workspace of its own: the workflow launched above still starts executions in the first one.
    const call = client(s2, { apiKey: await s2.createKey({ email: uniqueEmail("idem-rerun") }) });
    const run = await call("POST", "/api/v1/skills/summarize/run", { body: { input: "rerun me" } });
    const id = run.body.executionId;
    for (let i = 0; i < 200 && (await call("GET", `/api/v1/executions/${id}/status`)).body.status !== "completed"; i++) await Bun.sleep(25);
    const before = (await call("GET", "/api/v1/executions?limit=100")).body.data.length;
    const key = { "idempotency-key": freshKey("rerun") };
    const first = await call("POST", `/api/v1/executions/${id}/rerun`, { body: {}, headers: key });
    expect(first.status).toBe(200);
    expectReplayOf(await call("POST", `/api/v1/executions/${id}/rerun`, { body: {}, headers: key }), first);
    expect((await call("GET", "/api/v1/executions?limit=100")).body.data.length).toBe(before + 1);
  });
});
