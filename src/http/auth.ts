// Turns x-api-key / Authorization: Bearer / x-auth-token (+ x-workspace-id) into a principal.
import { and, eq, sql } from "drizzle-orm";
import { LRUCache } from "lru-cache";
import { sha256Hex } from "../lib/crypto";
import { AuthenticationError, NotFoundError } from "../lib/errors";
import { decodeId } from "../lib/ids";
import type { Actor, Role } from "../lib/context";
import type { Store } from "../store/db";
import { apiKeys, memberships, sessions, workspaces } from "../store/schema";

export interface Principal {
  workspaceId: number;
  actor: Actor;
  role: Role;
  /** The bucket this principal's requests are rate-limited in. */
  rateKey: string;
}

interface CachedKey {
  keyId: number;
  workspaceId: number;
  userId: number | null;
  role: Role | null;
  revoked: boolean;
}

const LAST_USED_EVERY_MS = 60_000;

export class Authenticator {
  // Short TTL: revocation through this process evicts at once; the TTL bounds staleness from other processes.
  private keys = new LRUCache<string, CachedKey>({ max: 50_000, ttl: 5_000 });
  private lastUsedWritten = new Map<number, number>();
  private q;

  constructor(store: Store) {
    const db = store.db;
    this.q = {
      keyByHash: db
        .select({
          keyId: apiKeys.id,
          workspaceId: apiKeys.workspaceId,
          userId: apiKeys.userId,
          revokedAt: apiKeys.revokedAt,
          role: memberships.role,
        })
        .from(apiKeys)
        .leftJoin(memberships, and(eq(memberships.workspaceId, apiKeys.workspaceId), eq(memberships.userId, apiKeys.userId)))
        .where(eq(apiKeys.keyHash, sql.placeholder("hash")))
        .prepare(),
      sessionByHash: db
        .select({ id: sessions.id, userId: sessions.userId, expiresAt: sessions.expiresAt, revokedAt: sessions.revokedAt })
        .from(sessions)
        .where(eq(sessions.tokenHash, sql.placeholder("hash")))
        .prepare(),
      role: db
        .select({ role: memberships.role })
        .from(memberships)
        .where(and(eq(memberships.workspaceId, sql.placeholder("ws")), eq(memberships.userId, sql.placeholder("user"))))
        .prepare(),
      personal: db
        .select({ id: memberships.workspaceId, role: memberships.role })
        .from(memberships)
        .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
        .where(eq(memberships.userId, sql.placeholder("user")))
        .orderBy(sql`${workspaces.personal} desc, ${memberships.id} asc`)
        .limit(1)
        .prepare(),
      touchKey: db
        .update(apiKeys)
        .set({ lastUsedAt: sql.placeholder("now") as unknown as number })
        .where(eq(apiKeys.id, sql.placeholder("id")))
        .prepare(),
    };
  }

  /** Drop cached state for a key hash (after revoke or rebind). */
  forgetKey(hash: string): void {
    this.keys.delete(hash);
  }

  /** Membership changed somewhere: cached roles may be stale. */
  forgetAll(): void {
    this.keys.clear();
  }

  fromApiKey(raw: string): Principal {
    const hash = sha256Hex(raw);
    let k = this.keys.get(hash);
    if (!k) {
      const row = this.q.keyByHash.get({ hash });
      if (!row) throw new AuthenticationError("Invalid API key", "INVALID_API_KEY");
      k = {
        keyId: row.keyId,
        workspaceId: row.workspaceId,
        userId: row.userId,
        role: row.userId === null ? "member" : row.role,
        revoked: row.revokedAt !== null,
      };
      this.keys.set(hash, k);
    }
    if (k.revoked) throw new AuthenticationError("This API key has been revoked", "KEY_REVOKED");
    if (k.role === null) throw new AuthenticationError("This API key's owner is no longer a member of its workspace", "KEY_REVOKED");
    this.touch(k.keyId);
    const actor: Actor =
      k.userId === null ? { kind: "agent", userId: null, apiKeyId: k.keyId } : { kind: "apiKey", userId: k.userId, apiKeyId: k.keyId };
    return { workspaceId: k.workspaceId, actor, role: k.role, rateKey: `key:${k.keyId}` };
  }

  fromSession(token: string, workspaceHeader: string | null): Principal {
    const s = this.q.sessionByHash.get({ hash: sha256Hex(token) });
    if (!s || s.revokedAt !== null) throw new AuthenticationError("Invalid session token", "INVALID_SESSION");
    if (s.expiresAt <= Date.now()) throw new AuthenticationError("Session expired; sign in again", "SESSION_EXPIRED");
    const actor: Actor = { kind: "user", userId: s.userId, sessionId: s.id };
    const rateKey = `user:${s.userId}`;
    if (workspaceHeader) {
      const ws = decodeId("workspace", workspaceHeader);
      const m = ws === null ? undefined : this.q.role.get({ ws, user: s.userId });
      if (!m || ws === null) throw new NotFoundError("workspace", workspaceHeader);
      return { workspaceId: ws, actor, role: m.role, rateKey };
    }
    const p = this.q.personal.get({ user: s.userId });
    if (!p) throw new AuthenticationError("This user belongs to no workspace", "NO_WORKSPACE");
    return { workspaceId: p.id, actor, role: p.role, rateKey };
  }

  /** The user a session token belongs to while it is live, else null (for pages that only need to know who). */
  sessionUserId(token: string): number | null {
    const s = this.q.sessionByHash.get({ hash: sha256Hex(token) });
    return s && s.revokedAt === null && s.expiresAt > Date.now() ? s.userId : null;
  }

  // lastUsedAt is informational: write it at most once a minute per key, not on every request.
  private touch(keyId: number): void {
    const now = Date.now();
    const last = this.lastUsedWritten.get(keyId) ?? 0;
    if (now - last < LAST_USED_EVERY_MS) return;
    this.lastUsedWritten.set(keyId, now);
    this.q.touchKey.run({ id: keyId, now });
  }
}

/** The session token in the browser's cookie, or null (none, or mangled). */
export function sessionCookieOf(request: Request): string | null {
  const m = /(?:^|;\s*)clanker_session=([^;]+)/.exec(request.headers.get("cookie") ?? "");
  if (!m) return null;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return null;
  }
}

/** The credential a request carries, by the spec's headers (and Bearer for MCP clients). Only the SSE
 * stream also takes ?apiKey=, since a browser's EventSource cannot send headers. */
export function credentialOf(request: Request): { apiKey: string } | { session: string; viaCookie?: boolean; workspace?: string } | null {
  const headers = request.headers;
  const key = headers.get("x-api-key");
  if (key) return { apiKey: key };
  const auth = headers.get("authorization");
  if (auth && auth.startsWith("Bearer ")) return { apiKey: auth.slice(7).trim() };
  const token = headers.get("x-auth-token");
  if (token) return { session: token };
  const cookie = request.headers.get("cookie");
  if (cookie) {
    const m = /(?:^|;\s*)clanker_session=([^;]+)/.exec(cookie);
    if (m) {
      let session: string;
      try {
        session = decodeURIComponent(m[1]!);
      } catch {
        // A mangled cookie (%ZZ) is a bad credential like any other: 401, counted against the address.
        throw new AuthenticationError("Invalid session token", "INVALID_SESSION");
      }
      // The web app's workspace switcher: the cookie stands in for x-workspace-id, so links, frames and
      // EventSource (which cannot send headers) act in the chosen workspace. It selects among the session's own
      // memberships only, exactly like the header.
      const ws = /(?:^|;\s*)clanker_workspace=([^;]+)/.exec(cookie)?.[1];
      return { session, viaCookie: true, ...(ws ? { workspace: ws } : {}) };
    }
  }
  const url = new URL(request.url);
  if (url.pathname === "/api/events") {
    const q = url.searchParams.get("apiKey");
    if (q) return { apiKey: q };
  }
  return null;
}
