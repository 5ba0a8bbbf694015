// Group commit: request mutations that arrive together share one SQLite transaction (each in its own savepoint,
// so one failure undoes only itself) that commits on the next macrotask; their answers wait for that COMMIT.
import type { Database } from "bun:sqlite";

/** The most savepoints one batch takes before the next batched tx commits it first (bounds commit latency). */
export const MAX_BATCH = 512;

interface Batch {
  size: number;
  done: Promise<void>;
  resolve(): void;
  reject(e: unknown): void;
  /** Undo in-memory state (caches) that assumed this batch's writes: run when its COMMIT fails. */
  onFail: (() => void)[];
}

export class GroupCommit {
  private batch: Batch | null = null;
  /** > 0 while a batched callback runs: a store.tx inside it is a savepoint of the batch, not a new transaction. */
  private depth = 0;
  private scheduled = false;
  /** COMMITs issued for batches, and savepoints they held (for the tests and the bench). */
  commits = 0;
  batched = 0;

  // Prepared once: bun:sqlite's transaction() builds new wrapper functions (and defineProperties) on every call.
  private q;

  constructor(private sqlite: Database) {
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

  /**
   * Runs fn in a transaction of its own (BEGIN IMMEDIATE … COMMIT), or in a savepoint when one is open already —
   * what bun:sqlite's transaction().immediate() does. A throw rolls back (to the savepoint) and propagates.
   */
  atomic<T>(fn: () => T): T {
    const q = this.q;
    const nested = this.sqlite.inTransaction;
    (nested ? q.savepoint : q.begin).run();
    try {
      const result = fn();
      (nested ? q.release : q.commit).run();
      return result;
    } catch (e) {
      // A failed statement may have ended the transaction already (SQLITE_FULL and friends roll back on their own).
      if (this.sqlite.inTransaction) {
        if (nested) {
          q.rollbackTo.run();
          q.release.run();
        } else q.rollback.run();
      }
      throw e;
    }
  }

  /** True while a batched callback runs (its nested store.tx calls become savepoints). */
  get inBatchedCall(): boolean {
    return this.depth > 0;
  }

  /** The open batch's COMMIT, or null when nothing is waiting to commit. Rejects if that COMMIT fails. */
  pending(): Promise<void> | null {
    return this.batch?.done ?? null;
  }

  /** Registers an undo for in-memory state that assumed the open batch commits (no-op when none is open). */
  onFail(undo: () => void): void {
    this.batch?.onFail.push(undo);
  }

  /**
   * Runs fn (synchronous, like store.tx) in its own savepoint of the shared batch, opening the batch if none is
   * open. A throw rolls back only this savepoint and propagates. Call pending() before the answer leaves.
   */
  run<T>(fn: () => T): T {
    // Inside someone else's plain transaction (not ours): just nest, as store.tx always did.
    if (this.sqlite.inTransaction && !this.batch) return this.atomic(fn);
    // A batch whose transaction SQLite ended on its own (SQLITE_FULL, IOERR roll everything back) has lost its
    // writes: fail its waiters now (flush's COMMIT finds no transaction) rather than let later calls autocommit.
    if (this.batch && this.depth === 0 && (this.batch.size >= MAX_BATCH || !this.sqlite.inTransaction)) this.flush();
    if (!this.batch) this.open();
    const batch = this.batch!;
    batch.size++;
    this.batched++;
    this.depth++;
    try {
      // In the batch's transaction, so this is SAVEPOINT … RELEASE (ROLLBACK TO on throw).
      return this.atomic(fn);
    } finally {
      this.depth--;
    }
  }

  /**
   * Commits the open batch now (a direct writer, a backup or shutdown needs the connection out of it). A failed
   * COMMIT rolls the batch back and rejects every waiter; flush itself does not throw.
   */
  flush(): void {
    const batch = this.batch;
    if (!batch || this.depth > 0) return;
    this.batch = null;
    try {
      this.q.commit.run();
      this.commits++;
      batch.resolve();
    } catch (e) {
      // SQLITE_FULL / IOERR roll back on their own; a deferred constraint or BUSY leaves the transaction open.
      try {
        if (this.sqlite.inTransaction) this.q.rollback.run();
      } catch {}
      for (const undo of batch.onFail) {
        try {
          undo();
        } catch {}
      }
      batch.reject(e);
    }
  }

  private open(): void {
    this.q.begin.run();
    let resolve!: () => void;
    let reject!: (e: unknown) => void;
    const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    // A batch whose every waiter already left (none awaits it) must not surface as an unhandled rejection.
    done.catch(() => {});
    this.batch = { size: 0, done, resolve, reject, onFail: [] };
    if (!this.scheduled) {
      this.scheduled = true;
      // The next macrotask: every request the event loop delivered in this turn has had its turn to join.
      setImmediate(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }
}
