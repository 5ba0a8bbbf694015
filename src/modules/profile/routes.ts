// GET/PATCH /api/v1/profile
import { t } from "elysia";
import type { Platform } from "../../http/platform";
import { isoDate } from "../../http/schemas";

const profile = t.Object({
  id: t.Nullable(t.String()),
  email: t.Nullable(t.String()),
  name: t.Nullable(t.String()),
  createdAt: t.Nullable(isoDate),
  workspaceId: t.String(),
  role: t.String(),
  authMethod: t.Union([t.Literal("session"), t.Literal("api_key")]),
  apiKeyId: t.Nullable(t.String()),
});

export const profileRoutes = (app: Platform) =>
  app
    .get("/api/v1/profile", ({ ctx, deps }) => deps.services.profile.get(ctx), {
      auth: true,
      response: profile,
      detail: { tags: ["Profile"], summary: "Your profile" },
    })
    .patch("/api/v1/profile", ({ ctx, deps, body }) => deps.services.profile.update(ctx, body), {
      auth: true,
      body: t.Object({ name: t.Optional(t.String({ minLength: 1, maxLength: 100 })) }, { additionalProperties: false }),
      response: profile,
      detail: { tags: ["Profile"], summary: "Update your profile" },
    });
