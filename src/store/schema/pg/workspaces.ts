// Users, workspaces and who belongs to them; API keys and sessions; the audit log, idempotency keys and working memory.
// The PostgreSQL twin of ../sqlite/workspaces.ts: the same tables, columns, indexes and row types (see ../index.ts).
import { pgTable, bigint, boolean, text, json, index, uniqueIndex } from "drizzle-orm/pg-core";

export const users = pgTable("users", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
  email: text("email").unique(),
  name: text("name").notNull(),
  createdAt: bigint("created_at", { mode: "number" }).notNull(),
  updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
});

export const workspaces = pgTable("workspaces", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
  name: text("name").notNull(),
  slug: text("slug").notNull().unique(),
  personal: boolean("personal").notNull().default(false),
  createdByUserId: bigint("created_by_user_id", { mode: "number" }).references(() => users.id),
  createdAt: bigint("created_at", { mode: "number" }).notNull(),
});

export const memberships = pgTable(
  "memberships",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    workspaceId: bigint("workspace_id", { mode: "number" }).notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    userId: bigint("user_id", { mode: "number" }).notNull().references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: ["owner", "admin", "member"] }).notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
  },
  (t) => [uniqueIndex("memberships_ws_user").on(t.workspaceId, t.userId), index("memberships_user").on(t.userId)],
);

export const apiKeys = pgTable(
  "api_keys",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    workspaceId: bigint("workspace_id", { mode: "number" }).notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    userId: bigint("user_id", { mode: "number" }).references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    keyHash: text("key_hash").notNull().unique(),
    prefix: text("prefix").notNull(),
    last4: text("last4").notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    lastUsedAt: bigint("last_used_at", { mode: "number" }),
    revokedAt: bigint("revoked_at", { mode: "number" }),
    /** The OAuth client (RFC 7591) a person approved this key for; null for keys made otherwise. */
    oauthClientId: text("oauth_client_id"),
  },
  (t) => [index("api_keys_ws").on(t.workspaceId, t.id)],
);

export const sessions = pgTable("sessions", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
  userId: bigint("user_id", { mode: "number" }).notNull().references(() => users.id, { onDelete: "cascade" }),
  tokenHash: text("token_hash").notNull().unique(),
  createdAt: bigint("created_at", { mode: "number" }).notNull(),
  expiresAt: bigint("expires_at", { mode: "number" }).notNull(),
  revokedAt: bigint("revoked_at", { mode: "number" }),
});

export const auditLogs = pgTable(
  "audit_logs",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    workspaceId: bigint("workspace_id", { mode: "number" }).notNull(),
    actorType: text("actor_type", { enum: ["user", "apiKey", "agent", "system"] }).notNull(),
    actorUserId: bigint("actor_user_id", { mode: "number" }),
    actorApiKeyId: bigint("actor_api_key_id", { mode: "number" }),
    ip: text("ip"),
    userAgent: text("user_agent"),
    requestId: text("request_id").notNull(),
    action: text("action").notNull(),
    resourceType: text("resource_type").notNull(),
    resourceId: text("resource_id"),
    metadata: json("metadata").$type<Record<string, unknown>>(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
  },
  (t) => [
    index("audit_logs_ws").on(t.workspaceId, t.id),
    // The filters the spec names, action and resource type, each a short range in id order. Dates walk the ids: an
    // index on them cost every audited mutation ~2.5 % (test/bench/ab.ts), for a read that is slow only past ~1M rows.
    index("audit_logs_ws_action").on(t.workspaceId, t.action, t.id),
    index("audit_logs_ws_resource").on(t.workspaceId, t.resourceType, t.id),
  ],
);

export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    workspaceId: bigint("workspace_id", { mode: "number" }).notNull(),
    key: text("key").notNull(),
    fingerprint: text("fingerprint").notNull(),
    status: bigint("status", { mode: "number" }).notNull(),
    body: text("body").notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    expiresAt: bigint("expires_at", { mode: "number" }).notNull(),
  },
  (t) => [uniqueIndex("idempotency_ws_key").on(t.workspaceId, t.key), index("idempotency_expires").on(t.expiresAt)],
);

export const memory = pgTable("memory", {
  workspaceId: bigint("workspace_id", { mode: "number" }).primaryKey().references(() => workspaces.id, { onDelete: "cascade" }),
  content: text("content").notNull(),
  version: bigint("version", { mode: "number" }).notNull(),
  updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
});
