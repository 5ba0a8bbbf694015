// The one paginator: newest first; after_id = the older page after that object, before_id = the newer page
// before it. Fetch limit + 1 rows to learn has_more without a count.
import { asc, desc, gt, lt, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";

export interface PageParams<C = number> {
  limit: number;
  afterId?: C;
  beforeId?: C;
}

export interface Page<T> {
  rows: T[];
  hasMore: boolean;
}

export function cursorWhere(idCol: SQLiteColumn, p: PageParams): SQL | undefined {
  if (p.afterId !== undefined) return lt(idCol, p.afterId);
  if (p.beforeId !== undefined) return gt(idCol, p.beforeId);
  return undefined;
}

export function cursorOrder(idCol: SQLiteColumn, p: PageParams): SQL {
  return p.beforeId !== undefined ? asc(idCol) : desc(idCol);
}

/** rows were fetched in cursorOrder with limit + 1; trim and put them newest first. */
export function finishPage<T>(rows: T[], p: PageParams<unknown>): Page<T> {
  const hasMore = rows.length > p.limit;
  const page = hasMore ? rows.slice(0, p.limit) : rows;
  if (p.beforeId !== undefined) page.reverse();
  return { rows: page, hasMore };
}

/**
 * The same rule over an in-memory list already sorted in page order (e.g. the skill catalog by slug),
 * with cursors that are the list's own keys.
 */
export function pageOfList<T, K>(list: T[], keyOf: (t: T) => K, p: PageParams<K>): Page<T> {
  let start = 0;
  let end = list.length;
  if (p.afterId !== undefined) {
    const i = list.findIndex((t) => keyOf(t) === p.afterId);
    start = i === -1 ? list.length : i + 1;
    const rows = list.slice(start, start + p.limit);
    return { rows, hasMore: start + p.limit < end };
  }
  if (p.beforeId !== undefined) {
    const i = list.findIndex((t) => keyOf(t) === p.beforeId);
    end = i === -1 ? 0 : i;
    const from = Math.max(0, end - p.limit);
    return { rows: list.slice(from, end), hasMore: from > 0 };
  }
  return { rows: list.slice(0, p.limit), hasMore: list.length > p.limit };
}
