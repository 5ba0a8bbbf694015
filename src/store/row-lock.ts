// Row locks on PostgreSQL, for transactions whose order of locks matters (see workflows' runs-of-definition.ts).
import type { Store } from "./db";

/**
 * The rows `query` selects, locked FOR UPDATE or FOR SHARE to the end of the caller's transaction on PostgreSQL; on
 * SQLite, which has one writer, the rows as read. drizzle types queries as SQLite's, which has no `.for()`.
 */
export async function lockedRows<T>(store: Store, query: PromiseLike<T>, strength: "update" | "share"): Promise<T> {
  if (store.dialect !== "postgres") return query;
  return (query as unknown as { for(s: "update" | "share"): Promise<T> }).for(strength);
}

/** lockedRows for a caller that wants the lock only: nothing at all on SQLite. */
export async function lockRows(store: Store, query: PromiseLike<unknown>, strength: "update" | "share"): Promise<void> {
  if (store.dialect === "postgres") await lockedRows(store, query, strength);
}
