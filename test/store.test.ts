import { afterAll, beforeAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asc, eq, lt, sql } from "drizzle-orm";
import { MIGRATIONS } from "../src/store/migrations";
import { migrate, openStore, type Store } from "../src/store/db";
import { BackupError, writeBackup } from "../src/store/backup";
import { STATEMENT_CACHE, type SqliteStore } from "../src/store/sqlite-store";
import { prepared } from "../src/store/prepared";
import { auditLogs, events, users } from "../src/store/schema";
import { createAgentsService } from "../src/modules/signin/agents";
import { createOtpService } from "../src/modules/signin/otp";
import { createOAuthService } from "../src/modules/signin/oauth";
import { SecretBox } from "../src/lib/secret-box";
import { pruneSessions } from "../src/modules/users/sessions";
import { deleteInBatches } from "../src/store/prune";
import { createWebhooksService } from "../src/modules/webhooks/service";
import { pruneOutbox } from "../src/modules/signin/mailer";
import { dataDirFiles } from "../src/store/files";
import { loadConfig } from "../src/config";
import { createLog } from "../src/lib/log";
import { lockDataDir } from "../src/store/data-lock";
import { privateFile } from "../src/lib/private-files";

const dir = join(import.meta.dir, "../src/store/migrations");
let tmp: string;
beforeAll(() => (tmp = mkdtempSync(join(tmpdir(), "clanker-store-"))));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A migrated store on a fresh file of its own (a second connection can look at what is on disk). */
async function fileStore(name: string): Promise<SqliteStore> {
  const store = (await openStore(join(tmp, name))) as SqliteStore;
  await migrate(store);
  return store;
}

const addUser = (store: SqliteStore, name: string) => store.db.insert(users).values({ name, email: `${name}@example.test`, createdAt: 1, updatedAt: 1 });
const userNames = async (store: SqliteStore) => (await store.db.select({ name: users.name }).from(users).orderBy(asc(users.id))).map((r) => r.name);
/** How many users another connection sees in the file: what is committed. */
function usersOnDisk(name: string): number {
  const db = new Database(join(tmp, name), { readonly: true });
  try {
    return db.query<{ n: number }, []>("SELECT count(*) AS n FROM users").get()!.n;
  } finally {
    db.close();
  }
}
/** A real wait (a timer, not a microtask): whatever else is runnable runs meanwhile. */
const pause = (ms = 5) => new Promise((r) => setTimeout(r, ms));

test("every migration drizzle-kit generated is embedded, in order", () => {
  const journal = JSON.parse(readFileSync(join(dir, "meta/_journal.json"), "utf8")) as { entries: { tag: string }[] };
  expect(MIGRATIONS.map((m) => m.tag)).toEqual(journal.entries.map((e) => e.tag));
  for (const m of MIGRATIONS) expect(m.sql).toBe(readFileSync(join(dir, `${m.tag}.sql`), "utf8"));
});

test("migrations apply to an empty store once, and a second run applies nothing", async () => {
  const store = (await openStore(":memory:")) as SqliteStore;
  expect(await migrate(store)).toEqual(MIGRATIONS.map((m) => m.tag));
  expect(await migrate(store)).toEqual([]);
  const tables = store.sqlite.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => r.name);
  for (const t of ["users", "workspaces", "memberships", "api_keys", "sessions", "audit_logs", "idempotency_keys", "memory", "executions", "artifacts"])
    expect(tables).toContain(t);
  expect(store.sqlite.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()!.journal_mode).toBe("memory");
  await store.close();
});

test("a prune deletes a thousand rows a transaction, with a turn between (one DELETE of a week's events held every write for seconds)", async () => {
  const store = await fileStore("prune-batches.db");
  store.sqlite.run(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2600) INSERT INTO events (workspace_id, type, source, data, created_at) SELECT 1, 't', 'api', '{}', CASE WHEN i <= 2500 THEN 1 ELSE 2000000000000 END FROM n",
  );
  const tx = store.tx.bind(store);
  let txs = 0;
  let turns = 0;
  store.tx = ((fn: () => Promise<unknown>) => (txs++, tx(fn))) as typeof store.tx;
  // Runs at the first turn the prune gives back to the event loop; never, if it kept it to the end.
  setImmediate(() => turns++);
  try {
    expect(await deleteInBatches(store, events, events.id, lt(events.createdAt, 2))).toBe(2500);
  } finally {
    store.tx = tx;
  }
  expect(txs).toBe(3);
  expect(turns).toBeGreaterThan(0);
  expect(store.sqlite.query<{ n: number }, []>("SELECT count(*) AS n FROM events").get()!.n).toBe(100);
  await store.close();
});

test("the scheduler's prune forgets one-time codes a day past expiry and keeps live ones", async () => {
  const store = (await openStore(":memory:")) as SqliteStore;
  await migrate(store);
  const otp = createOtpService(store, new SecretBox(Buffer.alloc(32, 7)));
  await otp.mail("signin", "old@example.test", null, async () => {});
  await otp.mail("signin", "new@example.test", null, async () => {});
  store.sqlite.run("UPDATE otp_codes SET expires_at = ? WHERE email = 'old@example.test'", [Date.now() - 25 * 3600 * 1000]);
  await otp.prune();
  const left = store.sqlite.query<{ email: string }, []>("SELECT email FROM otp_codes").all().map((r) => r.email);
  expect(left).toEqual(["new@example.test"]);
  await store.close();
});

test("the scheduler's prune forgets registrations by address a day past their claim's expiry, never claimed, and keeps the rest", async () => {
  const store = (await openStore(":memory:")) as SqliteStore;
  await migrate(store);
  const agents = createAgentsService({ store } as unknown as Parameters<typeof createAgentsService>[0]);
  const old = Date.now() - 25 * 3600 * 1000;
  const add = (token: string, kind: string, status: string, claimExpiresAt: number) =>
    store.sqlite.run("INSERT INTO agent_registrations (kind, claim_token_hash, email, status, claim_expires_at, created_at) VALUES (?, ?, 'a@example.test', ?, ?, ?)", [kind, token, status, claimExpiresAt, old]);
  add("stale", "identity_assertion", "pending", old);
  add("live", "identity_assertion", "pending", Date.now() + 3600_000);
  add("claimed", "identity_assertion", "claimed", old);
  add("anonymous", "anonymous", "active", old);
  await agents.prune();
  const left = store.sqlite.query<{ t: string }, []>("SELECT claim_token_hash AS t FROM agent_registrations ORDER BY id").all().map((r) => r.t);
  expect(left).toEqual(["live", "claimed", "anonymous"]);
  await store.close();
});

test("the scheduler's prune forgets OAuth codes a day past expiry and clients nobody approved within a week", async () => {
  const store = (await openStore(":memory:")) as SqliteStore;
  await migrate(store);
  const oauth = createOAuthService(store, new SecretBox(Buffer.alloc(32, 7)), { forgetKey() {} });
  const register = async (name: string) => (await oauth.register({ client_name: name, redirect_uris: ["http://127.0.0.1/cb"] })).client_id;
  const [waitingOld, waitingNew, approvedOld] = [await register("waiting old"), await register("waiting new"), await register("approved old")];
  const weekAndADay = Date.now() - 8 * 24 * 3600 * 1000;
  store.sqlite.run("UPDATE oauth_clients SET created_at = ? WHERE client_id IN (?, ?)", [weekAndADay, waitingOld, approvedOld]);
  store.sqlite.run("UPDATE oauth_clients SET last_authorized_at = ? WHERE client_id = ?", [weekAndADay, approvedOld]);
  const code = (hash: string, expiresAt: number) =>
    store.sqlite.run(
      "INSERT INTO oauth_codes (code_hash, client_id, user_id, workspace_id, redirect_uri, code_challenge, expires_at, created_at) VALUES (?, ?, 1, 1, 'http://127.0.0.1/cb', 'c', ?, ?)",
      [hash, approvedOld, expiresAt, expiresAt - 600_000],
    );
  code("spent long ago", Date.now() - 25 * 3600 * 1000);
  code("expired an hour ago", Date.now() - 3600 * 1000);
  code("live", Date.now() + 600_000);
  await oauth.prune();
  const clients = store.sqlite.query<{ name: string }, []>("SELECT name FROM oauth_clients ORDER BY id").all().map((r) => r.name);
  expect(clients).toEqual(["waiting new", "approved old"]);
  const codes = store.sqlite.query<{ code_hash: string }, []>("SELECT code_hash FROM oauth_codes ORDER BY id").all().map((r) => r.code_hash);
  expect(codes).toEqual(["expired an hour ago", "live"]);
  await store.close();
});

test("the scheduler's prunes: sessions a day past their end, ended callbacks past their keep, outbox mail past 8 days; what is live stays", async () => {
  const store = (await openStore(":memory:")) as SqliteStore;
  await migrate(store);
  const day = 24 * 3600 * 1000;
  const now = Date.now();
  store.sqlite.run("INSERT INTO users (name, email, created_at, updated_at) VALUES ('u', 'u@example.test', 1, 1)");
  store.sqlite.run("INSERT INTO workspaces (name, slug, personal, created_at) VALUES ('w', 'w', 1, 1)");
  const session = (hash: string, expiresAt: number, revokedAt: number | null) =>
    store.sqlite.run("INSERT INTO sessions (user_id, token_hash, created_at, expires_at, revoked_at) VALUES (1, ?, 1, ?, ?)", [hash, expiresAt, revokedAt]);
  session("expired two days ago", now - 2 * day, null);
  session("expired an hour ago", now - 3600_000, null);
  session("signed out two days ago", now + day, now - 2 * day);
  session("signed out an hour ago", now + day, now - 3600_000);
  session("live", now + day, null);
  await pruneSessions(store, now);
  expect(store.sqlite.query<{ h: string }, []>("SELECT token_hash AS h FROM sessions ORDER BY id").all().map((r) => r.h)).toEqual(["expired an hour ago", "signed out an hour ago", "live"]);

  const delivery = (event: string, status: string, createdAt: number) =>
    store.sqlite.run("INSERT INTO webhook_deliveries (workspace_id, url, event, payload, status, next_attempt_at, created_at) VALUES (1, 'http://127.0.0.1/cb', ?, '{}', ?, 0, ?)", [event, status, createdAt]);
  delivery("delivered long ago", "delivered", now - 31 * day);
  delivery("failed long ago", "failed", now - 31 * day);
  delivery("pending long ago", "pending", now - 31 * day);
  delivery("delivered lately", "delivered", now - day);
  const webhooks = createWebhooksService(store, new SecretBox(Buffer.alloc(32, 7)), loadConfig({}, {}).webhooks, createLog({ level: "error", format: "json" }));
  await webhooks.prune(30 * day, now);
  expect(store.sqlite.query<{ e: string }, []>("SELECT event AS e FROM webhook_deliveries ORDER BY id").all().map((r) => r.e)).toEqual(["pending long ago", "delivered lately"]);
  await store.close();

  const files = dataDirFiles(join(tmp, "outbox-prune"));
  await files.put(`outbox/${now - 9 * day}-1-old@example.test.eml`, "old");
  await files.put(`outbox/${now - 7 * day}-2-invited@example.test.eml`, "an invitation still good");
  await files.put(`outbox/${now - 9 * day}-3-${process.pid}-replica@example.test.eml`, "old, from a replica");
  await files.put("outbox/notes.txt", "not the server's");
  // An outbox linked to a person's folder: their files named by date are not mail.
  await files.put("outbox/2024-01-tax-return.pdf", "not the server's either");
  expect(await pruneOutbox(files, now)).toBe(2);
  expect(await files.list("outbox/")).toEqual([`outbox/${now - 7 * day}-2-invited@example.test.eml`, "outbox/2024-01-tax-return.pdf", "outbox/notes.txt"]);
});

test("links left in the data dir are not followed: the pid file is made anew, a linked file's mode is left alone", () => {
  const dataDir = join(tmp, "links");
  mkdirSync(dataDir, { recursive: true });
  const victim = join(tmp, "someone-elses.txt");
  writeFileSync(victim, "theirs");
  chmodSync(victim, 0o644);
  symlinkSync(victim, join(dataDir, "clanker.pid"));
  symlinkSync(victim, join(dataDir, "linked.db"));
  const lock = lockDataDir(dataDir);
  try {
    lock.announce("http://127.0.0.1:1");
    expect(readFileSync(victim, "utf8")).toBe("theirs");
    expect(lstatSync(join(dataDir, "clanker.pid")).isSymbolicLink()).toBe(false);
    expect(readFileSync(join(dataDir, "clanker.pid"), "utf8")).toContain("http://127.0.0.1:1");
    privateFile(join(dataDir, "linked.db"));
    expect(statSync(victim).mode & 0o777).toBe(0o644);
  } finally {
    lock.release();
  }
});

test("a file write that fails part-way (a full disk: /dev/full) leaves nothing at its path; the put fails with the disk's error", async () => {
  const files = dataDirFiles(join(tmp, "full-disk"));
  await files.put("artifacts/1/kept.txt", "fine");
  mkdirSync(join(tmp, "full-disk", "artifacts", "1"), { recursive: true });
  symlinkSync("/dev/full", join(tmp, "full-disk", "artifacts", "1", "lost.bin"));
  const failed = await files.put("artifacts/1/lost.bin", Buffer.alloc(64 * 1024, 1)).then(() => null, (e: NodeJS.ErrnoException) => e.code);
  expect(failed).toBe("ENOSPC");
  expect(lstatSync(join(tmp, "full-disk", "artifacts", "1", "lost.bin"), { throwIfNoEntry: false })).toBeUndefined();
  expect(await files.list("artifacts/")).toEqual(["artifacts/1/kept.txt"]);
});

test("two concurrent store.tx that await between statements stay atomic: a throw rolls back only its own writes", async () => {
  const store = await fileStore("concurrent.db");
  const order: string[] = [];
  // a starts first and is still open (awaiting a timer) when b starts: on one SQLite connection, b's writes
  // would land in a's transaction and go with its rollback, were b not kept out until a has ended.
  const a = store.tx(async () => {
    await addUser(store, "a1");
    order.push("a1");
    await pause();
    await addUser(store, "a2");
    order.push("a2");
    await pause();
    throw new Error("a fails");
  });
  const b = store.tx(async () => {
    await addUser(store, "b1");
    order.push("b1");
    await pause();
    await addUser(store, "b2");
    order.push("b2");
    return "b done";
  });
  const other = store.tx(async () => {
    await pause(1);
    throw new Error("c fails before writing");
  });
  await expect(a).rejects.toThrow("a fails");
  expect(await b).toBe("b done");
  await expect(other).rejects.toThrow("c fails");
  // Each ran whole, one after the other.
  expect(order).toEqual(["a1", "a2", "b1", "b2"]);
  expect(await userNames(store)).toEqual(["b1", "b2"]);
  expect(usersOnDisk("concurrent.db")).toBe(2);
  expect(store.sqlite.inTransaction).toBe(false);
  await store.close();
});

test("a nested store.tx that throws rolls back to its savepoint; the outer tx commits the rest", async () => {
  const store = await fileStore("nested.db");
  await store.tx(async () => {
    await addUser(store, "outer");
    await expect(
      store.tx(async () => {
        await addUser(store, "inner");
        await pause();
        throw new Error("inner fails");
      }),
    ).rejects.toThrow("inner fails");
  });
  expect(await userNames(store)).toEqual(["outer"]);
  await store.close();
});

test("a prepared query answers what the plain query answers, binds fresh values per call, and is part of the caller's tx", async () => {
  const store = await fileStore("prepared.db");
  const insert = prepared((db) => db.insert(users).values({ name: sql.placeholder("name"), email: sql.placeholder("email"), createdAt: 1, updatedAt: 1 }).returning());
  const byName = prepared((db) => db.select().from(users).where(eq(users.name, sql.placeholder("name"))));
  const [ann] = await insert(store, { name: "ann", email: "ann@example.test" });
  expect(ann).toMatchObject({ name: "ann", email: "ann@example.test" });
  expect(await byName(store, { name: "ann" })).toEqual(await store.db.select().from(users).where(eq(users.name, "ann")));
  expect(await byName(store, { name: "nobody" })).toEqual([]);
  await expect(
    store.tx(async () => {
      await insert(store, { name: "bob", email: "bob@example.test" });
      expect(await byName(store, { name: "bob" })).toHaveLength(1);
      throw new Error("roll back");
    }),
  ).rejects.toThrow("roll back");
  expect(await userNames(store)).toEqual(["ann"]);
  // A constraint failure rejects like the plain query's (email is unique), and leaves the statement usable.
  await expect(insert(store, { name: "ann2", email: "ann@example.test" })).rejects.toThrow(/UNIQUE/);
  await insert(store, { name: "cid", email: "cid@example.test" });
  expect(usersOnDisk("prepared.db")).toBe(2);
  await store.close();
});

test("a prepared insert binds null as NULL and JSON as JSON, as the plain insert does (drizzle's encoder alone would store 'null')", async () => {
  const store = await fileStore("prepared-null.db");
  const row = (metadata: unknown) => ({ workspaceId: 1, actorType: "system" as const, requestId: "req_1", action: "a", resourceType: "r", metadata: metadata as never, createdAt: 1 });
  const insert = prepared((db) => db.insert(auditLogs).values(row(sql.placeholder("metadata"))));
  await insert(store, { metadata: null });
  await insert(store, { metadata: { k: [1, "two"] } });
  await store.db.insert(auditLogs).values(row(null));
  const raw = store.sqlite.query<{ metadata: string | null }, []>("SELECT metadata FROM audit_logs ORDER BY id").all();
  expect(raw.map((r) => r.metadata)).toEqual([null, '{"k":[1,"two"]}', null]);
  await store.close();
});

test("more distinct statements than the cache holds: the least recently used are compiled again, every answer stays right", async () => {
  const store = await fileStore("statements.db");
  await addUser(store, "only");
  // Each limit is its own SQL text: the first round evicts its own first statements, the second compiles them again.
  for (let round = 0; round < 2; round++)
    for (let n = 1; n <= STATEMENT_CACHE + 50; n++) {
      const rows = await store.db.select({ name: users.name }).from(users).limit(sql.raw(String(n)) as unknown as number);
      if (rows.length !== 1 || rows[0]!.name !== "only") throw new Error(`limit ${n}: ${JSON.stringify(rows)}`);
    }
  await store.close();
});

test("afterCommit runs after the COMMIT, never on rollback, and at once outside a transaction", async () => {
  const store = await fileStore("after.db");
  const seen: string[] = [];
  await store.tx(async () => {
    await addUser(store, "x");
    store.afterCommit(() => seen.push(`committed: ${usersOnDisk("after.db")} on disk`));
    await pause();
    expect(seen).toEqual([]);
  });
  // It ran after the COMMIT: another connection already saw the row.
  expect(seen).toEqual(["committed: 1 on disk"]);

  await expect(
    store.tx(async () => {
      store.afterCommit(() => seen.push("rolled back"));
      throw new Error("no");
    }),
  ).rejects.toThrow("no");
  // A nested tx's callback waits for the outermost COMMIT.
  await store.tx(async () => {
    await store.tx(async () => store.afterCommit(() => seen.push("nested")));
    expect(seen).not.toContain("nested");
  });
  store.afterCommit(() => seen.push("no tx"));
  expect(seen).toEqual(["committed: 1 on disk", "nested", "no tx"]);
  await store.close();
});

test("inside a batchedTx, afterCommit waits for the batch COMMIT", async () => {
  const store = await fileStore("batch-after.db");
  const seen: string[] = [];
  const before = store.commits;
  const results = await Promise.all(
    ["p", "q"].map((name) =>
      store.batchedTx(async () => {
        await addUser(store, name);
        store.afterCommit(() => seen.push(name));
        return name;
      }),
    ),
  );
  expect(results).toEqual(["p", "q"]);
  // Both returned, but the batch has not committed yet: nothing ran, and nothing is on disk.
  expect(seen).toEqual([]);
  expect(usersOnDisk("batch-after.db")).toBe(0);
  await store.pending();
  expect(store.commits - before).toBe(1);
  expect(usersOnDisk("batch-after.db")).toBe(2);
  expect(seen).toEqual(["p", "q"]);
  await store.close();
});

test("a savepoint that rolls back (a failed batchedTx, a failed nested tx): its afterCommit never runs, though what is around it commits", async () => {
  const store = await fileStore("batch-rollback.db");
  const seen: string[] = [];
  const kept = store.batchedTx(async () => {
    await addUser(store, "kept");
    store.afterCommit(() => seen.push("kept"));
  });
  const failed = store.batchedTx(async () => {
    await addUser(store, "failed");
    store.afterCommit(() => seen.push("failed"));
    throw new Error("4xx");
  });
  await kept;
  await expect(failed).rejects.toThrow("4xx");
  await store.pending();
  expect(await userNames(store)).toEqual(["kept"]);
  expect(seen).toEqual(["kept"]);

  await store.tx(async () => {
    await store.tx(async () => {
      store.afterCommit(() => seen.push("inner, rolled back"));
      throw new Error("inner fails");
    }).catch(() => {});
    store.afterCommit(() => seen.push("outer"));
  });
  expect(seen).toEqual(["kept", "outer"]);
  await store.close();
});

test("a nested tx with join runs in the outer transaction: no savepoint of its own; alone it is a transaction", async () => {
  const store = await fileStore("join.db");
  const seen: string[] = [];
  // The outer goes on after the joined tx failed: what it wrote before its throw stays, and so do its hooks.
  await store.tx(async () => {
    await store
      .tx(
        async () => {
          await addUser(store, "joined");
          store.afterCommit(() => seen.push("joined"));
          throw new Error("joined fails");
        },
        { join: true },
      )
      .catch(() => {});
    await addUser(store, "outer");
  });
  expect(await userNames(store)).toEqual(["joined", "outer"]);
  expect(seen).toEqual(["joined"]);
  // Its error ending a request's savepoint (a batchedTx) undoes all of the request: the joined writes and hooks too.
  const request = store.batchedTx(async () => {
    await addUser(store, "request");
    await store.tx(async () => {
      await addUser(store, "joined in request");
      store.afterCommit(() => seen.push("joined in request"));
      throw new Error("409");
    }, { join: true });
  });
  await expect(request).rejects.toThrow("409");
  await store.pending();
  // Alone, join changes nothing: a throw rolls the transaction back, a return commits it.
  const alone = store.tx(
    async () => {
      await addUser(store, "alone, failed");
      throw new Error("no");
    },
    { join: true },
  );
  await expect(alone).rejects.toThrow("no");
  await store.tx(async () => void (await addUser(store, "alone")), { join: true });
  expect(await userNames(store)).toEqual(["joined", "outer", "alone"]);
  expect(seen).toEqual(["joined"]);
  expect(usersOnDisk("join.db")).toBe(3);
  await store.close();
});

test("a backup of a PostgreSQL store refuses with one line that says to use pg_dump, and writes nothing", async () => {
  const target = join(tmp, "pg-backup");
  const pg = { dialect: "postgres" } as unknown as Store;
  await expect(writeBackup(pg, tmp, target)).rejects.toThrow(BackupError);
  await expect(writeBackup(pg, tmp, target)).rejects.toThrow(/^[^\n]*pg_dump[^\n]*$/);
  expect(existsSync(target)).toBe(false);
  // The SQLite store still backs up (VACUUM INTO on its own connection).
  const store = await fileStore("to-back-up.db");
  await store.tx(async () => addUser(store, "saved"));
  await writeBackup(store, tmp, join(tmp, "sqlite-backup"));
  const copy = new Database(join(tmp, "sqlite-backup", "clanker.db"), { readonly: true });
  expect(copy.query("SELECT name FROM users").all()).toEqual([{ name: "saved" }]);
  copy.close();
  await store.close();
});
