// /api/v1/byok: the workspace's own Anthropic key (status, set, remove).
import { t } from "elysia";
import type { Platform } from "../../http/platform";
import { noBody } from "../../http/schemas";

const status = t.Object({
  configured: t.Boolean(),
  provider: t.Literal("anthropic"),
  last4: t.Nullable(t.String()),
  createdAt: t.Nullable(t.String()),
  updatedAt: t.Nullable(t.String()),
});

export const byokRoutes = (app: Platform) =>
  app
    .get("/api/v1/byok", ({ ctx, deps }) => deps.services.byok.status(ctx), { auth: true, response: status, detail: { tags: ["BYOK"], summary: "BYOK status" } })
    .put("/api/v1/byok", ({ ctx, deps, body }) => deps.services.byok.set(ctx, body), {
      auth: true,
      body: t.Object({ anthropicKey: t.String({ minLength: 1, maxLength: 400 }) }, { additionalProperties: false }),
      response: status,
      detail: { tags: ["BYOK"], summary: "Set the workspace's Anthropic key" },
    })
    .delete("/api/v1/byok", ({ ctx, deps }) => deps.services.byok.remove(ctx), { body: noBody, auth: true, response: status, detail: { tags: ["BYOK"], summary: "Remove the BYOK key" } });
