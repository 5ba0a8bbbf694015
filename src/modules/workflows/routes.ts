// /api/v1/workflows: definitions, launch, stream, runs, cancel, resume.
import { t } from "elysia";
import type { Platform } from "../../http/platform";
import { idempotent } from "../../http/idempotent-route";
import { listEnvelope, listSchema, pageQuery, parseKeyPage, parsePage } from "../../http/pagination";
import { idParam, isoDate, noBody } from "../../http/schemas";
import { InvalidRequestError } from "../../lib/errors";
import { workflowStream } from "./stream";

const workflowParam = t.Object({ id: t.String({ maxLength: 100 }) });
const tags = ["Workflows"];
/** Where a launch comes from, the run's `trigger` (MCP's launches say `mcp`; crons and hooks name themselves). */
const launchInterface = t.Optional(t.Union([t.Literal("api"), t.Literal("web")], { description: "Where the launch comes from, the run's trigger ('api' by default)" }));

// What the routes answer, for the OpenAPI document (and checked on each answer, as every route's is).
const definitionSchema = t.Object({
  id: t.String(),
  name: t.String(),
  description: t.Optional(t.String()),
  input: t.Optional(t.Unknown({ description: "JSON Schema of the launch's inputData" })),
  steps: t.Array(t.Unknown({ description: "A skill, action, approval, parallel or branch step" })),
  triggers: t.Optional(t.Array(t.Unknown({ description: "{cron, timezone?, input?}, {webhook: {}} or {github: {events?, repo?}}" }))),
  source: t.Union([t.Literal("bundled"), t.Literal("workspace")]),
});
const stepStateSchema = t.Object({
  status: t.String(),
  kind: t.String(),
  input: t.Optional(t.Unknown()),
  connector: t.Optional(t.Unknown()),
  output: t.Optional(t.Unknown()),
  executionId: t.Optional(t.String()),
  suspend: t.Optional(t.Object({ message: t.String(), resumeSchema: t.Optional(t.Unknown()) })),
  error: t.Optional(t.Object({ code: t.String(), message: t.String() })),
});
const runSchema = t.Object({
  id: t.String(),
  runId: t.String(),
  workflowId: t.String(),
  status: t.Union([t.Literal("running"), t.Literal("suspended"), t.Literal("completed"), t.Literal("failed"), t.Literal("cancelled")]),
  input: t.Record(t.String(), t.Unknown()),
  steps: t.Record(t.String(), stepStateSchema),
  suspendedStep: t.Nullable(t.String()),
  error: t.Nullable(t.Object({ code: t.String(), message: t.String() })),
  cost: t.Number(),
  trigger: t.String({ description: "api, web, mcp, cron, webhook or github" }),
  startedBy: t.Object({ userId: t.Nullable(t.String()), apiKeyId: t.Nullable(t.String()) }),
  callbackUrl: t.Nullable(t.String()),
  createdAt: isoDate,
  updatedAt: isoDate,
  completedAt: t.Nullable(isoDate),
});

export const workflowsRoutes = (app: Platform) =>
  app
    .get("/api/v1/workflows/definitions", async ({ ctx, deps, query }) => listEnvelope(await deps.services.workflows.definitionPage(ctx, parseKeyPage(query))), {
      auth: true,
      query: t.Object(pageQuery),
      response: listSchema(definitionSchema),
      detail: { tags, summary: "List workflow definitions, bundled and this workspace's (cursor: id)" },
    })
    .post("/api/v1/workflows/definitions", ({ ctx, deps, body }) => deps.services.workflows.saveDefinition(ctx, body), {
      auth: true,
      body: t.Object({}, { additionalProperties: true, description: "A workflow definition: id, name, input, steps, triggers" }),
      response: definitionSchema,
      detail: { tags, summary: "Add a workflow definition" },
    })
    .put("/api/v1/workflows/definitions/:id", ({ ctx, deps, body, params }) => deps.services.workflows.saveDefinition(ctx, body, { replace: params.id }), {
      auth: true,
      params: workflowParam,
      body: t.Object({}, { additionalProperties: true }),
      response: definitionSchema,
      detail: { tags, summary: "Replace a workflow definition" },
    })
    .delete("/api/v1/workflows/definitions/:id", ({ ctx, deps, params }) => deps.services.workflows.deleteDefinition(ctx, params.id), {
      body: noBody,
      auth: true,
      params: workflowParam,
      response: t.Object({ id: t.String(), deleted: t.Literal(true) }),
      detail: { tags, summary: "Delete a workflow definition" },
    })
    .post(
      "/api/v1/workflows/:id/launch",
      ({ ctx, deps, body, request, set, params }) =>
        idempotent({ ctx, deps, body, request, set }, () =>
          deps.services.workflows.launch(ctx, params.id, { inputData: body?.inputData ?? body?.input, callbackUrl: body?.callbackUrl }, body?.interface),
        ),
      {
        auth: true,
        params: workflowParam,
        body: t.Optional(
          t.Object(
            { inputData: t.Optional(t.Record(t.String(), t.Unknown())), input: t.Optional(t.Record(t.String(), t.Unknown())), callbackUrl: t.Optional(t.String({ maxLength: 2048 })), interface: launchInterface },
            { additionalProperties: false },
          ),
        ),
        response: runSchema,
        detail: { tags, summary: "Launch a workflow (create + start); answers at once with the run" },
      },
    )
    .post(
      "/api/v1/workflows/:id/stream",
      async ({ ctx, deps, params, body, request, set }) => {
        const wf = deps.services.workflows;
        if (body.runId !== undefined) {
          // A retried resume is refused (RUN_NOT_SUSPENDED) by the run itself: no key needed.
          if (!body.step) throw new InvalidRequestError("Resuming needs the step", "step");
          // Dropped in silence, a client would believe its input went somewhere (as any other unknown field is refused).
          if (body.inputData !== undefined) throw new InvalidRequestError("inputData: a resume takes no input (inputData is a launch's); send the step's resumeData", "inputData");
          const run = await wf.run(ctx, body.runId);
          if (run.workflowId !== params.id) throw new InvalidRequestError(`Run ${body.runId} belongs to workflow '${run.workflowId}'`, "runId");
          return workflowStream(deps.services, ctx, await wf.resume(ctx, body.runId, { step: body.step, resumeData: body.resumeData }), request.signal);
        }
        // A launch under an idempotency-key, as /launch: a retry starts nothing and streams the first launch's run.
        let first: { runId: string } | null = null;
        const launched = await idempotent({ ctx, deps, body, request, set }, () => wf.launch(ctx, params.id, { inputData: body.inputData, callbackUrl: body.callbackUrl }, body.interface), {
          replayed: (run) => (first = run as { runId: string }),
        });
        // A replayed refusal is answered as it was.
        if (launched instanceof Response && !first) return launched;
        return workflowStream(deps.services, ctx, first ?? launched, request.signal);
      },
      {
        auth: true,
        params: workflowParam,
        body: t.Object(
          {
            inputData: t.Optional(t.Record(t.String(), t.Unknown())),
            callbackUrl: t.Optional(t.String({ maxLength: 2048 })),
            interface: launchInterface,
            runId: t.Optional(t.String({ maxLength: 100 })),
            step: t.Optional(t.String({ maxLength: 100 })),
            resumeData: t.Optional(t.Record(t.String(), t.Unknown())),
          },
          { additionalProperties: false },
        ),
        detail: { tags, summary: "Start ({inputData}) or resume ({runId, step, resumeData}) a run as an AI SDK UI message stream" },
      },
    )
    .get(
      "/api/v1/workflows/runs",
      async ({ ctx, deps, query }) => listEnvelope(await deps.services.workflows.runs(ctx, parsePage(query, "run"), { workflow: query.workflow, status: query.status })),
      {
        auth: true,
        query: t.Object({
          ...pageQuery,
          workflow: t.Optional(t.String({ maxLength: 100 })),
          status: t.Optional(t.Union(["running", "suspended", "completed", "failed", "cancelled"].map((s) => t.Literal(s)))),
        }),
        response: listSchema(runSchema),
        detail: { tags, summary: "List workflow runs" },
      },
    )
    .get("/api/v1/workflows/runs/:id", ({ ctx, deps, params }) => deps.services.workflows.run(ctx, params.id), {
      auth: true,
      params: idParam,
      response: runSchema,
      detail: { tags, summary: "Get a workflow run with every step's state" },
    })
    .post("/api/v1/workflows/runs/:id/cancel", ({ ctx, deps, params }) => deps.services.workflows.cancel(ctx, params.id), {
      body: noBody,
      auth: true,
      params: idParam,
      response: runSchema,
      detail: { tags, summary: "Cancel a run" },
    })
    .post("/api/v1/workflows/runs/:id/resume", ({ ctx, deps, params, body }) => deps.services.workflows.resume(ctx, params.id, body), {
      auth: true,
      params: idParam,
      body: t.Object({ step: t.Optional(t.String({ maxLength: 100 })), resumeData: t.Optional(t.Record(t.String(), t.Unknown())) }, { additionalProperties: false }),
      response: runSchema,
      detail: { tags, summary: "Resume a run suspended at a step, with data checked against its resume schema" },
    });
