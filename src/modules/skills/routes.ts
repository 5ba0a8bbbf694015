// /api/v1/skills: installed skills (install / uninstall) and their secret bindings.
import { t } from "elysia";
import type { Platform } from "../../http/platform";
import { listEnvelope, listSchema, pageQuery, parseKeyPage, parsePage } from "../../http/pagination";
import { isoDate, numericId, noBody } from "../../http/schemas";
import { skillSummarySchema } from "../marketplace/routes";

const slugParam = t.Object({ slug: t.String({ maxLength: 100 }) });

const installed = t.Composite([skillSummarySchema, t.Object({ installed: t.Boolean(), available: t.Boolean(), installedAt: t.Nullable(isoDate) })]);

const binding = t.Object({
  id: t.String(),
  skillSlug: t.String(),
  secretId: t.String(),
  secretName: t.String(),
  envVar: t.String(),
  workspaceId: t.String(),
  createdAt: isoDate,
});

export const skillsRoutes = (app: Platform) =>
  app
    .get(
      "/api/v1/skills",
      async ({ ctx, deps, query }) => listEnvelope(await deps.services.skills.listInstalled(ctx, parseKeyPage(query))),
      { auth: true, query: t.Object(pageQuery), response: listSchema(installed), detail: { tags: ["Skills"], summary: "Installed skills (cursor: slug)" } },
    )
    .post("/api/v1/skills/:slug/install", ({ ctx, deps, params }) => deps.services.skills.install(ctx, params.slug), {
      body: noBody,
      auth: true,
      params: slugParam,
      response: installed,
      detail: { tags: ["Skills"], summary: "Install a skill (repeatable)" },
    })
    .post("/api/v1/skills/:slug/uninstall", ({ ctx, deps, params }) => deps.services.skills.uninstall(ctx, params.slug), {
      body: noBody,
      auth: true,
      params: slugParam,
      response: installed,
      detail: { tags: ["Skills"], summary: "Uninstall a skill (repeatable)" },
    })
    .get("/api/v1/skills/:slug/secrets", async ({ ctx, deps, params, query }) => listEnvelope(await deps.services.skills.listBindings(ctx, params.slug, parsePage(query, "binding"))), {
      auth: true,
      params: slugParam,
      query: t.Object(pageQuery),
      response: listSchema(binding),
      detail: { tags: ["Skills"], summary: "The secrets bound to a skill (newest first)" },
    })
    .post("/api/v1/skills/:slug/secrets", ({ ctx, deps, params, body }) => deps.services.skills.bind(ctx, params.slug, body), {
      auth: true,
      params: slugParam,
      body: t.Object(
        {
          secretId: t.Union([numericId(), t.String({ minLength: 1, maxLength: 50 })], { description: "3 or sec_3" }),
          envVar: t.String({ minLength: 1, maxLength: 128 }),
        },
        { additionalProperties: false },
      ),
      response: binding,
      detail: { tags: ["Skills"], summary: "Bind a secret to a skill as an environment variable" },
    })
    .delete(
      "/api/v1/skills/:slug/secrets/:id",
      ({ ctx, deps, params }) => deps.services.skills.unbind(ctx, params.slug, params.id),
      {
        body: noBody,
        auth: true,
        params: t.Object({ slug: t.String({ maxLength: 100 }), id: t.String({ maxLength: 100 }) }),
        response: t.Composite([binding, t.Object({ deleted: t.Boolean() })]),
        detail: { tags: ["Skills"], summary: "Remove a binding" },
      },
    );
