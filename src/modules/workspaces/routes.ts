// /api/v1/workspaces: list, create, current (get / rebind the key), members.
import { t } from "elysia";
import type { Platform } from "../../http/platform";
import { idempotent } from "../../http/idempotent-route";
import { listEnvelope, listSchema, pageQuery, parsePage } from "../../http/pagination";
import { idParam, isoDate, numericId } from "../../http/schemas";
import { encodeId } from "../../lib/ids";
import { CREATING } from "./service";

export const workspaceSchema = t.Object({
  id: t.String(),
  name: t.String(),
  slug: t.String(),
  role: t.String(),
  personal: t.Boolean(),
  createdAt: isoDate,
});

const member = t.Object({ id: t.String(), email: t.Nullable(t.String()), name: t.String(), role: t.String(), joinedAt: isoDate });

export const workspacesRoutes = (app: Platform) =>
  app
    .get(
      "/api/v1/workspaces",
      async ({ ctx, deps, query }) => listEnvelope(await deps.services.workspaces.list(ctx, parsePage(query, "workspace"))),
      { auth: true, query: t.Object(pageQuery), response: listSchema(workspaceSchema), detail: { tags: ["Workspaces"], summary: "List your workspaces" } },
    )
    .post("/api/v1/workspaces", ({ ctx, deps, body, request, set }) => idempotent({ ctx, deps, body, request, set }, () => deps.services.workspaces.create(ctx, body), { tx: CREATING }), {
      auth: true,
      body: t.Object(
        { name: t.String({ minLength: 1, maxLength: 100 }), slug: t.Optional(t.String({ minLength: 1, maxLength: 48 })) },
        { additionalProperties: false },
      ),
      response: workspaceSchema,
      detail: { tags: ["Workspaces"], summary: "Create a workspace (idempotent)" },
    })
    .get("/api/v1/workspaces/current", ({ ctx, deps }) => deps.services.workspaces.current(ctx), {
      auth: true,
      response: workspaceSchema,
      detail: { tags: ["Workspaces"], summary: "The workspace this key or session acts in" },
    })
    .put("/api/v1/workspaces/current", ({ ctx, deps, body }) => deps.services.workspaces.rebindKey(ctx, { workspace: typeof body.workspace === "number" ? encodeId("workspace", body.workspace) : body.workspace }), {
      auth: true,
      // An id as a number too (4), as a secret's id is taken in a binding.
      body: t.Object({ workspace: t.Union([numericId(), t.String({ minLength: 1, maxLength: 100 })], { description: "Workspace id (4 or ws_4) or slug" }) }, { additionalProperties: false }),
      response: workspaceSchema,
      detail: { tags: ["Workspaces"], summary: "Rebind this API key to another of your workspaces" },
    })
    .get(
      "/api/v1/workspaces/:id/members",
      async ({ ctx, deps, params, query }) => listEnvelope(await deps.services.workspaces.members(ctx, params.id, parsePage(query, "user"))),
      { auth: true, params: idParam, query: t.Object(pageQuery), response: listSchema(member), detail: { tags: ["Workspaces"], summary: "List members" } },
    );
