// Bring your own Anthropic key: sealed at rest, shown only as configured + last 4.
import { eq, sql } from "drizzle-orm";
import { assertRole, type Ctx } from "../../lib/context";
import { InvalidRequestError } from "../../lib/errors";
import { toIso } from "../../lib/clock";
import type { SecretBox } from "../../lib/secret-box";
import type { Store } from "../../store/db";
import { prepared } from "../../store/prepared";
import { writeAudit } from "../../store/audit";
import { byokKeys } from "../../store/schema";

export const ANTHROPIC_KEY_RE = /^sk-ant-[A-Za-z0-9_\-]{20,300}$/;

const aadOf = (workspaceId: number) => `byok:anthropic:ws:${workspaceId}`;

// Read on every run to pick the model: prepared.
const keyOf = prepared((db) => db.select().from(byokKeys).where(eq(byokKeys.workspaceId, sql.placeholder("workspaceId"))));

export function createByokService(store: Store, box: SecretBox) {
  const db = store.db;
  const select = async (workspaceId: number) => (await keyOf(store, { workspaceId }))[0];

  async function status(workspaceId: number) {
    const row = await select(workspaceId);
    return row
      ? { configured: true, provider: "anthropic" as const, last4: row.last4, createdAt: toIso(row.createdAt), updatedAt: toIso(row.updatedAt) }
      : { configured: false, provider: "anthropic" as const, last4: null, createdAt: null, updatedAt: null };
  }

  return {
    status: (ctx: Ctx) => status(ctx.workspaceId),

    async set(ctx: Ctx, input: { anthropicKey: string }) {
      assertRole(ctx, "admin", "manage the BYOK key");
      const key = input.anthropicKey.trim();
      if (!ANTHROPIC_KEY_RE.test(key)) throw new InvalidRequestError("anthropicKey must look like an Anthropic API key: sk-ant- then 20 to 300 letters, digits, - or _", "anthropicKey");
      return store.tx(async () => {
        const now = Date.now();
        const sealed = box.seal(key, aadOf(ctx.workspaceId));
        const last4 = key.slice(-4);
        await db
          .insert(byokKeys)
          .values({ workspaceId: ctx.workspaceId, provider: "anthropic", ciphertext: sealed, last4, createdAt: now, updatedAt: now })
          .onConflictDoUpdate({ target: byokKeys.workspaceId, set: { ciphertext: sealed, last4, updatedAt: now } });
        await writeAudit(store, ctx, { action: "byok.set", resourceType: "byok", resourceId: "anthropic", metadata: { last4 } });
        return status(ctx.workspaceId);
      });
    },

    async remove(ctx: Ctx) {
      assertRole(ctx, "admin", "manage the BYOK key");
      return store.tx(async () => {
        const gone = (await db.delete(byokKeys).where(eq(byokKeys.workspaceId, ctx.workspaceId)).returning({ w: byokKeys.workspaceId })).length > 0;
        if (gone) await writeAudit(store, ctx, { action: "byok.delete", resourceType: "byok", resourceId: "anthropic" });
        return status(ctx.workspaceId);
      });
    },

    /** For the executor: the workspace's own Anthropic key, if it brought one. */
    async anthropicKey(workspaceId: number): Promise<string | null> {
      const row = await select(workspaceId);
      return row ? box.open(row.ciphertext, aadOf(workspaceId)) : null;
    },
  };
}

export type ByokService = ReturnType<typeof createByokService>;
