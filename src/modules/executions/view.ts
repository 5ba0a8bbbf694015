// The API shapes of an execution and its output blocks.
import { encodeId } from "../../lib/ids";
import { toIso } from "../../lib/clock";
import { callbackUrlFor, starterView, type Ctx } from "../../lib/context";
import { executionBlocks, executions } from "../../store/schema";
import { toCredits } from "../billing/service";
import { STOP_REASONS, type StopReason } from "../../executor/stop-reason";

export type ExecutionRow = typeof executions.$inferSelect;
export type BlockRow = typeof executionBlocks.$inferSelect;

export const ACTIVE = new Set(["queued", "running"]);

export function blockView(b: Pick<BlockRow, "seq" | "type" | "content" | "createdAt">) {
  return { index: b.seq, type: b.type, content: b.content, createdAt: toIso(b.createdAt)! };
}

export function executionTime(e: ExecutionRow): number | null {
  if (e.startedAt === null) return null;
  return (e.completedAt ?? Date.now()) - e.startedAt;
}

/** How a run ended, as its execution-state event and its callback say it (the spec's webhook payload, less `event`). */
export function endSummary(e: ExecutionRow, artifactIds: number[] = []) {
  return {
    executionId: encodeId("execution", e.id),
    skillSlug: e.skillSlug,
    status: e.status,
    artifactId: artifactIds.length ? encodeId("artifact", artifactIds[0]!) : null,
    cost: toCredits(e.costMicro),
    executionTime: executionTime(e),
  };
}

/** Why a completed run's answer ended (max_tokens: cut off at its token limit); null for any other end. */
const stopReasonView = (e: ExecutionRow): StopReason | null =>
  e.status !== "completed" || e.stopReason === null ? null : (STOP_REASONS as readonly string[]).includes(e.stopReason) ? (e.stopReason as StopReason) : "other";

/** A run's artifacts in the order written, and which of them is its output (null once that one was deleted). */
export type RunArtifacts = { ids: number[]; output: number | null };

export function executionView(e: ExecutionRow, ctx: Ctx, artifacts: RunArtifacts = { ids: [], output: null }) {
  const id = encodeId("execution", e.id);
  return {
    id,
    executionId: id,
    skillSlug: e.skillSlug,
    skillName: e.skillName,
    status: e.status,
    interface: e.interface,
    input: e.input,
    cost: toCredits(e.costMicro),
    executionTime: executionTime(e),
    // Whole numbers: a run settled before the worker bounded what providers report could hold 0.5 (a 500 for every list).
    usage: { inputTokens: Math.round(e.inputTokens), outputTokens: Math.round(e.outputTokens) },
    provider: e.provider,
    model: e.model,
    byok: e.byok,
    // The run's output, never another of its files in its place: a client downloading "the run's artifact" after
    // the output was deleted would otherwise get a file its output named.
    artifactId: artifacts.output === null ? null : encodeId("artifact", artifacts.output),
    artifactIds: artifacts.ids.map((a) => encodeId("artifact", a)),
    error: e.errorCode ? { code: e.errorCode, message: e.errorMessage ?? "" } : null,
    stopReason: stopReasonView(e),
    rerunOf: e.rerunOf === null ? null : encodeId("execution", e.rerunOf),
    callbackUrl: callbackUrlFor(e, ctx),
    startedBy: starterView(e),
    // A run that read code: its source and what the model was given (included, cut, bytes of the budget).
    connector: e.connector ? { type: e.connector.type, fields: e.connector.fields, context: e.connector.context ?? null } : null,
    createdAt: toIso(e.createdAt)!,
    startedAt: toIso(e.startedAt),
    completedAt: toIso(e.completedAt),
  };
}
