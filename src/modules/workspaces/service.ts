// Workspaces, their members, and which workspace an API key is bound to.
import { and, eq, or } from "drizzle-orm";
import type { Ctx, Role } from "../../lib/context";
import { ConflictError, InvalidRequestError, NotFoundError, PermissionError } from "../../lib/errors";
import { decodeId, encodeId } from "../../lib/ids";
import { toIso } from "../../lib/clock";
import type { Store, TxOptions } from "../../store/db";
import { writeAudit } from "../../store/audit";
import { cursorOrder, cursorWhere, finishPage, type PageParams } from "../../store/paginate";
import { apiKeys, memberships, users, workspaces } from "../../store/schema";
import { CURRENT, insertOwnedWorkspace, reservedSlug, type WorkspaceRow } from "./insert";
import { plainName } from "../../lib/display-name";
import { refuseAppKey } from "../api-keys/service";

/** A key refused a workspace its person belongs to: what it is bound to, and the ways to act in the other one. */
function keyBoundElsewhere(ctx: Ctx, target: string): PermissionError {
  const own = encodeId("workspace", ctx.workspaceId);
  const rebind = ctx.actor.kind === "apiKey" && !ctx.actor.app ? `move this key there with PUT /api/v1/workspaces/current {"workspace":"${target}"}, ` : "";
  return new PermissionError(
    `This API key is bound to workspace ${own} and acts there only. To act in ${target}: ${rebind}use a key made in ${target} (POST /api/v1/api-keys from a session with x-workspace-id: ${target}), or a session with x-workspace-id: ${target}`,
    "KEY_BOUND_TO_OTHER_WORKSPACE",
  );
}

/** What services need of the auth cache: evict a key whose binding changed. */
export interface KeyCache {
  forgetKey(hash: string): void;
}

/**
 * Creating a workspace inserts new rows only (the workspace, its owner's membership, the audit row, the stored answer),
 * and the slug's uniqueness is the index's: under READ COMMITTED an insert on a slug another transaction has just
 * written waits for that one's COMMIT, then finds the conflict (TxOptions.readCommitted). SERIALIZABLE added nothing
 * but its predicate locks and their bookkeeping at COMMIT. The route passes it to idempotent() too, whose
 * transaction is the outer one.
 */
export const CREATING: TxOptions = { readCommitted: true };
/** create()'s own tx: it runs inside the request's idempotency transaction, whose savepoint its errors roll back. */
const CREATE_TX: TxOptions = { ...CREATING, join: true };

/** A person's own personal workspace: the personal one they own (they may be a member of someone else's too). */
export async function ownPersonalWorkspace(store: Store, userId: number): Promise<WorkspaceRow | undefined> {
  const [row] = await store.db
    .select({ w: workspaces })
    .from(workspaces)
    .innerJoin(memberships, eq(memberships.workspaceId, workspaces.id))
    .where(and(eq(memberships.userId, userId), eq(workspaces.personal, true), eq(memberships.role, "owner")))
    .orderBy(workspaces.id)
    .limit(1);
  return row?.w;
}

export const SLUG_RE = /^[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?$/;

/**
 * `personal`: the caller's own personal workspace, the one made with their account, which only they own; another
 * person's, where the caller is a member or admin, is not personal to them.
 */
export function workspaceView(ws: WorkspaceRow, role: Role) {
  return { id: encodeId("workspace", ws.id), name: ws.name, slug: ws.slug, role, personal: ws.personal && role === "owner", createdAt: toIso(ws.createdAt)! };
}

export function createWorkspacesService(store: Store, keyCache: KeyCache) {
  const db = store.db;

  function userOf(ctx: Ctx): number {
    if (ctx.actor.userId === null) throw new PermissionError("This credential belongs to no user; claim it first", "USER_REQUIRED");
    return ctx.actor.userId;
  }

  async function memberRole(workspaceId: number, userId: number): Promise<Role | undefined> {
    const [row] = await db
      .select({ role: memberships.role })
      .from(memberships)
      .where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)));
    return row?.role;
  }

  /** "ws_2", "2" or a slug → the workspace, if the user belongs to it (else 404: no existence leak). */
  async function resolveForUser(ref: string, userId: number): Promise<{ ws: WorkspaceRow; role: Role }> {
    const id = decodeId("workspace", ref);
    // An id may equal another workspace's slug ("2"): the lowest id wins, the same on every store.
    const [row] = await db
      .select({ ws: workspaces, role: memberships.role })
      .from(workspaces)
      .innerJoin(memberships, and(eq(memberships.workspaceId, workspaces.id), eq(memberships.userId, userId)))
      .where(id !== null ? or(eq(workspaces.id, id), eq(workspaces.slug, ref)) : eq(workspaces.slug, ref))
      .orderBy(workspaces.id)
      .limit(1);
    if (!row) throw new NotFoundError("workspace", ref);
    return row;
  }

  /**
   * The workspace a /workspaces/:id route names, and the ctx to act in it. A key acts in its own workspace only
   * (another is a 404, or a 403 saying what to do when its person belongs there); a person in any workspace they
   * belong to, with the role they hold there: the spec names the workspace in the path, with no x-workspace-id header.
   */
  async function actIn(ctx: Ctx, ref: string): Promise<{ ws: WorkspaceRow; ctx: Ctx }> {
    // As in GET /workspaces/current: the workspace the caller acts in, never one that took the word as its slug.
    if (ref === CURRENT) ref = encodeId("workspace", ctx.workspaceId);
    if (ctx.actor.kind === "user") {
      const { ws, role } = await resolveForUser(ref, ctx.actor.userId);
      return { ws, ctx: ws.id === ctx.workspaceId ? ctx : { ...ctx, workspaceId: ws.id, role } };
    }
    const id = decodeId("workspace", ref);
    const [ws] = await db.select().from(workspaces).where(eq(workspaces.id, ctx.workspaceId));
    if (ws && (id === ctx.workspaceId || ref === ws.slug)) return { ws, ctx };
    // The spec's walkthrough creates a workspace with a key, then manages it with that key: a bare 404 for a workspace
    // the key's own listing shows said it did not exist. Its person belongs there, so nothing leaks by saying why.
    // Anyone else's workspace stays a 404 (resolveForUser's, the same as before).
    if (ctx.actor.userId === null) throw new NotFoundError("workspace", ref);
    throw keyBoundElsewhere(ctx, encodeId("workspace", (await resolveForUser(ref, ctx.actor.userId)).ws.id));
  }

  async function current(ctx: Ctx) {
    const [ws] = await db.select().from(workspaces).where(eq(workspaces.id, ctx.workspaceId));
    if (!ws) throw new NotFoundError("workspace", encodeId("workspace", ctx.workspaceId));
    return workspaceView(ws, ctx.role);
  }

  return {
    current,

    async list(ctx: Ctx, p: PageParams) {
      if (ctx.actor.userId === null) return { rows: [await current(ctx)], hasMore: false };
      const rows = await db
        .select({ ws: workspaces, role: memberships.role })
        .from(workspaces)
        .innerJoin(memberships, eq(memberships.workspaceId, workspaces.id))
        .where(and(eq(memberships.userId, ctx.actor.userId), cursorWhere(workspaces.id, p)))
        .orderBy(cursorOrder(workspaces.id, p))
        .limit(p.limit + 1);
      const page = finishPage(rows, p);
      return { rows: page.rows.map((r) => workspaceView(r.ws, r.role)), hasMore: page.hasMore };
    },

    /** Runs inside the caller's idempotency transaction, joining it (CREATE_TX). */
    create(ctx: Ctx, input: { name: string; slug?: string }) {
      const userId = userOf(ctx);
      const name = plainName(input.name);
      if (input.slug !== undefined && !SLUG_RE.test(input.slug))
        throw new InvalidRequestError("slug must be 1–48 of a-z, 0-9 and '-', not starting or ending with '-'", "slug");
      const reserved = input.slug === undefined ? null : reservedSlug(input.slug);
      if (reserved) throw new InvalidRequestError(`slug '${input.slug}' would read as ${reserved} in /workspaces/:id paths; choose ${input.slug === CURRENT ? "another" : "one with a letter in it"}`, "slug", "SLUG_RESERVED");
      return store.tx(async () => {
        const fields = { name, personal: false, userId, now: Date.now() };
        const ws = await insertOwnedWorkspace(store, input.slug === undefined ? { ...fields, slugFrom: name } : { ...fields, slug: input.slug });
        if (!ws) throw new ConflictError(`The slug '${input.slug}' is taken`, "SLUG_TAKEN");
        const slug = ws.slug;
        const view = workspaceView(ws, "owner");
        await writeAudit(store, { ...ctx, workspaceId: ws.id, role: "owner" }, {
          action: "workspace.create",
          resourceType: "workspace",
          resourceId: view.id,
          metadata: { name, slug, fromWorkspaceId: encodeId("workspace", ctx.workspaceId) },
        });
        return view;
      }, CREATE_TX);
    },

    /** Rebinds the calling API key to another workspace its owner belongs to. */
    async rebindKey(ctx: Ctx, input: { workspace: string }) {
      if (ctx.actor.kind !== "apiKey")
        throw new InvalidRequestError("Only an API key can be rebound; sessions switch with the x-workspace-id header", "workspace");
      const keyId = ctx.actor.apiKeyId;
      const target = await resolveForUser(input.workspace, ctx.actor.userId);
      if (target.ws.id !== ctx.workspaceId) await refuseAppKey(store, keyId, "move to another workspace");
      return store.tx(async () => {
        const [key] = await db.select().from(apiKeys).where(eq(apiKeys.id, keyId));
        // Already bound there: nothing changes, so nothing is written or audited.
        if (key!.workspaceId === target.ws.id) return workspaceView(target.ws, target.role);
        await db.update(apiKeys).set({ workspaceId: target.ws.id }).where(eq(apiKeys.id, keyId));
        const entry = {
          action: "api_key.rebind",
          resourceType: "api_key",
          resourceId: encodeId("apiKey", keyId),
          metadata: { from: encodeId("workspace", key!.workspaceId), to: encodeId("workspace", target.ws.id) },
        };
        await writeAudit(store, ctx, entry);
        if (target.ws.id !== ctx.workspaceId) await writeAudit(store, { ...ctx, workspaceId: target.ws.id, role: target.role }, entry);
        const hash = key!.keyHash;
        keyCache.forgetKey(hash);
        // Again once committed: a reader between the eviction and the COMMIT may have cached the old binding.
        store.afterCommit(() => keyCache.forgetKey(hash));
        return workspaceView(target.ws, target.role);
      });
    },

    async members(ctx: Ctx, ref: string, p: PageParams) {
      const { ws } = await actIn(ctx, ref);
      // Newest member first, as every list is newest first: in the order they joined (the membership's id), with
      // the member's user id as the cursor.
      const joinedAs = async (userId: number | undefined, param: string) => {
        if (userId === undefined) return undefined;
        const [m] = await db.select({ id: memberships.id }).from(memberships).where(and(eq(memberships.workspaceId, ws.id), eq(memberships.userId, userId)));
        if (!m) throw new InvalidRequestError(`${param} ${encodeId("user", userId)} is not a member of this workspace`, param);
        return m.id;
      };
      const byJoin: PageParams = { limit: p.limit, afterId: await joinedAs(p.afterId, "after_id"), beforeId: await joinedAs(p.beforeId, "before_id") };
      const rows = await db
        .select({ m: memberships, u: users })
        .from(memberships)
        .innerJoin(users, eq(users.id, memberships.userId))
        .where(and(eq(memberships.workspaceId, ws.id), cursorWhere(memberships.id, byJoin)))
        .orderBy(cursorOrder(memberships.id, byJoin))
        .limit(p.limit + 1);
      const page = finishPage(rows, p);
      return {
        rows: page.rows.map((r) => ({
          id: encodeId("user", r.u.id),
          email: r.u.email,
          name: r.u.name,
          role: r.m.role,
          joinedAt: toIso(r.m.createdAt)!,
        })),
        hasMore: page.hasMore,
      };
    },

    memberRole,
    actIn,
  };
}

export type WorkspacesService = ReturnType<typeof createWorkspacesService>;
