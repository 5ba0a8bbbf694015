// /api/v1/triggers (list, read, secret, rotate) and the public POST /hooks/:triggerId that fires one.
import { t } from "elysia";
import type { Platform } from "../../http/platform";
import { baseUrl } from "../../http/origin";
import { SignedJsonBody } from "../../http/body";
import { listEnvelope, listSchema, pageQuery } from "../../http/pagination";
import { idParam, noBody } from "../../http/schemas";
import { ApiError } from "../../lib/errors";

const tags = ["Triggers"];

const trigger = t.Object({
  id: t.String(),
  kind: t.Union([t.Literal("cron"), t.Literal("webhook"), t.Literal("github")]),
  workflowId: t.String(),
  enabled: t.Boolean(),
  hookUrl: t.Nullable(t.String()),
  settings: t.Record(t.String(), t.Unknown()),
  lastFiredAt: t.Nullable(t.String()),
  createdAt: t.Nullable(t.String()),
});

const withSecret = t.Composite([trigger, t.Object({ secret: t.String(), signatureHeader: t.String(), scheme: t.String() })]);

const received = t.Object({
  received: t.Literal(true),
  runId: t.Optional(t.String()),
  workflowId: t.Optional(t.String()),
  status: t.Optional(t.String()),
  event: t.Optional(t.String()),
  ignored: t.Optional(t.String({ description: "Why this delivery started nothing" })),
});

export const triggersRoutes = (app: Platform) =>
  app
    .get("/api/v1/triggers", async ({ ctx, deps, query, request }) => listEnvelope(await deps.services.triggers.list(ctx, query, baseUrl(deps.config, request))), {
      auth: true,
      query: t.Object(pageQuery),
      response: listSchema(trigger),
      detail: { tags, summary: "List what can start this workspace's workflows: cron, webhook and github triggers" },
    })
    .get("/api/v1/triggers/:id", ({ ctx, deps, params, request }) => deps.services.triggers.get(ctx, params.id, baseUrl(deps.config, request)), {
      auth: true,
      params: idParam,
      response: trigger,
      detail: { tags, summary: "A webhook or github trigger, with its hook URL (no secret)" },
    })
    .get("/api/v1/triggers/:id/secret", ({ ctx, deps, params, request }) => deps.services.triggers.secret(ctx, params.id, baseUrl(deps.config, request)), {
      auth: true,
      params: idParam,
      response: withSecret,
      detail: { tags, summary: "A trigger's hook URL and signing secret (owners and admins)" },
    })
    .post("/api/v1/triggers/:id/rotate", ({ ctx, deps, params, request }) => deps.services.triggers.rotate(ctx, params.id, baseUrl(deps.config, request)), {
      body: noBody,
      auth: true,
      params: idParam,
      response: withSecret,
      detail: { tags, summary: "Rotate a trigger's signing secret (owners and admins); the old one stops working at once" },
    })
    .post(
      "/hooks/:triggerId",
      async ({ deps, params, request, body, set, caller }) => {
        // Read by the platform as JSON with its exact bytes (RAW_BODY_ROUTES); anything else is never trusted.
        if (!(body instanceof SignedJsonBody)) throw new ApiError("api_error", "The hook's body was not read as signed JSON");
        const out = await deps.services.triggers.receive(params.triggerId, {
          headers: request.headers,
          raw: body.raw,
          body: body.value,
          ip: caller.ip ?? null,
          userAgent: request.headers.get("user-agent"),
          requestId: String(set.headers["x-request-id"]),
        });
        set.status = out.status;
        return out.body;
      },
      {
        publicLimit: true,
        params: t.Object({ triggerId: t.String({ maxLength: 100 }) }),
        response: { 200: received, 202: received },
        detail: {
          tags,
          summary: "Fire a webhook or github trigger: signed JSON body (clanker-signature, or GitHub's X-Hub-Signature-256) → a workflow run (202); other content types are 400",
          security: [],
        },
      },
    );
