// Workspace secrets: sealed with the master key at rest, never returned, bound to skills as env vars (a skill's
// ANTHROPIC_API_KEY or OPENAI_API_KEY is the key its runs use).
import { and, eq, inArray, sql } from "drizzle-orm";
import { assertRole, type Ctx } from "../../lib/context";
import { ConflictError, InvalidRequestError, NotFoundError } from "../../lib/errors";
import { encodeId } from "../../lib/ids";
import { toIso } from "../../lib/clock";
import type { SecretBox } from "../../lib/secret-box";
import type { Store } from "../../store/db";
import { writeAudit } from "../../store/audit";
import { workspaceRow } from "../../store/lookup";
import { workspacePage, type PageParams } from "../../store/paginate";
import { secrets, skillSecretBindings } from "../../store/schema";
import { prepared } from "../../store/prepared";
import type { SkillModelKeys } from "../../executor/providers";

export const SECRET_NAME_RE = /^[A-Za-z0-9_.\-]{1,100}$/;
export const SECRET_MAX_BYTES = 64 * 1024;

type SecretRow = typeof secrets.$inferSelect;

export function secretView(s: SecretRow) {
  return { id: encodeId("secret", s.id), name: s.name, workspaceId: encodeId("workspace", s.workspaceId), createdAt: toIso(s.createdAt)!, updatedAt: toIso(s.updatedAt)! };
}

/** Associated data: a sealed value opens only for the workspace it was sealed for. */
const aadOf = (workspaceId: number) => `secret:ws:${workspaceId}`;

// Read at every run's start (and at its POST): prepared.
const boundModelKeys = prepared((db) =>
  db
    .select({ id: secrets.id, envVar: skillSecretBindings.envVar, ciphertext: secrets.ciphertext })
    .from(skillSecretBindings)
    .innerJoin(secrets, eq(secrets.id, skillSecretBindings.secretId))
    .where(
      and(
        eq(skillSecretBindings.workspaceId, sql.placeholder("workspaceId")),
        eq(skillSecretBindings.skillSlug, sql.placeholder("slug")),
        inArray(skillSecretBindings.envVar, ["ANTHROPIC_API_KEY", "OPENAI_API_KEY"]),
      ),
    ),
);

export function createSecretsService(store: Store, box: SecretBox) {
  const db = store.db;

  function checkName(name: string): void {
    if (!SECRET_NAME_RE.test(name)) throw new InvalidRequestError("name must be 1–100 of A-Z, a-z, 0-9, '_', '.', '-'", "name");
  }
  function checkValue(value: string): void {
    if (value.length === 0) throw new InvalidRequestError("value must not be empty", "value");
    if (Buffer.byteLength(value) > SECRET_MAX_BYTES) throw new InvalidRequestError(`value is limited to ${SECRET_MAX_BYTES} bytes`, "value");
  }
  async function nameTaken(ctx: Ctx, name: string, exceptId?: number): Promise<boolean> {
    const [row] = await db.select({ id: secrets.id }).from(secrets).where(and(eq(secrets.workspaceId, ctx.workspaceId), eq(secrets.name, name)));
    return row !== undefined && row.id !== exceptId;
  }
  const find = (ctx: Ctx, ref: string): Promise<SecretRow> => workspaceRow(db, secrets, "secret", "secret", ctx.workspaceId, ref);

  return {
    async list(ctx: Ctx, p: PageParams) {
      const page = await workspacePage(db, secrets, ctx.workspaceId, p);
      return { rows: page.rows.map(secretView), hasMore: page.hasMore };
    },

    get: async (ctx: Ctx, ref: string) => secretView(await find(ctx, ref)),

    /** Runs inside the caller's idempotency transaction (a savepoint of it). */
    create(ctx: Ctx, input: { name: string; value: string }) {
      assertRole(ctx, "admin", "manage secrets");
      checkName(input.name);
      checkValue(input.value);
      return store.tx(async () => {
        if (await nameTaken(ctx, input.name)) throw new ConflictError(`A secret named ${input.name} already exists`, "SECRET_EXISTS");
        const now = Date.now();
        const [row] = await db
          .insert(secrets)
          .values({ workspaceId: ctx.workspaceId, name: input.name, ciphertext: box.seal(input.value, aadOf(ctx.workspaceId)), createdAt: now, updatedAt: now })
          .returning();
        const view = secretView(row!);
        await writeAudit(store, ctx, { action: "secret.create", resourceType: "secret", resourceId: view.id, metadata: { name: input.name } });
        return view;
      });
    },

    async update(ctx: Ctx, ref: string, input: { name?: string; value?: string }) {
      const row = await find(ctx, ref);
      assertRole(ctx, "admin", "manage secrets");
      if (input.name !== undefined) checkName(input.name);
      if (input.value !== undefined) checkValue(input.value);
      // Renamed to the name it has, and no new value: nothing changes, so nothing is written or audited.
      const rename = input.name !== undefined && input.name !== row.name ? input.name : undefined;
      if (rename === undefined && input.value === undefined) return secretView(row);
      return store.tx(async () => {
        if (rename !== undefined && (await nameTaken(ctx, rename, row.id))) throw new ConflictError(`A secret named ${rename} already exists`, "SECRET_EXISTS");
        const set: Partial<SecretRow> = { updatedAt: Date.now() };
        if (rename !== undefined) set.name = rename;
        if (input.value !== undefined) set.ciphertext = box.seal(input.value, aadOf(ctx.workspaceId));
        const [updated] = await db.update(secrets).set(set).where(eq(secrets.id, row.id)).returning();
        if (!updated) throw new NotFoundError("secret", ref); // deleted while this request waited
        const view = secretView(updated);
        await writeAudit(store, ctx, {
          action: "secret.update",
          resourceType: "secret",
          resourceId: view.id,
          metadata: { fields: [...(rename !== undefined ? ["name"] : []), ...(input.value !== undefined ? ["value"] : [])], name: updated.name },
        });
        return view;
      });
    },

    /** Deletes the secret and every binding of it. */
    async remove(ctx: Ctx, ref: string) {
      const row = await find(ctx, ref);
      assertRole(ctx, "admin", "manage secrets");
      return store.tx(async () => {
        const unbound = (await db.delete(skillSecretBindings).where(eq(skillSecretBindings.secretId, row.id)).returning({ id: skillSecretBindings.id })).length;
        const deleted = await db.delete(secrets).where(eq(secrets.id, row.id)).returning({ id: secrets.id });
        if (deleted.length === 0) throw new NotFoundError("secret", ref); // deleted while this request waited
        const view = secretView(row);
        await writeAudit(store, ctx, { action: "secret.delete", resourceType: "secret", resourceId: view.id, metadata: { name: row.name, bindingsRemoved: unbound } });
        return { id: view.id, deleted: true as const, bindingsRemoved: unbound };
      });
    },

    /**
     * The model keys bound to a skill (as ANTHROPIC_API_KEY or OPENAI_API_KEY), opened in memory only: its runs use
     * them, as a workspace's BYOK key is used (chooseProvider). Other bound variables have nothing to reach here: a
     * run is a model call, not a process with an environment.
     */
    async modelKeysFor(workspaceId: number, slug: string): Promise<SkillModelKeys> {
      const rows = await boundModelKeys(store, { workspaceId, slug });
      const keys: SkillModelKeys = {};
      for (const r of rows) {
        // Trimmed: fetch sends a header without the spaces or line break a pasted value often ends with, and a key
        // echoed back by the provider is looked for (and hidden) as it was sent.
        const key = box.open(r.ciphertext, aadOf(workspaceId)).trim();
        // Anything else a header cannot carry failed the run as a broken stream, naming nothing.
        if (!/^[\x21-\x7e]+$/.test(key))
          throw new InvalidRequestError(
            `The secret ${encodeId("secret", r.id)} bound to ${slug} as ${r.envVar} holds a space, line break or other character an API key cannot have: replace its value (PATCH /api/v1/secrets/${encodeId("secret", r.id)})`,
            undefined,
            "MODEL_KEY_INVALID",
          );
        keys[r.envVar === "ANTHROPIC_API_KEY" ? "anthropic" : "openai"] = key;
      }
      return keys;
    },
  };
}

export type SecretsService = ReturnType<typeof createSecretsService>;
