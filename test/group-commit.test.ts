// Group commit: idempotent request mutations share one transaction, each in its own savepoint, and answer only
// after that COMMIT. A failing request leaves the others committed; SIGKILL loses only unanswered requests; a
// failed COMMIT fails every request of its batch (and forgets their cached answers) rather than answering 200.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Idempotency } from "../src/http/idempotency";
import { ConflictError } from "../src/lib/errors";
import { SecretBox } from "../src/lib/secret-box";
import { migrate, openStore } from "../src/store/db";
import type { SqliteStore } from "../src/store/sqlite-store";
import { cleanup, client, startServer, testDialect, uniqueEmail, type TestServer } from "./helpers/server";

const dbFile = (s: TestServer) => join(s.dataDir, "clanker.db");

/** Reads the stopped server's database file directly: what is on disk, not what a cache says. */
function onDisk<T>(s: TestServer, sql: string, ...args: (string | number)[]): T[] {
  const db = new Database(dbFile(s), { readonly: true });
  try {
    return db.query(sql).all(...args) as T[];
  } finally {
    db.close();
  }
}

/** Every workspace id the caller sees through the API, page by page. */
async function listedIds(api: ReturnType<typeof client>): Promise<Set<string>> {
  const ids = new Set<string>();
  for (let after = ""; ; ) {
    const r = await api("GET", `/api/v1/workspaces?limit=100${after ? `&after_id=${after}` : ""}`);
    expect(r.status).toBe(200);
    for (const w of r.body.data) ids.add(w.id);
    if (!r.body.has_more) return ids;
    after = r.body.last_id;
  }
}

async function listedNames(api: ReturnType<typeof client>): Promise<string[]> {
  const names: string[] = [];
  for (let after = ""; ; ) {
    const r = await api("GET", `/api/v1/workspaces?limit=100${after ? `&after_id=${after}` : ""}`);
    for (const w of r.body.data) names.push(w.name);
    if (!r.body.has_more) return names;
    after = r.body.last_id;
  }
}

// Group commit is the SQLite store's (PostgreSQL commits each transaction on its own).
describe.skipIf(testDialect() === "postgres")("group commit over HTTP", () => {
  let server: TestServer;
  let api: ReturnType<typeof client>;

  beforeAll(async () => {
    server = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "100000" } });
    api = client(server, { apiKey: await server.createKey({ email: uniqueEmail("gc") }) });
  });
  afterAll(async () => {
    await server.stop();
    cleanup(server);
  });

  test("50 concurrent POSTs where some fail in the service: all the others are committed, audited and survive a restart", async () => {
    const run = Date.now().toString(36);
    const bodies = Array.from({ length: 50 }, (_, i) =>
      i % 10 === 3 ? { name: "   " } // blank after trim: 400 from the service, past the schema
      : i % 10 === 7 ? { name: `dup ${i}`, slug: `gc-dup-${run}` } // one of these wins, the rest are 409 SLUG_TAKEN
      : { name: `gc ${run} ${i}` },
    );
    const answers = await Promise.all(bodies.map((body, i) => api("POST", "/api/v1/workspaces", { body, headers: { "idempotency-key": `gc-${run}-${i}` } })));
    const ok = answers.filter((a) => a.status === 200);
    expect(answers.filter((a, i) => i % 10 === 3).every((a) => a.status === 400 && a.body.error.param === "name")).toBe(true);
    const dups = answers.filter((a, i) => i % 10 === 7);
    expect(dups.filter((a) => a.status === 200)).toHaveLength(1);
    expect(dups.filter((a) => a.status === 409 && a.body.error.code === "SLUG_TAKEN")).toHaveLength(4);
    expect(ok).toHaveLength(41);

    await server.stop();
    const ids = ok.map((a) => Number(String(a.body.id).replace(/^ws_/, "")));
    const rows = onDisk<{ id: number }>(server, `SELECT id FROM workspaces WHERE id IN (${ids.join(",")})`);
    expect(rows).toHaveLength(41);
    // Every committed mutation has its audit row and its stored answer (same savepoint), nothing for the refusals.
    const audits = onDisk<{ resource_id: string }>(server, "SELECT resource_id FROM audit_logs WHERE action = 'workspace.create' AND request_id IS NOT NULL");
    for (const a of ok) expect(audits.filter((r) => r.resource_id === a.body.id)).toHaveLength(1);
    const keys = onDisk<{ status: number }>(server, "SELECT status FROM idempotency_keys WHERE key LIKE ?", `% gc-${run}-%`);
    expect(keys.filter((k) => k.status === 200)).toHaveLength(41);
    expect(keys.filter((k) => k.status >= 400)).toHaveLength(0);

    await server.restart();
    const listed = await listedIds(api);
    expect(ok.filter((a) => listed.has(a.body.id))).toHaveLength(41);
    // Replays after the restart are byte-for-byte the first answers; a refusal is tried again (and refused again).
    const replays = await Promise.all(bodies.map((body, i) => api("POST", "/api/v1/workspaces", { body, headers: { "idempotency-key": `gc-${run}-${i}` } })));
    replays.forEach((r, i) => {
      expect(r.status).toBe(answers[i]!.status);
      if (r.status !== 200) return expect(r.headers.get("idempotency-replayed")).toBeNull();
      expect(r.text).toBe(answers[i]!.text);
      expect(r.headers.get("idempotency-replayed")).toBe("true");
    });
  }, 60_000);

  test("SIGKILL during a burst of POSTs loses only requests that got no answer", async () => {
    const run = `k${Date.now().toString(36)}`;
    const acked: string[] = [];
    let sent = 0;
    let stop = false;
    // 16 clients, each POSTing back to back (bounded: 400 requests), until the server dies.
    const worker = async (w: number) => {
      for (let i = 0; i < 25 && !stop; i++) {
        sent++;
        try {
          const r = await api("POST", "/api/v1/workspaces", { body: { name: `${run} ${w} ${i}` }, headers: { "idempotency-key": `${run}-${w}-${i}` } });
          if (r.status === 200) acked.push(r.body.id);
        } catch {
          return; // connection refused or reset: the server is gone
        }
      }
    };
    const burst = Promise.all(Array.from({ length: 16 }, (_, w) => worker(w)));
    while (acked.length < 60 && sent < 400) await Bun.sleep(1);
    await server.kill("SIGKILL");
    stop = true;
    await burst;
    expect(acked.length).toBeGreaterThanOrEqual(60);

    const ids = acked.map((id) => Number(id.replace(/^ws_/, "")));
    const rows = onDisk<{ id: number }>(server, `SELECT id FROM workspaces WHERE id IN (${ids.join(",")})`);
    console.log(`SIGKILL burst: ${sent} sent, ${acked.length} acknowledged, ${rows.length} of them on disk`);
    expect(rows).toHaveLength(acked.length);
    const audited = onDisk<{ n: number }>(server, `SELECT count(*) AS n FROM audit_logs WHERE action = 'workspace.create' AND resource_id IN (${acked.map((a) => `'${a}'`).join(",")})`);
    expect(audited[0]!.n).toBe(acked.length);
    await server.restart();
    const listed = await listedIds(api);
    expect(acked.filter((id) => listed.has(id))).toHaveLength(acked.length);
  }, 60_000);
});

// Group commit is the SQLite store's (PostgreSQL commits each transaction on its own).
describe.skipIf(testDialect() === "postgres")("a COMMIT that fails over HTTP", () => {
  test("every request of the failed batch is a 500 COMMIT_FAILED, none is on disk, and a retry runs afresh", async () => {
    const server = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "100000" } });
    try {
      const api = client(server, { apiKey: await server.createKey({ email: uniqueEmail("gcfail") }) });
      await server.stop();
      // A deferred foreign key is checked at COMMIT: a trigger makes every batch holding a 'doomed' workspace fail
      // there, while the switch is on (flipped from this process, through its own connection).
      const db = new Database(dbFile(server));
      db.run("CREATE TABLE gc_switch (doom INTEGER NOT NULL)");
      db.run("INSERT INTO gc_switch VALUES (1)");
      db.run("CREATE TABLE gc_parent (id INTEGER PRIMARY KEY)");
      db.run("CREATE TABLE gc_child (pid INTEGER REFERENCES gc_parent(id) DEFERRABLE INITIALLY DEFERRED)");
      db.run(`CREATE TRIGGER gc_doom AFTER INSERT ON workspaces WHEN NEW.name LIKE 'doomed%' AND (SELECT doom FROM gc_switch) = 1
              BEGIN INSERT INTO gc_child VALUES (-1); END`);
      db.close();
      await server.restart();

      const names = Array.from({ length: 20 }, (_, i) => (i % 2 ? `doomed ${i}` : `fine ${i}`));
      // A query string may carry a secret (?apiKey= on /api/events): the error log of a 500 must name the path only.
      const post = (name: string) => api("POST", "/api/v1/workspaces?trace=QUERY-MARKER", { body: { name }, headers: { "idempotency-key": `gcfail-${name.replace(" ", "-")}` } });
      const answers = await Promise.all(names.map(post));
      answers.forEach((a, i) => {
        if (i % 2) expect({ status: a.status, type: a.body.error?.type, code: a.body.error?.code }).toEqual({ status: 500, type: "api_error", code: "COMMIT_FAILED" });
        else if (![200, 500].includes(a.status)) throw new Error(a.text);
      });
      const logged = server.logs();
      expect(logged).toContain("POST /api/v1/workspaces:");
      expect(logged).not.toContain("QUERY-MARKER");
      const created = answers.filter((a) => a.status === 200).map((a) => a.body.id);
      const listed = await listedIds(api);
      expect(created.filter((id) => listed.has(id))).toHaveLength(created.length);
      const onDiskNames = new Set((await listedNames(api)));
      names.forEach((n, i) => expect(onDiskNames.has(n)).toBe(answers[i]!.status === 200));

      const sw = new Database(dbFile(server));
      sw.run("PRAGMA busy_timeout = 5000");
      sw.run("UPDATE gc_switch SET doom = 0");
      sw.close();
      // The failed batch's answers were cached before its COMMIT: they must be gone, so the same keys run again.
      const retries = await Promise.all(names.filter((_, i) => answers[i]!.status !== 200).map(post));
      for (const r of retries) {
        expect(r.status).toBe(200);
        expect(r.headers.get("idempotency-replayed")).toBeNull();
      }
      await server.stop();
    } finally {
      cleanup(server);
    }
  }, 60_000);
});

describe("group commit in the store (real SQLite file)", () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), "clanker-gc-"))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("requests in one turn share one COMMIT; a throw rolls back only its own savepoint", async () => {
    const store = (await openStore(join(dir, "a.db"))) as SqliteStore;
    store.sqlite.run("CREATE TABLE t (v INTEGER UNIQUE)");
    const before = { commits: store.commits, batched: store.batched };
    const results = (
      await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) =>
          store.batchedTx(async () => {
            // A nested store.tx (what services do) becomes a savepoint of the batch, not a commit of its own.
            await store.tx(async () => store.sqlite.query("INSERT INTO t (v) VALUES (?)").run(i % 10 === 9 ? 9 : i));
            return "ok";
          }),
        ),
      )
    ).map((r) => (r.status === "fulfilled" ? r.value : "failed"));
    expect(results.filter((r) => r === "failed")).toHaveLength(4); // 19, 29, 39, 49 collide with 9
    expect(store.batched - before.batched).toBe(50);
    // Nothing is on disk until the batch commits; a second connection still sees none of it.
    const other = new Database(join(dir, "a.db"), { readonly: true });
    expect(other.query("SELECT count(*) AS n FROM t").get()).toEqual({ n: 0 });
    await store.pending();
    expect(store.commits - before.commits).toBe(1);
    expect(other.query("SELECT count(*) AS n FROM t").get()).toEqual({ n: 46 });
    other.close();
    expect(store.pending()).toBeNull();
    await store.close();
  });

  test("a batch's savepoint journals stay in memory: no temp file, however much the batch wrote", async () => {
    const store = (await openStore(join(dir, "journal.db"))) as SqliteStore;
    store.sqlite.run("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    // ~100 KiB of rows on disk before the batch: the pages a savepoint changes must be journaled only if they existed.
    store.sqlite.run("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000) INSERT INTO t (v) SELECT printf('%.100c', 'x') FROM n");
    // SQLite's temp files have no name (O_TMPFILE: "/var/tmp/#12345 (deleted)" in /proc) or are unlinked at once.
    const tempFiles = () => readdirSync("/proc/self/fd").filter((fd) => {
      try {
        return /\/#\d+ \(deleted\)$|etilqs_/.test(readlinkSync(`/proc/self/fd/${fd}`));
      } catch {
        return false;
      }
    });
    let seen = 0;
    // 64 savepoints in one batch, each rewriting every row: far past the 64 KiB at which a file-backed journal spills.
    await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        store.batchedTx(async () => {
          store.sqlite.query("UPDATE t SET v = ?").run(String(i % 10).repeat(100));
          await Promise.resolve();
          seen = Math.max(seen, tempFiles().length);
        }),
      ),
    );
    await store.pending();
    expect(seen).toBe(0);
    expect(store.sqlite.query("SELECT count(*) AS n FROM t WHERE v = ?").get("3".repeat(100))).toEqual({ n: 1000 });
    await store.close();
  });

  test("a direct writer commits the open batch first, so its own tx is on disk when it returns", async () => {
    const store = (await openStore(join(dir, "b.db"))) as SqliteStore;
    store.sqlite.run("CREATE TABLE t (v INTEGER)");
    await store.batchedTx(async () => store.sqlite.run("INSERT INTO t VALUES (1)"));
    const pending = store.pending();
    await store.tx(async () => store.sqlite.run("INSERT INTO t VALUES (2)"));
    const other = new Database(join(dir, "b.db"), { readonly: true });
    expect(other.query("SELECT count(*) AS n FROM t").get()).toEqual({ n: 2 });
    other.close();
    expect(pending).not.toBeNull();
    await store.close();
  });

  test("a batch SQLite rolled back on its own fails all its waiters; the next request starts a new batch", async () => {
    const store = (await openStore(join(dir, "d.db"))) as SqliteStore;
    store.sqlite.run("CREATE TABLE t (v INTEGER)");
    await store.batchedTx(async () => store.sqlite.run("INSERT INTO t VALUES (1)"));
    const lost = store.pending()!;
    // What SQLITE_FULL or an IO error does mid-batch: the whole transaction is gone.
    await expect(
      store.batchedTx(async () => {
        store.sqlite.run("ROLLBACK");
        throw new Error("disk full");
      }),
    ).rejects.toThrow("disk full");
    await store.batchedTx(async () => store.sqlite.run("INSERT INTO t VALUES (3)"));
    const next = store.pending()!;
    expect(next).not.toBe(lost);
    await expect(lost).rejects.toThrow();
    await next;
    expect(store.sqlite.query("SELECT v FROM t").all()).toEqual([{ v: 3 }]);
    await store.close();
  });

  test("a full disk is 503 STORE_UNAVAILABLE to every waiter of the batch: the write's SQLITE_FULL, not the COMMIT that then found no transaction", async () => {
    const store = (await openStore(join(dir, "full.db"))) as SqliteStore;
    await migrate(store);
    store.sqlite.run("CREATE TABLE big (v TEXT)");
    const idem = new Idempotency(store, 60_000, new SecretBox(Buffer.alloc(32, 7)));
    const req = (key: string) => ({ workspaceId: 1, principal: "user:1", key, method: "POST", path: "/x", body: { key } });
    // The database may grow no more: SQLite answers SQLITE_FULL, as on a full disk, and ends the transaction.
    const { page_count } = store.sqlite.query<{ page_count: number }, []>("PRAGMA page_count").get()!;
    store.sqlite.run(`PRAGMA max_page_count = ${page_count}`);
    const small = idem.run(req("small"), async () => ({ status: 200, body: {} }));
    const big = idem.run(req("big"), async () => ({ status: 200, body: { n: store.sqlite.run("INSERT INTO big VALUES (?)", ["x".repeat(1_000_000)]).changes } }));
    await expect(big).rejects.toMatchObject({ code: "SQLITE_FULL" });
    await small.catch(() => {});
    const told = await idem.committed().then(() => null, (e: unknown) => e as { status: number; type: string; code: string });
    expect({ status: told?.status, type: told?.type, code: told?.code }).toEqual({ status: 503, type: "overloaded_error", code: "STORE_UNAVAILABLE" });
    expect(store.sqlite.query("SELECT count(*) AS n FROM idempotency_keys").get()).toEqual({ n: 0 });
    await store.close();
  });

  test("a failed COMMIT rejects every waiter, keeps nothing, and forgets the idempotent answers it cached", async () => {
    const store = (await openStore(join(dir, "c.db"))) as SqliteStore;
    await migrate(store);
    store.sqlite.run("CREATE TABLE parent (id INTEGER PRIMARY KEY)");
    // A deferred foreign key is checked at COMMIT: the one real way to make COMMIT itself fail on demand.
    store.sqlite.run("CREATE TABLE child (pid INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)");
    const idem = new Idempotency(store, 60_000, new SecretBox(Buffer.alloc(32, 7)));
    const req = (key: string) => ({ workspaceId: 1, principal: "user:1", key, method: "POST", path: "/x", body: { key } });
    const first = await idem.run(req("a"), async () => ({ status: 200, body: { n: store.sqlite.run("INSERT INTO child VALUES (1)").changes } }));
    expect(first.replayed).toBe(false);
    await expect(
      idem.run(req("b"), async () => {
        throw new ConflictError("no");
      }),
    ).rejects.toThrow(ConflictError);
    // Before the COMMIT, the same key replays from the cache (and the HTTP layer makes that replay wait too).
    expect((await idem.run(req("a"), async () => ({ status: 200, body: {} }))).replayed).toBe(true);
    const pending = store.pending()!;
    await expect(pending).rejects.toThrow();
    expect(store.sqlite.inTransaction).toBe(false);
    expect(store.sqlite.query("SELECT count(*) AS n FROM child").get()).toEqual({ n: 0 });
    expect(store.sqlite.query("SELECT count(*) AS n FROM idempotency_keys").get()).toEqual({ n: 0 });
    // The cached answers are gone with the batch: the same keys run afresh.
    let ran = 0;
    store.sqlite.run("INSERT INTO parent VALUES (1)");
    expect((await idem.run(req("a"), async () => ({ status: 200, body: { n: ++ran } }))).replayed).toBe(false);
    expect((await idem.run(req("b"), async () => ({ status: 200, body: { n: ++ran } }))).replayed).toBe(false);
    await store.pending();
    expect(ran).toBe(2);
    await store.close();
  });
});
