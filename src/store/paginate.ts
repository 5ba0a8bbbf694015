// The one paginator: newest first; after_id = the older page after that object, before_id = the newer page
// before it. Fetch limit + 1 rows to learn has_more without a count.
import { and, asc, desc, eq, gt, lt, type SQL } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTableWithColumns } from "drizzle-orm/sqlite-core";
import type { Db } from "./db";

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

type WorkspaceTable = SQLiteTableWithColumns<any> & { id: SQLiteColumn; workspaceId: SQLiteColumn };

/** One page of a workspace's rows of `table` (with any extra conditions), newest first. */
export async function workspacePage<T extends WorkspaceTable>(db: Db, table: T, workspaceId: number, p: PageParams, ...where: (SQL | undefined)[]): Promise<Page<T["$inferSelect"]>> {
  const rows = (await db
    .select()
    .from(table as SQLiteTableWithColumns<any>)
    .where(and(eq(table.workspaceId, workspaceId), cursorWhere(table.id, p), ...where))
    .orderBy(cursorOrder(table.id, p))
    .limit(p.limit + 1)) as T["$inferSelect"][];
  return finishPage(rows, p);
}

/**
 * The same rule over an in-memory list sorted by its own key (the skill catalog, by slug): after_id = the
 * items past that key, before_id = the items before it. A cursor need not be in the list (e.g. filtered out).
 */
export function pageOfList<T>(list: T[], keyOf: (t: T) => string, p: PageParams<string>): Page<T> {
  if (p.beforeId !== undefined) {
    const before = p.beforeId;
    let end = list.findIndex((t) => keyOf(t) >= before);
    if (end === -1) end = list.length;
    const from = Math.max(0, end - p.limit);
    return { rows: list.slice(from, end), hasMore: from > 0 };
  }
  let start = 0;
  if (p.afterId !== undefined) {
    const after = p.afterId;
    start = list.findIndex((t) => keyOf(t) > after);
    if (start === -1) start = list.length;
  }
  return { rows: list.slice(start, start + p.limit), hasMore: start + p.limit < list.length };
}
