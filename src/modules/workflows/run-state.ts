// A workflow run's state as stored (the steps' states, and which definition it follows), and how its steps end
// with it.
import type { Connector } from "../executions/prompt";
import type { Step } from "./definition";

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
