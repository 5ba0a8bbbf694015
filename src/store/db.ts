// The store every service is written against: one async interface over the embedded SQLite file (the default) or
// PostgreSQL (DATABASE_URL=postgres://…), with a transaction helper that means the same on both.
import type { Database } from "bun:sqlite";
import type { BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import { DIALECT, isPostgresUrl, type Dialect } from "./dialect";
import { join } from "node:path";
import { DB_FILE } from "./data-dir";
import { SqliteStore } from "./sqlite-store";

export { isPostgresUrl, type Dialect };

/** The advisory-lock spaces (PostgreSQL's two-int form: space, key). */
export const LOCK_SPACES = { events: 1, memory: 2, dispatch: 3, definitions: 4 } as const;
export type LockSpace = (typeof LOCK_SPACES)[keyof typeof LOCK_SPACES];

/**
 * Queries are drizzle's dialect-neutral subset, always awaited: `await db.select()…` (rows), `.returning()`
 * (rows), `onConflictDoNothing/Update`. Never `.get()/.all()/.run()/.prepare()` (SQLite-only and synchronous); a
 * query on a hot path (every request's mutation, every run) is built once with placeholders: ./prepared.
 * Typed as the SQLite database; under PostgreSQL it is drizzle's PostgreSQL database bound to the current store.tx.
 */
export type Db = BunSQLiteDatabase;

export interface TxOptions {
  /**
   * For a hot row many callers change at once (a workspace's working memory): take this lock first and wait for
   * it, instead of conflicting and retrying. PostgreSQL: the transaction runs READ COMMITTED after the lock, so
   * it reads what the previous holder committed; SERIALIZABLE would have fixed its snapshot before the wait.
   * SQLite: nothing to do (one writer). Ignored when nested (the outer transaction decides).
   */
  lock?: [space: LockSpace, key: number];
  /**
   * PostgreSQL: READ COMMITTED instead of SERIALIZABLE, so the transaction never fails and runs again. Only for one
   * whose every statement is right on its own: inserts of new rows, single conditional UPDATEs (re-checked against
   * the row as committed), and reads whose answer may be a moment old (a gate such as "is there credit left"), e.g.
   * queueing a run. SQLite: nothing to do (one writer). Ignored when nested (the outer transaction decides).
   */
  readCommitted?: boolean;
  /**
   * Inside another store.tx: run in that transaction as it stands, not in a savepoint of it. For a mutation whose
   * callers let its errors end their own transaction or savepoint (a request's, under idempotent()), where a savepoint
   * of its own undid nothing more and cost ~5 % of an audited POST's CPU. A caller that catches its error and goes on
   * would keep its partial writes: that caller needs a plain nested tx. Not nested, it is a transaction like any other.
   */
  join?: boolean;
}

export interface Store {
  readonly dialect: Dialect;
  /** Outside a tx: autocommit. Inside store.tx: that transaction (the caller's async path finds it). */
  readonly db: Db;
  /** The SQLite connection, for the few hot paths on raw prepared statements; null under PostgreSQL. */
  readonly sqlite: Database | null;
  /** Transactions run again after a serialization failure or deadlock since start (PostgreSQL; SQLite: always 0). */
  readonly retries: number;
  /** Of those, deadlocks: transactions taking the same locks in opposite orders, which is a bug to report. */
  readonly deadlocks: number;
  /**
   * Runs fn in one transaction (a savepoint when nested): every write of a mutation and its audit row, all or
   * nothing. fn may await store queries but nothing slow (no network): on SQLite it holds the one writer lock.
   * Under PostgreSQL it is SERIALIZABLE and fn may run again on a serialization failure, so fn must not do
   * anything outside the store that cannot be repeated: put that in afterCommit.
   */
  tx<T>(fn: () => Promise<T>, opts?: TxOptions): Promise<T>;
  /**
   * Like tx, but joins the shared group-commit batch on SQLite (its own savepoint) and returns before the COMMIT:
   * the caller must await store.pending() before it acknowledges anything. For request mutations (idempotent()).
   */
  batchedTx<T>(fn: () => Promise<T>, opts?: TxOptions): Promise<T>;
  /**
   * Inside a tx: transactions that take the same (space, key) run their remaining work — and commit — one after
   * another, in the order they took it. PostgreSQL: a transaction-scoped advisory lock, which the call does not wait
   * for: the transaction's next statement runs once it is held. SQLite: nothing to do, there is one writer. E.g. the
   * event log: ids must commit in order, or a reader past id 9 would miss 8.
   */
  lockInTx(space: LockSpace, key: number): Promise<void>;
  /**
   * Calls fn when another process may have changed what authentication caches (keys, memberships, users).
   * PostgreSQL: LISTEN on what the database's triggers NOTIFY at every such COMMIT, from any replica, the CLI or psql.
   * SQLite: nothing (the authenticator watches PRAGMA data_version itself). fn gets what changed (the NOTIFY's
   * payload: see Authenticator.changed), or null when anything may have.
   */
  onAuthChange(fn: (what: string | null) => void): Promise<void>;
  /** Runs fn once the current transaction (or its batch) has committed; never if it rolls back; now outside one. */
  afterCommit(fn: () => void): void;
  /**
   * For a write whose result the caller does not need (an audit row, a stored answer): `await store.pipeline(write)`.
   * Inside a PostgreSQL tx it is not waited for: it goes out with the transaction's next statements and its COMMIT
   * instead of costing a round trip of its own, and if it fails, the whole transaction fails at COMMIT with its error
   * (a savepoint around it, released by then, does not catch that). Elsewhere, and on SQLite, it is simply awaited.
   */
  pipeline(write: Promise<unknown>): Promise<void>;
  /** The open batch's COMMIT (rejects if it fails), or null when nothing waits to commit. */
  pending(): Promise<void> | null;
  /** Commits the open batch now, if any (before a backup, at shutdown). */
  flush(): Promise<void>;
  /** What keeps the store from keeping what it commits (SQLite: its WAL file deleted under it), or null: /healthz says it. */
  problem(): string | null;
  /** Applies the embedded migrations not yet applied; returns their tags. */
  migrate(): string[] | Promise<string[]>;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** The SQLite file (<data dir>/clanker.db). */
  path: string;
  /** postgres://… selects PostgreSQL instead. */
  databaseUrl?: string | null;
}

export async function openStore(opts: StoreOptions | string): Promise<Store> {
  const o = typeof opts === "string" ? { path: opts } : opts;
  if (isPostgresUrl(o.databaseUrl)) {
    // The services' tables were picked at load from the environment (./dialect): a postgres:// URL from anywhere
    // else would meet SQLite's tables.
    if (DIALECT !== "postgres") throw new Error("a PostgreSQL store needs DATABASE_URL=postgres://… in the environment");
    const { openPgStore } = await import("./pg-store");
    return openPgStore(o.databaseUrl!);
  }
  return new SqliteStore(o.path);
}

/** The store a config names: DATABASE_URL=postgres://… selects PostgreSQL, else the data dir's SQLite file. */
export function storeOptions(config: { dataDir: string; databaseUrl: string | null }): StoreOptions {
  return { path: join(config.dataDir, DB_FILE), databaseUrl: config.databaseUrl };
}

/** Applies migrations not yet recorded; returns the tags it applied. */
export async function migrate(store: Store): Promise<string[]> {
  return store.migrate();
}
