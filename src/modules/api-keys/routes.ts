// /api/v1/api-keys: list, create (shown once, idempotent), revoke.
import { t } from "elysia";
import type { Platform } from "../../http/platform";
import { idempotent } from "../../http/idempotent-route";
import { listEnvelope, listSchema, pageQuery, parsePage } from "../../http/pagination";
import { idParam, isoDate, noBody } from "../../http/schemas";
import { KEY_NAME_MAX } from "./service";

const apiKey = t.Object({
  id: t.String(),
  name: t.String(),
  prefix: t.String(),
  last4: t.String(),
  workspaceId: t.String(),
  userId: t.Nullable(t.String()),
  status: t.Union([t.Literal("active"), t.Literal("revoked")]),
  createdAt: isoDate,
  lastUsedAt: t.Nullable(isoDate),
  revokedAt: t.Nullable(isoDate),
  owner: t.Nullable(
    t.Object(
      { name: t.String(), email: t.Nullable(t.String()) },
      { description: "The person the key acts as (its workspace's members see whose each key is); null for an unclaimed agent's key" },
    ),
  ),
});

export const apiKeysRoutes = (app: Platform) =>
  app
    .get(
      "/api/v1/api-keys",
      async ({ ctx, deps, query }) => listEnvelope(await deps.services.apiKeys.list(ctx, parsePage(query, "apiKey"))),
      { auth: true, query: t.Object(pageQuery), response: listSchema(apiKey), detail: { tags: ["API keys"], summary: "List API keys" } },
    )
    .post("/api/v1/api-keys", ({ ctx, deps, body, request, set }) => idempotent({ ctx, deps, body, request, set }, () => deps.services.apiKeys.create(ctx, body), { seal: ["key"] }), {
      auth: true,
      body: t.Object({ name: t.String({ minLength: 1, maxLength: KEY_NAME_MAX }) }, { additionalProperties: false }),
      response: t.Composite([apiKey, t.Object({ key: t.String({ description: "The key itself: shown once (and again on an idempotent replay within the idempotency TTL)" }) })]),
      detail: { tags: ["API keys"], summary: "Create an API key (idempotent)" },
    })
    .post("/api/v1/api-keys/:id/revoke", ({ ctx, deps, params }) => deps.services.apiKeys.revoke(ctx, params.id), {
      body: noBody,
      auth: true,
      params: idParam,
      response: apiKey,
      detail: { tags: ["API keys"], summary: "Revoke an API key" },
    });
