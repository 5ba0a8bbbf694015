// The one audit writer: call it inside the same store.tx as the mutation it records.
import type { Ctx } from "../lib/context";
import type { Store } from "./db";

export interface AuditEntry {
  action: string;
  resourceType: string;
  resourceId?: string | null;
  metadata?: Record<string, unknown> | null;
}

// Every mutation writes one of these, so the statement is prepared once per store.
const inserts = new WeakMap<Store, ReturnType<typeof prepare>>();

function prepare(store: Store) {
  return store.sqlite.query(
    `INSERT INTO audit_logs (workspace_id, actor_type, actor_user_id, actor_api_key_id, ip, user_agent, request_id,
       action, resource_type, resource_id, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
}

export function writeAudit(store: Store, ctx: Ctx, entry: AuditEntry): void {
  let insert = inserts.get(store);
  if (!insert) inserts.set(store, (insert = prepare(store)));
  const actor = ctx.actor;
  insert.run(
    ctx.workspaceId,
    actor.kind,
    actor.userId,
    actor.kind === "apiKey" || actor.kind === "agent" ? actor.apiKeyId : null,
    ctx.ip ?? null,
    ctx.userAgent ?? null,
    ctx.requestId,
    entry.action,
    entry.resourceType,
    entry.resourceId ?? null,
    entry.metadata ? JSON.stringify(entry.metadata) : null,
    Date.now(),
  );
}
