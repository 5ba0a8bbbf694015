// Deleting what has aged out of a table (events, idempotency keys, sessions, webhook deliveries).
import { inArray, type SQL } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTableWithColumns } from "drizzle-orm/sqlite-core";
import type { Store } from "./db";

const BATCH = 1000;

/**
 * Deletes the rows `where` picks, a thousand at a time, each batch its own transaction with a turn between: one
 * DELETE of them all held SQLite's one writer (every request's write) for as long as it took, seconds for the first
 * prune after a laptop was off for a week (a million events: 2-5 s). Returns how many rows went.
 */
export async function deleteInBatches(store: Store, table: SQLiteTableWithColumns<any>, id: SQLiteColumn, where: SQL | undefined): Promise<number> {
  let gone = 0;
  for (;;) {
    const batch = store.db.select({ id }).from(table).where(where).limit(BATCH);
    const n = (await store.tx(() => store.db.delete(table).where(inArray(id, batch)).returning({ id }))).length;
    gone += n;
    if (n < BATCH) return gone;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
