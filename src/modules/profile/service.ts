// The caller's own profile.
import { eq } from "drizzle-orm";
import type { Ctx } from "../../lib/context";
import { PermissionError } from "../../lib/errors";
import { encodeId } from "../../lib/ids";
import { toIso } from "../../lib/clock";
import type { Store } from "../../store/db";
import { writeAudit } from "../../store/audit";
import { users } from "../../store/schema";
import type { UserRow } from "../../http/auth";
import { plainName } from "../../lib/display-name";

/** Where the hot path reads user rows (the authenticator's cache), and what it must be told when one changes. */
export interface UserCache {
  /** At once when it has the row, a promise when it must read it. */
  user(userId: number): UserRow | null | Promise<UserRow | null>;
  forgetUser(userId: number): void;
}

export function createProfileService(store: Store, cache: UserCache) {
  const db = store.db;
  // The cache hands out the same row object until it reloads it: its ISO date is made once per row, not per GET
  // (Date#toISOString was 3 % of the hot path's CPU).
  const createdIso = new WeakMap<UserRow, string | null>();
  const createdAt = (u: UserRow): string | null => {
    let iso = createdIso.get(u);
    if (iso === undefined) createdIso.set(u, (iso = toIso(u.createdAt)));
    return iso;
  };

  function view(ctx: Ctx, u: UserRow | null) {
    return {
      id: u ? encodeId("user", u.id) : null,
      email: u?.email ?? null,
      name: u?.name ?? null,
      createdAt: u ? createdAt(u) : null,
      workspaceId: encodeId("workspace", ctx.workspaceId),
      role: ctx.role,
      authMethod: ctx.actor.kind === "user" ? ("session" as const) : ("api_key" as const),
      apiKeyId: ctx.actor.kind === "apiKey" || ctx.actor.kind === "agent" ? encodeId("apiKey", ctx.actor.apiKeyId) : null,
    };
  }

  return {
    /** Not async: a cached user row answers at once (GET /profile is the hot path the bench measures). */
    get(ctx: Ctx) {
      const u = ctx.actor.userId === null ? null : cache.user(ctx.actor.userId);
      return u instanceof Promise ? u.then((row) => view(ctx, row)) : view(ctx, u);
    },

    async update(ctx: Ctx, input: { name?: string }) {
      if (ctx.actor.userId === null) throw new PermissionError("An unclaimed agent has no profile to update", "USER_REQUIRED");
      const userId = ctx.actor.userId;
      const name = input.name === undefined ? undefined : plainName(input.name);
      // Evicted before and after the commit: a reader between the write and the commit may cache the old row
      // (under PostgreSQL it cannot see the new one yet); after the commit the next read loads the new row.
      cache.forgetUser(userId);
      return store.tx(async () => {
        const [current] = await db.select().from(users).where(eq(users.id, userId));
        // Nothing to change (no field, or the name it has): no write and no audit row, as for any request that
        // changes nothing.
        if (name === undefined || name === current!.name) return view(ctx, current!);
        const [u] = await db.update(users).set({ name, updatedAt: Date.now() }).where(eq(users.id, userId)).returning();
        await writeAudit(store, ctx, { action: "profile.update", resourceType: "user", resourceId: encodeId("user", userId), metadata: { fields: Object.keys(input) } });
        store.afterCommit(() => cache.forgetUser(userId));
        return view(ctx, u!);
      });
    },
  };
}

export type ProfileService = ReturnType<typeof createProfileService>;
