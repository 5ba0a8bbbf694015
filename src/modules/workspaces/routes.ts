// /api/v1/workspaces: list, create, current (get / rebind the key), members.
import { t } from "elysia";
import type { Platform } from "../../http/platform";
import { idempotent } from "../../http/idempotent-route";
import { listEnvelope, listSchema, pageQuery, parsePage } from "../../http/pagination";
import { idParam, isoDate, noBody, numericId } from "../../http/schemas";
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

export const invitationSchema = t.Object({
  id: t.String(),
  workspaceId: t.String(),
  email: t.String(),
  role: t.String(),
  status: t.String(),
  expiresAt: isoDate,
  createdAt: isoDate,
  acceptedAt: t.Nullable(isoDate),
});

const memberParams = t.Object({ id: t.String({ minLength: 1, maxLength: 100 }), userId: t.String({ minLength: 1, maxLength: 100, description: "The member's user id (usr_4 or 4)" }) });
const invitationParams = t.Object({ id: t.String({ minLength: 1, maxLength: 100 }), invitationId: t.String({ minLength: 1, maxLength: 100, description: "inv_4 or 4" }) });

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
    )
    .patch("/api/v1/workspaces/:id/members/:userId", ({ ctx, deps, params, body }) => deps.services.members.setRole(ctx, params.id, params.userId, body.role), {
      auth: true,
      params: memberParams,
      body: t.Object({ role: t.Union([t.Literal("owner"), t.Literal("admin"), t.Literal("member")]) }, { additionalProperties: false }),
      response: member,
      detail: { tags: ["Workspaces"], summary: "Change a member's role (owners and admins; only owners make or change owners; a workspace keeps an owner)" },
    })
    .delete("/api/v1/workspaces/:id/members/:userId", ({ ctx, deps, params }) => deps.services.members.remove(ctx, params.id, params.userId), {
      auth: true,
      params: memberParams,
      body: noBody,
      response: t.Object({ id: t.String(), deleted: t.Literal(true), keysRevoked: t.Number({ description: "The member's API keys bound to this workspace, revoked with the removal" }) }),
      detail: { tags: ["Workspaces"], summary: "Remove a member (owners and admins), or leave (yourself); their keys bound here are revoked" },
    })
    .get(
      "/api/v1/workspaces/:id/invitations",
      async ({ ctx, deps, params, query }) => listEnvelope(await deps.services.invitations.pending(ctx, params.id, parsePage(query, "invitation"))),
      { auth: true, params: idParam, query: t.Object(pageQuery), response: listSchema(invitationSchema), detail: { tags: ["Workspaces"], summary: "List pending invitations (owners and admins)" } },
    )
    .delete("/api/v1/workspaces/:id/invitations/:invitationId", ({ ctx, deps, params }) => deps.services.invitations.withdraw(ctx, params.id, params.invitationId), {
      auth: true,
      params: invitationParams,
      body: noBody,
      response: invitationSchema,
      detail: { tags: ["Workspaces"], summary: "Withdraw a pending invitation (owners and admins): its token then admits nobody" },
    });
