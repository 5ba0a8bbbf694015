// The PostgreSQL store (DATABASE_URL=postgres://…): a postgres.js pool under drizzle's PostgreSQL dialect, with store.tx
// as one SERIALIZABLE transaction on a reserved connection (retried whole on a serialization failure), savepoints when
// nested, and the embedded migrations applied under an advisory lock so one replica migrates while the others wait.
import { AsyncLocalStorage } from "node:async_hooks";
import postgres from "postgres";
import { drizzle, PostgresJsSession, PostgresJsTransaction, type PostgresJsDatabase } from "drizzle-orm/postgres-js";
import { MIGRATIONS_PG } from "./migrations-pg";
import { refuseNewerSchema } from "./newer-schema";
import type { Db, LockSpace, Store, TxOptions } from "./db";
import { Failure } from "../cli/errors";
import { deadlocked, reconnectBackoff, retryable } from "./pg-failures";

type PgDb = PostgresJsDatabase;
/** A drizzle transaction (or savepoint) handle: the same query API as the database, bound to one connection. */
type PgTx = Parameters<Parameters<PgDb["transaction"]>[0]>[0];

/** The whole of a store.tx is tried at most this many times before a serialization failure reaches the caller. */
export const MAX_TRIES = 16;
/** pg_advisory_lock key held while migrating ("ckmig" in ASCII, read as a number). */
const MIGRATE_LOCK = 0x636b6d6967;

/** What drizzle runs its queries through: the pool, or one transaction's connection (see clientOf). */
interface DrizzleClient {
  unsafe(query: string, params?: unknown[], o?: postgres.UnsafeQueryOptions): unknown;
}

/** One transaction on its reserved connection. */
interface TxState {
  conn: postgres.ReservedSql;
  /** conn as drizzle's client. */
  client: DrizzleClient;
  /** The first query error in it (as postgres.js's begin() keeps it): after one, PostgreSQL fails all the rest. */
  error: unknown;
  /** Savepoints taken so far (their names must differ while nested). */
  savepoints: number;
  /**
   * The advisory locks it holds ("space:key"), so lockInTx takes each once: a settle appending ten events of one
   * workspace waited on ten round trips for a lock it already held. A ROLLBACK TO a savepoint releases the locks
   * taken since, and puts this set back as it was there.
   */
  locks: Set<string>;
  /**
   * drizzle's handle over conn, made on the first query that is not prepared(): building one (a database object with a
   * query builder per table) was ~2 % of an audited POST's CPU, whose queries are all prepared and never use it.
   */
  handle?: PgTx;
}

/** One open store.tx (or savepoint) on this async path. */
interface Frame {
  open: boolean;
  state: TxState;
  /** afterCommit hooks: a savepoint's move to its parent when it is released, and are dropped when it rolls back. */
  after: (() => void)[];
  /** Statements sent and not awaited (Store.pipeline, locks): a savepoint's move to its parent too; COMMIT settles them. */
  sent: Promise<unknown>[];
}

export class PgStore implements Store {
  readonly dialect = "postgres" as const;
  readonly sqlite = null;
  readonly db: Db;
  /** The postgres.js pool, for what drizzle does not say (advisory locks, LISTEN, the tests). */
  readonly client: postgres.Sql;
  retries = 0;
  deadlocks = 0;

  private readonly root: PgDb;
  /** The pool as drizzle's client (outside any transaction). */
  private readonly pool: DrizzleClient;
  /** What a drizzle session over a transaction's connection is built from (drizzle's own, taken from root). */
  private readonly session: { dialect: unknown; schema: unknown; options: unknown };
  private readonly frames = new AsyncLocalStorage<Frame>();
  /** The transactions running now, each on a reserved connection (see close). */
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(url: string, opts: { max?: number } = {}) {
    // NOTICEs ("relation already exists, skipping") are noise on stdout, and the log is the operator's.
    this.client = postgres(url, { max: opts.max ?? 10, onnotice: () => {}, backoff: reconnectBackoff, connect_timeout: 10 });
    const unsafe = prepareAlways(this.client.unsafe.bind(this.client));
    // drizzle reads the pool's options (it sets its type parsers there) and runs every query through unsafe().
    this.pool = new Proxy(this.client, { get: (target, prop) => (prop === "unsafe" ? unsafe : Reflect.get(target, prop)) });
    // No schema, as on SQLite (sqlite-store.ts): db.query is not used.
    this.root = drizzle(this.pool as postgres.Sql);
    this.session = (this.root as unknown as { session: PgStore["session"] }).session;
    // Services hold store.db for their whole life; each property read finds the transaction of the caller's async
    // path (AsyncLocalStorage), so a query written once runs inside whichever store.tx awaits it, or autocommits.
    this.db = new Proxy({} as object, {
      get: (_, prop) => {
        const frame = this.frames.getStore();
        const target: object = frame?.open ? (frame.state.handle ??= this.txOver(frame.state)) : this.root;
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as unknown as Db;
  }

  async tx<T>(fn: () => Promise<T>, opts: TxOptions = {}): Promise<T> {
    const outer = this.frames.getStore();
    if (outer?.open) return opts.join ? fn() : this.savepoint(outer, fn);
    // In flight from the first try to the last (see close): a retry reserves a connection again.
    const running = this.tries(fn, opts);
    this.inFlight.add(running);
    try {
      return await running;
    } finally {
      this.inFlight.delete(running);
    }
  }

  private async tries<T>(fn: () => Promise<T>, opts: TxOptions): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        // A fresh frame per attempt: hooks registered by a failed attempt are discarded with its writes.
        const [result, after] = await this.attempt(fn, opts);
        runAll(after);
        return result;
      } catch (e) {
        if (attempt >= MAX_TRIES || !retryable(e)) throw e;
        this.retries++;
        if (deadlocked(e)) this.deadlocks++;
        // Jittered exponential backoff: two txs that conflicted must not meet again at the same instant.
        await Bun.sleep(Math.random() * Math.min(40, 2 ** attempt));
      }
    }
  }

  /**
   * One try of a store.tx on a reserved connection. BEGIN (with its isolation level: drizzle's transaction() sends
   * a separate SET TRANSACTION) and the lock opts.lock asks for are not awaited before fn's first query: postgres.js
   * sends them in one write and PostgreSQL runs them in order, so a transaction costs COMMIT's round trip and no more.
   */
  private async attempt<T>(fn: () => Promise<T>, opts: TxOptions): Promise<[T, (() => void)[]]> {
    const conn = await this.client.reserve();
    const state = { conn, error: undefined, savepoints: 0, locks: new Set(opts.lock ? [lockName(...opts.lock)] : []) } as TxState;
    state.client = clientOf(state);
    const frame: Frame = { open: true, state, after: [], sent: [] };
    const begun = send(state, `BEGIN ISOLATION LEVEL ${opts.lock || opts.readCommitted ? "READ COMMITTED" : "SERIALIZABLE"}`);
    try {
      let result: T;
      try {
        if (opts.lock) frame.sent.push(send(state, "SELECT pg_advisory_xact_lock($1, $2)", [opts.lock[0], opts.lock[1]]));
        result = await this.frames.run(frame, fn);
        await begun;
      } finally {
        frame.open = false;
      }
      // An error fn caught: PostgreSQL would answer COMMIT with a silent ROLLBACK.
      if (state.error !== undefined) throw state.error;
      // The writes fn did not wait for go out with the COMMIT, in one round trip. One that failed made PostgreSQL
      // answer that COMMIT with a silent ROLLBACK: its error is the transaction's.
      const committed = conn.unsafe("COMMIT").execute();
      // Awaited below, once the writes ahead of it have settled: a failed COMMIT must not count as unhandled meanwhile.
      committed.catch(() => {});
      await Promise.allSettled(frame.sent);
      await committed;
      if (state.error !== undefined) throw state.error;
      return [result, frame.after];
    } catch (e) {
      await conn.unsafe("ROLLBACK").catch(() => {});
      throw firstCause(e, state.error);
    } finally {
      conn.release();
    }
  }

  /** No group commit here: every tx commits on its own, so "returned" already means committed. */
  batchedTx<T>(fn: () => Promise<T>, opts?: TxOptions): Promise<T> {
    return this.tx(fn, opts);
  }

  async onAuthChange(fn: (what: string | null) => void): Promise<void> {
    // postgres.js keeps one connection for LISTEN and re-listens after a reconnect; what changed while it was
    // away was never heard, so a (re)listen counts as a change of anything.
    await this.client.listen("clanker_auth", (what) => fn(what), () => fn(null));
  }

  async lockInTx(space: LockSpace, key: number): Promise<void> {
    const frame = this.frames.getStore();
    if (!frame?.open) throw new Error("lockInTx outside a store.tx");
    const held = lockName(space, key);
    if (frame.state.locks.has(held)) return;
    // Not waited for, like a pipelined write: what the transaction sends next goes out behind it on this connection,
    // and PostgreSQL runs that once it holds the lock. A failure to take it (a deadlock) fails the transaction.
    frame.sent.push(send(frame.state, "SELECT pg_advisory_xact_lock($1, $2)", [space, key]));
    frame.state.locks.add(held);
  }

  afterCommit(fn: () => void): void {
    const frame = this.frames.getStore();
    if (frame?.open) frame.after.push(fn);
    else fn();
  }

  pipeline(write: Promise<unknown>): Promise<void> {
    const frame = this.frames.getStore();
    if (!frame?.open) return write.then(() => {});
    // Its error is the transaction's (clientOf keeps it), thrown at COMMIT: not an unhandled rejection meanwhile.
    write.catch(() => {});
    frame.sent.push(write);
    return Promise.resolve();
  }

  pending(): Promise<void> | null {
    return null;
  }

  onBatchFail(_undo: () => void): void {}

  async flush(): Promise<void> {}

  problem(): null {
    return null;
  }

  async close(): Promise<void> {
    // postgres.js's end() waits its whole timeout on a connection reserved when it was called, even once released:
    // let the transactions in flight end first, including any that began while we waited (a timer's last work).
    // A timer cleared at once (not Bun.sleep): a short CLI command must not live on for the 5 s.
    const deadline = Date.now() + 5_000;
    while (this.inFlight.size && Date.now() < deadline) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([Promise.allSettled(this.inFlight), new Promise((r) => (timer = setTimeout(r, deadline - Date.now())))]);
      clearTimeout(timer);
    }
    // Whatever still holds a connection now is cut after 1 s (its transaction rolls back): a stop must not hang.
    await this.client.end({ timeout: 1 });
  }

  /**
   * SAVEPOINT before fn, ROLLBACK TO it if fn throws, in the caller's transaction. Like BEGIN, the SAVEPOINT goes
   * out with fn's first query rather than a round trip ahead of it. No RELEASE (postgres.js's savepoint() sends
   * none either): it would cost a round trip and changes nothing before the COMMIT.
   */
  private async savepoint<T>(outer: Frame, fn: () => Promise<T>): Promise<T> {
    const state = outer.state;
    const name = `s${state.savepoints++}`;
    const before = state.error;
    const locksBefore = new Set(state.locks);
    const taken = send(state, `SAVEPOINT ${name}`);
    const frame: Frame = { open: true, state, after: [], sent: [] };
    try {
      let result: T;
      try {
        result = await this.frames.run(frame, fn);
        await taken;
      } finally {
        frame.open = false;
      }
      if (state.error !== before) throw state.error;
      // Released: its hooks and unawaited writes now wait on the outer transaction's COMMIT (a rollback drops them).
      outer.after.push(...frame.after);
      outer.sent.push(...frame.sent);
      return result;
    } catch (e) {
      const first = state.error === before ? undefined : state.error;
      await state.conn.unsafe(`ROLLBACK TO SAVEPOINT ${name}`);
      state.error = before;
      state.locks = locksBefore;
      throw firstCause(e, first);
    }
  }

  /** A drizzle transaction handle over a reserved connection (its client: clientOf), built as drizzle builds its own. */
  private txOver(state: TxState): PgTx {
    const { dialect, schema, options } = this.session;
    const Session = PostgresJsSession as unknown as new (...a: unknown[]) => unknown;
    const Tx = PostgresJsTransaction as unknown as new (...a: unknown[]) => PgTx;
    return new Tx(dialect, new Session(state.client, dialect, schema, options), schema);
  }

  /**
   * Runs a query drizzle prepared once (prepared()) on the current transaction's connection, or on the pool outside
   * one: its SQL text is built once per process, not on every call (drizzle's query building was the largest part of
   * an audited POST's CPU here). drizzle's prepared query runs through its `client` field; each call runs a copy whose
   * client is this call's (test/pg-store.test.ts checks that it sees, and rolls back with, the caller's transaction).
   */
  runPrepared<R>(query: { execute(params: Record<string, unknown>): Promise<R> }, params: Record<string, unknown>): Promise<R> {
    const frame = this.frames.getStore();
    const client = frame?.open ? frame.state.client : this.pool;
    return (Object.create(query, { client: { value: client } }) as typeof query).execute(params);
  }

  /**
   * Applies the embedded migrations not yet recorded in _migrations, each in its own transaction, holding a
   * session advisory lock on one reserved connection: replicas starting together queue on the lock, and the
   * ones after the first find nothing left to do.
   */
  async migrate(): Promise<string[]> {
    const sql = await this.client.reserve();
    const applied: string[] = [];
    try {
      await sql`SELECT pg_advisory_lock(${MIGRATE_LOCK}::bigint)`;
      try {
        await sql`CREATE TABLE IF NOT EXISTS _migrations (tag text PRIMARY KEY, applied_at bigint NOT NULL)`;
        const done = new Set((await sql<{ tag: string }[]>`SELECT tag FROM _migrations`).map((r) => r.tag));
        refuseNewerSchema(done, MIGRATIONS_PG);
        for (const m of MIGRATIONS_PG) {
          if (done.has(m.tag)) continue;
          await sql`BEGIN`;
          try {
            for (const stmt of m.sql.split("--> statement-breakpoint")) {
              if (stmt.trim()) await sql.unsafe(stmt);
            }
            await sql`INSERT INTO _migrations (tag, applied_at) VALUES (${m.tag}, ${Date.now()})`;
            await sql`COMMIT`;
          } catch (e) {
            await sql`ROLLBACK`.catch(() => {});
            throw e;
          }
          applied.push(m.tag);
        }
      } finally {
        await sql`SELECT pg_advisory_unlock(${MIGRATE_LOCK}::bigint)`.catch(() => {});
      }
    } finally {
      sql.release();
    }
    return applied;
  }
}

/** Opens the pool and checks the server answers, so a wrong DATABASE_URL fails at start in one line, not later. */
export async function openPgStore(url: string): Promise<PgStore> {
  const store = new PgStore(url);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    // A timer cleared at once (not Bun.sleep): a short CLI command must not live on for the 10 s.
    const silence = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error("no answer in 10 s")), 10_000)));
    await Promise.race([store.client`SELECT 1`, silence]);
  } catch (e) {
    await store.client.end({ timeout: 1 }).catch(() => {});
    const u = new URL(url);
    throw new Failure(`cannot reach PostgreSQL at ${u.hostname}:${u.port || 5432}${u.pathname} (DATABASE_URL): ${(e as Error).message}. Is it running, and are the address, user and password right?`);
  } finally {
    clearTimeout(timer);
  }
  return store;
}


/**
 * drizzle runs a query not built with .prepare() as postgres.js's unsafe(…, { prepare: false }): an unnamed statement,
 * which postgres.js sends with parameters as two round trips (Parse + Describe for their types, then Bind + Execute).
 * Prepared, a statement is named and kept on its connection by its text, and every run after the first is one round
 * trip: an audited POST went from 13 round trips to PostgreSQL to 9. The hot paths' prepared() queries were named
 * already; a statement a schema change invalidates is prepared again by postgres.js outside a transaction, and fails
 * the one transaction it ran in.
 */
function prepareAlways<P extends unknown[], R>(unsafe: (query: string, params?: P, o?: postgres.UnsafeQueryOptions) => R) {
  return (query: string, params?: P, o?: postgres.UnsafeQueryOptions): R => unsafe(query, params, params?.length ? { ...o, prepare: true } : o);
}

/** A transaction's connection as drizzle's client, every query's error kept as the transaction's first (TxState.error). */
function clientOf(state: TxState): DrizzleClient {
  return {
    unsafe: prepareAlways((query: string, params?: unknown[], o?: postgres.UnsafeQueryOptions) => {
      const q = state.conn.unsafe(query, params as postgres.ParameterOrJSON<never>[], o);
      q.catch((e: unknown) => void (state.error ??= e));
      return q;
    }),
  };
}

/** An advisory lock as TxState.locks names it. */
const lockName = (space: LockSpace, key: number): string => `${space}:${key}`;

/** A statement of the transaction, its error kept as the transaction's first. */
function send(state: TxState, query: string, params: (string | number)[] = []): Promise<unknown> {
  const q = state.conn.unsafe(query, params).execute();
  q.catch((e: unknown) => void (state.error ??= e));
  return q;
}

/**
 * What a failed transaction reports, as postgres.js's begin(): "current transaction is aborted" (25P02) stands for
 * the error that aborted it, which may be a serialization failure worth a retry.
 */
function firstCause(e: unknown, first: unknown): unknown {
  return first !== undefined && codeOf(e) === "25P02" ? first : e;
}

function codeOf(e: unknown): unknown {
  for (let c = e, depth = 0; c && depth < 5; c = (c as { cause?: unknown }).cause, depth++) {
    const code = (c as { code?: unknown }).code;
    if (code !== undefined) return code;
  }
  return undefined;
}

function runAll(fns: (() => void)[]): void {
  for (const fn of fns) {
    try {
      fn();
    } catch {}
  }
}
