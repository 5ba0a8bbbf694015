// Session tokens (x-auth-token): random, stored as SHA-256 hashes, expiring.
import { asc, desc, eq, isNotNull, lt, or, and } from "drizzle-orm";
import type { Caller } from "../../lib/context";
import { randomToken, sha256Hex } from "../../lib/crypto";
import { encodeId } from "../../lib/ids";
import { writeAudit } from "../../store/audit";
import type { Store } from "../../store/db";
import { memberships, sessions, workspaces } from "../../store/schema";
import { deleteInBatches } from "../../store/prune";

export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * Inside a tx: a new session for the user; returns the token (only its hash is stored). Audited in the workspace the
 * session acts in by default (the user's personal one), where its `session.revoke` goes too.
 */
export async function issueSession(store: Store, userId: number, caller: Caller, via: "email" | "cli"): Promise<string> {
  const token = `cks_${randomToken(32)}`;
  const now = Date.now();
  const [row] = await store.db.insert(sessions).values({ userId, tokenHash: sha256Hex(token), createdAt: now, expiresAt: now + SESSION_TTL_MS }).returning({ id: sessions.id });
  const [ws] = await store.db
    .select({ id: memberships.workspaceId, role: memberships.role })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(eq(memberships.userId, userId))
    .orderBy(desc(workspaces.personal), asc(memberships.id))
    .limit(1);
  if (ws)
    await writeAudit(store, { ...caller, workspaceId: ws.id, actor: { kind: "user", userId, sessionId: row!.id }, role: ws.role }, { action: "session.create", resourceType: "session", resourceId: encodeId("session", row!.id), metadata: { via } });
  return token;
}

/**
 * Deletes sessions expired or signed out more than a day ago (for a day an expired token still answers
 * SESSION_EXPIRED, "sign in again", rather than INVALID_SESSION): one row per sign-in, kept for good before.
 */
export async function pruneSessions(store: Store, now = Date.now()): Promise<void> {
  const before = now - 24 * 3600 * 1000;
  await deleteInBatches(store, sessions, sessions.id, or(lt(sessions.expiresAt, before), and(isNotNull(sessions.revokedAt), lt(sessions.revokedAt, before))));
}
