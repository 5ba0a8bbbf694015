// Public marketplace: /api/v1/marketplace/skills (+ /categories, /:slug). No auth; limited per client IP.
import { t } from "elysia";
import { integer } from "../../http/schemas";
import type { Platform } from "../../http/platform";
import { listEnvelope, listSchema, pageQuery, parseKeyPage } from "../../http/pagination";
import { skillDetail } from "./service";

const source = t.Object({ repository: t.Nullable(t.String()), path: t.Nullable(t.String()), url: t.Nullable(t.String()) });

export const skillSummarySchema = t.Object({
  id: t.String(),
  slug: t.String(),
  name: t.String(),
  description: t.String(),
  category: t.String(),
  license: t.Nullable(t.String()),
  source,
});

const parameter = t.Object({
  name: t.String(),
  type: t.String(),
  required: t.Boolean(),
  description: t.Nullable(t.String()),
  values: t.Optional(t.Array(t.Unknown())),
  default: t.Optional(t.Unknown()),
});

const detail = t.Composite([
  skillSummarySchema,
  t.Object({
    compatibility: t.Nullable(t.String()),
    metadata: t.Record(t.String(), t.Unknown()),
    parameters: t.Array(parameter),
    instructions: t.String(),
    files: t.Array(t.String()),
    origin: t.String(),
  }),
]);

export const marketplaceRoutes = (app: Platform) =>
  app
    .get(
      "/api/v1/marketplace/skills",
      ({ deps, query }) => listEnvelope(deps.services.marketplace.list(parseKeyPage(query), { category: query.category, q: query.q })),
      {
        publicLimit: true,
        query: t.Object({
          ...pageQuery,
          category: t.Optional(t.String({ maxLength: 50, description: "Exact category, case-insensitive" })),
          q: t.Optional(t.String({ maxLength: 200, description: "Words that must all appear in the name or description" })),
        }),
        response: listSchema(skillSummarySchema),
        detail: { tags: ["Marketplace"], summary: "Browse the skill catalog (cursor: slug)", security: [] },
      },
    )
    .get("/api/v1/marketplace/skills/categories", ({ deps, query }) => listEnvelope(deps.services.marketplace.categoryPage(parseKeyPage(query))), {
      publicLimit: true,
      query: t.Object(pageQuery),
      response: listSchema(t.Object({ id: t.String(), name: t.String(), count: integer() })),
      detail: { tags: ["Marketplace"], summary: "Categories with their skill counts (cursor: name)", security: [] },
    })
    .get("/api/v1/marketplace/skills/:slug", ({ deps, params }) => skillDetail(deps.services.marketplace.get(params.slug)), {
      publicLimit: true,
      params: t.Object({ slug: t.String({ maxLength: 100 }) }),
      response: detail,
      detail: { tags: ["Marketplace"], summary: "A skill's full metadata and instructions", security: [] },
    });
