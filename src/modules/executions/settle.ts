// How a run ends in the store: its final state, its charge, its event and its webhook; or, for a run cancelled
// mid-stream, the tokens the model used until then.
import { and, eq, sql } from "drizzle-orm";
import { encodeId } from "../../lib/ids";
import type { Store } from "../../store/db";
import { prepared } from "../../store/prepared";
import { executions } from "../../store/schema";
import type { Usage } from "../../executor/protocol";
import type { StopReason } from "../../executor/stop-reason";
import type { EventBus, BusEvent } from "../events/bus";
import type { BillingService } from "../billing/service";
import type { WebhooksService } from "../webhooks/service";
import { endSummary, type ExecutionRow } from "./view";

export const EXECUTION_EVENT = "execution-state";

// Every run ends here: the final update is prepared, for any holder and for one replica's lease.
const ph = sql.placeholder;
const finalSet = {
  status: ph("status") as never,
  inputTokens: ph("inputTokens") as never,
  outputTokens: ph("outputTokens") as never,
  costMicro: ph("costMicro") as never,
  errorCode: ph("errorCode") as never,
  errorMessage: ph("errorMessage") as never,
  stopReason: ph("stopReason") as never,
  completedAt: ph("now") as never,
  startedAt: ph("startedAt") as never,
};
const finalizeRun = prepared((db) => db.update(executions).set(finalSet).where(eq(executions.id, ph("id"))).returning());
const finalizeHeld = prepared((db) =>
  db
    .update(executions)
    .set(finalSet)
    .where(and(eq(executions.id, ph("id")), eq(executions.leaseOwner, ph("owner")), eq(executions.status, "running")))
    .returning(),
);

export class RunSettler {
  constructor(private d: { store: Store; billing: BillingService; bus: EventBus; webhooks: WebhooksService }) {}

  /** A run cancelled mid-stream: its status is already final; record what the model consumed. */
  async cancelled(e: ExecutionRow | undefined, usage: Usage): Promise<void> {
    if (!e || (usage.inputTokens === 0 && usage.outputTokens === 0)) return;
    const { store, billing } = this.d;
    const cost = e.byok ? 0 : billing.costMicro(usage.inputTokens, usage.outputTokens);
    await store.tx(async () => {
      await store.db.update(executions).set({ inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, costMicro: cost }).where(eq(executions.id, e.id));
      // The cancel's callback, held back for this charge, reads the cost when it goes (see the executions service).
      await billing.charge(e.workspaceId, cost, e.id, `Cancelled run of ${e.skillSlug} (${encodeId("execution", e.id)})`);
    });
  }

  /**
   * Inside a tx: the final state, the charge, the event and the webhook of one run. With `owner`, only while that
   * replica still holds the run's lease (null otherwise: another replica took it back and runs it again).
   */
  async finalize(e: ExecutionRow, status: "completed" | "failed", usage: Usage, error: { code: string; message: string } | null, artifactIds: number[] = [], owner?: string, stopReason: StopReason | null = null): Promise<BusEvent | null> {
    const { store, billing, bus, webhooks } = this.d;
    const now = Date.now();
    const cost = e.byok ? 0 : billing.costMicro(usage.inputTokens, usage.outputTokens);
    const values = {
      id: e.id,
      owner,
      status,
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      costMicro: cost,
      errorCode: error?.code ?? null,
      errorMessage: error?.message ?? null,
      stopReason,
      now,
      startedAt: e.startedAt ?? now,
    };
    const [done] = await (owner === undefined ? finalizeRun : finalizeHeld)(store, values);
    if (!done) return null;
    await billing.charge(e.workspaceId, cost, e.id, `Run of ${e.skillSlug} (${encodeId("execution", e.id)})`);
    const summary = endSummary(done, artifactIds);
    if (e.callbackUrl) {
      const payload = { event: `execution.${status}`, ...summary, ...(error ? { error } : {}) };
      await webhooks.enqueue(e.workspaceId, e.callbackUrl, payload.event, payload, e.requestId);
    }
    return bus.append(e.workspaceId, EXECUTION_EVENT, e.interface, { ...summary, blocks: [], ...(error ? { error } : {}) });
  }
}
