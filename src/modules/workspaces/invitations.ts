// Invitations: an owner or admin invites an address with a role; the invited person, signed in with that
// address, accepts with the emailed token and becomes a member.
import { and, eq, gt, lt, ne, sql, type SQL } from "drizzle-orm";
import { assertRole, hasRole, type Ctx } from "../../lib/context";
import { ConflictError, InvalidRequestError, NotFoundError, PermissionError, RateLimitError } from "../../lib/errors";
import { decodeId, encodeId } from "../../lib/ids";
import { randomToken, sha256Hex } from "../../lib/crypto";
import { toIso } from "../../lib/clock";
import type { Store } from "../../store/db";
import { writeAudit } from "../../store/audit";
import { cursorOrder, cursorWhere, finishPage, type PageParams } from "../../store/paginate";
import { invitations, memberships, users, workspaces } from "../../store/schema";
import { normalizeEmail } from "../users/service";
import type { Mailer } from "../signin/mailer";
import { deliver } from "../signin/service";
import { workspaceView, type KeyCache, type WorkspacesService } from "./service";

export const INVITATION_TTL_MS = 7 * 24 * 3600 * 1000;
/**
 * Invitations mailed per hour to one address from one workspace, and by one person: anyone who can sign in can make a
 * workspace and invite, so without them an address could be sent a mail a second with a subject of the sender's
 * choosing. Per workspace, not per address alone: a stranger's three would have kept every other workspace from
 * inviting that address for an hour (and told it so).
 */
const INVITE_WINDOW_MS = 3600 * 1000;
export const INVITES_PER_ADDRESS = 3;
export const INVITES_PER_SENDER = 20;

type InvitationRow = typeof invitations.$inferSelect;

export function invitationView(i: InvitationRow) {
  return {
    id: encodeId("invitation", i.id),
    workspaceId: encodeId("workspace", i.workspaceId),
    email: i.email,
    role: i.role,
    status: i.status,
    expiresAt: toIso(i.expiresAt)!,
    createdAt: toIso(i.createdAt)!,
    acceptedAt: toIso(i.acceptedAt),
  };
}

export function createInvitationsService(store: Store, mailer: Mailer, keyCache: KeyCache & { forgetAll(): void }, actIn: WorkspacesService["actIn"]) {
  const db = store.db;

  /**
   * Whether a later invitation to the same address in the same workspace exists (so this one was replaced by it);
   * `live`: one not withdrawn, a correction still being mailed included (one that could not be mailed is withdrawn).
   */
  const replacedLater = async (inv: InvitationRow, live = false) =>
    (
      await db
        .select({ id: invitations.id })
        .from(invitations)
        .where(and(eq(invitations.workspaceId, inv.workspaceId), eq(invitations.email, inv.email), gt(invitations.id, inv.id), live ? ne(invitations.status, "revoked") : undefined))
        .limit(1)
    ).length > 0;

  /** 429 once `most` invitations matching `which` were made within the hour, until the oldest of them leaves it. */
  async function refuseTooMany(which: SQL, most: number, what: string): Promise<void> {
    const now = Date.now();
    const [n] = await db
      .select({ n: sql<number>`count(*)`.mapWith(Number), since: sql<number | null>`min(${invitations.createdAt})`.mapWith(Number) })
      .from(invitations)
      .where(and(which, gt(invitations.createdAt, now - INVITE_WINDOW_MS)));
    if (n!.n >= most) throw new RateLimitError(`${what}: invite again after the time in retry-after`, Math.max(1, Math.ceil((n!.since! + INVITE_WINDOW_MS - now) / 1000)));
  }

  const replacedError = (inv: InvitationRow) => new ConflictError(`A newer invitation to ${inv.email} replaced this one: accept the one in the latest mail`, "INVITATION_REPLACED");

  /** The invitation a token names, for a signed-in person, and who they are; refused when withdrawn or replaced. */
  const held = async (ctx: Ctx, token: string, verb: string) => {
    if (ctx.actor.kind !== "user") throw new PermissionError(`${verb} an invitation from a signed-in session`, "SESSION_REQUIRED");
    const [inv] = await db.select().from(invitations).where(eq(invitations.tokenHash, sha256Hex(token)));
    if (inv?.status === "revoked" && (await replacedLater(inv))) throw replacedError(inv);
    if (!inv) throw new NotFoundError("invitation");
    // A token that reached someone and was revoked since, not by a newer one: an owner or admin withdrew it.
    if (inv.status === "revoked") throw new PermissionError("This invitation was withdrawn: ask one of the workspace's owners or admins to invite you again", "INVITATION_WITHDRAWN");
    const [me] = await db.select().from(users).where(eq(users.id, ctx.actor.userId));
    // Accepted by this very person, still a member: the role they hold there (asked again, it answers as the first time).
    const [joined] =
      inv.status === "accepted" && me?.email === inv.email
        ? await db.select({ role: memberships.role }).from(memberships).where(and(eq(memberships.workspaceId, inv.workspaceId), eq(memberships.userId, me.id)))
        : [];
    return { inv, me, joinedAs: joined?.role ?? null };
  };
  const used = () => new ConflictError("This invitation was already accepted: ask one of the workspace's owners or admins for a new one", "INVITATION_USED");

  return {
    /** `base` is null when the server cannot name itself safely (see mailBaseUrl): the mail then has no link. */
    async invite(caller: Ctx, wsRef: string, input: { email: string; role: "admin" | "member" }, base: string | null) {
      const { ws, ctx } = await actIn(caller, wsRef);
      if (!hasRole(ctx, "admin")) throw new PermissionError("Only owners and admins invite members", "ROLE_REQUIRED");
      const email = normalizeEmail(input.email);
      const [existing] = await db
        .select({ id: memberships.id })
        .from(memberships)
        .innerJoin(users, eq(users.id, memberships.userId))
        .where(and(eq(memberships.workspaceId, ws.id), eq(users.email, email)))
        .limit(1);
      if (existing) throw new ConflictError(`${email} is already a member`, "ALREADY_MEMBER");
      const [sender] = ctx.actor.userId === null ? [] : await db.select({ name: users.name, email: users.email }).from(users).where(eq(users.id, ctx.actor.userId));
      const from = sender ? `${sender.name}${sender.email && sender.email !== sender.name ? ` (${sender.email})` : ""}` : "An owner";
      const token = `inv_${randomToken(24)}`;
      const row = await store.tx(async () => {
        // Counted in the transaction that adds one: invitations sent together cannot all pass the count.
        await refuseTooMany(and(eq(invitations.workspaceId, ws.id), eq(invitations.email, email))!, INVITES_PER_ADDRESS, `${email} was already invited to this workspace ${INVITES_PER_ADDRESS} times in the last hour`);
        if (ctx.actor.userId !== null) await refuseTooMany(eq(invitations.invitedByUserId, ctx.actor.userId), INVITES_PER_SENDER, `You sent ${INVITES_PER_SENDER} invitations in the last hour`);
        const now = Date.now();
        const [row] = await db
          .insert(invitations)
          .values({ workspaceId: ws.id, email, role: input.role, tokenHash: sha256Hex(token), invitedByUserId: ctx.actor.userId, status: "pending", expiresAt: now + INVITATION_TTL_MS, createdAt: now })
          .returning();
        await writeAudit(store, ctx, { action: "invitation.create", resourceType: "invitation", resourceId: encodeId("invitation", row!.id), metadata: { email, role: input.role } });
        return row!;
      });
      try {
        await deliver(mailer, {
          to: email,
          subject: `You are invited to "${ws.name}" on Clanker`,
          text: `${from} invited you to join the workspace "${ws.name}" as ${input.role} on ${base ?? "Clanker"}.\n\n${base ? `Open this link and sign in with this address to accept:\n\n${base}/invitations/accept#token=${token}\n\nOr a` : "A"}ccept over the API, signed in with this address:\n\ncurl -X POST ${base ?? "YOUR_CLANKER_URL"}/api/v1/invitations/accept -H "x-auth-token: YOUR_SESSION_TOKEN" -H "Content-Type: application/json" -d '{"token":"${token}"}'\n\nInvitation token: ${token}\nIt expires in 7 days.`,
        });
      } catch (e) {
        // Its token never left this server, so nobody can accept it: gone (audited), or every retry would leave one
        // behind, and count against the hourly caps though nothing was sent.
        await store.tx(async () => {
          await db.delete(invitations).where(eq(invitations.id, row.id));
          await writeAudit(store, ctx, { action: "invitation.revoke", resourceType: "invitation", resourceId: encodeId("invitation", row.id), metadata: { email, reason: "the invitation could not be mailed" } });
        });
        throw e;
      }
      // Mailed: the latest invitation to an address is the one that counts (a corrected role, say), so the earlier
      // ones can no longer be accepted, or an old admin invitation would outrank the correction. Not before the
      // mail went: a failed invite leaves the earlier ones as they were.
      await store.tx(async () => {
        const replaced = await db
          .update(invitations)
          .set({ status: "revoked" })
          .where(and(eq(invitations.workspaceId, ws.id), eq(invitations.email, email), eq(invitations.status, "pending"), lt(invitations.id, row.id)))
          .returning({ id: invitations.id });
        for (const r of replaced)
          await writeAudit(store, ctx, { action: "invitation.revoke", resourceType: "invitation", resourceId: encodeId("invitation", r.id), metadata: { email, reason: "replaced by a newer invitation", replacedBy: encodeId("invitation", row.id) } });
      });
      return invitationView(row);
    },

    /** Invitations not yet accepted, withdrawn or replaced (expired ones too, until withdrawn): owners and admins. */
    async pending(caller: Ctx, wsRef: string, p: PageParams) {
      const { ws, ctx } = await actIn(caller, wsRef);
      assertRole(ctx, "admin", "list invitations");
      const rows = await db
        .select()
        .from(invitations)
        .where(and(eq(invitations.workspaceId, ws.id), eq(invitations.status, "pending"), cursorWhere(invitations.id, p)))
        .orderBy(cursorOrder(invitations.id, p))
        .limit(p.limit + 1);
      const page = finishPage(rows, p);
      return { rows: page.rows.map(invitationView), hasMore: page.hasMore };
    },

    /** Withdraws a pending invitation (owners and admins): its token then admits nobody. Twice is harmless. */
    async withdraw(caller: Ctx, wsRef: string, ref: string) {
      const { ws, ctx } = await actIn(caller, wsRef);
      assertRole(ctx, "admin", "withdraw invitations");
      const id = decodeId("invitation", ref);
      return store.tx(async () => {
        const [inv] = id === null ? [] : await db.select().from(invitations).where(and(eq(invitations.id, id), eq(invitations.workspaceId, ws.id)));
        if (!inv) throw new NotFoundError("invitation", ref);
        if (inv.status === "accepted")
          throw new ConflictError(`This invitation was already accepted: remove the member instead (DELETE /api/v1/workspaces/${encodeId("workspace", ws.id)}/members/:userId)`, "INVITATION_USED");
        if (inv.status !== "pending") return invitationView(inv);
        const [row] = await db.update(invitations).set({ status: "revoked" }).where(eq(invitations.id, inv.id)).returning();
        await writeAudit(store, ctx, { action: "invitation.revoke", resourceType: "invitation", resourceId: encodeId("invitation", inv.id), metadata: { email: inv.email, reason: "withdrawn" } });
        return invitationView(row!);
      });
    },

    /**
     * What an invitation offers, for its invitee to read before accepting (the invitation page shows it): the
     * workspace, the role and who sent it. Refused as accepting it would be, so nobody else learns what it is for.
     */
    async preview(ctx: Ctx, token: string) {
      const { inv, me, joinedAs } = await held(ctx, token, "Read");
      // Its invitee, once they joined, reads it as accepted (the mail's link opened again); anyone else, as used.
      if (inv.status === "accepted" && joinedAs === null) throw used();
      if (joinedAs === null && inv.expiresAt <= Date.now()) throw new InvalidRequestError("This invitation has expired; ask for a new one", "token", "INVITATION_EXPIRED");
      if (!me || me.email !== inv.email) throw new PermissionError(`This invitation is for ${inv.email}; sign in with that address`, "WRONG_RECIPIENT");
      const [ws] = await db.select().from(workspaces).where(eq(workspaces.id, inv.workspaceId));
      const [sender] = inv.invitedByUserId === null ? [] : await db.select().from(users).where(eq(users.id, inv.invitedByUserId));
      return {
        ...invitationView(inv),
        workspace: { id: encodeId("workspace", ws!.id), name: ws!.name },
        invitedBy: sender ? { name: sender.name, email: sender.email } : null,
      };
    },

    async accept(ctx: Ctx, token: string) {
      const { inv, me, joinedAs } = await held(ctx, token, "Accept");
      if (inv.status === "accepted") {
        // The invitee asking again (a lost answer, a second click): their membership, as the first answer said.
        const [ws] = joinedAs === null ? [] : await db.select().from(workspaces).where(eq(workspaces.id, inv.workspaceId));
        if (ws) return workspaceView(ws, joinedAs!);
        throw used();
      }
      if (inv.expiresAt <= Date.now()) throw new InvalidRequestError("This invitation has expired; ask for a new one", "token", "INVITATION_EXPIRED");
      if (!me || me.email !== inv.email) throw new PermissionError(`This invitation is for ${inv.email}; sign in with that address`, "WRONG_RECIPIENT");
      const ws = await store.tx(async () => {
        const now = Date.now();
        // A correction sent since (a role changed) counts as soon as it exists, not only once its mail has gone and the
        // earlier ones are withdrawn: accepting the earlier one meanwhile would keep the role it corrects.
        if (await replacedLater(inv, true)) throw replacedError(inv);
        // What it grants is its sender's to give: an invitation whose sender is no longer an owner or admin there
        // (removed, or made a member) admits nobody, or a removed admin's invitations would keep adding admins.
        if (inv.invitedByUserId !== null) {
          const [sender] = await db.select({ role: memberships.role }).from(memberships).where(and(eq(memberships.workspaceId, inv.workspaceId), eq(memberships.userId, inv.invitedByUserId)));
          if (sender?.role !== "owner" && sender?.role !== "admin")
            throw new PermissionError("Whoever sent this invitation can no longer invite members to this workspace: ask one of its owners or admins to invite you again", "INVITATION_WITHDRAWN");
        }
        // Only a pending one: of two accepts racing past the checks above, one adds the member and audits.
        const accepted = await db
          .update(invitations)
          .set({ status: "accepted", acceptedAt: now })
          .where(and(eq(invitations.id, inv.id), eq(invitations.status, "pending")))
          .returning({ id: invitations.id });
        if (accepted.length === 0) throw new ConflictError("This invitation was already accepted", "INVITATION_USED");
        const [held] = await db
          .select({ role: memberships.role })
          .from(memberships)
          .where(and(eq(memberships.workspaceId, inv.workspaceId), eq(memberships.userId, me.id)));
        // An invitation never changes the role of someone already a member (two sent at once could both be pending):
        // refused, and left unused.
        if (held) throw new ConflictError(`You are already a member of this workspace, as ${held.role}`, "ALREADY_MEMBER");
        const role = inv.role;
        await db.insert(memberships).values({ workspaceId: inv.workspaceId, userId: me.id, role, createdAt: now });
        await writeAudit(store, { ...ctx, workspaceId: inv.workspaceId, role }, {
          action: "member.add",
          resourceType: "membership",
          resourceId: encodeId("user", me.id),
          metadata: { email: me.email, role, invitationId: encodeId("invitation", inv.id) },
        });
        const [ws] = await db.select().from(workspaces).where(eq(workspaces.id, inv.workspaceId));
        // Cached roles may be stale once the membership commits.
        store.afterCommit(() => keyCache.forgetAll());
        return { ws: ws!, role };
      });
      return workspaceView(ws.ws, ws.role);
    },
  };
}

export type InvitationsService = ReturnType<typeof createInvitationsService>;
