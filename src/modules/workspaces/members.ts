// Changing who is in a workspace: an owner or admin changes a member's role or removes them; anyone may leave.
// Owners are the owners' to change (an admin can neither make one nor demote or remove one), and a workspace
// always keeps an owner. A removed member's keys bound to it are revoked with the removal: they could not act
// there any more, and an invitation later must not bring them back to life.
import { and, eq, isNull } from "drizzle-orm";
import { assertRole, type Ctx, type Role } from "../../lib/context";
import { ConflictError, InvalidRequestError, NotFoundError, PermissionError } from "../../lib/errors";
import { decodeId, encodeId } from "../../lib/ids";
import { toIso } from "../../lib/clock";
import type { Store } from "../../store/db";
import { writeAudit } from "../../store/audit";
import { apiKeys, invitations, memberships, users } from "../../store/schema";
import type { WorkspaceRow } from "./insert";
import type { KeyCache, WorkspacesService } from "./service";

type Member = { userId: number; role: Role; email: string | null; name: string; joinedAt: number };

/**
 * Whether `userId` still belongs to the workspace: asked where a key is minted on a person's approval given earlier
 * (a device code, an OAuth code), so a member removed since gets none (it was bound there, and an invitation later
 * brought it back to life).
 */
export async function stillMember(store: Store, workspaceId: number, userId: number): Promise<boolean> {
  const [m] = await store.db.select({ id: memberships.id }).from(memberships).where(and(eq(memberships.workspaceId, workspaceId), eq(memberships.userId, userId)));
  return m !== undefined;
}

export function createMembersService(store: Store, keyCache: KeyCache & { forgetAll(): void }, actIn: WorkspacesService["actIn"]) {
  const db = store.db;

  async function memberOf(ws: WorkspaceRow, ref: string): Promise<Member> {
    const userId = decodeId("user", ref);
    const [m] =
      userId === null
        ? []
        : await db
            .select({ userId: memberships.userId, role: memberships.role, email: users.email, name: users.name, joinedAt: memberships.createdAt })
            .from(memberships)
            .innerJoin(users, eq(users.id, memberships.userId))
            .where(and(eq(memberships.workspaceId, ws.id), eq(memberships.userId, userId)));
    if (!m) throw new NotFoundError("member", ref);
    return m;
  }

  /** Read inside the transaction that changes an owner, so two owners demoting each other cannot leave none. */
  async function refuseLastOwner(ws: WorkspaceRow, m: Member, what: string, leaving = false): Promise<void> {
    if (m.role !== "owner") return;
    const owners = await db.select({ userId: memberships.userId }).from(memberships).where(and(eq(memberships.workspaceId, ws.id), eq(memberships.role, "owner")));
    if (owners.length > 1) return;
    if (ws.personal)
      throw new ConflictError(leaving ? "A personal workspace keeps its owner: you cannot leave your own" : "A personal workspace keeps its owner: its owner's role cannot change, nor can it be removed", "LAST_OWNER");
    throw new ConflictError(`A workspace keeps at least one owner: make another member an owner first, then ${what}`, "LAST_OWNER");
  }

  function refuseOwnersBusiness(ctx: Ctx, m: Member, to?: Role): void {
    if ((m.role === "owner" || to === "owner") && ctx.role !== "owner")
      throw new PermissionError("Only workspace owners can make an owner, or change or remove one", "ROLE_REQUIRED");
  }

  const view = (m: Member, role: Role) => ({ id: encodeId("user", m.userId), email: m.email, name: m.name, role, joinedAt: toIso(m.joinedAt)! });

  /** Inside the change's tx: a sender's pending invitations, which admit nobody once they may no longer invite, withdrawn. */
  async function withdrawSent(ctx: Ctx, ws: WorkspaceRow, userId: number, reason: string): Promise<void> {
    const withdrawn = await db
      .update(invitations)
      .set({ status: "revoked" })
      .where(and(eq(invitations.workspaceId, ws.id), eq(invitations.invitedByUserId, userId), eq(invitations.status, "pending")))
      .returning({ id: invitations.id, email: invitations.email });
    for (const w of withdrawn) await writeAudit(store, ctx, { action: "invitation.revoke", resourceType: "invitation", resourceId: encodeId("invitation", w.id), metadata: { email: w.email, reason } });
  }

  /** Once committed, every cached role is read again, and open streams and MCP sessions ask again at once. */
  const rolesChanged = () => store.afterCommit(() => keyCache.forgetAll());

  return {
    async setRole(caller: Ctx, wsRef: string, userRef: string, role: Role) {
      const { ws, ctx } = await actIn(caller, wsRef);
      assertRole(ctx, "admin", "change members' roles");
      const m = await memberOf(ws, userRef);
      refuseOwnersBusiness(ctx, m, role);
      if (role === "owner" && ws.personal) throw new InvalidRequestError("A personal workspace has one owner, the person it was made for: make a shared workspace for several owners", "role", "PERSONAL_WORKSPACE");
      if (m.role === role) return view(m, role);
      return store.tx(async () => {
        const now = await memberOf(ws, userRef);
        refuseOwnersBusiness(ctx, now, role);
        if (role !== "owner") await refuseLastOwner(ws, now, `change ${now.email ?? encodeId("user", now.userId)}'s role`);
        await db.update(memberships).set({ role }).where(and(eq(memberships.workspaceId, ws.id), eq(memberships.userId, now.userId)));
        if (role === "member") await withdrawSent(ctx, ws, now.userId, "its sender may no longer invite");
        await writeAudit(store, ctx, { action: "member.update", resourceType: "membership", resourceId: encodeId("user", now.userId), metadata: { email: now.email, from: now.role, to: role } });
        rolesChanged();
        return view(now, role);
      });
    },

    /** Removes a member (owners and admins), or the caller themselves (leaving). */
    async remove(caller: Ctx, wsRef: string, userRef: string) {
      const { ws, ctx } = await actIn(caller, wsRef);
      const m = await memberOf(ws, userRef);
      const leaving = ctx.actor.userId === m.userId;
      if (!leaving) {
        assertRole(ctx, "admin", "remove members");
        refuseOwnersBusiness(ctx, m);
      }
      return store.tx(async () => {
        const now = await memberOf(ws, userRef);
        if (!leaving) refuseOwnersBusiness(ctx, now);
        await refuseLastOwner(ws, now, leaving ? "leave it" : `remove ${now.email ?? encodeId("user", now.userId)}`, leaving);
        await db.delete(memberships).where(and(eq(memberships.workspaceId, ws.id), eq(memberships.userId, now.userId)));
        await withdrawSent(ctx, ws, now.userId, leaving ? "its sender left" : "its sender was removed");
        const revoked = await db
          .update(apiKeys)
          .set({ revokedAt: Date.now() })
          .where(and(eq(apiKeys.workspaceId, ws.id), eq(apiKeys.userId, now.userId), isNull(apiKeys.revokedAt)))
          .returning({ id: apiKeys.id, name: apiKeys.name, keyHash: apiKeys.keyHash });
        await writeAudit(store, ctx, {
          action: leaving ? "member.leave" : "member.remove",
          resourceType: "membership",
          resourceId: encodeId("user", now.userId),
          metadata: { email: now.email, role: now.role, keysRevoked: revoked.map((k) => encodeId("apiKey", k.id)) },
        });
        for (const k of revoked) keyCache.forgetKey(k.keyHash);
        rolesChanged();
        return { id: encodeId("user", now.userId), deleted: true as const, keysRevoked: revoked.length };
      });
    },
  };
}

export type MembersService = ReturnType<typeof createMembersService>;
