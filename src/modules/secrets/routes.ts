// /api/v1/secrets: list, create (idempotent), update, delete. Values go in, never out.
import { t } from "elysia";
import type { Platform } from "../../http/platform";
import { idempotent } from "../../http/idempotent-route";
import { listEnvelope, listSchema, pageQuery, parsePage } from "../../http/pagination";
import { idParam, integer, isoDate, noBody } from "../../http/schemas";

const secret = t.Object({ id: t.String(), name: t.String(), workspaceId: t.String(), createdAt: isoDate, updatedAt: isoDate });

export const secretsRoutes = (app: Platform) =>
  app
    .get(
      "/api/v1/secrets",
      async ({ ctx, deps, query }) => listEnvelope(await deps.services.secrets.list(ctx, parsePage(query, "secret"))),
      { auth: true, query: t.Object(pageQuery), response: listSchema(secret), detail: { tags: ["Secrets"], summary: "List secrets (names only)" } },
    )
    .post("/api/v1/secrets", ({ ctx, deps, body, request, set }) => idempotent({ ctx, deps, body, request, set }, () => deps.services.secrets.create(ctx, body)), {
      auth: true,
      body: t.Object({ name: t.String({ minLength: 1, maxLength: 100 }), value: t.String({ minLength: 1 }) }, { additionalProperties: false }),
      response: secret,
      detail: { tags: ["Secrets"], summary: "Create a secret (idempotent)" },
    })
    .patch("/api/v1/secrets/:id", ({ ctx, deps, params, body }) => deps.services.secrets.update(ctx, params.id, body), {
      auth: true,
      params: idParam,
      body: t.Object({ name: t.Optional(t.String({ minLength: 1, maxLength: 100 })), value: t.Optional(t.String({ minLength: 1 })) }, { additionalProperties: false, minProperties: 1 }),
      response: secret,
      detail: { tags: ["Secrets"], summary: "Rename a secret or replace its value" },
    })
    .delete("/api/v1/secrets/:id", ({ ctx, deps, params }) => deps.services.secrets.remove(ctx, params.id), {
      body: noBody,
      auth: true,
      params: idParam,
      response: t.Object({ id: t.String(), deleted: t.Boolean(), bindingsRemoved: integer() }),
      detail: { tags: ["Secrets"], summary: "Delete a secret and its bindings" },
    });
