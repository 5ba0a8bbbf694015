// API keys: workspace-scoped, shown once at creation, stored as SHA-256 hashes.
import { eq } from "drizzle-orm";
import type { Ctx } from "../../lib/context";
import { InvalidRequestError, PermissionError } from "../../lib/errors";
import { encodeId } from "../../lib/ids";
import { randomToken, sha256Hex } from "../../lib/crypto";
import { toIso } from "../../lib/clock";
import type { Store } from "../../store/db";
import { writeAudit } from "../../store/audit";
import { workspaceRow } from "../../store/lookup";
import { workspacePage, type PageParams } from "../../store/paginate";
import { apiKeys } from "../../store/schema";
import type { KeyCache } from "../workspaces/service";

type KeyRow = typeof apiKeys.$inferSelect;

export function apiKeyView(k: KeyRow) {
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
  };
}

/** Inside a tx: mints a key, returning the row and the plaintext (which is never stored). */
export function mintApiKey(store: Store, input: { workspaceId: number; userId: number | null; name: string }) {
  const secret = `ck_${randomToken(32)}`;
  const row = store.db
    .insert(apiKeys)
    .values({
      workspaceId: input.workspaceId,
      userId: input.userId,
      name: input.name,
      keyHash: sha256Hex(secret),
      prefix: secret.slice(0, 7),
      last4: secret.slice(-4),
      createdAt: Date.now(),
    })
    .returning()
    .get();
  return { row, secret };
}

export function createApiKeysService(store: Store, keyCache: KeyCache) {
  const db = store.db;

  const find = (ctx: Ctx, ref: string): KeyRow => workspaceRow(db, apiKeys, "apiKey", "api key", ctx.workspaceId, ref);

  return {
    list(ctx: Ctx, p: PageParams) {
      const page = workspacePage(db, apiKeys, ctx.workspaceId, p);
      return { rows: page.rows.map(apiKeyView), hasMore: page.hasMore };
    },

    /** Synchronous: runs inside the caller's idempotency transaction. */
    create(ctx: Ctx, input: { name: string }) {
      const name = input.name.trim();
      if (!name) throw new InvalidRequestError("name must not be blank", "name");
      if (ctx.actor.userId === null) throw new PermissionError("An unclaimed agent key cannot create keys", "USER_REQUIRED");
      const userId = ctx.actor.userId;
      return store.tx(() => {
        const { row, secret } = mintApiKey(store, { workspaceId: ctx.workspaceId, userId, name });
        const view = apiKeyView(row);
        writeAudit(store, ctx, { action: "api_key.create", resourceType: "api_key", resourceId: view.id, metadata: { name } });
        return { ...view, key: secret };
      });
    },

    revoke(ctx: Ctx, ref: string) {
      const row = find(ctx, ref);
      const own = ctx.actor.userId !== null && row.userId === ctx.actor.userId;
      if (!own && ctx.role === "member") throw new PermissionError("Only the key's owner or a workspace admin can revoke it");
      if (row.revokedAt !== null) return apiKeyView(row); // revoking twice is harmless
      return store.tx(() => {
        const updated = db.update(apiKeys).set({ revokedAt: Date.now() }).where(eq(apiKeys.id, row.id)).returning().get();
        const view = apiKeyView(updated);
        writeAudit(store, ctx, { action: "api_key.revoke", resourceType: "api_key", resourceId: view.id, metadata: { name: row.name } });
        keyCache.forgetKey(row.keyHash);
        return view;
      });
    },
  };
}

export type ApiKeysService = ReturnType<typeof createApiKeysService>;
