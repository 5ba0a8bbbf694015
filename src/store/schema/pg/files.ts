// Files every replica must read (artifact bytes, imported skills, the mail outbox): see src/store/files.ts.
import { pgTable, bigint, text } from "drizzle-orm/pg-core";
import { bytea } from "./bytea";

export const files = pgTable("files", {
  /** A data-dir-relative path: artifacts/<ws>/<name>, skills/<folder>/<file>, outbox/<name>.eml */
  path: text("path").primaryKey(),
  content: bytea("content").notNull(),
  size: bigint("size", { mode: "number" }).notNull(),
  createdAt: bigint("created_at", { mode: "number" }).notNull(),
});
