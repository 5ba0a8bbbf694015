// Executions: start a skill run, poll it, list, cancel, rerun. Shared by REST and MCP.
import { and, asc, eq, gt, inArray, sql } from "drizzle-orm";
import type { Config } from "../../config";
import { assertMayCancel, callbackUrlFor, type Ctx } from "../../lib/context";
import { assertScope } from "../../lib/scopes";
import { ConflictError, InvalidRequestError, NotFoundError, type ApiError } from "../../lib/errors";
import { decodeId, encodeId } from "../../lib/ids";
import type { Store, TxOptions } from "../../store/db";
import { leaseMillis, replicaId } from "../../lib/replica";
import { writeAudit } from "../../store/audit";
import { prepared } from "../../store/prepared";
import { workspaceRow } from "../../store/lookup";
import { charsOf, workspacePageWithin, type PageParams } from "../../store/paginate";
import { executionBlocks, executions } from "../../store/schema";
import { providerOf } from "../../executor/providers";
import type { SecretsService } from "../secrets/service";
import { toCredits, type BillingService } from "../billing/service";
import type { ByokService } from "../byok/service";
import type { EventBus } from "../events/bus";
import { isRunOutput, type ArtifactsService } from "../artifacts/service";
import type { WebhooksService } from "../webhooks/service";
import type { Catalog } from "../skills/catalog";
import { checkAttachments, checkConnector, type Attachment, type Connector } from "./prompt";
import { EXECUTION_EVENT, type Runner } from "./runner";
import { ACTIVE, blockView, endSummary, executionView, type ExecutionRow, type RunArtifacts } from "./view";

/** A run's interface ("api", "mcp", "workflow", a client's own word): what /api/events' `sources` filters on. */
export const INTERFACE_RE = /^[a-z][a-z0-9_-]{0,19}$/;

export interface RunInput {
  input: string;
  interface?: string;
  attachments?: Attachment[];
  connector?: Connector;
  callbackUrl?: string;
}

/**
 * What a caller records of a new run in the transaction that queues it (a workflow step its execution id): false, and
 * the run is not queued (StepGone is thrown), so nothing starts that nobody would follow, cancel or show.
 */
export type RecordRun = (executionId: string) => Promise<boolean>;

/** The caller's RecordRun refused the run: nothing was queued. */
export class StepGone extends Error {
  constructor() {
    super("the workflow run ended before its step's execution was queued");
  }
}

export interface ExecutionsDeps {
  store: Store;
  config: Config;
  catalog: Catalog;
  billing: BillingService;
  byok: ByokService;
  /** The model keys bound to a skill, its runs' own (providerOf). */
  secrets: Pick<SecretsService, "modelKeysFor">;
  bus: EventBus;
  artifacts: ArtifactsService;
  webhooks: WebhooksService;
  runner: Runner;
  /** Checks at POST time that the run's workspace can read its connector. */
  connectors?: { forRun<C extends Connector>(workspaceId: number, c: C): Promise<C> };
}

/**
 * Queueing a run inserts new rows (the run, its audit row, its event) after reads that are gates (the BYOK key, credit
 * left): READ COMMITTED will do (TxOptions.readCommitted). SERIALIZABLE, it read the billing row every settling run
 * writes and inserted on the index page every settling run reads: on PostgreSQL the executions bench's 300 runs took
 * 312 retries. The routes pass it to idempotent() too, whose transaction is the outer one.
 */
export const QUEUEING: TxOptions = { readCommitted: true };
/**
 * How long a running run's cancel callback waits for the charge of what its model used: a stop in this process takes
 * milliseconds; a replica running it hears of the cancel at its next lease renewal (a third of a lease).
 */
const cancelChargeWaitMs = (leaseOwner: string | null) => (leaseOwner !== null && leaseOwner !== replicaId ? leaseMillis() / 3 : 0) + 2000;

// POST /run is the product's hot path: its insert is prepared.
const ph = sql.placeholder;
const insertExecution = prepared((db) =>
  db
    .insert(executions)
    .values({
      workspaceId: ph("workspaceId"),
      skillSlug: ph("skillSlug"),
      skillName: ph("skillName"),
      status: "queued",
      input: ph("input"),
      interface: ph("interface"),
      attachments: ph("attachments"),
      connector: ph("connector"),
      callbackUrl: ph("callbackUrl"),
      byok: ph("byok"),
      rerunOf: ph("rerunOf"),
      requestId: ph("requestId"),
      actorUserId: ph("actorUserId"),
      actorApiKeyId: ph("actorApiKeyId"),
      createdAt: ph("createdAt"),
    })
    .returning({ id: executions.id }),
);

export function createExecutionsService(d: ExecutionsDeps) {
  const { store, config, catalog } = d;
  const db = store.db;
  // A running run's cancel callback waits for what the model used to be charged (chargeWaitMs), and then says it.
  d.webhooks.refreshBeforeSending("execution.cancelled", async (workspaceId, payload) => {
    const id = decodeId("execution", String(payload.executionId));
    const [e] = id === null ? [] : await db.select({ costMicro: executions.costMicro }).from(executions).where(and(eq(executions.id, id), eq(executions.workspaceId, workspaceId)));
    return e ? { cost: toCredits(e.costMicro) } : {};
  });

  const find = (ctx: Ctx, ref: string): Promise<ExecutionRow> => workspaceRow(db, executions, "execution", "execution", ctx.workspaceId, ref);

  async function artifactIds(e: ExecutionRow): Promise<RunArtifacts> {
    const rows = await d.artifacts.forExecution(e.workspaceId, e.id);
    return { ids: rows.map((a) => a.id), output: rows.find(isRunOutput)?.id ?? null };
  }

  /**
   * The provider a run of `slug` in ctx's workspace would use, checked as every run is before it exists: a model is
   * configured and, unless a key of the workspace's or the skill's own pays, there are credits left.
   */
  async function providerForRun(ctx: Ctx, slug: string): Promise<{ byok: boolean }> {
    // Left to the server (Runner.leavesRunsToServer), a run is checked against the server's model when it starts.
    const provider = await providerOf(d, ctx.workspaceId, slug).catch((e: unknown) => {
      if ((e as ApiError).code === "MODEL_NOT_CONFIGURED" && d.runner.leavesRunsToServer()) return { byok: false };
      throw e;
    });
    if (!provider.byok) await d.billing.assertCanRun(ctx.workspaceId);
    return provider;
  }

  /** Checks everything that would make the run fail at once, then persists it queued. */
  async function enqueue(ctx: Ctx, slug: string, input: RunInput, rerunOf: number | null, action: string, record?: RecordRun) {
    const skill = catalog.bySlug.get(slug);
    if (!skill) throw new NotFoundError("skill", slug);
    if (!input.input.trim()) throw new InvalidRequestError("input must not be blank", "input");
    const iface = input.interface ?? "api";
    if (!INTERFACE_RE.test(iface)) throw new InvalidRequestError("interface must be a short lowercase word such as 'api'", "interface");
    const attachments = checkAttachments(input.attachments, config.executor.maxAttachmentBytes);
    let connector = checkConnector(input.connector);
    if (connector) {
      // The run shows the model (and its record shows the caller) the source's files: reading them needs the
      // scope that list-sources and get-source-content need.
      assertScope(ctx, "connectors:read");
      if (d.connectors) connector = await d.connectors.forRun(ctx.workspaceId, connector);
    }
    const callbackUrl = input.callbackUrl === undefined ? null : d.webhooks.validateUrl(input.callbackUrl);
    const provider = await providerForRun(ctx, slug);
    const actor = ctx.actor;
    const row = await store.tx(async () => {
      const [row] = await insertExecution(store, {
        workspaceId: ctx.workspaceId,
        skillSlug: slug,
        skillName: skill.name,
        input: input.input,
        interface: iface,
        attachments: attachments.length ? attachments : null,
        connector: connector ?? null,
        callbackUrl,
        byok: provider.byok,
        rerunOf,
        requestId: ctx.requestId,
        actorUserId: actor.userId,
        actorApiKeyId: actor.kind === "apiKey" || actor.kind === "agent" ? actor.apiKeyId : null,
        createdAt: Date.now(),
      });
      const id = encodeId("execution", row!.id);
      await writeAudit(store, ctx, {
        action,
        resourceType: "execution",
        resourceId: id,
        metadata: { skill: slug, interface: iface, attachments: attachments.length, ...(rerunOf ? { rerunOf: encodeId("execution", rerunOf) } : {}) },
      });
      // Before the event: record locks the caller's row (a workflow run's) and then appends an event of its own, in
      // the order every write to that row takes its locks (row, then the workspace's event lock). After this event,
      // on PostgreSQL, it deadlocked with a cancel or a sibling step writing the run.
      if (record && !(await record(id))) throw new StepGone();
      await d.bus.append(ctx.workspaceId, EXECUTION_EVENT, iface, { executionId: id, skillSlug: slug, status: "queued", blocks: [] });
      // Once it is committed (with the request's group-commit batch, when there is one) the dispatcher may pick it up.
      store.afterCommit(() => (d.runner.leavesRunsToServer() ? undefined : d.runner.kick(row!.id)));
      return row!;
    }, QUEUEING);
    return {
      executionId: encodeId("execution", row.id),
      skillName: skill.name,
      status: "started" as const,
      message: "Execution started. Poll status or connect to SSE for real-time updates.",
      sseUrl: "/api/events",
    };
  }

  return {
    providerForRun,
    run: (ctx: Ctx, slug: string, input: RunInput, record?: RecordRun) => enqueue(ctx, slug, input, null, "execution.create", record),

    /** The execution without its output blocks (for waiters that only need its state). */
    async get(ctx: Ctx, ref: string) {
      const e = await find(ctx, ref);
      return executionView(e, ctx, await artifactIds(e));
    },

    async status(ctx: Ctx, ref: string, blocksAfter = 0) {
      const e = await find(ctx, ref);
      const blocks = await db
        .select()
        .from(executionBlocks)
        .where(and(eq(executionBlocks.executionId, e.id), gt(executionBlocks.seq, blocksAfter)))
        .orderBy(asc(executionBlocks.seq));
      return { ...executionView(e, ctx, await artifactIds(e)), outputBlocks: blocks.map(blockView), blocksAfter };
    },

    async list(ctx: Ctx, p: PageParams, filter: { status?: string; skill?: string } = {}) {
      const page = await workspacePageWithin(
        db,
        executions,
        sql<number>`${charsOf(executions.input)} + ${charsOf(executions.attachments)}`,
        ctx.workspaceId,
        p,
        filter.status ? eq(executions.status, filter.status as ExecutionRow["status"]) : undefined,
        filter.skill ? eq(executions.skillSlug, filter.skill) : undefined,
      );
      const rows = [];
      for (const e of page.rows) rows.push(executionView(e, ctx, await artifactIds(e)));
      return { rows, hasMore: page.hasMore };
    },

    async cancel(ctx: Ctx, ref: string) {
      const e = await find(ctx, ref);
      assertMayCancel(e, ctx, "a run");
      const ended = (status: string) => new ConflictError(`Execution ${encodeId("execution", e.id)} already ended (${status})`, "EXECUTION_NOT_RUNNING");
      if (!ACTIVE.has(e.status)) throw ended(e.status);
      const row = await store.tx(async () => {
        // Only while still active: the run may have ended since it was read (its settle commits between awaits).
        const [row] = await db
          .update(executions)
          .set({ status: "cancelled", completedAt: Date.now(), errorCode: "CANCELLED", errorMessage: "Cancelled by request" })
          .where(and(eq(executions.id, e.id), inArray(executions.status, ["queued", "running"])))
          .returning();
        if (!row) throw ended((await find(ctx, ref)).status);
        const id = encodeId("execution", e.id);
        await writeAudit(store, ctx, { action: "execution.cancel", resourceType: "execution", resourceId: id, metadata: { skill: e.skillSlug, was: e.status } });
        // As every run's end says it (cost, time, artifact), the cost being what was charged so far (README).
        await d.bus.append(ctx.workspaceId, EXECUTION_EVENT, e.interface, { ...endSummary(row), blocks: [], error: { code: "CANCELLED", message: "Cancelled by request" } });
        // A receiver waiting for the run's end hears this one too. A running run's model is stopped after this commits,
        // and what it used until then is charged moments later (RunSettler.cancelled): its callback waits for that
        // charge to write its cost in, rather than go out saying 0.
        if (row.callbackUrl) {
          const payload = { event: "execution.cancelled", ...endSummary(row), error: { code: "CANCELLED", message: "Cancelled by request" } };
          await d.webhooks.enqueue(ctx.workspaceId, row.callbackUrl, payload.event, payload, row.requestId, e.status === "running" ? cancelChargeWaitMs(e.leaseOwner) : 0);
        }
        store.afterCommit(() => d.runner.cancel(e.id));
        return row;
      });
      return executionView(row, ctx, await artifactIds(row));
    },

    /** Its interface is the caller's (as a run's), not the original's: a client following `sources=api` hears its rerun. */
    async rerun(ctx: Ctx, ref: string, input: { input?: string; interface?: string }) {
      const e = await find(ctx, ref);
      if (ACTIVE.has(e.status)) throw new ConflictError(`Execution ${encodeId("execution", e.id)} is still ${e.status}; cancel it or wait for it to end`, "EXECUTION_RUNNING");
      return enqueue(
        ctx,
        e.skillSlug,
        {
          input: input.input ?? e.input,
          interface: input.interface,
          attachments: (e.attachments ?? undefined) as Attachment[] | undefined,
          connector: e.connector ?? undefined,
          // Only for a caller who may see it whole (callbackUrlFor): another member's rerun would be theirs, showing them
          // the URL (often a token) and posting what they chose to it.
          callbackUrl: e.callbackUrl !== null && callbackUrlFor(e, ctx) === e.callbackUrl ? e.callbackUrl : undefined,
        },
        e.id,
        "execution.rerun",
      );
    },

    /**
     * How long a callback about ending these runs (a cancelled workflow's steps) should wait, so that what the
     * running ones used is charged before it says the cost: as a cancelled run's own callback waits. 0: none runs.
     */
    async chargeWaitMs(workspaceId: number, ids: number[]): Promise<number> {
      if (!ids.length) return 0;
      const rows = await db
        .select({ leaseOwner: executions.leaseOwner })
        .from(executions)
        .where(and(eq(executions.workspaceId, workspaceId), inArray(executions.id, ids), eq(executions.status, "running")));
      return Math.max(0, ...rows.map((r) => cancelChargeWaitMs(r.leaseOwner)));
    },
  };
}

export type ExecutionsService = ReturnType<typeof createExecutionsService>;
