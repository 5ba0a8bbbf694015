// The caller's own profile.
import { eq, sql } from "drizzle-orm";
import type { Ctx } from "../../lib/context";
import { InvalidRequestError, PermissionError } from "../../lib/errors";
import { encodeId } from "../../lib/ids";
import { toIso } from "../../lib/clock";
import type { Store } from "../../store/db";
import { writeAudit } from "../../store/audit";
import { users } from "../../store/schema";

type UserRow = typeof users.$inferSelect;

export function createProfileService(store: Store) {
  const db = store.db;
  // The hot path of GET /profile: prepared once.
  const findUser = db.select().from(users).where(eq(users.id, sql.placeholder("id"))).prepare();

  function view(ctx: Ctx, u: UserRow | null) {
    return {
      id: u ? encodeId("user", u.id) : null,
      email: u?.email ?? null,
      name: u?.name ?? null,
      createdAt: toIso(u?.createdAt),
      workspaceId: encodeId("workspace", ctx.workspaceId),
      role: ctx.role,
      authMethod: ctx.actor.kind === "user" ? ("session" as const) : ("api_key" as const),
      apiKeyId: ctx.actor.kind === "apiKey" || ctx.actor.kind === "agent" ? encodeId("apiKey", ctx.actor.apiKeyId) : null,
    };
  }

  return {
    get(ctx: Ctx) {
      return view(ctx, ctx.actor.userId === null ? null : (findUser.get({ id: ctx.actor.userId }) ?? null));
    },

    update(ctx: Ctx, input: { name?: string }) {
      if (ctx.actor.userId === null) throw new PermissionError("An unclaimed agent has no profile to update", "USER_REQUIRED");
      const userId = ctx.actor.userId;
      const name = input.name?.trim();
      if (name !== undefined && !name) throw new InvalidRequestError("name must not be blank", "name");
      return store.tx(() => {
        const u = name === undefined
          ? db.select().from(users).where(eq(users.id, userId)).get()!
          : db.update(users).set({ name, updatedAt: Date.now() }).where(eq(users.id, userId)).returning().get();
        writeAudit(store, ctx, { action: "profile.update", resourceType: "user", resourceId: encodeId("user", userId), metadata: { fields: Object.keys(input) } });
        return view(ctx, u);
      });
    },
  };
}

export type ProfileService = ReturnType<typeof createProfileService>;
