// Runs workflows step by step. Every step's state is persisted as it changes, so a run survives a restart: a
// completed step is never run again, a suspended run waits in the database, and a step whose execution the
// restart interrupted starts over. On shutdown it pauses: a step in flight finishes, no new step starts.
// On PostgreSQL (several replicas) the replica driving a run holds a renewed lease on it; a run whose lease ran
// out (its replica died) or that nobody holds is adopted by any replica, so one replica drives it at a time.
import { and, eq } from "drizzle-orm";
import { onBehalfOf, systemCtx, type Ctx } from "../../lib/context";
import { decodeId, encodeId } from "../../lib/ids";
import type { Store } from "../../store/db";
import { workflowRuns } from "../../store/schema";
import type { EventBus } from "../events/bus";
import { StepGone, type ExecutionsService } from "../executions/service";
import type { Connector } from "../executions/prompt";
import type { WebhooksService } from "../webhooks/service";
import type { IntegrationCatalog, Step, WorkflowDefinition } from "./definition";
import { render, RenderBudget, renderDeep, TemplateTooLarge } from "./render";
import type { Log } from "../../lib/log";
import { RunLeases } from "./run-leases";
import { cancelRunningSteps, costOf, lockRunRow } from "./runs-of-definition";
import { waitForExecution } from "./execution-wait";
import { endedSteps, failedEnd, whyGone, type DefinitionSource, type RunState, type StepState } from "./run-state";

export const WORKFLOW_EVENT = "workflow-state";

/**
 * What a workflow-state event says of each step: its status, kind, execution and error, not its input or output (GET
 * the run for those). With them, every step's change logged every step's data again: 40 steps of a 100 KB input
 * wrote 168 MB of events for one run, kept 7 days.
 */
export const stepHeads = (steps: RunState["steps"]) =>
  Object.fromEntries(Object.entries(steps).map(([id, s]) => [id, { status: s.status, kind: s.kind, ...(s.executionId ? { executionId: s.executionId } : {}), ...(s.error ? { error: s.error } : {}) }]));

type RunRow = typeof workflowRuns.$inferSelect;
/** "paused": the server is shutting down; the run stays `running` and the next start's recover() goes on. */
type Outcome = "done" | "suspended" | "failed" | "cancelled" | "paused";

export interface EngineDeps {
  store: Store;
  bus: EventBus;
  executions: ExecutionsService;
  webhooks: WebhooksService;
  /** Runs `action` steps (see integrations service). */
  integrations?: { execute(ctx: Ctx, integration: string, action: string, input: unknown, workflowRun: string): Promise<Record<string, unknown>> } & Pick<IntegrationCatalog, "escapeOf">;
  definitionOf: (workspaceId: number, workflowId: string, source?: DefinitionSource) => Promise<WorkflowDefinition | null>;
  log: Log;
}

export class WorkflowEngine {
  private active = new Set<number>();
  private paused = false;
  /** Skill steps waiting on their execution: execution id → run and step, for the shutdown log. */
  private waiting = new Map<string, { runId: string; stepId: string }>();
  /** Integration actions in flight (until their step is saved), by run and step: a shutdown waits for them. */
  private actions = new Map<Promise<Outcome>, string>();
  private timer: ReturnType<typeof setInterval> | null = null;

  private leases: RunLeases;

  constructor(private d: EngineDeps) {
    this.leases = new RunLeases(d.store);
  }

  /** Shutdown: steps in flight finish and are saved; no step starts after them. */
  pause(): void {
    this.paused = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The integration actions in flight, as "step 'x' of run_n". */
  actionsInFlight(): string[] {
    return [...this.actions.values()];
  }

  /**
   * Resolves true once no action is in flight, or false after timeoutMs. An action cut short by a stop fails its run
   * at the next start (ACTION_INTERRUPTED: it may have taken effect), so a drain lets each finish and save its step.
   */
  async whenActionsDone(timeoutMs: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
    const done = Promise.allSettled([...this.actions.keys()]).then(() => true);
    try {
      return await Promise.race([done, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Which workflow step, if any, waits on this execution. */
  stepOf(executionId: string): { runId: string; stepId: string } | undefined {
    return this.waiting.get(executionId);
  }

  /**
   * Picks up runs a previous process left running. PostgreSQL: only runs no live replica holds, and from then on
   * every third of a lease: renew the leases of the runs driven here, adopt the ones whose lease ran out.
   */
  async recover(): Promise<void> {
    const rows = await this.d.store.db.select({ id: workflowRuns.id }).from(workflowRuns).where(and(eq(workflowRuns.status, "running"), this.leases.free()));
    // Each run is driven in the background, as a launch does: advance() logs and records its own failures.
    for (const r of rows) void this.advance(r.id).catch((e) => this.d.log.error(`workflow run ${r.id}: ${(e as Error).message}`));
    if (!this.leases.shared || this.timer || this.paused) return;
    let busy = false;
    this.timer = setInterval(() => {
      if (busy) return;
      busy = true;
      void this.leases
        .renew([...this.active])
        .then(() => (this.paused ? undefined : this.recover()))
        .catch((e) => this.d.log.error(`workflow run leases: ${(e as Error).message}`))
        .finally(() => (busy = false));
    }, this.leases.period());
    this.timer.unref?.();
  }

  private async load(runId: number): Promise<RunRow | undefined> {
    const [row] = await this.d.store.db.select().from(workflowRuns).where(eq(workflowRuns.id, runId));
    return row;
  }

  /**
   * Persists a change of the run and tells subscribers (SSE, /stream, MCP waits) once it has committed;
   * `alsoInTx` (an audit row) commits with the change. Callers that read the run first and decide on what they
   * read wrap both in one store.tx (this one is then a savepoint of it), so no other driver writes in between.
   */
  async save(run: RunRow, patch: Partial<RunRow>, extra: Record<string, unknown> = {}, alsoInTx?: () => Promise<unknown>): Promise<RunRow> {
    return (await this.saveAll([{ run, patch, extra }], alsoInTx))[0]!;
  }

  /**
   * save() for several runs in one tx: every run's row is written before any event is appended. On PostgreSQL an
   * event takes the workspace's event lock to the end of the tx, and every other writer of a run takes its row first
   * and that lock after: writing the second run's row holding the lock from the first run's event deadlocked with
   * that run's step writer.
   */
  async saveAll(items: { run: RunRow; patch: Partial<RunRow>; extra?: Record<string, unknown> }[], alsoInTx?: () => Promise<unknown>): Promise<RunRow[]> {
    const now = Date.now();
    const { store, bus, webhooks } = this.d;
    return store.tx(async () => {
      await alsoInTx?.();
      const rows: RunRow[] = [];
      for (const { run, patch } of items) rows.push((await store.db.update(workflowRuns).set({ ...patch, updatedAt: now }).where(eq(workflowRuns.id, run.id)).returning())[0]!);
      for (const [i, row] of rows.entries()) {
        const { run, patch, extra } = items[i]!;
        await bus.append(row.workspaceId, WORKFLOW_EVENT, "workflow", { runId: encodeId("run", row.id), workflowId: row.workflowId, status: row.status, steps: stepHeads((row.state as unknown as RunState).steps), ...extra });
        if (row.callbackUrl && patch.status && ["completed", "suspended", "failed", "cancelled"].includes(patch.status)) {
          // A failure says why, as an execution.failed callback does.
          const error = row.errorCode ? { error: { code: row.errorCode, message: row.errorMessage ?? "" } } : {};
          const payload = { event: `workflow.${patch.status}`, runId: encodeId("run", row.id), workflowId: row.workflowId, status: patch.status, suspendedStep: row.suspendedStep, cost: await costOf(store, row), ...error };
          // Steps still running end with the run, charged a moment later: the callback waits for that, and its cost
          // is read again when it goes (the workflows service refreshes it).
          const running = Object.values((run.state as unknown as RunState).steps).flatMap((s) => (s.status === "running" && s.executionId ? [decodeId("execution", s.executionId)!] : []));
          await webhooks.enqueue(row.workspaceId, row.callbackUrl, payload.event, payload, row.requestId, await this.d.executions.chargeWaitMs(row.workspaceId, running));
        }
      }
      return rows;
    });
  }

  /** Ends the run with `patch(run)` if it is still running (read and write in one tx: a cancel cannot slip between). */
  private async endIfRunning(runId: number, patch: (run: RunRow) => Partial<RunRow> | null): Promise<void> {
    await this.d.store.tx(async () => {
      const run = await this.load(runId);
      if (!run || run.status !== "running" || !this.leases.drives(run)) return; // cancelled meanwhile, or taken over
      const p = patch(run);
      if (p) await this.save(run, p);
    });
  }

  /** Ends the run as failed now, and cancels the executions of its steps still running (a parallel step's siblings). */
  private async failNow(runId: number): Promise<void> {
    let before: RunRow | undefined;
    await this.endIfRunning(runId, (r) => ((before = r), failedEnd(r.state as unknown as RunState)));
    if (before) await cancelRunningSteps(this.d.executions, systemCtx(before.workspaceId, before.requestId ?? `workflow-${runId}`), before);
  }

  /** Drives a run forward until it ends or suspends. One driver per run at a time. */
  async advance(runId: number): Promise<void> {
    if (this.active.has(runId)) return;
    this.active.add(runId);
    let claimed = false;
    try {
      claimed = await this.leases.claim(runId);
      if (!claimed) return;
      const run = await this.load(runId);
      if (!run || run.status !== "running") return;
      // Deleted, or changed since the launch (a launch beside the change, on PostgreSQL: runs-of-definition.ts).
      const def = await this.d.definitionOf(run.workspaceId, run.workflowId, (run.state as unknown as RunState).definition);
      const gone = whyGone(def, run.state as unknown as RunState, run.workflowId);
      if (!def || gone) {
        await this.endIfRunning(runId, () => ({ status: "failed", errorCode: gone!.code, errorMessage: gone!.message, completedAt: Date.now() }));
        return;
      }
      const outcome = await this.walk(run, def.steps);
      await this.endIfRunning(runId, (r) => {
        if (outcome === "done") return { status: "completed", suspendedStep: null, completedAt: Date.now() };
        if (outcome === "failed") return failedEnd(r.state as unknown as RunState);
        if (outcome === "suspended") {
          const s = Object.entries((r.state as unknown as RunState).steps).find(([, st]) => st.status === "suspended");
          return { status: "suspended", suspendedStep: s?.[0] ?? null };
        }
        return null;
      });
    } catch (e) {
      this.d.log.error(`workflow run ${runId} failed: ${(e as Error).stack ?? e}`);
      await this.endIfRunning(runId, (r) => ({
        status: "failed",
        state: endedSteps(r.state as unknown as RunState, "failed") as unknown as Record<string, unknown>,
        errorCode: "ENGINE_ERROR",
        errorMessage: (e as Error).message,
        completedAt: Date.now(),
      }));
    } finally {
      if (claimed) await this.leases.release(runId).catch((e) => this.d.log.error(`workflow run ${runId}: releasing its lease failed: ${(e as Error).message}`));
      this.active.delete(runId);
    }
  }

  private scope(run: RunRow): Record<string, unknown> {
    const steps: Record<string, unknown> = {};
    for (const [id, s] of Object.entries((run.state as unknown as RunState).steps)) steps[id] = { output: s.output, status: s.status };
    return { input: run.input, steps };
  }

  /** Read, merge and write in one tx: parallel steps each set their own step without losing the others'. */
  private setStep(runId: number, stepId: string, state: StepState, extra: Record<string, unknown> = {}): Promise<RunRow | null> {
    return this.d.store.tx(async () => {
      const run = (await this.load(runId))!;
      if (run.status !== "running" || !this.leases.drives(run)) return null;
      const prev = run.state as unknown as RunState;
      const next: RunState = { ...prev, steps: { ...prev.steps, [stepId]: state } };
      return this.save(run, { state: next as unknown as Record<string, unknown> }, { step: stepId, ...extra });
    });
  }

  /**
   * setStep inside a transaction of another's choosing (queueing a step's execution, READ COMMITTED on PostgreSQL):
   * the run's row is locked first, so what it reads is the run as last committed and nothing changes it before this
   * commits (a DELETE's or a sibling step's transaction waits, then sees the step).
   */
  private async recordStep(runId: number, stepId: string, state: StepState): Promise<RunRow | null> {
    await lockRunRow(this.d.store, runId);
    return this.setStep(runId, stepId, state);
  }

  private async walk(run: RunRow, steps: Step[]): Promise<Outcome> {
    for (const step of steps) {
      const outcome = await this.runStep(run.id, step);
      if (outcome !== "done") return outcome;
    }
    return "done";
  }

  private async runStep(runId: number, step: Step): Promise<Outcome> {
    const run = (await this.load(runId))!;
    if (run.status !== "running") return "cancelled";
    // A replica that lost the lease (it stalled past it) stops; the one that adopted the run goes on.
    if (this.paused || !this.leases.drives(run)) return "paused";
    const current = (run.state as unknown as RunState).steps[step.id];
    if (current?.status === "completed" || current?.status === "skipped") return "done";
    try {
      return await this.runStepOf(run, step, current);
    } catch (e) {
      // Every step renders its templates before it acts (starts a run, posts, suspends): one too large fails it here.
      if (!(e instanceof TemplateTooLarge)) throw e;
      // The run's message names the step ("Step 'x' failed: …"); the step's own need not.
      await this.setStep(runId, step.id, { status: "failed", kind: step.kind, error: { code: e.code, message: e.message } });
      return "failed";
    }
  }

  private async runStepOf(run: RunRow, step: Step, current: StepState | undefined): Promise<Outcome> {
    const runId = run.id;
    switch (step.kind) {
      case "skill":
        return this.runSkill(run, step, current);
      case "action": {
        const action = this.runAction(run, step, current);
        this.actions.set(action, `step '${step.id}' of ${encodeId("run", run.id)}`);
        return action.finally(() => this.actions.delete(action));
      }
      case "approval": {
        if (current?.status === "suspended") return "suspended";
        const message = render(step.message, this.scope(run));
        await this.setStep(runId, step.id, { status: "suspended", kind: "approval", suspend: { message, resumeSchema: step.resumeSchema } });
        return "suspended";
      }
      case "parallel": {
        await this.setStep(runId, step.id, { status: "running", kind: "parallel" });
        // A branch that fails fails the run there and then: its siblings' executions are cancelled, not left to run
        // on (and be charged) for a run that has failed, and a sibling's later steps do not start.
        const outcomes = await Promise.all(
          step.steps.map(async (s) => {
            const outcome = await this.runStep(runId, s);
            if (outcome === "failed") await this.failNow(runId);
            return outcome;
          }),
        );
        const worst = (["cancelled", "failed", "paused", "suspended"] as const).find((o) => outcomes.includes(o));
        if (worst) return worst;
        await this.setStep(runId, step.id, { status: "completed", kind: "parallel" });
        return "done";
      }
      case "branch": {
        const value = render(step.condition.value, this.scope(run));
        const taken =
          step.condition.equals !== undefined ? value === String(step.condition.equals) : value.includes(String(step.condition.contains ?? ""));
        await this.setStep(runId, step.id, { status: "running", kind: "branch", output: { taken: taken ? "then" : "else", value } });
        const outcome = await this.walk((await this.load(runId))!, taken ? step.then : step.else ?? []);
        if (outcome !== "done") return outcome;
        await this.setStep(runId, step.id, { status: "completed", kind: "branch", output: { taken: taken ? "then" : "else", value } });
        return "done";
      }
    }
  }

  private async runSkill(run: RunRow, step: Extract<Step, { kind: "skill" }>, current: StepState | undefined): Promise<Outcome> {
    const ctx: Ctx = onBehalfOf(run, run.requestId ?? `workflow-${run.id}`);
    let executionId = current?.executionId;
    if (executionId) {
      // Resuming after a restart: keep a run that is still going, start over one the restart killed.
      const e = await this.d.executions.get(ctx, executionId);
      if (e.status === "failed" || e.status === "cancelled") executionId = undefined;
    }
    if (!executionId) {
      const scope = this.scope(run);
      // One budget for all the step renders.
      const budget = new RenderBudget();
      const input = render(step.input, scope, budget);
      // The connector's strings are templates too ("{{input.pull_request.head.sha}}"); the run checks what they became.
      const connector: Connector | undefined = step.connector ? { type: step.connector.type, fields: renderDeep(step.connector.fields, scope, budget) as Record<string, unknown> } : undefined;
      const seen = connector ? { connector } : {};
      // The step is recorded in the transaction that queues its execution: a run ended meanwhile (cancelled, its
      // definition deleted or replaced) queues nothing. Recorded after, a burst of launches racing a DELETE left
      // executions that ran, and were charged, with no run to show or cancel them.
      const record = async (id: string) => (await this.recordStep(run.id, step.id, { status: "running", kind: "skill", input, ...seen, executionId: id })) !== null;
      try {
        executionId = (await this.d.executions.run(ctx, step.skill, { input, interface: "workflow", connector }, record)).executionId;
      } catch (e) {
        if (e instanceof StepGone) return "cancelled";
        await this.setStep(run.id, step.id, { status: "failed", kind: "skill", input, ...seen, error: { code: (e as { code?: string }).code ?? "STEP_FAILED", message: (e as Error).message } });
        return "failed";
      }
    }
    this.waiting.set(executionId, { runId: encodeId("run", run.id), stepId: step.id });
    const final = await waitForExecution(this.d, run.workspaceId, ctx, executionId).finally(() => this.waiting.delete(executionId));
    const after = (await this.load(run.id))!;
    const saved = (after.state as unknown as RunState).steps[step.id];
    const kept = { input: saved?.input, ...(saved?.connector ? { connector: saved.connector } : {}) };
    const output = () => final.outputBlocks.map((b) => b.content).join("");
    // The run ended meanwhile (cancelled, or its definition changed) while its execution went on to complete (and
    // was charged): the step says so, not "cancelled" beside a completed, paid execution.
    if (after.status !== "running") return final.status === "completed" ? this.afterEnd(run.id, step.id, { status: "completed", kind: "skill", ...kept, executionId, output: output() }) : "cancelled";
    if (final.status !== "completed") {
      await this.setStep(run.id, step.id, { status: "failed", kind: "skill", ...kept, executionId, error: final.error ?? { code: "STEP_FAILED", message: `execution ${final.status}` } });
      return "failed";
    }
    await this.setStep(run.id, step.id, { status: "completed", kind: "skill", ...kept, executionId, output: output() });
    return "done";
  }

  /**
   * An integration action: at most once. A step found `running` was cut short by a restart after it may have
   * reached the service (a message posted, a mail sent), so it fails rather than acting twice.
   */
  private async runAction(run: RunRow, step: Extract<Step, { kind: "action" }>, current: StepState | undefined): Promise<Outcome> {
    const base: StepState = { status: "running", kind: "action", input: current?.input };
    if (current?.status === "running") {
      await this.setStep(run.id, step.id, { ...base, status: "failed", error: { code: "ACTION_INTERRUPTED", message: "The server stopped while this action ran; it is not repeated in case it already took effect" } });
      return "failed";
    }
    const input = renderDeep(step.input, this.scope(run), new RenderBudget(), this.d.integrations?.escapeOf?.(step.integration, step.action)) as Record<string, unknown>;
    if (!(await this.setStep(run.id, step.id, { status: "running", kind: "action", input }))) return "cancelled";
    const ctx: Ctx = onBehalfOf(run, run.requestId ?? `workflow-${run.id}`);
    const ended = async (state: StepState, outcome: Outcome) => ((await this.setStep(run.id, step.id, state)) ? outcome : this.afterEnd(run.id, step.id, state));
    try {
      if (!this.d.integrations) throw Object.assign(new Error("Integrations are not available in this process"), { code: "INTEGRATION_ERROR" });
      const output = await this.d.integrations.execute(ctx, step.integration, step.action, input, encodeId("run", run.id));
      return await ended({ status: "completed", kind: "action", input, output }, "done");
    } catch (e) {
      return ended({ status: "failed", kind: "action", input, error: { code: (e as { code?: string }).code ?? "STEP_FAILED", message: (e as Error).message } }, "failed");
    }
  }

  /** A step that ended after its run did (an action posting, a skill's execution completing): what it did, where the run's end marked it cancelled. */
  private async afterEnd(runId: number, stepId: string, state: StepState): Promise<Outcome> {
    await this.d.store.tx(async () => {
      const run = (await this.load(runId))!;
      const prev = run.state as unknown as RunState;
      if (run.status === "running" || prev.steps[stepId]?.status !== "cancelled") return;
      await this.save(run, { state: { ...prev, steps: { ...prev.steps, [stepId]: state } } as unknown as Record<string, unknown> }, { step: stepId });
    });
    return "cancelled";
  }
}
