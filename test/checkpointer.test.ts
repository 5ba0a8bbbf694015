// WAL checkpoints on their own thread (src/store/checkpointer.ts): while writes go on, the thread copies the WAL
// back into the database file and the writer's automatic checkpoint waits at its backstop mark; a WAL past its
// restart mark starts over without the writer's checkpoint; a thread that cannot open the database hands
// checkpoints back to the writer.
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BACKSTOP_MARK, Checkpointer, RESTART_MARK } from "../src/store/checkpointer";
import { SqliteStore } from "../src/store/sqlite-store";

const dir = mkdtempSync(join(tmpdir(), "clanker-checkpoints-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const mark = (db: Database) => db.query<{ wal_autocheckpoint: number }, []>("PRAGMA wal_autocheckpoint").get()!.wal_autocheckpoint;

async function until(what: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(10);
  }
}

test("the thread checkpoints the writer's commits; the writer keeps only its backstop", async () => {
  const path = join(dir, "a.db");
  const store = new SqliteStore(path);
  const sqlite = store.sqlite;
  sqlite.run("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  expect(mark(sqlite)).toBe(1000);
  const insert = sqlite.prepare("INSERT INTO t (v) VALUES (?)");
  const blob = "x".repeat(3000); // about a page per row
  let n = 0;
  const write = () => store.tx(async () => void insert.run(`${n++}${blob}`));
  // Not on the first commit: a short-lived process (a CLI command) starts no thread.
  await write();
  await Bun.sleep(50);
  expect(mark(sqlite)).toBe(1000);
  // The first round due (64 commits, or a commit a second after the last round) starts it.
  for (let i = 0; i < 200 && mark(sqlite) !== BACKSTOP_MARK; i++) {
    await write();
    if (i > 70) await Bun.sleep(10);
  }
  expect(mark(sqlite)).toBe(BACKSTOP_MARK);
  // Commits go on until the thread has run, without the writer reaching its own (backstop) mark.
  for (let i = 0; i < 2_000 && store.checkpoints!.runs < 3; i++) {
    await write();
    if (i % 20 === 0) await Bun.sleep(1);
  }
  expect(store.checkpoints!.runs).toBeGreaterThanOrEqual(3);
  // What the thread copied is in the database file: a reader of the file alone (no WAL) would see those rows. A
  // checkpoint from here finds at most the frames committed since the thread's last run still to copy.
  await until(() => {
    const r = sqlite.query<{ log: number; checkpointed: number }, []>("PRAGMA wal_checkpoint(PASSIVE)").get()!;
    return r.log === r.checkpointed;
  });
  expect(sqlite.query<{ c: number }, []>("SELECT count(*) AS c FROM t").get()!.c).toBe(n);
  await store.close();
  const reopened = new Database(path, { readonly: true });
  expect(reopened.query<{ c: number }, []>("SELECT count(*) AS c FROM t").get()!.c).toBe(n);
  reopened.close();
});

/**
 * A store on a new file, writing rows of about a page each (a frame or two per commit) back to back: the next BEGIN
 * follows the last COMMIT at once, but for a turn of the event loop now and then (where the thread's replies come
 * in, as between a server's requests).
 */
async function backToBack(name: string) {
  const path = join(dir, name);
  const store = new SqliteStore(path);
  store.sqlite.run("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
  const insert = store.sqlite.prepare("INSERT INTO t (v) VALUES (?)");
  const blob = "x".repeat(3000);
  let rows = 0;
  const write = async (i: number) => {
    await store.tx(async () => void insert.run(`${rows++}${blob}`));
    if (i % 16 === 0) await new Promise((r) => setImmediate(r));
  };
  /** Writes until `until` holds, at most `max` times. */
  const writeUntil = async (until: () => boolean, max = RESTART_MARK * 3) => {
    for (let i = 0; i < max && !until(); i++) await write(i);
  };
  // The WAL header's checkpoint sequence number: SQLite adds one each time it starts the WAL over.
  const walSequence = async () => new DataView(await Bun.file(`${path}-wal`).slice(0, 16).arrayBuffer()).getUint32(12);
  await write(1);
  return { path, store, checkpoints: store.checkpoints!, write, writeUntil, walSequence, rows: () => rows };
}

test("under back-to-back writes, the WAL starts over past its restart mark, long before the writer's backstop", async () => {
  const { store, checkpoints, write, writeUntil, walSequence, rows } = await backToBack("c.db");
  const first = await walSequence();
  await writeUntil(() => checkpoints.restarts >= 2);
  expect(checkpoints.restarts).toBe(2);
  // The first hold started the WAL over, and the next write waits for the second hold's round, then does too.
  // Without the holds, the WAL would go on growing until the writer's own checkpoint at the backstop, thousands
  // of writes from here. (A round may also end, now and then, between two writes: the WAL starts over then too.)
  const held = await walSequence();
  expect(held).toBeGreaterThan(first);
  await write(1);
  expect(await walSequence()).toBe(held + 1);
  // And the rounds find it short again.
  await writeUntil(() => checkpoints.frames < RESTART_MARK, 5_000);
  expect(checkpoints.frames).toBeLessThan(RESTART_MARK);
  expect(store.sqlite.query<{ c: number }, []>("SELECT count(*) AS c FROM t").get()!.c).toBe(rows());
  await store.close();
});

test("a reader that keeps the WAL from restarting is not answered with a hold every round", async () => {
  const { path, store, checkpoints, write, writeUntil, walSequence } = await backToBack("d.db");
  const first = await walSequence();
  // Another process's long read (a backup tool, an open sqlite3 shell): no checkpoint may copy past its snapshot.
  const reader = new Database(path, { readonly: true });
  reader.run("BEGIN");
  reader.query("SELECT count(*) FROM t").get();
  await writeUntil(() => checkpoints.restarts >= 1);
  expect(checkpoints.restarts).toBe(1);
  // The hold could not restart the WAL. The rounds that follow (one every 64 commits) hold the writes no more,
  // until the WAL has grown by half a mark (~1,400 of these commits). On a busy machine one more hold may come
  // (CI saw 2 in a few runs: a round under way as the first hold was asked for), never one a round.
  const runs = checkpoints.runs;
  await writeUntil(() => false, 500);
  expect(checkpoints.runs).toBeGreaterThan(runs + 3);
  expect(checkpoints.restarts).toBeLessThanOrEqual(2);
  expect(await walSequence()).toBe(first);
  // Once the reader has gone, the WAL starts over, and a WAL past the mark is held for again.
  reader.run("COMMIT");
  reader.close();
  const holds = checkpoints.restarts;
  await writeUntil(() => checkpoints.restarts > holds);
  expect(checkpoints.restarts).toBe(holds + 1);
  const held = await walSequence();
  await write(1);
  expect(await walSequence()).toBe(held + 1);
  await store.close();
});

test("a thread that cannot open the database gives checkpoints back to the writer, and says so", async () => {
  const path = join(dir, "b.db");
  const sqlite = new Database(path, { create: true });
  sqlite.run("PRAGMA journal_mode = WAL");
  const warnings: string[] = [];
  const checkpoints = new Checkpointer(join(dir, "missing", "nothing.db"), sqlite, (work) => work(), (line) => warnings.push(line));
  sqlite.run("PRAGMA wal_autocheckpoint = 10000"); // as if a thread had run before
  for (let i = 0; i < 64; i++) checkpoints.committed();
  await until(() => warnings.length > 0);
  expect(warnings[0]).toContain("WAL checkpoints run on the writer again");
  expect(mark(sqlite)).toBe(1000);
  checkpoints.committed(); // off for good: no second thread, no second warning
  await Bun.sleep(50);
  expect(warnings.length).toBe(1);
  await checkpoints.close();
  sqlite.close();
});
