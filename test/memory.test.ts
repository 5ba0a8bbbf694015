// The workspace's working memory: ETag / If-Match on PUT, the atomic append with the spec's separator,
// concurrent appends from two keys losing nothing, and the audit rows they leave.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cleanup, client, startServer, uniqueEmail, type ApiResponse, type TestServer } from "./helpers/server";
import { querySql } from "./helpers/sql";

const SEP = "\n\n---\n\n";
type Call = ReturnType<typeof client>;

let srv: TestServer;

function expectError(r: ApiResponse, status: number, type: string, extra: { code?: string; param?: string } = {}) {
  expect({ status: r.status, type: r.body?.error?.type, text: r.text }).toMatchObject({ status, type });
  expect(Object.keys(r.body)).toEqual(["error"]);
  if (extra.code !== undefined) expect(r.body.error.code).toBe(extra.code);
  if (extra.param !== undefined) expect(r.body.error.param).toBe(extra.param);
}

async function freshWorkspace(tag: string): Promise<{ k1: Call; k2: Call }> {
  const email = uniqueEmail(tag);
  const k1 = client(srv, { apiKey: await srv.createKey({ email, name: `${tag} one` }) });
  const k2 = client(srv, { apiKey: await srv.createKey({ email, name: `${tag} two` }) });
  return { k1, k2 };
}

beforeAll(async () => {
  srv = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000" } });
});

afterAll(async () => {
  await srv?.stop();
  if (srv) cleanup(srv);
});

describe("GET / PUT with ETag and If-Match", () => {
  let api: Call;
  beforeAll(async () => {
    api = (await freshWorkspace("etag")).k1;
  });

  test("a fresh workspace's memory is empty, version 0, with an ETag", async () => {
    const r = await api("GET", "/api/v1/memory");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ content: "", version: 0 });
    expect(r.headers.get("etag")).toMatch(/^(W\/)?".+"$/);
  });

  test("PUT with the current ETag succeeds and returns the new ETag", async () => {
    const read = await api("GET", "/api/v1/memory");
    const etag0 = read.headers.get("etag")!;
    const put = await api("PUT", "/api/v1/memory", { body: { content: "first draft" }, headers: { "if-match": etag0 } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ content: "first draft", version: 1 });
    const etag1 = put.headers.get("etag");
    expect(etag1).toBeTruthy();
    expect(etag1).not.toBe(etag0);
    const again = await api("GET", "/api/v1/memory");
    expect(again.body).toMatchObject({ content: "first draft", version: 1 });
    expect(again.headers.get("etag")).toBe(etag1);
    expect(new Date(again.body.updatedAt).toISOString()).toBe(again.body.updatedAt);
  });

  test("PUT with a stale If-Match → 412 ETAG_MISMATCH and nothing changes", async () => {
    const read = await api("GET", "/api/v1/memory");
    const stale = read.headers.get("etag")!;
    const win = await api("PUT", "/api/v1/memory", { body: { content: "the winner" }, headers: { "if-match": stale } });
    expect(win.status).toBe(200);
    const lose = await api("PUT", "/api/v1/memory", { body: { content: "the loser" }, headers: { "if-match": stale } });
    expectError(lose, 412, "precondition_failed_error", { code: "ETAG_MISMATCH" });
    const after = await api("GET", "/api/v1/memory");
    expect(after.body.content).toBe("the winner");
    expect(after.body.version).toBe(read.body.version + 1);
    // An ETag that was never issued is a mismatch too.
    expectError(await api("PUT", "/api/v1/memory", { body: { content: "x" }, headers: { "if-match": '"v99999"' } }), 412, "precondition_failed_error", { code: "ETAG_MISMATCH" });
    // If-Match compares strongly (RFC 9110): the current tag marked weak does not match; in a list, the strong one does.
    const current = after.headers.get("etag")!;
    expectError(await api("PUT", "/api/v1/memory", { body: { content: "weak" }, headers: { "if-match": `W/${current}` } }), 412, "precondition_failed_error", { code: "ETAG_MISMATCH" });
    expect((await api("PUT", "/api/v1/memory", { body: { content: "listed" }, headers: { "if-match": `"v0", ${current}` } })).status).toBe(200);
  });

  test("append honours If-Match as PUT does; a replayed append answers the first answer's ETag too", async () => {
    const read = await api("GET", "/api/v1/memory");
    const etag = read.headers.get("etag")!;
    const key = `etag-${Date.now()}`;
    const first = await api("POST", "/api/v1/memory/append", { body: { content: "onto what I read" }, headers: { "if-match": etag, "idempotency-key": key } });
    expect(first.status).toBe(200);
    expect(first.headers.get("etag")).toBe(`"v${first.body.version}"`);
    expectError(await api("POST", "/api/v1/memory/append", { body: { content: "onto a stale read" }, headers: { "if-match": etag } }), 412, "precondition_failed_error", { code: "ETAG_MISMATCH" });
    expect((await api("GET", "/api/v1/memory")).body.content).not.toContain("onto a stale read");
    const replay = await api("POST", "/api/v1/memory/append", { body: { content: "onto what I read" }, headers: { "if-match": etag, "idempotency-key": key } });
    expect({ replayed: replay.headers.get("idempotency-replayed"), etag: replay.headers.get("etag"), text: replay.text }).toEqual({ replayed: "true", etag: first.headers.get("etag"), text: first.text });
  });

  test("a keyed append to a big memory keeps no copy of it for the replay; a replay after another write answers the memory as it is now", async () => {
    expect((await api("PUT", "/api/v1/memory", { body: { content: "x".repeat(500_000) } })).status).toBe(200);
    const key = `big-${Date.now()}`;
    const first = await api("POST", "/api/v1/memory/append", { body: { content: "big note" }, headers: { "idempotency-key": key } });
    expect(first.status).toBe(200);
    const [kept] = await querySql(srv, "SELECT length(body) AS n FROM idempotency_keys WHERE key LIKE ?", `% ${key}`);
    expect((kept as { n: number }).n).toBeLessThan(200);
    // Nothing written since: the same answer.
    const same = await api("POST", "/api/v1/memory/append", { body: { content: "big note" }, headers: { "idempotency-key": key } });
    expect({ replayed: same.headers.get("idempotency-replayed"), etag: same.headers.get("etag"), text: same.text }).toEqual({ replayed: "true", etag: first.headers.get("etag"), text: first.text });
    // Written since: the note is not added again, and the answer is the memory now, with its ETag.
    const later = await api("POST", "/api/v1/memory/append", { body: { content: "another note" } });
    const replay = await api("POST", "/api/v1/memory/append", { body: { content: "big note" }, headers: { "idempotency-key": key } });
    expect({ replayed: replay.headers.get("idempotency-replayed"), etag: replay.headers.get("etag"), version: replay.body.version }).toEqual({ replayed: "true", etag: later.headers.get("etag"), version: later.body.version });
    expect(replay.body.content.split("big note").length - 1).toBe(1);
    expect(replay.body.content.endsWith("another note")).toBe(true);
  });

  test("PUT without If-Match is an unconditional replace", async () => {
    const before = (await api("GET", "/api/v1/memory")).body.version;
    const r = await api("PUT", "/api/v1/memory", { body: { content: "replaced" } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ content: "replaced", version: before + 1 });
  });

  test("a lone surrogate (JSON's \\ud800) is answered as it is stored, U+FFFD, by the PUT and the GET alike", async () => {
    const put = await api("PUT", "/api/v1/memory", { body: { content: "a\ud800b" } });
    expect(put.body.content).toBe("a\ufffdb");
    const got = await api("GET", "/api/v1/memory");
    expect({ content: got.body.content, version: got.body.version }).toEqual({ content: put.body.content, version: put.body.version });
    expect((await api("PUT", "/api/v1/memory", { body: { content: "replaced" } })).status).toBe(200);
  });

  test("PUT with a bad body is 400 param content", async () => {
    expectError(await api("PUT", "/api/v1/memory", { body: {} }), 400, "invalid_request_error", { param: "content" });
    expectError(await api("PUT", "/api/v1/memory", { body: { content: 7 } }), 400, "invalid_request_error", { param: "content" });
    expect((await api("GET", "/api/v1/memory")).body.content).toBe("replaced");
  });

  test("concurrent PUTs with the same If-Match: exactly one wins", async () => {
    const etag = (await api("GET", "/api/v1/memory")).headers.get("etag")!;
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => api("PUT", "/api/v1/memory", { body: { content: `racer ${i}` }, headers: { "if-match": etag } })),
    );
    const winners = answers.filter((r) => r.status === 200);
    expect(winners.length).toBe(1);
    for (const r of answers) if (r.status !== 200) expectError(r, 412, "precondition_failed_error", { code: "ETAG_MISMATCH" });
    expect((await api("GET", "/api/v1/memory")).body.content).toBe(winners[0]!.body.content);
  });
});

describe("POST /memory/append", () => {
  test("appending to empty memory stores the note alone; later notes follow the separator", async () => {
    const { k1 } = await freshWorkspace("append");
    const one = await k1("POST", "/api/v1/memory/append", { body: { content: "note one" } });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ content: "note one", version: 1 });
    const two = await k1("POST", "/api/v1/memory/append", { body: { content: "note two" } });
    expect(two.body).toMatchObject({ content: `note one${SEP}note two`, version: 2 });
    expect(two.headers.get("etag")).toBe((await k1("GET", "/api/v1/memory")).headers.get("etag"));
    expect((await k1("GET", "/api/v1/memory")).body.content).toBe(`note one${SEP}note two`);
  });

  test("an append after a PUT keeps the PUT's content and adds the separator", async () => {
    const { k1 } = await freshWorkspace("afterput");
    await k1("PUT", "/api/v1/memory", { body: { content: "# Handoff" } });
    const r = await k1("POST", "/api/v1/memory/append", { body: { content: "2026-05-24T12:00Z — finished PR review" } });
    expect(r.status).toBe(200);
    expect(r.body.content).toBe(`# Handoff${SEP}2026-05-24T12:00Z — finished PR review`);
  });

  test("an empty note is 400 param content", async () => {
    const { k1 } = await freshWorkspace("emptynote");
    expectError(await k1("POST", "/api/v1/memory/append", { body: { content: "" } }), 400, "invalid_request_error", { param: "content" });
    expect((await k1("GET", "/api/v1/memory")).body).toMatchObject({ content: "", version: 0 });
  });

  test("memory holds 1 MiB: a larger PUT is 413; an append that would overflow is 400 MEMORY_FULL, changing nothing", async () => {
    const { k1 } = await freshWorkspace("full");
    const MIB = 1024 * 1024;
    expectError(await k1("PUT", "/api/v1/memory", { body: { content: "x".repeat(MIB + 1) } }), 413, "request_too_large", { param: "content" });
    expect((await k1("GET", "/api/v1/memory")).body).toMatchObject({ content: "", version: 0 });
    // Exactly full is allowed; then even a one-byte note does not fit, and the answer says how to make room.
    const room = MIB - SEP.length - 1;
    expect((await k1("PUT", "/api/v1/memory", { body: { content: "x".repeat(room) } })).status).toBe(200);
    expect((await k1("POST", "/api/v1/memory/append", { body: { content: "y" } })).body.version).toBe(2);
    const full = await k1("POST", "/api/v1/memory/append", { body: { content: "z" } });
    expectError(full, 400, "invalid_request_error", { code: "MEMORY_FULL", param: "content" });
    expect(full.body.error.message).toContain(`grow to ${MIB + SEP.length + 1} bytes`);
    expect(full.body.error.message).toContain("PUT /api/v1/memory");
    const after = await k1("GET", "/api/v1/memory");
    expect({ version: after.body.version, bytes: after.body.content.length }).toEqual({ version: 2, bytes: MIB });
    // A note over the limit by itself is too large, as a PUT of it is.
    expectError(await k1("POST", "/api/v1/memory/append", { body: { content: "x".repeat(MIB + 1) } }), 413, "request_too_large", { param: "content" });
    // Room made, the append lands.
    expect((await k1("PUT", "/api/v1/memory", { body: { content: "short" } })).status).toBe(200);
    expect((await k1("POST", "/api/v1/memory/append", { body: { content: "z" } })).body).toMatchObject({ content: `short${SEP}z`, version: 4 });
  });

  test("40 concurrent appends from two keys lose no note", async () => {
    const { k1, k2 } = await freshWorkspace("race");
    const notes = Array.from({ length: 40 }, (_, i) => `note ${i} from ${i % 2 ? "k2" : "k1"}`);
    const answers = await Promise.all(notes.map((n, i) => (i % 2 ? k2 : k1)("POST", "/api/v1/memory/append", { body: { content: n } })));
    for (const r of answers) expect(r.status).toBe(200);
    // Every answer saw a distinct version: no two appends were applied to the same base.
    expect(new Set(answers.map((r) => r.body.version)).size).toBe(40);
    const final = await k1("GET", "/api/v1/memory");
    expect(final.body.version).toBe(40);
    const entries = final.body.content.split(SEP);
    expect(entries.length).toBe(40);
    expect([...entries].sort()).toEqual([...notes].sort());
    // Both keys read the same document.
    expect((await k2("GET", "/api/v1/memory")).body.content).toBe(final.body.content);
  });
});

describe("audit", () => {
  test("PUT writes memory.update, append writes memory.append, with request ids", async () => {
    const { k1, k2 } = await freshWorkspace("memaudit");
    expect((await k1("PUT", "/api/v1/memory", { body: { content: "base" }, headers: { "x-request-id": "mem-put-1" } })).status).toBe(200);
    expect((await k2("POST", "/api/v1/memory/append", { body: { content: "added" }, headers: { "x-request-id": "mem-append-1" } })).status).toBe(200);
    expect((await k1("POST", "/api/v1/memory/append", { body: { content: "again" }, headers: { "x-request-id": "mem-append-2" } })).status).toBe(200);

    const updates = (await k1("GET", "/api/v1/audit-logs?action=memory.update")).body.data;
    expect(updates).toEqual([expect.objectContaining({ action: "memory.update", resourceType: "memory", requestId: "mem-put-1" })]);
    const appends = (await k1("GET", "/api/v1/audit-logs?action=memory.append")).body.data;
    expect(appends.map((e: { requestId: string }) => e.requestId)).toEqual(["mem-append-2", "mem-append-1"]);
    for (const e of appends) expect(e.resourceType).toBe("memory");
    const k2Id = (await k2("GET", "/api/v1/profile")).body.apiKeyId;
    expect(appends[1].actor.apiKeyId).toBe(k2Id);
    const byType = (await k1("GET", "/api/v1/audit-logs?resource_type=memory")).body.data;
    expect(byType.length).toBe(3);
  });

  test("a rejected write leaves no audit row", async () => {
    const { k1 } = await freshWorkspace("memaudit2");
    const etag = (await k1("GET", "/api/v1/memory")).headers.get("etag")!;
    expect((await k1("PUT", "/api/v1/memory", { body: { content: "one" }, headers: { "if-match": etag } })).status).toBe(200);
    expect((await k1("PUT", "/api/v1/memory", { body: { content: "two" }, headers: { "if-match": etag } })).status).toBe(412);
    expect((await k1("GET", "/api/v1/audit-logs?resource_type=memory")).body.data.length).toBe(1);
  });
});
