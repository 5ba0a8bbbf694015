// Opens the SQLite store (WAL, NORMAL sync, foreign keys) and applies the embedded migrations.
import { Database } from "bun:sqlite";
import { drizzle, type BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import { existsSync, mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { privateFile } from "../lib/private-files";
import * as schema from "./schema";
import { MIGRATIONS } from "./migrations";
import { GroupCommit } from "./group-commit";

export type Db = BunSQLiteDatabase<typeof schema>;

export interface Store {
  sqlite: Database;
  db: Db;
  /**
   * Runs fn in one transaction (a savepoint when nested). fn must be synchronous: bun:sqlite commits
   * when it returns, so an await inside would commit half the work.
   */
  tx<T>(fn: () => T): T;
  /**
   * Like tx, but joins the shared group-commit batch (its own savepoint): returns before the COMMIT, so the
   * caller must await store.pending() before it acknowledges anything. For request mutations (see idempotent()).
   */
  batchedTx<T>(fn: () => T): T;
  /** The open batch's COMMIT (rejects if it fails), or null when nothing waits to commit. */
  pending(): Promise<void> | null;
  /** Commits the open batch now, if any (before VACUUM INTO, at shutdown). */
  flush(): void;
  group: GroupCommit;
  close(): void;
}

export function openStore(path: string): Store {
  if (path !== ":memory:") {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // SQLite makes -wal and -shm with the db file's mode: a 0600 db keeps all three private whatever the umask.
    for (const f of [path, `${path}-wal`, `${path}-shm`]) if (f === path || existsSync(f)) privateFile(f);
  }
  const sqlite = new Database(path, { create: true, strict: true });
  sqlite.run("PRAGMA journal_mode = WAL");
  sqlite.run("PRAGMA synchronous = NORMAL");
  sqlite.run("PRAGMA foreign_keys = ON");
  sqlite.run("PRAGMA busy_timeout = 5000");
  const db = drizzle(sqlite, { schema });
  const group = new GroupCommit(sqlite);
  return {
    sqlite,
    db,
    // Outside a batched call, a writer (runner, scheduler, webhooks, CLI, MCP) commits on its own as it always
    // did: an open batch is committed first, so "tx returned" still means "on disk" for whoever acknowledges next.
    tx: <T>(fn: () => T): T => {
      if (!group.inBatchedCall) group.flush();
      return group.atomic(fn);
    },
    batchedTx: <T>(fn: () => T): T => group.run(fn),
    pending: () => group.pending(),
    flush: () => group.flush(),
    group,
    close: () => {
      group.flush();
      sqlite.close();
    },
  };
}

/** Applies migrations not yet recorded; returns the tags it applied. */
export function migrate(store: Store): string[] {
  const { sqlite } = store;
  sqlite.run("CREATE TABLE IF NOT EXISTS _migrations (tag TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)");
  const done = new Set(sqlite.query<{ tag: string }, []>("SELECT tag FROM _migrations").all().map((r) => r.tag));
  const applied: string[] = [];
  for (const m of MIGRATIONS) {
    if (done.has(m.tag)) continue;
    store.tx(() => {
      for (const stmt of m.sql.split("--> statement-breakpoint")) {
        if (stmt.trim()) sqlite.run(stmt);
      }
      sqlite.query("INSERT INTO _migrations (tag, applied_at) VALUES (?, ?)").run(m.tag, Date.now());
    });
    applied.push(m.tag);
  }
  return applied;
}

/** A consistent online copy of the live database into a new 0600 file (VACUUM INTO accepts an empty one). */
export function vacuumInto(store: Store, file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  privateFile(file);
  store.flush(); // VACUUM cannot run inside the open batch's transaction
  store.sqlite.query("VACUUM INTO ?").run(file);
}
