// The runner's statements that every run executes (load, mark running, output blocks): prepared once.
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Store } from "../../store/db";
import { prepared } from "../../store/prepared";
import { executionBlocks, executions } from "../../store/schema";

const ph = sql.placeholder;
export const loadRun = prepared((db) => db.select().from(executions).where(eq(executions.id, ph("id"))));
export const markRunning = prepared((db) =>
  db
    .update(executions)
    .set({
      status: "running",
      startedAt: ph("now") as never,
      provider: ph("provider") as never,
      model: ph("model") as never,
      byok: ph("byok") as never,
      leaseOwner: ph("leaseOwner") as never,
      leaseExpiresAt: ph("leaseExpiresAt") as never,
      heldMicro: ph("heldMicro") as never,
    })
    .where(eq(executions.id, ph("id"))),
);
/** What the workspace's running runs hold of its credits (on every replica: read in the dispatch's tx). */
export const heldByRunning = prepared((db) =>
  db
    .select({ held: sql<number>`coalesce(sum(${executions.heldMicro}), 0)`.mapWith(Number) })
    .from(executions)
    .where(and(eq(executions.status, "running"), eq(executions.workspaceId, ph("workspaceId")))),
);
/**
 * PostgreSQL: holds these runs' rows (FOR UPDATE, in id order) until the tx ends. A settle takes them before the
 * workspace's events lock (its blocks' appends), the order a cancel and a dispatch take them in: the other order
 * deadlocked against a cancel racing the run's end.
 */
export async function lockRuns(store: Store, ids: number[]): Promise<void> {
  if (store.sqlite || !ids.length) return;
  const q = store.db.select({ id: executions.id }).from(executions).where(inArray(executions.id, ids)).orderBy(executions.id);
  await (q as unknown as { for(strength: "update"): Promise<unknown> }).for("update");
}
export const insertBlock = prepared((db) =>
  db.insert(executionBlocks).values({ executionId: ph("executionId"), seq: ph("seq"), type: "text", content: ph("content"), createdAt: ph("now") }),
);
