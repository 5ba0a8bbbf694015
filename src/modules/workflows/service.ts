// Workflows: definitions (bundled + the workspace's own), launching, runs, resume and cancel. Shared by REST,
// the AI SDK stream, MCP and the cron triggers.
import { and, desc, eq, sql } from "drizzle-orm";
import { assertMayCancel, assertRole, callbackUrlFor, starterView, type Ctx } from "../../lib/context";
import { ApiError, ConflictError, InvalidRequestError, NotFoundError } from "../../lib/errors";
import { isJsonObject } from "../../lib/json-object";
import { decodeId, encodeId } from "../../lib/ids";
import { toIso } from "../../lib/clock";
import { LOCK_SPACES, type Store } from "../../store/db";
import { lockRows } from "../../store/row-lock";
import { writeAudit } from "../../store/audit";
import { workspaceRow } from "../../store/lookup";
import { charsOf, pageOfList, workspacePageWithin, type PageParams } from "../../store/paginate";
import { workflowDefinitions, workflowRuns } from "../../store/schema";
import type { Catalog } from "../skills/catalog";
import type { WebhooksService } from "../webhooks/service";
import type { ExecutionsService } from "../executions/service";
import { checkCronIntervals } from "./cron-interval";
import { checkDefinitionSchemas, cronRequestId, isCron, validateDefinition, type IntegrationCatalog, type Step, type WorkflowDefinition } from "./definition";
import type { EventTriggerStore } from "../triggers/store";
import type { WorkflowEngine } from "./engine";
import { endedSteps, revisionOf, type DefinitionSource, type RunState } from "./run-state";
import { cancelRunningSteps, costOf, failRunsGone } from "./runs-of-definition";
import { checkFields } from "./fields";
import researchDraftApprove from "./examples/research-draft-approve.json";
import parallelReview from "./examples/parallel-review.json";
import prReview from "./examples/pr-review.json";
import type { ListChanges } from "../events/list-changes";

/** A workspace's own workflow definitions, at most; and each one's JSON (200 steps fit many times over). */
const MAX_DEFINITIONS = 500;
const MAX_DEFINITION_CHARS = 256 * 1024;

type RunRow = typeof workflowRuns.$inferSelect;

export async function runView(store: Store, r: RunRow, ctx: Ctx) {
  return {
    id: encodeId("run", r.id),
    runId: encodeId("run", r.id),
    workflowId: r.workflowId,
    status: r.status,
    input: r.input,
    steps: (r.state as unknown as RunState).steps,
    suspendedStep: r.suspendedStep,
    error: r.errorCode ? { code: r.errorCode, message: r.errorMessage ?? "" } : null,
    cost: await costOf(store, r),
    trigger: r.trigger,
    startedBy: starterView(r),
    callbackUrl: callbackUrlFor(r, ctx),
    createdAt: toIso(r.createdAt)!,
    updatedAt: toIso(r.updatedAt)!,
    completedAt: toIso(r.completedAt),
  };
}

export interface WorkflowsDeps {
  store: Store;
  catalog: Catalog;
  webhooks: WebhooksService;
  executions: ExecutionsService;
  /** The webhook and github triggers' rows, synced in the same transaction as the definition. */
  eventTriggers: EventTriggerStore;
  /** Which integrations and actions exist, so a definition's `action` steps are checked when it is saved. */
  integrations?: IntegrationCatalog;
  /** Told of definitions saved and deleted (MCP sessions announce resources/list_changed). */
  listChanges?: ListChanges;
  /** The least time between a cron trigger's firings (CLANKER_CRON_MIN_INTERVAL_SECONDS). */
  cronMinIntervalSeconds: number;
}

/** Every skill step, however deeply nested in parallel and branch steps. */
function skillSteps(steps: Step[]): Extract<Step, { kind: "skill" }>[] {
  return steps.flatMap((s) => (s.kind === "skill" ? [s] : s.kind === "parallel" ? skillSteps(s.steps) : s.kind === "branch" ? [...skillSteps(s.then), ...skillSteps(s.else ?? [])] : []));
}

export function createWorkflowsService(d: WorkflowsDeps, engineRef: () => WorkflowEngine, onDefinitionsChanged: () => Promise<void> = async () => {}) {
  const { store, catalog } = d;
  const db = store.db;
  // A run that ends while steps run (cancelled, or failed beside a running one) says its cost once they are charged.
  for (const event of ["workflow.cancelled", "workflow.failed"])
    d.webhooks.refreshBeforeSending(event, async (workspaceId, payload) => {
      const id = decodeId("run", String(payload.runId));
      const [run] = id === null ? [] : await db.select().from(workflowRuns).where(and(eq(workflowRuns.id, id), eq(workflowRuns.workspaceId, workspaceId)));
      return run ? { cost: await costOf(store, run) } : {};
    });
  const bundled = new Map<string, WorkflowDefinition>([researchDraftApprove, parallelReview, prReview].map((raw) => {
    const def = validateDefinition(raw, catalog, d.integrations);
    return [def.id, def];
  }));

  async function own(workspaceId: number, key: string) {
    const [row] = await db.select().from(workflowDefinitions).where(and(eq(workflowDefinitions.workspaceId, workspaceId), eq(workflowDefinitions.key, key)));
    return row;
  }

  /** The definition an id names in a workspace: its own, else the bundled one; or only the one from `source`. */
  async function sourced(workspaceId: number, key: string, source?: DefinitionSource): Promise<{ def: WorkflowDefinition; source: DefinitionSource } | null> {
    const row = source === "bundled" ? undefined : await own(workspaceId, key);
    if (row) return { def: row.definition as WorkflowDefinition, source: "workspace" };
    const b = source === "workspace" ? undefined : bundled.get(key);
    return b ? { def: b, source: "bundled" } : null;
  }

  const definitionOf = async (workspaceId: number, key: string, source?: DefinitionSource): Promise<WorkflowDefinition | null> =>
    (await sourced(workspaceId, key, source))?.def ?? null;

  async function definition(ctx: Ctx, key: string) {
    const found = await sourced(ctx.workspaceId, key);
    if (!found) throw new NotFoundError("workflow", key);
    return found;
  }

  /** Every definition, bundled and this workspace's (which shadows a bundled one of the same id). */
  async function definitions(ctx: Ctx) {
    const mine = await db.select().from(workflowDefinitions).where(eq(workflowDefinitions.workspaceId, ctx.workspaceId));
    const list = new Map<string, WorkflowDefinition & { source: "bundled" | "workspace" }>();
    for (const def of bundled.values()) list.set(def.id, { ...def, source: "bundled" });
    for (const row of mine) list.set(row.key, { ...(row.definition as WorkflowDefinition), source: "workspace" });
    // Code-unit order by id: the order definitionPage's id cursors page in.
    return { data: [...list.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) };
  }

  /**
   * A definition change in its tx, answered once the cron schedules follow the commit: after a DELETE's answer no
   * tick of that definition fires, after a PUT's the new schedule runs. (Inside a caller's tx the commit and the
   * re-sync come later, and this answers without waiting.)
   */
  async function changeDefinitions<T>(workspaceId: number, fn: () => Promise<T>): Promise<T> {
    let synced: Promise<void> | undefined;
    // One change of a workspace's definitions at a time (PostgreSQL: an advisory lock, then READ COMMITTED): a
    // SERIALIZABLE change that failed a definition's busy runs conflicted with their steps' writes 16 times running
    // and answered 500. Its checks (exists, at most 500) hold under the lock; the runs it fails are locked row by row.
    const value = await store.tx(async () => {
      const v = await fn();
      d.listChanges?.changed(workspaceId);
      // The resync logs its own failures.
      store.afterCommit(() => void (synced = onDefinitionsChanged().catch(() => {})));
      return v;
    }, { lock: [LOCK_SPACES.definitions, workspaceId] });
    await synced;
    return value;
  }

  /** A PUT or DELETE of a bundled definition the workspace has no copy of: there is one, but not to change. */
  const bundledOnly = (key: string, what: string) =>
    new ConflictError(`'${key}' is a bundled workflow: it cannot be ${what}. POST a definition with this id to have the workspace's own copy, which takes its place (and which PUT and DELETE then change)`, "WORKFLOW_BUNDLED");

  /** The workspace's own definition `key`, or a 404 (409 if bundled): before the role, so another's is a 404 to all. */
  async function ownOr404(ctx: Ctx, key: string, what: string) {
    const row = await own(ctx.workspaceId, key);
    if (!row) throw bundled.has(key) ? bundledOnly(key, what) : new NotFoundError("workflow", key);
    return row;
  }

  const runsOfDefinition = { store, executions: d.executions, definitionOf, engine: engineRef };

  const findRun = (ctx: Ctx, ref: string): Promise<RunRow> => workspaceRow(db, workflowRuns, "run", "workflow run", ctx.workspaceId, ref);

  /** A new run's row, as its launch makes it (the status and what the launch adds: the caller's). */
  const newRun = (ctx: Ctx, workflowId: string, source: DefinitionSource, input: Record<string, unknown>, trigger: string, revision?: string) => {
    const now = Date.now();
    return {
      workspaceId: ctx.workspaceId,
      workflowId,
      input,
      state: { steps: {}, definition: source, revision } satisfies RunState,
      trigger,
      actorUserId: ctx.actor.userId,
      actorApiKeyId: ctx.actor.kind === "apiKey" || ctx.actor.kind === "agent" ? ctx.actor.apiKeyId : null,
      requestId: ctx.requestId,
      createdAt: now,
      updatedAt: now,
    };
  };

  /**
   * What a cron launch the server refused (no model, no credits, a skill gone) leaves: a run failed with the refusal,
   * which ran nothing and cost nothing. A schedule has no caller to answer, and its failures were in the operator's
   * log only.
   */
  async function refusedRun(ctx: Ctx, workflowId: string, source: DefinitionSource, input: unknown, e: ApiError): Promise<void> {
    const code = e.code ?? e.type;
    await store.tx(async () => {
      // As a launch: none once the definition's DELETE was answered.
      if (!(await definitionOf(ctx.workspaceId, workflowId, source))) return;
      // One run per streak of the same refusal: the schedule's next tick is refused alike until someone acts, and a
      // minute's cron would otherwise leave 1,440 failed runs a day.
      const [last] = await db
        .select({ trigger: workflowRuns.trigger, errorCode: workflowRuns.errorCode, state: workflowRuns.state })
        .from(workflowRuns)
        .where(and(eq(workflowRuns.workspaceId, ctx.workspaceId), eq(workflowRuns.workflowId, workflowId)))
        .orderBy(desc(workflowRuns.id))
        .limit(1);
      if (last?.trigger === "cron" && last.errorCode === code && !Object.keys((last.state as unknown as RunState).steps).length) return;
      const [row] = await db
        .insert(workflowRuns)
        .values({ ...newRun(ctx, workflowId, source, isJsonObject(input) ? input : {}, "cron"), status: "running" })
        .returning();
      await writeAudit(store, ctx, { action: "workflow.launch", resourceType: "workflow_run", resourceId: encodeId("run", row!.id), metadata: { workflow: workflowId, trigger: "cron", refused: code } });
      // Failed through the engine, which tells the run's watchers (SSE, /stream, MCP) as of any run's end.
      await engineRef().save(row!, { status: "failed", errorCode: code, errorMessage: e.message, completedAt: Date.now() });
    });
  }

  return {
    definitionOf,
    definitions,

    /** One page of definitions (bundled and this workspace's), the id as the cursor. */
    async definitionPage(ctx: Ctx, p: PageParams<string>) {
      return pageOfList((await definitions(ctx)).data, (d) => d.id, p);
    },

    /** Adds (or with `replace`, replaces) a workspace definition. */
    async saveDefinition(ctx: Ctx, raw: unknown, opts: { replace?: string } = {}) {
      if (opts.replace !== undefined) await ownOr404(ctx, opts.replace, "replaced");
      assertRole(ctx, "admin", "manage workflow definitions");
      // Every definition of a workspace is read whole to list them and to sync triggers: bounded in size and number.
      if (JSON.stringify(raw ?? null).length > MAX_DEFINITION_CHARS) throw new InvalidRequestError(`A workflow definition may be at most ${MAX_DEFINITION_CHARS / 1024} KiB of JSON`, undefined, "DEFINITION_TOO_LARGE");
      const def = validateDefinition(raw, catalog, d.integrations);
      checkDefinitionSchemas(def);
      checkCronIntervals(def, d.cronMinIntervalSeconds);
      if (opts.replace !== undefined && opts.replace !== def.id) throw new InvalidRequestError(`The body's id (${def.id}) must match the path (${opts.replace})`, "id");
      return changeDefinitions(ctx.workspaceId, async () => {
        // Under the lock, again: the one a PUT replaces may have been deleted since the check above.
        const existing = opts.replace === undefined ? await own(ctx.workspaceId, def.id) : await ownOr404(ctx, def.id, "replaced");
        if (opts.replace === undefined && existing) throw new ConflictError(`A workflow '${def.id}' already exists; PUT to replace it`, "WORKFLOW_EXISTS");
        if (!existing && (await db.$count(workflowDefinitions, eq(workflowDefinitions.workspaceId, ctx.workspaceId))) >= MAX_DEFINITIONS)
          throw new ConflictError(`A workspace may have at most ${MAX_DEFINITIONS} workflow definitions: delete one first`, "WORKFLOW_LIMIT");
        const now = Date.now();
        if (existing) await db.update(workflowDefinitions).set({ definition: def, updatedAt: now }).where(eq(workflowDefinitions.id, existing.id));
        else await db.insert(workflowDefinitions).values({ workspaceId: ctx.workspaceId, key: def.id, definition: def, createdAt: now, updatedAt: now });
        await writeAudit(store, ctx, { action: existing ? "workflow.update" : "workflow.create", resourceType: "workflow", resourceId: def.id });
        await d.eventTriggers.sync(ctx, def.id, def.triggers ?? []);
        if (existing) await failRunsGone(runsOfDefinition, ctx, def.id);
        return { ...def, source: "workspace" as const };
      });
    },

    async deleteDefinition(ctx: Ctx, key: string) {
      await ownOr404(ctx, key, "deleted");
      assertRole(ctx, "admin", "manage workflow definitions");
      await changeDefinitions(ctx.workspaceId, async () => {
        const existing = await ownOr404(ctx, key, "deleted");
        await db.delete(workflowDefinitions).where(eq(workflowDefinitions.id, existing.id));
        await writeAudit(store, ctx, { action: "workflow.delete", resourceType: "workflow", resourceId: key });
        await d.eventTriggers.sync(ctx, key, []);
        await failRunsGone(runsOfDefinition, ctx, key);
      });
      return { id: key, deleted: true as const };
    },

    /**
     * Creates the run and starts it; answers at once with the run. Everything that would make it fail at once
     * (input, callback URL, a skill this binary lacks, no model, no credits) is refused first, as a skill run
     * refuses it: nothing is created and no webhook is sent.
     */
    async launch(ctx: Ctx, key: string, input: { inputData?: unknown; callbackUrl?: string }, trigger = "api") {
      const { def, source } = await definition(ctx, key);
      let data: Record<string, unknown>;
      let callbackUrl: string | null;
      try {
        // A hook's input is its sender's body: a refusal names the body's field, which is all the sender knows of.
        data = checkFields(input.inputData, def.input, trigger === "webhook" || trigger === "github" ? "body" : "inputData");
        callbackUrl = input.callbackUrl === undefined ? null : d.webhooks.validateUrl(input.callbackUrl);
        const skills = skillSteps(def.steps);
        const missing = skills.find((s) => !catalog.bySlug.has(s.skill));
        if (missing) throw new InvalidRequestError(`Workflow '${def.id}' step '${missing.id}' names the skill '${missing.skill}', which this server does not have`, undefined, "UNKNOWN_SKILL");
        // Each skill as its runs will be checked (its own key, if one is bound, pays for it).
        for (const slug of new Set(skills.map((s) => s.skill))) await d.executions.providerForRun(ctx, slug);
      } catch (e) {
        // A schedule has no caller to answer: its refused launch is a failed run the workspace sees (runs, the page).
        if (trigger === "cron" && e instanceof ApiError) await refusedRun(ctx, def.id, source, input.inputData, e);
        throw e;
      }
      const run = await store.tx(async () => {
        // Again in the tx: a launch (a cron tick) that read the definition just before its DELETE must not create a
        // run after that DELETE was answered, nor one checked against steps a PUT has replaced meanwhile.
        // PostgreSQL: the workspace's definition row held (FOR SHARE) to the end: a PUT or DELETE running READ COMMITTED
        // under its own lock (changeDefinitions) then waits for this run to commit and fails it, or committed first and
        // this SERIALIZABLE read fails and runs again. Read alone, both missed the other: a run of replaced steps.
        if (source === "workspace") await lockRows(store, db.select({ id: workflowDefinitions.id }).from(workflowDefinitions).where(and(eq(workflowDefinitions.workspaceId, ctx.workspaceId), eq(workflowDefinitions.key, key))), "share");
        const now = await definitionOf(ctx.workspaceId, key, source);
        if (!now) throw new NotFoundError("workflow", key);
        if (revisionOf(now) !== revisionOf(def)) throw new ConflictError(`The workflow '${key}' had its steps changed while this launch was checked: launch again`, "WORKFLOW_CHANGED");
        const [row] = await db
          .insert(workflowRuns)
          .values({ ...newRun(ctx, def.id, source, data, trigger, revisionOf(def)), status: "running", callbackUrl })
          .returning();
        await writeAudit(store, ctx, { action: "workflow.launch", resourceType: "workflow_run", resourceId: encodeId("run", row!.id), metadata: { workflow: def.id, trigger } });
        // Driven in the background once the run is committed (advance records its own failures on the run).
        store.afterCommit(() => void engineRef().advance(row!.id).catch(() => {}));
        return row!;
      });
      return runView(store, run, ctx);
    },

    async runs(ctx: Ctx, p: PageParams, filter: { workflow?: string; status?: string }) {
      const page = await workspacePageWithin(
        db,
        workflowRuns,
        sql<number>`${charsOf(workflowRuns.input)} + ${charsOf(workflowRuns.state)}`,
        ctx.workspaceId,
        p,
        filter.workflow ? eq(workflowRuns.workflowId, filter.workflow) : undefined,
        filter.status ? eq(workflowRuns.status, filter.status as RunRow["status"]) : undefined,
      );
      const rows = [];
      for (const r of page.rows) rows.push(await runView(store, r, ctx));
      return { rows, hasMore: page.hasMore };
    },

    run: async (ctx: Ctx, ref: string) => runView(store, await findRun(ctx, ref), ctx),

    /** Continues a run suspended at `step` with data checked against that step's resume schema. */
    async resume(ctx: Ctx, ref: string, input: { step?: string; resumeData?: unknown }) {
      // Read, check and write in one tx: two resumes at once cannot both pass the check.
      const row = await store.tx(async () => {
        const run = await findRun(ctx, ref);
        const state = run.state as unknown as RunState;
        const runId = encodeId("run", run.id);
        if (run.status !== "suspended") throw new ConflictError(`Run ${runId} is ${run.status}: only a suspended run can be resumed`, "RUN_NOT_SUSPENDED");
        // Any step that waits may be resumed (a parallel step's approvals wait side by side), not only the one named first.
        const waiting = Object.keys(state.steps).filter((id) => state.steps[id]!.status === "suspended");
        const step = input.step ?? run.suspendedStep ?? "";
        if (!waiting.includes(step))
          throw new ConflictError(`Run ${runId} is suspended at ${waiting.map((w) => `'${w}'`).join(" and ")}, not at '${step}'`, "RUN_NOT_SUSPENDED");
        const schema = state.steps[step]?.suspend?.resumeSchema as Parameters<typeof checkFields>[1];
        const data = checkFields(input.resumeData, schema, "resumeData");
        const next: RunState = { ...state, steps: { ...state.steps, [step]: { ...state.steps[step]!, status: "completed", output: data } } };
        const row = await engineRef().save(run, { status: "running", suspendedStep: null, state: next as unknown as Record<string, unknown> }, { step }, () =>
          writeAudit(store, ctx, { action: "workflow.resume", resourceType: "workflow_run", resourceId: runId, metadata: { step } }),
        );
        // Driven in the background once the resume is committed (advance records its own failures on the run).
        store.afterCommit(() => void engineRef().advance(run.id).catch(() => {}));
        return row;
      });
      return runView(store, row, ctx);
    },

    async cancel(ctx: Ctx, ref: string) {
      // Read, check and write in one tx: the engine cannot end the run between the check and the cancel.
      const { run, row } = await store.tx(async () => {
        const run = await findRun(ctx, ref);
        if (run.status !== "running" && run.status !== "suspended") throw new ConflictError(`Run ${encodeId("run", run.id)} already ended (${run.status})`, "RUN_NOT_ACTIVE");
        assertMayCancel(run, ctx, "a workflow run");
        const state = endedSteps(run.state as unknown as RunState, "cancelled") as unknown as Record<string, unknown>;
        const row = await engineRef().save(run, { status: "cancelled", suspendedStep: null, state, completedAt: Date.now() }, {}, () =>
          writeAudit(store, ctx, { action: "workflow.cancel", resourceType: "workflow_run", resourceId: encodeId("run", run.id) }),
        );
        return { run, row };
      });
      await cancelRunningSteps(d.executions, ctx, run);
      return runView(store, row, ctx);
    },

    /**
     * Every cron trigger of the workspace definitions (a bundled definition's triggers, cron or event, are a
     * template: they take effect once the workspace saves the definition as its own).
     */
    async triggers(ctx?: Ctx) {
      const rows = ctx
        ? await db.select().from(workflowDefinitions).where(eq(workflowDefinitions.workspaceId, ctx.workspaceId))
        : await db.select().from(workflowDefinitions);
      return rows.flatMap((r) =>
        ((r.definition as WorkflowDefinition).triggers ?? []).flatMap((t, i) =>
          isCron(t) ? [{ id: `${r.key}#${i}`, workspaceId: r.workspaceId, workflowId: r.key, type: "cron", cron: t.cron, timezone: t.timezone ?? "UTC", input: t.input ?? {}, enabled: t.enabled ?? true }] : [],
        ),
      );
    },

    /** Each cron trigger's last run (when it launched, and its status), by trigger id (absent: never). One index lookup each. */
    async lastCronRuns(ctx: Ctx, triggerIds: string[]): Promise<Map<string, { createdAt: number; status: string }>> {
      const at = new Map<string, { createdAt: number; status: string }>();
      for (const id of triggerIds) {
        const [row] = await db
          .select({ createdAt: workflowRuns.createdAt, status: workflowRuns.status })
          .from(workflowRuns)
          // The literal, not a parameter: only then may the planner use the partial index workflow_runs_cron.
          .where(and(eq(workflowRuns.workspaceId, ctx.workspaceId), eq(workflowRuns.requestId, cronRequestId(id)), sql`trigger = 'cron'`))
          .orderBy(desc(workflowRuns.id))
          .limit(1);
        if (row) at.set(id, row);
      }
      return at;
    },
  };
}

export type WorkflowsService = ReturnType<typeof createWorkflowsService>;
