// API keys: workspace-scoped, shown once at creation, stored as SHA-256 hashes.
import { and, eq, inArray, isNull } from "drizzle-orm";
import type { Ctx } from "../../lib/context";
import { PermissionError } from "../../lib/errors";
import { encodeId } from "../../lib/ids";
import { randomToken, sha256Hex } from "../../lib/crypto";
import { toIso } from "../../lib/clock";
import type { Store } from "../../store/db";
import { writeAudit } from "../../store/audit";
import { workspaceRow } from "../../store/lookup";
import { workspacePage, type PageParams } from "../../store/paginate";
import { apiKeys, memberships, users } from "../../store/schema";
import type { KeyCache } from "../workspaces/service";
import { plainName } from "../../lib/display-name";

type KeyRow = typeof apiKeys.$inferSelect;

/** The longest name a person gives a key (REST, the CLI). */
export const KEY_NAME_MAX = 100;

/** Whose a key is, as the people of its workspace know them (a key acts as its owner); null: an unclaimed agent's. */
export type KeyOwner = { name: string; email: string | null } | null;

export function apiKeyView(k: KeyRow, owner: KeyOwner) {
  return {
    id: encodeId("apiKey", k.id),
    name: k.name,
    prefix: k.prefix,
    last4: k.last4,
    workspaceId: encodeId("workspace", k.workspaceId),
    userId: k.userId === null ? null : encodeId("user", k.userId),
    status: k.revokedAt === null ? ("active" as const) : ("revoked" as const),
    createdAt: toIso(k.createdAt)!,
    lastUsedAt: toIso(k.lastUsedAt),
    revokedAt: toIso(k.revokedAt),
    owner,
  };
}

/** Inside a tx: mints a key, returning the row and the plaintext (which is never stored). */
export async function mintApiKey(store: Store, input: { workspaceId: number; userId: number | null; name: string; oauthClientId?: string }) {
  const secret = `ck_${randomToken(32)}`;
  const [row] = await store.db
    .insert(apiKeys)
    .values({
      workspaceId: input.workspaceId,
      userId: input.userId,
      name: input.name,
      keyHash: sha256Hex(secret),
      prefix: secret.slice(0, 7),
      last4: secret.slice(-4),
      oauthClientId: input.oauthClientId ?? null,
      createdAt: Date.now(),
    })
    .returning();
  return { row: row!, secret };
}

/**
 * Refuses what a key issued to an app over OAuth may not do: the person approved the app for one workspace, and the
 * key must stay there and stay the only one the app holds (revoking it in Settings → API keys cuts the app off).
 */
export async function refuseAppKey(store: Store, keyId: number, what: string): Promise<void> {
  const [key] = await store.db.select({ app: apiKeys.oauthClientId }).from(apiKeys).where(eq(apiKeys.id, keyId));
  if (key?.app)
    throw new PermissionError(`This key belongs to an app you approved over OAuth for one workspace; it cannot ${what}. Sign in to the app again to approve it elsewhere`, "APP_KEY_LIMITED");
}

export function createApiKeysService(store: Store, keyCache: KeyCache) {
  const db = store.db;

  const find = (ctx: Ctx, ref: string): Promise<KeyRow> => workspaceRow(db, apiKeys, "apiKey", "api key", ctx.workspaceId, ref);

  /** The owners of `rows`' keys, by user id: one read for a page of keys. */
  async function ownersOf(rows: KeyRow[]): Promise<Map<number, KeyOwner>> {
    const ids = [...new Set(rows.map((r) => r.userId).filter((id): id is number => id !== null))];
    const found = ids.length ? await db.select({ id: users.id, name: users.name, email: users.email }).from(users).where(inArray(users.id, ids)) : [];
    return new Map(found.map((u) => [u.id, { name: u.name, email: u.email }]));
  }
  const ownerIn = (owners: Map<number, KeyOwner>, k: KeyRow) => (k.userId === null ? null : (owners.get(k.userId) ?? null));
  const view = async (row: KeyRow) => apiKeyView(row, ownerIn(await ownersOf([row]), row));

  /** A person's role in a workspace, or null when they are not a member. */
  async function roleOf(userId: number, workspaceId: number): Promise<string | null> {
    const [m] = await db.select({ role: memberships.role }).from(memberships).where(and(eq(memberships.userId, userId), eq(memberships.workspaceId, workspaceId)));
    return m?.role ?? null;
  }

  return {
    async list(ctx: Ctx, p: PageParams) {
      const page = await workspacePage(db, apiKeys, ctx.workspaceId, p);
      const owners = await ownersOf(page.rows);
      return { rows: page.rows.map((k) => apiKeyView(k, ownerIn(owners, k))), hasMore: page.hasMore };
    },

    /** Runs inside the caller's idempotency transaction (a savepoint of it). */
    async create(ctx: Ctx, input: { name: string }) {
      const name = plainName(input.name);
      if (ctx.actor.userId === null) throw new PermissionError("An unclaimed agent key cannot create keys", "USER_REQUIRED");
      if (ctx.actor.kind === "apiKey") await refuseAppKey(store, ctx.actor.apiKeyId, "create keys: a key it made would outlive revoking the app");
      const userId = ctx.actor.userId;
      return store.tx(async () => {
        const { row, secret } = await mintApiKey(store, { workspaceId: ctx.workspaceId, userId, name });
        const made = await view(row);
        await writeAudit(store, ctx, { action: "api_key.create", resourceType: "api_key", resourceId: made.id, metadata: { name } });
        return { ...made, key: secret };
      });
    },

    async revoke(ctx: Ctx, ref: string) {
      const row = await find(ctx, ref);
      const own = ctx.actor.userId !== null && row.userId === ctx.actor.userId;
      if (!own && ctx.role === "member") throw new PermissionError("Only the key's owner or a workspace owner or admin can revoke it", "ROLE_REQUIRED");
      // As an admin may not demote or remove an owner, nor may one cut off an owner's keys (and the agents using them).
      if (!own && ctx.role === "admin" && row.userId !== null && (await roleOf(row.userId, ctx.workspaceId)) === "owner")
        throw new PermissionError("Only an owner can revoke a workspace owner's key", "ROLE_REQUIRED");
      if (row.revokedAt !== null) return view(row); // revoking twice is harmless
      return store.tx(async () => {
        // Only if still active: a revoke that raced past the check above changes and audits nothing.
        const [updated] = await db
          .update(apiKeys)
          .set({ revokedAt: Date.now() })
          .where(and(eq(apiKeys.id, row.id), isNull(apiKeys.revokedAt)))
          .returning();
        if (!updated) return view((await db.select().from(apiKeys).where(eq(apiKeys.id, row.id)))[0] ?? row);
        const revoked = await view(updated);
        await writeAudit(store, ctx, { action: "api_key.revoke", resourceType: "api_key", resourceId: revoked.id, metadata: { name: row.name } });
        keyCache.forgetKey(row.keyHash);
        // Again once committed: a reader between the eviction and the COMMIT may have cached the old row.
        store.afterCommit(() => keyCache.forgetKey(row.keyHash));
        return revoked;
      });
    },
  };
}

export type ApiKeysService = ReturnType<typeof createApiKeysService>;
