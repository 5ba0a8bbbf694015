// Queries on the hot paths (every request's mutation, every run), built once with sql.placeholder() parameters.
import type { Database, Statement } from "bun:sqlite";
import { is, Param, Placeholder } from "drizzle-orm";
import type { Db, Store } from "./db";
import type { PgStore } from "./pg-store";

type Params = Record<string, unknown>;
/** What awaiting the built query gives (its rows, or the run's result). */
type Result<Q> = Q extends PromiseLike<infer R> ? R : never;

/** A drizzle query builder (select, insert, update, delete) as SQLite types it: it can be prepared. */
interface Preparable {
  prepare(): { execute(params?: Params): { sync(): unknown } };
}

/** drizzle's prepared query, as far as this module looks into it: its parameters (SQLite keeps them under query). */
interface PreparedInternals {
  params?: unknown[];
  query?: { params: unknown[] };
}

/**
 * `prepared(db => db.select()…where(eq(t.id, sql.placeholder("id"))))` → `(store, { id }) => rows`, the same
 * result as awaiting the query built with those values.
 *
 * Built and prepared once per store; a call only binds and maps. drizzle otherwise rebuilds the SQL text of every
 * query it runs (~40 µs, more than SQLite takes to run it), which halved the audited POST's throughput.
 * PostgreSQL: each call runs on the current transaction's connection (PgStore.runPrepared), where postgres.js keeps
 * the statement prepared under its text.
 */
export function prepared<Q extends Preparable>(build: (db: Db) => Q): (store: Store, params?: Params) => Promise<Result<Q>> {
  const perStore = new WeakMap<Store, ReturnType<Q["prepare"]>>();
  type PgPrepared = PreparedInternals & { execute(p: Params): Promise<Result<Q>> };
  const perPgStore = new WeakMap<Store, PgPrepared>();
  return (store, params = {}) => {
    if (!store.sqlite) {
      let query = perPgStore.get(store);
      if (!query) {
        // Built against whichever handle is current: every call runs it with its own caller's connection.
        query = (build(store.db) as unknown as { prepare(name: string): PgPrepared }).prepare("clanker");
        bindNullsAsNull(query);
        perPgStore.set(store, query);
      }
      return (store as PgStore).runPrepared(query, params);
    }
    let query = perStore.get(store);
    if (!query) {
      query = build(store.db).prepare() as ReturnType<Q["prepare"]>;
      bindNullsAsNull(query as PreparedInternals);
      perStore.set(store, query);
    }
    // Not an async function: bun:sqlite answered already, and a throw must still arrive as a rejection.
    try {
      return Promise.resolve(query.execute(params).sync() as Result<Q>);
    } catch (e) {
      return Promise.reject(e as Error);
    }
  };
}

/**
 * drizzle maps a placeholder's value through its column's encoder even when the value is null, where a plain query
 * binds NULL: a nullable JSON column would store the text 'null' and a boolean 0. Bind null as NULL here too.
 */
function bindNullsAsNull(query: PreparedInternals): void {
  for (const p of query.params ?? query.query?.params ?? []) {
    if (!is(p, Param) || !is(p.value, Placeholder)) continue;
    const encoder = p.encoder;
    (p as { encoder: typeof encoder }).encoder = { mapToDriverValue: (v: unknown) => (v === null ? null : encoder.mapToDriverValue(v)) };
  }
}

/**
 * `sqliteStatement(text)` → `(sqlite) => statement`: a raw SQLite statement for the hottest writes, where even drizzle's
 * prepared query (binding, mapping) costs more than SQLite's work. Compiled once per connection, kept here rather than
 * found again by its text in bun:sqlite's query cache on every call.
 */
export function sqliteStatement(text: string): (sqlite: Database) => Statement {
  const perConnection = new WeakMap<Database, Statement>();
  return (sqlite) => {
    let statement = perConnection.get(sqlite);
    if (!statement) perConnection.set(sqlite, (statement = sqlite.query(text)));
    return statement;
  };
}
