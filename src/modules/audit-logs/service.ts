// Reading the audit trail (writing it is store/audit.ts, inside each mutation's transaction).
import { and, eq, gte, lte, type SQL } from "drizzle-orm";
import type { Ctx } from "../../lib/context";
import { encodeId } from "../../lib/ids";
import { toIso } from "../../lib/clock";
import type { Store } from "../../store/db";
import { cursorOrder, cursorWhere, finishPage, type PageParams } from "../../store/paginate";
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
    list(ctx: Ctx, p: PageParams, f: AuditFilter) {
      const conds: (SQL | undefined)[] = [eq(auditLogs.workspaceId, ctx.workspaceId), cursorWhere(auditLogs.id, p)];
      if (f.action) conds.push(eq(auditLogs.action, f.action));
      if (f.resourceType) conds.push(eq(auditLogs.resourceType, f.resourceType));
      if (f.startMs !== undefined) conds.push(gte(auditLogs.createdAt, f.startMs));
      if (f.endMs !== undefined) conds.push(lte(auditLogs.createdAt, f.endMs));
      const rows = store.db
        .select()
        .from(auditLogs)
        .where(and(...conds))
        .orderBy(cursorOrder(auditLogs.id, p))
        .limit(p.limit + 1)
        .all();
      const page = finishPage(rows, p);
      return { rows: page.rows.map(auditView), hasMore: page.hasMore };
    },
  };
}

export type AuditLogsService = ReturnType<typeof createAuditLogsService>;
