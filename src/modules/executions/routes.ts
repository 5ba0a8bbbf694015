// POST /api/v1/skills/:slug/run and /api/v1/executions (status, list, cancel, rerun).
import { t } from "elysia";
import type { Platform } from "../../http/platform";
import { idempotent } from "../../http/idempotent-route";
import { listEnvelope, listSchema, pageQuery, parsePage } from "../../http/pagination";
import { idParam, integer, isoDate, noBody } from "../../http/schemas";
import { runConnectorSchema } from "./connector-schema";
import { QUEUEING } from "./service";
import { STOP_REASONS } from "../../executor/stop-reason";

const attachment = t.Object(
  {
    name: t.String({ minLength: 1, maxLength: 255 }),
    mediaType: t.String({ minLength: 3, maxLength: 100 }),
    content: t.Optional(t.String({ description: "Text content" })),
    data: t.Optional(t.String({ description: "Base64 content (images, PDFs)" })),
  },
  { additionalProperties: false },
);

const runBody = t.Object(
  {
    input: t.String({ minLength: 1, description: "The prompt or instructions for the skill" }),
    interface: t.Optional(t.String({ maxLength: 20, description: "'api' for programmatic use" })),
    attachments: t.Optional(t.Array(attachment, { maxItems: 10 })),
    connector: t.Optional(runConnectorSchema),
    callbackUrl: t.Optional(t.String({ maxLength: 2048, description: "Webhook URL notified on completion or failure" })),
  },
  { additionalProperties: false },
);

const started = t.Object({ executionId: t.String(), skillName: t.String(), status: t.Literal("started"), message: t.String(), sseUrl: t.String() });

const execution = t.Object({
  id: t.String(),
  executionId: t.String(),
  skillSlug: t.String(),
  skillName: t.String(),
  status: t.String(),
  interface: t.String(),
  input: t.String(),
  cost: t.Number(),
  executionTime: t.Nullable(t.Number()),
  usage: t.Object({ inputTokens: integer(), outputTokens: integer() }),
  provider: t.Nullable(t.String()),
  model: t.Nullable(t.String()),
  byok: t.Boolean(),
  artifactId: t.Nullable(t.String()),
  artifactIds: t.Array(t.String()),
  error: t.Nullable(t.Object({ code: t.String(), message: t.String() })),
  stopReason: t.Nullable(t.UnionEnum(STOP_REASONS, { description: "Why a completed run's answer ended: max_tokens, cut off at its token limit; refusal, declined; null for any other end" })),
  rerunOf: t.Nullable(t.String()),
  callbackUrl: t.Nullable(t.String()),
  startedBy: t.Object({ userId: t.Nullable(t.String()), apiKeyId: t.Nullable(t.String()) }),
  connector: t.Nullable(t.Object({ type: t.String(), fields: t.Record(t.String(), t.Unknown()), context: t.Unknown() })),
  createdAt: isoDate,
  startedAt: t.Nullable(isoDate),
  completedAt: t.Nullable(isoDate),
});

const status = t.Composite([
  execution,
  t.Object({
    outputBlocks: t.Array(t.Object({ index: integer(), type: t.String(), content: t.String(), createdAt: isoDate })),
    blocksAfter: integer(),
  }),
]);

export const executionsRoutes = (app: Platform) =>
  app
    .post("/api/v1/skills/:slug/run", ({ ctx, deps, body, request, set, params }) => idempotent({ ctx, deps, body, request, set }, () => deps.services.executions.run(ctx, params.slug, body), { tx: QUEUEING }), {
      auth: true,
      params: t.Object({ slug: t.String({ maxLength: 100 }) }),
      body: runBody,
      response: started,
      detail: { tags: ["Executions"], summary: "Run a skill (idempotent); answers at once, the run streams on" },
    })
    .get(
      "/api/v1/executions",
      async ({ ctx, deps, query }) => listEnvelope(await deps.services.executions.list(ctx, parsePage(query, "execution"), { status: query.status, skill: query.skill })),
      {
        auth: true,
        query: t.Object({
          ...pageQuery,
          status: t.Optional(t.Union(["queued", "running", "completed", "failed", "cancelled"].map((s) => t.Literal(s)))),
          skill: t.Optional(t.String({ maxLength: 100 })),
        }),
        response: listSchema(execution),
        detail: { tags: ["Executions"], summary: "List executions" },
      },
    )
    .get("/api/v1/executions/:id/status", ({ ctx, deps, params, query }) => deps.services.executions.status(ctx, params.id, query.blocksAfter ?? 0), {
      auth: true,
      params: idParam,
      query: t.Object({ blocksAfter: t.Optional(t.Integer({ minimum: 0, description: "Only blocks with a greater index" })) }),
      response: status,
      detail: { tags: ["Executions"], summary: "Poll an execution (status, output blocks, cost, executionTime)" },
    })
    .post("/api/v1/executions/:id/cancel", ({ ctx, deps, params }) => deps.services.executions.cancel(ctx, params.id), {
      body: noBody,
      auth: true,
      params: idParam,
      response: execution,
      detail: { tags: ["Executions"], summary: "Cancel a queued or running execution" },
    })
    .post("/api/v1/executions/:id/rerun", ({ ctx, deps, body, request, set, params }) => idempotent({ ctx, deps, body, request, set }, () => deps.services.executions.rerun(ctx, params.id, body ?? {}), { tx: QUEUEING }), {
      auth: true,
      params: idParam,
      body: t.Optional(
        t.Object(
          { input: t.Optional(t.String({ minLength: 1 })), interface: t.Optional(t.String({ maxLength: 20, description: "Where the rerun comes from, as on /run ('api' by default)" })) },
          { additionalProperties: false },
        ),
      ),
      response: started,
      detail: { tags: ["Executions"], summary: "Run an ended execution again, optionally with new input" },
    });
