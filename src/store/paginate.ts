// The one paginator: newest first; after_id = the older page after that object, before_id = the newer page
// before it. Fetch limit + 1 rows to learn has_more without a count.
import { and, asc, desc, eq, gt, inArray, lt, sql, type SQL } from "drizzle-orm";
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

/** The most bytes of big columns (inputs, attachments, step outputs) one page of a list holds. */
export const PAGE_BYTES = 8 * 1024 * 1024;

/** The characters a JSON or text column holds, on either store (a measure for PAGE_BYTES). */
export const charsOf = (column: SQLiteColumn): SQL<number> => sql<number>`coalesce(length(cast(${column} as text)), 0)`;

/**
 * workspacePage for a table whose rows may be large (a run's input of megabytes): a page ends early, has_more, once
 * its rows' `size` would pass PAGE_BYTES (one row at least), and only the rows kept are read whole. A hundred runs of
 * 10 MB made one answer of a gigabyte, held whole in memory to build it.
 */
export async function workspacePageWithin<T extends WorkspaceTable>(db: Db, table: T, size: SQL<number>, workspaceId: number, p: PageParams, ...where: (SQL | undefined)[]): Promise<Page<T["$inferSelect"]>> {
  const heads = (await db
    .select({ id: table.id, size })
    .from(table as SQLiteTableWithColumns<any>)
    .where(and(eq(table.workspaceId, workspaceId), cursorWhere(table.id, p), ...where))
    .orderBy(cursorOrder(table.id, p))
    .limit(p.limit + 1)) as { id: number; size: number }[];
  let kept = 0;
  for (let bytes = 0; kept < Math.min(heads.length, p.limit); kept++) {
    bytes += Number(heads[kept]!.size);
    if (kept > 0 && bytes > PAGE_BYTES) break;
  }
  const ids = heads.slice(0, kept).map((h) => h.id);
  const rows = ids.length ? ((await db.select().from(table as SQLiteTableWithColumns<any>).where(inArray(table.id, ids)).orderBy(desc(table.id))) as T["$inferSelect"][]) : [];
  return { rows, hasMore: heads.length > kept };
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
