// The one audit writer: call it inside the same store.tx as the mutation it records.
import type { Ctx } from "../lib/context";
import { sql } from "drizzle-orm";
import type { Store } from "./db";
import { prepared, sqliteStatement } from "./prepared";
import { auditLogs } from "./schema";

export interface AuditEntry {
  action: string;
  resourceType: string;
  resourceId?: string | null;
  metadata?: Record<string, unknown> | null;
}

// Every mutation writes one of these, so the statement is prepared once per store: raw on SQLite, drizzle's on PostgreSQL.
const ph = sql.placeholder;
const insertPg = prepared((db) =>
  db.insert(auditLogs).values({
    workspaceId: ph("workspaceId"),
    actorType: ph("actorType"),
    actorUserId: ph("actorUserId"),
    actorApiKeyId: ph("actorApiKeyId"),
    ip: ph("ip"),
    userAgent: ph("userAgent"),
    requestId: ph("requestId"),
    action: ph("action"),
    resourceType: ph("resourceType"),
    resourceId: ph("resourceId"),
    metadata: ph("metadata"),
    createdAt: ph("createdAt"),
  }),
);

const insertSqlite = sqliteStatement(
  `INSERT INTO audit_logs (workspace_id, actor_type, actor_user_id, actor_api_key_id, ip, user_agent, request_id,
     action, resource_type, resource_id, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
);

/** Inside the mutation's store.tx: await it there, so the audit row commits (or rolls back) with the change. */
export async function writeAudit(store: Store, ctx: Ctx, entry: AuditEntry): Promise<void> {
  const actor = ctx.actor;
  const row = {
    workspaceId: ctx.workspaceId,
    actorType: actor.kind,
    actorUserId: actor.userId,
    actorApiKeyId: actor.kind === "apiKey" || actor.kind === "agent" ? actor.apiKeyId : null,
    ip: ctx.ip ?? null,
    userAgent: ctx.userAgent ?? null,
    requestId: ctx.requestId,
    action: entry.action,
    resourceType: entry.resourceType,
    resourceId: entry.resourceId ?? null,
    metadata: entry.metadata ?? null,
    createdAt: Date.now(),
  };
  const sqlite = store.sqlite;
  if (!sqlite) return store.pipeline(insertPg(store, row));
  insertSqlite(sqlite).run(
    row.workspaceId,
    row.actorType,
    row.actorUserId,
    row.actorApiKeyId,
    row.ip,
    row.userAgent,
    row.requestId,
    row.action,
    row.resourceType,
    row.resourceId,
    row.metadata ? JSON.stringify(row.metadata) : null,
    row.createdAt,
  );
}
