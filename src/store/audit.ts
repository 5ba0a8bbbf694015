// The one audit writer: call it inside the same store.tx as the mutation it records.
import type { Ctx } from "../lib/context";
import type { Store } from "./db";
import { auditLogs } from "./schema";

export interface AuditEntry {
  action: string;
  resourceType: string;
  resourceId?: string | null;
  metadata?: Record<string, unknown> | null;
}

export function writeAudit(store: Store, ctx: Ctx, entry: AuditEntry): void {
  const actor = ctx.actor;
  store.db
    .insert(auditLogs)
    .values({
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
    })
    .run();
}
