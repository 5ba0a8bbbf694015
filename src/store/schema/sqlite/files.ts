// Files every replica must read (artifact bytes, imported skills, the mail outbox) when the store is PostgreSQL;
// on SQLite they stay plain files in the data dir and this table is unused (see src/store/files.ts).
import { sqliteTable, integer, text, blob } from "drizzle-orm/sqlite-core";

export const files = sqliteTable("files", {
  /** A data-dir-relative path: artifacts/<ws>/<name>, skills/<folder>/<file>, outbox/<name>.eml */
  path: text("path").primaryKey(),
  content: blob("content", { mode: "buffer" }).notNull(),
  size: integer("size").notNull(),
  createdAt: integer("created_at").notNull(),
});
