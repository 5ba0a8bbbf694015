// A workflow run's state as stored (the steps' states, and which definition it follows), and how its steps end
// with it.
import type { Connector } from "../executions/prompt";
import { sha256Hex } from "../../lib/crypto";
import { sortedJson } from "../../lib/json-object";
import type { Step, WorkflowDefinition } from "./definition";

export type StepStatus = "pending" | "running" | "completed" | "suspended" | "failed" | "skipped" | "cancelled";

export interface StepState {
  status: StepStatus;
  kind: Step["kind"];
  /** A skill step's rendered prompt, or an action step's rendered input. */
  input?: string | Record<string, unknown>;
  /** A skill step's rendered connector: the source its run read. */
  connector?: Connector;
  output?: unknown;
  executionId?: string;
  suspend?: { message: string; resumeSchema?: unknown };
  error?: { code: string; message: string };
}

export interface RunState {
  steps: Record<string, StepState>;
  /**
   * Which definition the run was launched from: the workspace's own, or the bundled one of that id. A run follows
   * only that one: the workspace's copy deleted, its run fails rather than go on with the bundled steps. (Absent
   * on runs launched before it was recorded: whichever definition the id names now.)
   */
  definition?: DefinitionSource;
  /**
   * The definition's revision at the launch (revisionOf): a run follows only that one, so a definition changed
   * under it never has it run steps nobody launched (or skip ones they did). Absent on runs launched before it was
   * recorded: they follow whatever the id names now.
   */
  revision?: string;
}

/**
 * What a run of a definition does (its steps, as read from the store) as one short string: a change to its name,
 * description, input schema (checked at the launch already) or triggers leaves its runs going, and so do its steps
 * saved again with their keys in another order (`jq -S` on a definition read back failed every run in flight).
 */
export const revisionOf = (def: WorkflowDefinition): string => sha256Hex(sortedJson(def.steps)).slice(0, 32);

/** Whether `def` is the revision a run recorded; one launched before keys were sorted recorded the steps as written. */
const isRevision = (def: WorkflowDefinition, revision: string): boolean => revision === revisionOf(def) || revision === sha256Hex(JSON.stringify(def.steps)).slice(0, 32);

/** Why a run cannot go on with `def` (what its id names now, as read from the store), or null. */
export function whyGone(def: WorkflowDefinition | null, state: RunState, workflowId: string): { code: string; message: string } | null {
  if (!def) return { code: "WORKFLOW_NOT_FOUND", message: `The workflow '${workflowId}' was deleted: this run stopped rather than go on with other steps` };
  if (state.revision !== undefined && !isRevision(def, state.revision))
    return { code: "WORKFLOW_CHANGED", message: `The workflow '${workflowId}' had its steps changed after this run was launched: it stopped rather than mix the two versions' steps. Launch it again to run the new ones` };
  return null;
}

export type DefinitionSource = "workspace" | "bundled";

/**
 * The steps of a run that ended: none left `running` or `suspended`, which would say it still goes on or still
 * waits to be resumed. A cancelled run's are cancelled; in a failed run, a parallel or branch step that held the
 * failure failed with it, and an approval waiting beside it is cancelled.
 */
export function endedSteps(state: RunState, how: "cancelled" | "failed"): RunState {
  const steps = Object.fromEntries(
    Object.entries(state.steps).map(([id, st]): [string, StepState] => {
      if (st.status !== "running" && st.status !== "suspended") return [id, st];
      const holdsFailure = how === "failed" && st.status === "running" && (st.kind === "parallel" || st.kind === "branch");
      return [id, { ...st, status: holdsFailure ? "failed" : "cancelled" }];
    }),
  );
  return { ...state, steps };
}

/** A failed run's end: its (first) failed step names the code and the message. */
export function failedEnd(state: RunState) {
  const failed = Object.entries(state.steps).find(([, s]) => s.status === "failed");
  return {
    status: "failed" as const,
    state: endedSteps(state, "failed") as unknown as Record<string, unknown>,
    errorCode: failed?.[1].error?.code ?? "STEP_FAILED",
    errorMessage: `Step '${failed?.[0]}' failed: ${failed?.[1].error?.message ?? ""}`,
    completedAt: Date.now(),
  };
}
