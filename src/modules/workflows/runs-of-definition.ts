// What a definition's change or deletion does to its runs that have not ended: each follows only the definition it
// was launched from (run-state.ts: revision), so they fail at once, in the change's tx (the engine, which checks
// before every step, would stop them too, but a run waiting on an approval has no next step to check at); their
// steps' executions still running are cancelled once that commits. And a run's cost.
import { and, eq, inArray } from "drizzle-orm";
import { systemCtx, type Ctx } from "../../lib/context";
import { decodeId } from "../../lib/ids";
import type { Store } from "../../store/db";
import { lockedRows, lockRows } from "../../store/row-lock";
import { executions, workflowRuns } from "../../store/schema";
import type { ExecutionsService } from "../executions/service";
import type { WorkflowDefinition } from "./definition";
import type { WorkflowEngine } from "./engine";
import { endedSteps, whyGone, type DefinitionSource, type RunState } from "./run-state";

type RunRow = typeof workflowRuns.$inferSelect;

export interface RunsOfDefinitionDeps {
  store: Store;
  executions: ExecutionsService;
  definitionOf: (workspaceId: number, key: string, source?: DefinitionSource) => Promise<WorkflowDefinition | null>;
  engine: () => WorkflowEngine;
}

/**
 * In the caller's tx, after `key` was replaced or deleted: fails its runs not ended that cannot go on (a run of the
 * bundled definition a deleted copy shadowed goes on). After the commit, cancels their steps' running executions.
 */
export async function failRunsGone(d: RunsOfDefinitionDeps, ctx: Ctx, key: string): Promise<void> {
  const { store } = d;
  const query = store.db
    .select()
    .from(workflowRuns)
    .where(and(eq(workflowRuns.workspaceId, ctx.workspaceId), eq(workflowRuns.workflowId, key), inArray(workflowRuns.status, ["running", "suspended"])))
    .orderBy(workflowRuns.id);
  // PostgreSQL (READ COMMITTED, changeDefinitions): each row locked as read, in id order, and read as last committed
  // once its step's writer let go; none written before all are held, so no event lock is held while waiting for one.
  const live = await lockedRows(store, query, "update");
  const failed: Parameters<WorkflowEngine["saveAll"]>[0] = [];
  for (const run of live) {
    const state = run.state as unknown as RunState;
    const gone = whyGone(await d.definitionOf(ctx.workspaceId, key, state.definition), state, key);
    if (!gone) continue;
    const patch = { status: "failed" as const, errorCode: gone.code, errorMessage: gone.message, suspendedStep: null, state: endedSteps(state, "failed") as unknown as Record<string, unknown>, completedAt: Date.now() };
    failed.push({ run, patch });
    store.afterCommit(() => void cancelRunningSteps(d.executions, ctx, run).catch(() => {}));
  }
  // All in one: every row before any event (saveAll says why).
  if (failed.length) await d.engine().saveAll(failed);
}

/**
 * Cancels the executions of a run's steps still running as the run ends (cancelled, or failed above). They are the
 * workflow's (started with the server's authority, on its launcher's behalf): ending the run was decided and checked
 * already, so they end with it whoever asked.
 */
export async function cancelRunningSteps(executionsService: ExecutionsService, ctx: Ctx, run: RunRow): Promise<void> {
  const asWorkflow = systemCtx(ctx.workspaceId, ctx.requestId);
  for (const s of Object.values((run.state as unknown as RunState).steps)) {
    if (s.status === "running" && s.executionId) {
      try {
        await executionsService.cancel(asWorkflow, s.executionId);
      } catch {}
    }
  }
}

/** A run's cost: the sum of its skill steps' executions. */
export async function costOf(store: Store, run: RunRow): Promise<number> {
  const ids = Object.values((run.state as unknown as RunState).steps)
    .map((s) => s.executionId)
    .filter((x): x is string => !!x)
    .map((x) => decodeId("execution", x)!);
  let micro = 0;
  for (const id of ids) {
    const [e] = await store.db.select({ c: executions.costMicro }).from(executions).where(eq(executions.id, id));
    micro += e?.c ?? 0;
  }
  return micro / 1_000_000;
}

/**
 * PostgreSQL, inside the caller's tx: the run's row locked until it commits, so a definition's change (which fails
 * the run) and the caller's write to it happen one after the other, whatever the caller's isolation. SQLite has one
 * writer: nothing to do.
 */
export async function lockRunRow(store: Store, runId: number): Promise<void> {
  await lockRows(store, store.db.select({ id: workflowRuns.id }).from(workflowRuns).where(eq(workflowRuns.id, runId)), "update");
}
