// The embedded store: one bun:sqlite connection (WAL, NORMAL sync, foreign keys), transactions that may await,
// and group commit for request mutations. bun:sqlite runs every statement synchronously on the one connection, so
// an async transaction is only atomic if nobody else writes while it awaits: a writer lock serializes every
// store.tx (and the batch COMMIT), and a nested store.tx (found through AsyncLocalStorage) is a savepoint.
import { Database, type Statement } from "bun:sqlite";
import { AsyncLocalStorage } from "node:async_hooks";
import { accessSync, constants, existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { privateFile } from "../lib/private-files";
import { MIGRATIONS } from "./migrations";
import { MigrationFailedError, OlderServerError, refuseNewerSchema } from "./newer-schema";
import { runningServer } from "./data-lock";
import type { Db, Store, TxOptions } from "./db";
import { Checkpointer } from "./checkpointer";
import { vacuumCopy } from "./backup-source";

/** How long SQLite itself waits for another process's write lock, on this thread; and how long a BEGIN waits in all. */
const BUSY_SPIN_MS = 20;
const BUSY_WAIT_MS = 5_000;
const isBusy = (e: unknown) => typeof (e as { code?: unknown })?.code === "string" && (e as { code: string }).code.startsWith("SQLITE_BUSY");

/** The most savepoints one batch takes before the next batched tx commits it first (bounds commit latency). */
export const MAX_BATCH = 512;

interface Batch {
  size: number;
  done: Promise<void>;
  resolve(): void;
  reject(e: unknown): void;
  /** Side effects that must wait for the COMMIT (events to SSE clients, webhooks): run when it succeeds. */
  after: (() => void)[];
  /** The failure that ended the batch's transaction (SQLITE_FULL, IOERR): what its waiters are told, not the COMMIT's "no transaction". */
  lost?: unknown;
}

/** One open store.tx on this async path: nested calls see it and take a savepoint instead of the lock. */
interface Frame {
  open: boolean;
  /** The batch this tx is a savepoint of, or null for a transaction of its own. */
  batch: Batch | null;
  after: (() => void)[];
}

export class SqliteStore implements Store {
  readonly dialect = "sqlite" as const;
  readonly retries = 0;
  readonly deadlocks = 0;
  readonly sqlite: Database;
  readonly db: Db;
  /** COMMITs issued for batches, and savepoints they held (for the tests and the bench). */
  commits = 0;
  batched = 0;

  private frames = new AsyncLocalStorage<Frame>();
  private locked = false;
  private waiters: (() => void)[] = [];
  private batch: Batch | null = null;
  private flushWanted = false;
  private flushScheduled = false;
  private q;
  /** WAL checkpoints on a thread of their own (checkpointer.ts); none for an in-memory database. */
  readonly checkpoints: Checkpointer | null;
  readonly problem = (): string | null => this.checkpoints?.lost ?? null;

  constructor(path: string) {
    if (path !== ":memory:") {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // SQLite makes -wal and -shm with the db file's mode: a 0600 db keeps all three private whatever the umask.
      // SQLite makes -wal and -shm beside the file: a folder it may not write fails at the first write otherwise.
      accessSync(dirname(path), constants.W_OK);
      for (const f of [path, `${path}-wal`, `${path}-shm`]) {
        if (f !== path && !existsSync(f)) continue;
        privateFile(f);
        // SQLite opens a file it may not write read-only, without a word: a server would start, then answer every
        // write 503, and a first start fail with SQLITE_READONLY. EACCES here names the file (see the CLI's pathProblem).
        accessSync(f, constants.W_OK);
      }
    }
    const sqlite = new Database(path, { create: true, strict: true });
    // Until the store is migrated (migrate() shortens it), SQLite may wait on this thread for another process's write
    // lock as long as a request's write would: nothing is served yet, and a CLI command's transaction failed an upgrade.
    sqlite.run(`PRAGMA busy_timeout = ${BUSY_WAIT_MS}`);
    sqlite.run("PRAGMA journal_mode = WAL");
    sqlite.run("PRAGMA synchronous = NORMAL");
    sqlite.run("PRAGMA foreign_keys = ON");
    // Every request of a group-commit batch writes inside its own SAVEPOINT, and SQLite keeps the pages a savepoint
    // may have to restore in a statement journal that, by default, spills to a temp file once the batch has touched
    // 64 KiB: write(2)s on every insert. In memory, the audited POST costs 27 % less CPU (test/bench/ab.ts). The
    // same setting puts temp tables and sorts in memory: bounded by one query's temporary data.
    sqlite.run("PRAGMA temp_store = MEMORY");
    // A deleted row's bytes are zeroed, not left in a free cell or a freed overflow page: a deleted secret's or BYOK
    // key's ciphertext could be carved out of the file (a disk image, an old volume, a copied data dir) and opened with
    // master.key beside it. ON, not FAST: FAST left a value over ~4 KB (a secret may be 64 KB) in its freed pages.
    // The cost is WAL: rewriting a large row (a run's state) writes its freed pages zeroed (27 % more for 11 KB rows).
    sqlite.run("PRAGMA secure_delete = ON");
    this.sqlite = sqlite;
    this.checkpoints = path === ":memory:" ? null : new Checkpointer(path, sqlite, (work) => this.withoutWrites(work));
    // No schema: nothing uses drizzle's relational db.query API, whose config drizzle would build from every table
    // at each start (~1 ms of the binary's start).
    this.db = drizzle(cachingClient(sqlite) as Database) as unknown as Db;
    // Prepared once: bun:sqlite's transaction() builds new wrapper functions on every call.
    const p = (sql: string) => sqlite.prepare(sql);
    this.q = {
      begin: p("BEGIN IMMEDIATE"),
      commit: p("COMMIT"),
      rollback: p("ROLLBACK"),
      savepoint: p('SAVEPOINT "tx"'),
      release: p('RELEASE "tx"'),
      rollbackTo: p('ROLLBACK TO "tx"'),
    };
  }

  async tx<T>(fn: () => Promise<T>, opts?: TxOptions): Promise<T> {
    const outer = this.frames.getStore();
    if (outer?.open) return opts?.join ? fn() : this.savepoint(outer, fn);
    // From its arrival, not from its turn: writers queued behind one waiting for another process's lock give up with it.
    const until = performance.now() + BUSY_WAIT_MS;
    await this.acquire();
    const frame: Frame = { open: true, batch: null, after: [] };
    try {
      // A transaction of its own commits an open batch first, so "tx returned" means "on disk" for whoever acks next.
      this.flushNow();
      await this.begin(until);
      let result: T;
      try {
        result = await this.frames.run(frame, fn);
      } catch (e) {
        // A failed statement may have ended the transaction already (SQLITE_FULL and friends roll back on their own).
        if (this.sqlite.inTransaction) this.q.rollback.run();
        throw e;
      } finally {
        frame.open = false;
      }
      this.q.commit.run();
      this.checkpoints?.committed();
      runAll(frame.after);
      return result;
    } finally {
      this.release();
    }
  }

  async batchedTx<T>(fn: () => Promise<T>, opts?: TxOptions): Promise<T> {
    const outer = this.frames.getStore();
    if (outer?.open) return opts?.join ? fn() : this.savepoint(outer, fn);
    const until = performance.now() + BUSY_WAIT_MS;
    await this.acquire();
    try {
      // A batch whose transaction SQLite ended on its own (SQLITE_FULL, IOERR roll everything back) has lost its
      // writes: fail its waiters now (the COMMIT finds no transaction) rather than let later calls autocommit.
      if (this.batch && (this.batch.size >= MAX_BATCH || !this.sqlite.inTransaction)) this.flushNow();
      if (!this.batch) await this.open(until);
      const batch = this.batch!;
      batch.size++;
      this.batched++;
      // The batch itself is the outer frame: a released savepoint's hooks wait for the batch COMMIT.
      return await this.savepoint({ open: true, batch, after: batch.after }, fn);
    } finally {
      this.release();
    }
  }

  async lockInTx(): Promise<void> {}

  async onAuthChange(): Promise<void> {}

  afterCommit(fn: () => void): void {
    const frame = this.frames.getStore();
    if (frame?.open) frame.after.push(fn);
    else fn();
  }

  async pipeline(write: Promise<unknown>): Promise<void> {
    await write;
  }

  pending(): Promise<void> | null {
    return this.batch?.done ?? null;
  }

  async flush(): Promise<void> {
    await this.withoutWrites(async () => {});
  }

  /** Commits the open batch and runs `work` before any other write transaction begins. */
  private async withoutWrites(work: () => Promise<void>): Promise<void> {
    await this.acquire();
    try {
      this.flushNow();
      await work();
    } finally {
      this.release();
    }
  }

  async close(): Promise<void> {
    await this.flush();
    await this.checkpoints?.close();
    this.sqlite.close();
  }

  /**
   * SAVEPOINT … RELEASE around fn (ROLLBACK TO on throw), in the caller's transaction. fn's afterCommit hooks join
   * the enclosing list only if its savepoint is released: a rolled-back savepoint's side effects never run.
   */
  private async savepoint<T>(outer: Frame, fn: () => Promise<T>): Promise<T> {
    const q = this.q;
    const frame: Frame = { open: true, batch: outer.batch, after: [] };
    q.savepoint.run();
    try {
      const result = await this.frames.run(frame, fn);
      q.release.run();
      outer.after.push(...frame.after);
      return result;
    } catch (e) {
      if (this.sqlite.inTransaction) {
        q.rollbackTo.run();
        q.release.run();
      } else if (frame.batch) frame.batch.lost ??= e;
      throw e;
    } finally {
      frame.open = false;
    }
  }

  private acquire(): Promise<void> | void {
    if (!this.locked) {
      this.locked = true;
      return;
    }
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  private release(): void {
    // The scheduled batch COMMIT goes before the next writer, or a steady stream of writers would starve it.
    if (this.flushWanted) this.flushNow();
    const next = this.waiters.shift();
    if (next) next();
    else this.locked = false;
  }

  /** Commits the open batch (the caller holds the lock). A failed COMMIT rolls back and rejects its waiters. */
  private flushNow(): void {
    this.flushWanted = false;
    const batch = this.batch;
    if (!batch) return;
    this.batch = null;
    try {
      this.q.commit.run();
      this.commits++;
      this.checkpoints?.committed();
      batch.resolve();
      runAll(batch.after);
    } catch (e) {
      // SQLITE_FULL / IOERR roll back on their own; a deferred constraint or BUSY leaves the transaction open.
      try {
        if (this.sqlite.inTransaction) this.q.rollback.run();
      } catch {}
      batch.reject(batch.lost ?? e);
    }
  }

  /**
   * BEGIN IMMEDIATE (the caller holds the writer lock): past SQLite's own short wait for another process's write lock,
   * waited out here without holding the thread, until `until` (BUSY_WAIT_MS from the request's arrival); then its
   * SQLITE_BUSY (a 503 to the client). While it retries, SQLite's own wait is a millisecond: at 20 ms a try, the thread
   * was held two thirds of the time (a GET's p90 went from 0.9 to 22 ms).
   */
  private async begin(until: number): Promise<void> {
    let retrying = false;
    try {
      for (;;) {
        try {
          this.q.begin.run();
          return;
        } catch (e) {
          if (!isBusy(e) || performance.now() >= until) throw e;
        }
        if (!retrying) this.sqlite.run("PRAGMA busy_timeout = 1");
        retrying = true;
        await Bun.sleep(10);
      }
    } finally {
      if (retrying) this.sqlite.run(`PRAGMA busy_timeout = ${BUSY_SPIN_MS}`);
    }
  }

  private async open(until: number): Promise<void> {
    await this.begin(until);
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    // A batch whose every waiter already left (none awaits it) must not surface as an unhandled rejection.
    done.catch(() => {});
    this.batch = { size: 0, done, resolve, reject, after: [] };
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // The next macrotask: every request the event loop delivered in this turn has had its turn to join.
      setImmediate(() => {
        this.flushScheduled = false;
        if (this.locked) this.flushWanted = true;
        else this.flushNow();
      });
    }
  }

  /** Applies migrations not yet recorded; returns the tags it applied. */
  migrate(): string[] {
    try {
      return this.migrateNow();
    } finally {
      // From now on requests are served. Another process's write (the CLI, a `clanker mcp` beside the server, sqlite3)
      // holds the file's write lock: a statement waits for it inside SQLite, and bun:sqlite waits on this thread, so
      // every request waited with it (five writes behind a held lock froze the server 25 s). SQLite waits a moment
      // only; a transaction's BEGIN waits out the rest asynchronously (begin()), a statement outside one (a read, which
      // WAL seldom makes wait) up to this.
      this.sqlite.run(`PRAGMA busy_timeout = ${BUSY_SPIN_MS}`);
    }
  }

  private migrateNow(): string[] {
    const { sqlite } = this;
    sqlite.run("CREATE TABLE IF NOT EXISTS _migrations (tag TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)");
    const done = new Set(sqlite.query<{ tag: string }, []>("SELECT tag FROM _migrations").all().map((r) => r.tag));
    refuseNewerSchema(done, MIGRATIONS);
    const pending = MIGRATIONS.filter((m) => !done.has(m.tag));
    // A live server on this data dir (not this process: serve migrates under its own lock) that ships fewer
    // migrations. One that ships these (it is starting, and migrating) is left to it.
    const file = this.sqlite.filename;
    const server = pending.length && file && file !== ":memory:" ? runningServer(dirname(file)) : null;
    if (server && server.schema !== MIGRATIONS.at(-1)!.tag) throw new OlderServerError(dirname(file), server.pid, pending[0]!.tag);
    const applied: string[] = [];
    for (const m of pending) {
      try {
        sqlite.transaction(() => {
          for (const stmt of m.sql.split("--> statement-breakpoint")) {
            if (stmt.trim()) sqlite.run(stmt);
          }
          sqlite.query("INSERT INTO _migrations (tag, applied_at) VALUES (?, ?)").run(m.tag, Date.now());
        }).immediate();
      } catch (e) {
        throw new MigrationFailedError(m.tag, e);
      }
      applied.push(m.tag);
    }
    return applied;
  }

  /** A consistent online copy of the live database into a new 0600 file. */
  async vacuumInto(file: string): Promise<void> {
    await this.acquire();
    try {
      this.flushNow(); // VACUUM cannot run inside the open batch's transaction
      vacuumCopy(this.sqlite, file);
    } finally {
      this.release();
    }
  }
}

/** How many distinct statements stay compiled: every query the services build, with room for dynamic IN lists. */
export const STATEMENT_CACHE = 2_000;

/**
 * The connection as drizzle sees it, with prepare() answered from a cache of compiled statements. drizzle's
 * bun-sqlite session calls client.prepare(sql) on every query it runs, and compiling the SQL cost more than
 * running it (a fifth of an audited POST's CPU). Sharing one compiled statement is safe: drizzle runs it at once,
 * synchronously, and bun:sqlite resets it before each run. Least recently used statements leave first; one still
 * referenced stays valid until collected.
 */
function cachingClient(sqlite: Database): Pick<Database, "prepare" | "exec" | "run" | "transaction"> {
  const cache = new Map<string, Statement>();
  const prepare = (sql: string): Statement => {
    let stmt = cache.get(sql);
    if (stmt) {
      cache.delete(sql);
    } else {
      stmt = sqlite.prepare(sql);
      if (cache.size >= STATEMENT_CACHE) cache.delete(cache.keys().next().value!);
    }
    cache.set(sql, stmt);
    return stmt;
  };
  return {
    prepare: prepare as Database["prepare"],
    exec: sqlite.exec.bind(sqlite),
    run: sqlite.run.bind(sqlite),
    transaction: sqlite.transaction.bind(sqlite),
  };
}

function runAll(fns: (() => void)[]): void {
  for (const fn of fns) {
    try {
      fn();
    } catch {}
  }
}
