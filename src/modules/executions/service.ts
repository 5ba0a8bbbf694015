// Executions: start a skill run, poll it, list, cancel, rerun. Shared by REST and MCP.
import { and, eq, gt, asc, sql } from "drizzle-orm";
import type { Config } from "../../config";
import { assertMayCancel, type Ctx } from "../../lib/context";
import { assertScope } from "../../lib/scopes";
import { ConflictError, InvalidRequestError, NotFoundError } from "../../lib/errors";
import { encodeId } from "../../lib/ids";
import type { Store } from "../../store/db";
import { writeAudit } from "../../store/audit";
import { workspaceRow } from "../../store/lookup";
import { workspacePage, type PageParams } from "../../store/paginate";
import { executionBlocks, executions } from "../../store/schema";
import { chooseProvider } from "../../executor/providers";
import type { BillingService } from "../billing/service";
import type { ByokService } from "../byok/service";
import type { EventBus } from "../events/bus";
import type { ArtifactsService } from "../artifacts/service";
import type { WebhooksService } from "../webhooks/service";
import type { Catalog } from "../skills/catalog";
import { checkAttachments, checkConnector, type Attachment, type Connector } from "./prompt";
import { EXECUTION_EVENT, type Runner } from "./runner";
import { ACTIVE, blockView, executionView, type ExecutionRow } from "./view";

export interface RunInput {
  input: string;
  interface?: string;
  attachments?: Attachment[];
  connector?: Connector;
  callbackUrl?: string;
}

export interface ExecutionsDeps {
  store: Store;
  config: Config;
  catalog: Catalog;
  billing: BillingService;
  byok: ByokService;
  bus: EventBus;
  artifacts: ArtifactsService;
  webhooks: WebhooksService;
  runner: Runner;
  /** Checks at POST time that the run's workspace can read its connector. */
  connectors?: { forRun<C extends Connector>(workspaceId: number, c: C): C };
}

export function createExecutionsService(d: ExecutionsDeps) {
  const { store, config, catalog } = d;
  const db = store.db;
  const ph = sql.placeholder;
  // POST /run is the product's hot path: its insert is prepared once.
  const insertExecution = db
    .insert(executions)
    .values({
      workspaceId: ph("ws"),
      skillSlug: ph("slug"),
      skillName: ph("name"),
      status: "queued",
      input: ph("input"),
      interface: ph("iface"),
      attachments: ph("attachments"),
      connector: ph("connector"),
      callbackUrl: ph("callbackUrl"),
      byok: ph("byok"),
      rerunOf: ph("rerunOf"),
      requestId: ph("requestId"),
      actorUserId: ph("userId"),
      actorApiKeyId: ph("apiKeyId"),
      createdAt: ph("now"),
    })
    .returning()
    .prepare();

  const find = (ctx: Ctx, ref: string): ExecutionRow => workspaceRow(db, executions, "execution", "execution", ctx.workspaceId, ref);

  function artifactIds(e: ExecutionRow): number[] {
    return d.artifacts.forExecution(e.workspaceId, e.id).map((a) => a.id);
  }

  /**
   * The provider a run in ctx's workspace would use, checked as every run is before it exists: a model is
   * configured and, unless the workspace's own key pays, there are credits left.
   */
  function providerForRun(ctx: Ctx) {
    const provider = chooseProvider(config.models, d.byok.anthropicKey(ctx.workspaceId));
    if (!provider.byok) d.billing.assertCanRun(ctx.workspaceId);
    return provider;
  }

  /** Checks everything that would make the run fail at once, then persists it queued (synchronous). */
  function enqueue(ctx: Ctx, slug: string, input: RunInput, rerunOf: number | null, action: string) {
    const skill = catalog.bySlug.get(slug);
    if (!skill) throw new NotFoundError("skill", slug);
    if (!input.input.trim()) throw new InvalidRequestError("input must not be blank", "input");
    const iface = input.interface ?? "api";
    if (!/^[a-z][a-z0-9_-]{0,19}$/.test(iface)) throw new InvalidRequestError("interface must be a short lowercase word such as 'api'", "interface");
    const attachments = checkAttachments(input.attachments, config.executor.maxAttachmentBytes);
    let connector = checkConnector(input.connector);
    if (connector) {
      // The run shows the model (and its record shows the caller) the source's files: reading them needs the
      // scope that list-sources and get-source-content need.
      assertScope(ctx, "connectors:read");
      if (d.connectors) connector = d.connectors.forRun(ctx.workspaceId, connector);
    }
    const callbackUrl = input.callbackUrl === undefined ? null : d.webhooks.validateUrl(input.callbackUrl);
    const provider = providerForRun(ctx);
    const actor = ctx.actor;
    const { row, ev } = store.tx(() => {
      const row = insertExecution.get({
        ws: ctx.workspaceId,
        slug,
        name: skill.name,
        input: input.input,
        iface,
        attachments: attachments.length ? attachments : null,
        connector: connector ?? null,
        callbackUrl,
        byok: provider.byok ? 1 : 0,
        rerunOf,
        requestId: ctx.requestId,
        userId: actor.userId,
        apiKeyId: actor.kind === "apiKey" || actor.kind === "agent" ? actor.apiKeyId : null,
        now: Date.now(),
      })!;
      const id = encodeId("execution", row.id);
      writeAudit(store, ctx, {
        action,
        resourceType: "execution",
        resourceId: id,
        metadata: { skill: slug, interface: iface, attachments: attachments.length, ...(rerunOf ? { rerunOf: encodeId("execution", rerunOf) } : {}) },
      });
      const ev = d.bus.append(ctx.workspaceId, EXECUTION_EVENT, iface, { executionId: id, skillSlug: slug, status: "queued", blocks: [] });
      return { row, ev };
    });
    // After the commit: tell subscribers, and let the dispatcher pick it up.
    queueMicrotask(() => {
      d.bus.deliver(ev);
      d.runner.kick(row.id);
    });
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
    run: (ctx: Ctx, slug: string, input: RunInput) => enqueue(ctx, slug, input, null, "execution.create"),

    /** The execution without its output blocks (for waiters that only need its state). */
    get(ctx: Ctx, ref: string) {
      const e = find(ctx, ref);
      return executionView(e, artifactIds(e));
    },

    status(ctx: Ctx, ref: string, blocksAfter = 0) {
      const e = find(ctx, ref);
      const blocks = db
        .select()
        .from(executionBlocks)
        .where(and(eq(executionBlocks.executionId, e.id), gt(executionBlocks.seq, blocksAfter)))
        .orderBy(asc(executionBlocks.seq))
        .all();
      return { ...executionView(e, artifactIds(e)), outputBlocks: blocks.map(blockView), blocksAfter };
    },

    list(ctx: Ctx, p: PageParams, filter: { status?: string; skill?: string } = {}) {
      const page = workspacePage(
        db,
        executions,
        ctx.workspaceId,
        p,
        filter.status ? eq(executions.status, filter.status as ExecutionRow["status"]) : undefined,
        filter.skill ? eq(executions.skillSlug, filter.skill) : undefined,
      );
      return { rows: page.rows.map((e) => executionView(e, artifactIds(e))), hasMore: page.hasMore };
    },

    cancel(ctx: Ctx, ref: string) {
      const e = find(ctx, ref);
      assertMayCancel(e, ctx, "a run");
      if (!ACTIVE.has(e.status)) throw new ConflictError(`Execution ${encodeId("execution", e.id)} already ended (${e.status})`, "EXECUTION_NOT_RUNNING");
      const { row, ev } = store.tx(() => {
        const row = db
          .update(executions)
          .set({ status: "cancelled", completedAt: Date.now(), errorCode: "CANCELLED", errorMessage: "Cancelled by request" })
          .where(eq(executions.id, e.id))
          .returning()
          .get()!;
        const id = encodeId("execution", e.id);
        writeAudit(store, ctx, { action: "execution.cancel", resourceType: "execution", resourceId: id, metadata: { skill: e.skillSlug, was: e.status } });
        const ev = d.bus.append(ctx.workspaceId, EXECUTION_EVENT, e.interface, { executionId: id, skillSlug: e.skillSlug, status: "cancelled", blocks: [] });
        return { row, ev };
      });
      d.bus.deliver(ev);
      d.runner.cancel(e.id);
      return executionView(row, artifactIds(row));
    },

    rerun(ctx: Ctx, ref: string, input: { input?: string }) {
      const e = find(ctx, ref);
      if (ACTIVE.has(e.status)) throw new ConflictError(`Execution ${encodeId("execution", e.id)} is still ${e.status}; cancel it or wait for it to end`, "EXECUTION_RUNNING");
      return enqueue(
        ctx,
        e.skillSlug,
        {
          input: input.input ?? e.input,
          interface: e.interface,
          attachments: (e.attachments ?? undefined) as Attachment[] | undefined,
          connector: e.connector ?? undefined,
          callbackUrl: e.callbackUrl ?? undefined,
        },
        e.id,
        "execution.rerun",
      );
    },
  };
}

export type ExecutionsService = ReturnType<typeof createExecutionsService>;
