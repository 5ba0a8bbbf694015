// Workspace secrets: sealed with the master key at rest, never returned, bound to skills as env vars.
import { and, eq } from "drizzle-orm";
import { assertRole, type Ctx } from "../../lib/context";
import { ConflictError, InvalidRequestError } from "../../lib/errors";
import { encodeId } from "../../lib/ids";
import { toIso } from "../../lib/clock";
import type { SecretBox } from "../../lib/secret-box";
import type { Store } from "../../store/db";
import { writeAudit } from "../../store/audit";
import { workspaceRow } from "../../store/lookup";
import { workspacePage, type PageParams } from "../../store/paginate";
import { secrets, skillSecretBindings } from "../../store/schema";

export const SECRET_NAME_RE = /^[A-Za-z0-9_.\-]{1,100}$/;
export const SECRET_MAX_BYTES = 64 * 1024;

type SecretRow = typeof secrets.$inferSelect;

export function secretView(s: SecretRow) {
  return { id: encodeId("secret", s.id), name: s.name, workspaceId: encodeId("workspace", s.workspaceId), createdAt: toIso(s.createdAt)!, updatedAt: toIso(s.updatedAt)! };
}

/** Associated data: a sealed value opens only for the workspace it was sealed for. */
const aadOf = (workspaceId: number) => `secret:ws:${workspaceId}`;

export function createSecretsService(store: Store, box: SecretBox) {
  const db = store.db;

  function checkName(name: string): void {
    if (!SECRET_NAME_RE.test(name)) throw new InvalidRequestError("name must be 1–100 of A-Z, a-z, 0-9, '_', '.', '-'", "name");
  }
  function checkValue(value: string): void {
    if (value.length === 0) throw new InvalidRequestError("value must not be empty", "value");
    if (Buffer.byteLength(value) > SECRET_MAX_BYTES) throw new InvalidRequestError(`value is limited to ${SECRET_MAX_BYTES} bytes`, "value");
  }
  function nameTaken(ctx: Ctx, name: string, exceptId?: number): boolean {
    const row = db.select({ id: secrets.id }).from(secrets).where(and(eq(secrets.workspaceId, ctx.workspaceId), eq(secrets.name, name))).get();
    return row !== undefined && row.id !== exceptId;
  }
  const find = (ctx: Ctx, ref: string): SecretRow => workspaceRow(db, secrets, "secret", "secret", ctx.workspaceId, ref);

  return {
    list(ctx: Ctx, p: PageParams) {
      const page = workspacePage(db, secrets, ctx.workspaceId, p);
      return { rows: page.rows.map(secretView), hasMore: page.hasMore };
    },

    get: (ctx: Ctx, ref: string) => secretView(find(ctx, ref)),

    /** Synchronous: runs inside the caller's idempotency transaction. */
    create(ctx: Ctx, input: { name: string; value: string }) {
      assertRole(ctx, "admin", "manage secrets");
      checkName(input.name);
      checkValue(input.value);
      return store.tx(() => {
        if (nameTaken(ctx, input.name)) throw new ConflictError(`A secret named ${input.name} already exists`, "SECRET_EXISTS");
        const now = Date.now();
        const row = db
          .insert(secrets)
          .values({ workspaceId: ctx.workspaceId, name: input.name, ciphertext: box.seal(input.value, aadOf(ctx.workspaceId)), createdAt: now, updatedAt: now })
          .returning()
          .get();
        const view = secretView(row);
        writeAudit(store, ctx, { action: "secret.create", resourceType: "secret", resourceId: view.id, metadata: { name: input.name } });
        return view;
      });
    },

    update(ctx: Ctx, ref: string, input: { name?: string; value?: string }) {
      const row = find(ctx, ref);
      assertRole(ctx, "admin", "manage secrets");
      if (input.name !== undefined) checkName(input.name);
      if (input.value !== undefined) checkValue(input.value);
      return store.tx(() => {
        if (input.name !== undefined && nameTaken(ctx, input.name, row.id)) throw new ConflictError(`A secret named ${input.name} already exists`, "SECRET_EXISTS");
        const set: Partial<SecretRow> = { updatedAt: Date.now() };
        if (input.name !== undefined) set.name = input.name;
        if (input.value !== undefined) set.ciphertext = box.seal(input.value, aadOf(ctx.workspaceId));
        const updated = db.update(secrets).set(set).where(eq(secrets.id, row.id)).returning().get();
        const view = secretView(updated);
        writeAudit(store, ctx, {
          action: "secret.update",
          resourceType: "secret",
          resourceId: view.id,
          metadata: { fields: Object.keys(input).filter((k) => k === "name" || k === "value"), name: updated.name },
        });
        return view;
      });
    },

    /** Deletes the secret and every binding of it. */
    remove(ctx: Ctx, ref: string) {
      const row = find(ctx, ref);
      assertRole(ctx, "admin", "manage secrets");
      return store.tx(() => {
        const unbound = db.delete(skillSecretBindings).where(eq(skillSecretBindings.secretId, row.id)).returning({ id: skillSecretBindings.id }).all().length;
        db.delete(secrets).where(eq(secrets.id, row.id)).run();
        const view = secretView(row);
        writeAudit(store, ctx, { action: "secret.delete", resourceType: "secret", resourceId: view.id, metadata: { name: row.name, bindingsRemoved: unbound } });
        return { id: view.id, deleted: true as const, bindingsRemoved: unbound };
      });
    },

    /** For the executor: a skill's bound secrets as env vars, opened in memory only. */
    envFor(ctx: Ctx, slug: string): Record<string, string> {
      const rows = db
        .select({ envVar: skillSecretBindings.envVar, ciphertext: secrets.ciphertext })
        .from(skillSecretBindings)
        .innerJoin(secrets, eq(secrets.id, skillSecretBindings.secretId))
        .where(and(eq(skillSecretBindings.workspaceId, ctx.workspaceId), eq(skillSecretBindings.skillSlug, slug)))
        .all();
      return Object.fromEntries(rows.map((r) => [r.envVar, box.open(r.ciphertext, aadOf(ctx.workspaceId))]));
    },
  };
}

export type SecretsService = ReturnType<typeof createSecretsService>;
