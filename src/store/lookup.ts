// The one way to fetch a workspace's row by its API id: another workspace's row, a wrong prefix or junk are
// all the same 404 (no existence leak).
import { and, eq } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTableWithColumns } from "drizzle-orm/sqlite-core";
import { NotFoundError } from "../lib/errors";
import { decodeId, type Entity } from "../lib/ids";
import type { Db } from "./db";

type WorkspaceTable = SQLiteTableWithColumns<any> & { id: SQLiteColumn; workspaceId: SQLiteColumn };

export async function workspaceRow<T extends WorkspaceTable>(db: Db, table: T, entity: Entity, label: string, workspaceId: number, ref: string): Promise<T["$inferSelect"]> {
  const id = decodeId(entity, ref);
  const [row] =
    id === null
      ? []
      : await db
          .select()
          .from(table as SQLiteTableWithColumns<any>)
          .where(and(eq(table.id, id), eq(table.workspaceId, workspaceId)));
  if (!row) throw new NotFoundError(label, ref);
  return row as T["$inferSelect"];
}
