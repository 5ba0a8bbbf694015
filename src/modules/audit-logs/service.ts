// Reading the audit trail (writing it is store/audit.ts, inside each mutation's transaction).
import { eq, gte, lte } from "drizzle-orm";
import type { Ctx } from "../../lib/context";
import { encodeId } from "../../lib/ids";
import { toIso } from "../../lib/clock";
import type { Store } from "../../store/db";
import { workspacePage, type PageParams } from "../../store/paginate";
import { auditLogs } from "../../store/schema";

export interface AuditFilter {
  action?: string;
  resourceType?: string;
  startMs?: number;
  endMs?: number;
}

type AuditRow = typeof auditLogs.$inferSelect;

export function auditView(r: AuditRow) {
  return {
    id: encodeId("audit", r.id),
    action: r.action,
    resourceType: r.resourceType,
    resourceId: r.resourceId,
    actor: {
      type: r.actorType,
      userId: r.actorUserId === null ? null : encodeId("user", r.actorUserId),
      apiKeyId: r.actorApiKeyId === null ? null : encodeId("apiKey", r.actorApiKeyId),
    },
    ip: r.ip,
    userAgent: r.userAgent,
    requestId: r.requestId,
    metadata: r.metadata ?? {},
    createdAt: toIso(r.createdAt)!,
  };
}

export function createAuditLogsService(store: Store) {
  return {
    async list(ctx: Ctx, p: PageParams, f: AuditFilter) {
      const page = await workspacePage(
        store.db,
        auditLogs,
        ctx.workspaceId,
        p,
        f.action ? eq(auditLogs.action, f.action) : undefined,
        f.resourceType ? eq(auditLogs.resourceType, f.resourceType) : undefined,
        f.startMs !== undefined ? gte(auditLogs.createdAt, f.startMs) : undefined,
        f.endMs !== undefined ? lte(auditLogs.createdAt, f.endMs) : undefined,
      );
      return { rows: page.rows.map(auditView), hasMore: page.hasMore };
    },
  };
}

export type AuditLogsService = ReturnType<typeof createAuditLogsService>;
