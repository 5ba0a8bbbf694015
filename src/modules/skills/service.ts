// A workspace's installed skills and the secrets bound to them as environment variables.
import { and, eq, isNull } from "drizzle-orm";
import { assertRole, type Ctx } from "../../lib/context";
import { ConflictError, InvalidRequestError, NotFoundError } from "../../lib/errors";
import { decodeId, encodeId } from "../../lib/ids";
import { toIso } from "../../lib/clock";
import type { Store } from "../../store/db";
import { writeAudit } from "../../store/audit";
import { cursorOrder, cursorWhere, finishPage, workspacePage, type PageParams } from "../../store/paginate";
import { installedSkills, secrets, skillSecretBindings } from "../../store/schema";
import type { Catalog, Skill } from "./catalog";
import { skillSummary } from "../marketplace/service";

export const ENV_VAR_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

type BindingRow = typeof skillSecretBindings.$inferSelect;

export function bindingView(b: BindingRow, secretName: string) {
  return {
    id: encodeId("binding", b.id),
    skillSlug: b.skillSlug,
    secretId: encodeId("secret", b.secretId),
    secretName,
    envVar: b.envVar,
    workspaceId: encodeId("workspace", b.workspaceId),
    createdAt: toIso(b.createdAt)!,
  };
}

export function createSkillsService(store: Store, catalog: Catalog) {
  const db = store.db;

  function skill(slug: string): Skill {
    const s = catalog.bySlug.get(slug);
    if (!s) throw new NotFoundError("skill", slug);
    return s;
  }

  /** The skill as lists show it, also once it has left the catalog (a folder removed from CLANKER_SKILLS_DIR). */
  function summaryOf(slug: string) {
    const s = catalog.bySlug.get(slug);
    const base = s
      ? skillSummary(s)
      : { id: slug, slug, name: slug, description: "This skill is no longer in the catalog", category: "General", license: null, source: { repository: null, path: null, url: null } };
    return { ...base, available: s !== undefined };
  }

  function installedView(slug: string, installedAt: number) {
    return { ...summaryOf(slug), installed: true, installedAt: toIso(installedAt)! };
  }

  /**
   * 404 unless the slug is a skill of the catalog or one this workspace still holds (installed, or with secrets bound
   * to it) after it left the catalog: what is listed can be uninstalled and unbound.
   */
  async function requireKnown(ctx: Ctx, slug: string): Promise<void> {
    if (catalog.bySlug.has(slug) || (await installedRow(ctx, slug))) return;
    const [bound] = await db
      .select({ id: skillSecretBindings.id })
      .from(skillSecretBindings)
      .where(and(eq(skillSecretBindings.workspaceId, ctx.workspaceId), eq(skillSecretBindings.skillSlug, slug)))
      .limit(1);
    if (!bound) throw new NotFoundError("skill", slug);
  }

  /** The skill's row in the workspace, installed or uninstalled (a tombstone: see uninstall). */
  async function anyRow(ctx: Ctx, slug: string) {
    const [row] = await db.select().from(installedSkills).where(and(eq(installedSkills.workspaceId, ctx.workspaceId), eq(installedSkills.slug, slug)));
    return row;
  }

  async function installedRow(ctx: Ctx, slug: string) {
    const row = await anyRow(ctx, slug);
    return row?.uninstalledAt === null ? row : undefined;
  }

  return {
    skill,

    isInstalled: async (ctx: Ctx, slug: string) => (await installedRow(ctx, slug)) !== undefined,

    /**
     * Newest install first; cursors are slugs. A skill uninstalled since its page was read still marks its place,
     * so a client paging through does not fail halfway because someone uninstalled the last skill it saw.
     */
    async listInstalled(ctx: Ctx, q: PageParams<string>) {
      const toId = async (slug: string | undefined, param: string) => {
        if (slug === undefined) return undefined;
        const row = await anyRow(ctx, slug);
        if (!row) throw new InvalidRequestError(`${param} '${slug}' is not a skill installed in this workspace`, param);
        return row.id;
      };
      const p: PageParams = { limit: q.limit, afterId: await toId(q.afterId, "after_id"), beforeId: await toId(q.beforeId, "before_id") };
      const page = await workspacePage(db, installedSkills, ctx.workspaceId, p, isNull(installedSkills.uninstalledAt));
      return { rows: page.rows.map((r) => installedView(r.slug, r.installedAt)), hasMore: page.hasMore };
    },

    /** Installing twice is harmless: the second call changes and audits nothing. */
    install(ctx: Ctx, slug: string) {
      assertRole(ctx, "admin", "install skills");
      skill(slug);
      return store.tx(async () => {
        const existing = await anyRow(ctx, slug);
        if (existing?.uninstalledAt === null) return installedView(slug, existing.installedAt);
        const now = Date.now();
        // A reinstall is a new row, so the skill lists as the newest install again.
        if (existing) await db.delete(installedSkills).where(eq(installedSkills.id, existing.id));
        await db.insert(installedSkills).values({ workspaceId: ctx.workspaceId, slug, installedAt: now });
        await writeAudit(store, ctx, { action: "skill.install", resourceType: "skill", resourceId: slug });
        return installedView(slug, now);
      });
    },

    async uninstall(ctx: Ctx, slug: string) {
      assertRole(ctx, "admin", "uninstall skills");
      await requireKnown(ctx, slug);
      return store.tx(async () => {
        const existing = await installedRow(ctx, slug);
        if (existing) {
          await db.update(installedSkills).set({ uninstalledAt: Date.now() }).where(eq(installedSkills.id, existing.id));
          await writeAudit(store, ctx, { action: "skill.uninstall", resourceType: "skill", resourceId: slug });
        }
        return { ...summaryOf(slug), installed: false, installedAt: null };
      });
    },

    /** One page of a skill's bindings, newest first (the spec's rule for every list). */
    async listBindings(ctx: Ctx, slug: string, p: PageParams) {
      await requireKnown(ctx, slug);
      const rows = await db
        .select({ b: skillSecretBindings, name: secrets.name })
        .from(skillSecretBindings)
        .innerJoin(secrets, eq(secrets.id, skillSecretBindings.secretId))
        .where(and(eq(skillSecretBindings.workspaceId, ctx.workspaceId), eq(skillSecretBindings.skillSlug, slug), cursorWhere(skillSecretBindings.id, p)))
        .orderBy(cursorOrder(skillSecretBindings.id, p))
        .limit(p.limit + 1);
      const page = finishPage(rows, p);
      return { rows: page.rows.map((r) => bindingView(r.b, r.name)), hasMore: page.hasMore };
    },

    async bind(ctx: Ctx, slug: string, input: { secretId: string | number; envVar: string }) {
      skill(slug);
      assertRole(ctx, "admin", "bind secrets");
      if (!ENV_VAR_RE.test(input.envVar))
        throw new InvalidRequestError("envVar must be a valid environment variable name (letters, digits, '_'; not starting with a digit)", "envVar");
      const secretId = decodeId("secret", String(input.secretId));
      const [secret] =
        secretId === null ? [] : await db.select().from(secrets).where(and(eq(secrets.id, secretId), eq(secrets.workspaceId, ctx.workspaceId)));
      if (!secret) throw new NotFoundError("secret", String(input.secretId));
      return store.tx(async () => {
        const [clash] = await db
          .select()
          .from(skillSecretBindings)
          .where(and(eq(skillSecretBindings.workspaceId, ctx.workspaceId), eq(skillSecretBindings.skillSlug, slug), eq(skillSecretBindings.envVar, input.envVar)));
        if (clash) {
          if (clash.secretId === secret.id) return bindingView(clash, secret.name);
          throw new ConflictError(`${input.envVar} is already bound for ${slug}; remove that binding first`, "BINDING_EXISTS");
        }
        const [row] = await db
          .insert(skillSecretBindings)
          .values({ workspaceId: ctx.workspaceId, skillSlug: slug, secretId: secret.id, envVar: input.envVar, createdAt: Date.now() })
          .returning();
        const view = bindingView(row!, secret.name);
        await writeAudit(store, ctx, { action: "skill.secret.bind", resourceType: "skill_secret_binding", resourceId: view.id, metadata: { skill: slug, secretId: view.secretId, envVar: input.envVar } });
        return view;
      });
    },

    async unbind(ctx: Ctx, slug: string, ref: string) {
      await requireKnown(ctx, slug);
      const id = decodeId("binding", ref);
      const [row] =
        id === null
          ? []
          : await db
              .select({ b: skillSecretBindings, name: secrets.name })
              .from(skillSecretBindings)
              .innerJoin(secrets, eq(secrets.id, skillSecretBindings.secretId))
              .where(and(eq(skillSecretBindings.id, id), eq(skillSecretBindings.workspaceId, ctx.workspaceId), eq(skillSecretBindings.skillSlug, slug)));
      if (!row) throw new NotFoundError("secret binding", ref);
      // After the lookup: another workspace's binding is a 404 to whoever asks.
      assertRole(ctx, "admin", "unbind secrets");
      return store.tx(async () => {
        const deleted = await db.delete(skillSecretBindings).where(eq(skillSecretBindings.id, row.b.id)).returning({ id: skillSecretBindings.id });
        if (deleted.length === 0) throw new NotFoundError("secret binding", ref); // removed while this request waited
        const view = bindingView(row.b, row.name);
        await writeAudit(store, ctx, { action: "skill.secret.unbind", resourceType: "skill_secret_binding", resourceId: view.id, metadata: { skill: slug, envVar: row.b.envVar } });
        return { ...view, deleted: true };
      });
    },
  };
}

export type SkillsService = ReturnType<typeof createSkillsService>;
