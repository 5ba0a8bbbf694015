// Turns x-api-key / Authorization: Bearer / x-auth-token (+ x-workspace-id) into a principal, and caches
// what the hot path reads (key → principal, the principal's user row) until something could have changed it.
import type { Statement } from "bun:sqlite";
import { and, asc, desc, eq, sql } from "drizzle-orm";
import { lru } from "../lib/lru";
import { sha256Hex } from "../lib/crypto";
import { AuthenticationError, NotFoundError } from "../lib/errors";
import { decodeId } from "../lib/ids";
import type { Actor, Role } from "../lib/context";
import type { Store } from "../store/db";
import { prepared } from "../store/prepared";
import { credentialOf } from "./credential";
import { apiKeys, memberships, sessions, users, workspaces } from "../store/schema";

// What a session-authenticated request reads on every request (sessions are not cached): prepared once, not built
// again per request (drizzle's building cost more than the queries; a session GET ran at a fifth of a key's).
const ph = sql.placeholder;
const sessionByHash = prepared((db) =>
  db
    .select({ id: sessions.id, userId: sessions.userId, expiresAt: sessions.expiresAt, revokedAt: sessions.revokedAt })
    .from(sessions)
    .where(eq(sessions.tokenHash, ph("hash"))),
);
const roleIn = prepared((db) =>
  db
    .select({ role: memberships.role })
    .from(memberships)
    .where(and(eq(memberships.workspaceId, ph("workspaceId")), eq(memberships.userId, ph("userId")))),
);
/** The user's personal workspace, else their first. */
const defaultWorkspace = prepared((db) =>
  db
    .select({ id: memberships.workspaceId, role: memberships.role })
    .from(memberships)
    .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
    .where(eq(memberships.userId, ph("userId")))
    .orderBy(desc(workspaces.personal), asc(memberships.id))
    .limit(1),
);

export interface Principal {
  workspaceId: number;
  actor: Actor;
  role: Role;
  /** The bucket this principal's requests are rate-limited in. */
  rateKey: string;
}

interface KeyRow {
  keyId: number;
  /** The OAuth client the key was issued to, or null: an app's key is limited (refuseAppKey) and answers for itself. */
  app: string | null;
  workspaceId: number;
  userId: number | null;
  revokedAt: number | null;
  role: Role | null;
}

interface CachedKey {
  keyId: number;
  workspaceId: number;
  userId: number | null;
  revoked: boolean;
  /** What every request with this key authenticates as (null: its owner is no longer a member): made once, frozen. */
  principal: Principal | null;
}

/** A users row as the profile shows it. */
export interface UserRow {
  id: number;
  email: string | null;
  name: string;
  createdAt: number;
  updatedAt: number;
}

const LAST_USED_EVERY_MS = 60_000;
/** Keys (and users) seen within one TTL that stay cached; a miss costs one indexed lookup. */
const CACHED = 10_000;
const SYNC_EVERY_MS = 50;

export class Authenticator {
  // Changes through this process evict at once (forgetKey/forgetUser/forgetAll); other processes' commits are
  // noticed through PRAGMA data_version within SYNC_EVERY_MS on SQLite, or PostgreSQL's NOTIFY at their COMMIT,
  // which names what changed (store.onAuthChange → changed(), wired in app.ts: any replica, the CLI, psql); the
  // short TTL is only a last bound.
  private keys = lru<string, CachedKey>(CACHED, {
    ttl: 5_000,
    dispose: (k, hash) => this.unindex(k, hash),
  });
  /** "workspaceId:userId" → the cached keys whose role that membership decides (for a narrow NOTIFY). */
  private keysByMember = new Map<string, Set<string>>();
  private users = lru<number, UserRow>(CACHED, { ttl: 5_000 });
  private lastUsedWritten = new Map<number, number>();
  // On SQLite, the hottest lookups as raw bun:sqlite statements: drizzle's result mapping cost more than the query.
  private raw: {
    keyByHash: Statement<KeyRow, [{ hash: string }]>;
    userById: Statement<UserRow, [{ id: number }]>;
    dataVersion: Statement<{ data_version: number }, []>;
  } | null;
  private version = 0;
  private syncedAt = performance.now();
  /** Open streams and MCP sessions, asked to check their credential again once access may have ended. */
  private accessListeners = new Set<() => void>();
  private accessEndedDue = false;
  private db;

  constructor(private store: Store) {
    this.db = store.db;
    const sqlite = store.sqlite;
    this.raw = sqlite && {
      keyByHash: sqlite.query(
        `SELECT k.id AS keyId, k.oauth_client_id AS app, k.workspace_id AS workspaceId, k.user_id AS userId, k.revoked_at AS revokedAt, m.role AS role
         FROM api_keys k LEFT JOIN memberships m ON m.workspace_id = k.workspace_id AND m.user_id = k.user_id
         WHERE k.key_hash = $hash`,
      ),
      userById: sqlite.query("SELECT id, email, name, created_at AS createdAt, updated_at AS updatedAt FROM users WHERE id = $id"),
      dataVersion: sqlite.query("PRAGMA data_version"),
    };
    if (this.raw) this.version = this.raw.dataVersion.get()!.data_version;
  }

  /** Drop cached state for a key hash (after revoke or rebind). */
  forgetKey(hash: string): void {
    this.keys.delete(hash);
    this.accessEnded();
  }

  /** A session was signed out: streams it holds end now, not at their next recheck. */
  sessionEnded(): void {
    this.accessEnded();
  }

  /**
   * `listener` runs (once per turn, however many changes the turn made) whenever a key, session or membership may
   * have lost access: what a connection authenticated when it opened (an SSE stream, an MCP session) checks again at
   * once, rather than at its next 5 s recheck, which left a revoked key hearing its workspace's events for seconds.
   */
  onAccessEnded(listener: () => void): () => void {
    this.accessListeners.add(listener);
    return () => void this.accessListeners.delete(listener);
  }

  private accessEnded(): void {
    if (this.accessEndedDue || !this.accessListeners.size) return;
    this.accessEndedDue = true;
    // The next macrotask: after the change's COMMIT when it was forgotten inside its transaction (services forget
    // again after the commit, which schedules another round if this one ran before it).
    setImmediate(() => {
      this.accessEndedDue = false;
      for (const listener of [...this.accessListeners]) listener();
    });
  }

  /** A user's row changed (profile update): the next read loads it again. */
  forgetUser(userId: number): void {
    this.users.delete(userId);
  }

  /** Membership changed somewhere: cached roles may be stale. */
  forgetAll(): void {
    this.keys.clear();
    this.users.clear();
    this.accessEnded();
  }

  /**
   * What PostgreSQL's auth NOTIFY named (migrations 0003, 0010): `k:<key hash>` a key's row, `m:<workspace>:<user>` a
   * membership (it decides the role of that user's keys bound to that workspace, nothing else cached), `u:<id>` a
   * user's row, `s:<id>` a session signed out. Anything else — null after a (re)LISTEN, when changes may have gone
   * unheard, or an older server's table name — forgets everything.
   */
  changed(what: string | null): void {
    const [kind, a, b] = what?.split(":") ?? [];
    if (kind === "k" && a) this.forgetKey(a);
    else if (kind === "m" && a && b) {
      for (const hash of [...(this.keysByMember.get(`${a}:${b}`) ?? [])]) this.keys.delete(hash);
      // A session's role in the workspace is read afresh on every request, and so on every recheck.
      this.accessEnded();
    } else if (kind === "u" && a) this.users.delete(Number(a));
    // A session signed out on another replica (migration 0010): not cached, but its streams ask again.
    else if (kind === "s") this.accessEnded();
    else this.forgetAll();
  }

  private index(k: CachedKey, hash: string): void {
    const member = `${k.workspaceId}:${k.userId}`;
    let set = this.keysByMember.get(member);
    if (!set) this.keysByMember.set(member, (set = new Set()));
    set.add(hash);
  }

  private unindex(k: CachedKey, hash: string): void {
    const member = `${k.workspaceId}:${k.userId}`;
    const set = this.keysByMember.get(member);
    if (!set?.delete(hash) || set.size > 0) return;
    this.keysByMember.delete(member);
  }

  /**
   * Another connection (the CLI, another process on the same file) committed since we last looked: anything
   * cached may be stale, so drop it all. PRAGMA data_version moves only for other connections' commits; the
   * services that change keys, memberships or users through ours evict what they change.
   */
  private sync(): void {
    // Asking costs a read transaction (~tens of µs, more than the rest of a cached lookup), so at most every
    // SYNC_EVERY_MS: another process's change reaches this cache within that, not within the 5 s TTL.
    const now = performance.now();
    if (!this.raw || now - this.syncedAt < SYNC_EVERY_MS) return;
    this.syncedAt = now;
    const v = this.raw.dataVersion.get()!.data_version;
    if (v === this.version) return;
    this.version = v;
    this.forgetAll();
  }

  /**
   * The user's row (cached beside the keys, evicted on the same changes), or null if there is none: at once when cached
   * or read through SQLite's prepared statement, a promise when PostgreSQL is asked.
   */
  user(userId: number): UserRow | null | Promise<UserRow | null> {
    this.sync();
    const u = this.users.get(userId);
    if (u) return u;
    if (this.raw) return this.rememberUser(this.raw.userById.get({ id: userId }));
    return this.db
      .select()
      .from(users)
      .where(eq(users.id, userId))
      .then(([row]) => this.rememberUser(row));
  }

  private rememberUser(row: UserRow | null | undefined): UserRow | null {
    if (!row) return null;
    const u = { id: row.id, email: row.email, name: row.name, createdAt: row.createdAt, updatedAt: row.updatedAt };
    this.users.set(u.id, u);
    return u;
  }

  private async keyRow(hash: string): Promise<KeyRow | undefined> {
    if (this.raw) return this.raw.keyByHash.get({ hash }) ?? undefined;
    const [row] = await this.db
      .select({ keyId: apiKeys.id, app: apiKeys.oauthClientId, workspaceId: apiKeys.workspaceId, userId: apiKeys.userId, revokedAt: apiKeys.revokedAt, role: memberships.role })
      .from(apiKeys)
      .leftJoin(memberships, and(eq(memberships.workspaceId, apiKeys.workspaceId), eq(memberships.userId, apiKeys.userId)))
      .where(eq(apiKeys.keyHash, hash));
    return row;
  }

  /**
   * The key's principal: at once for a cached key (the hot path pays no promise), a promise when the key has to be
   * read; callers write `const p = fromApiKey(k); const principal = p instanceof Promise ? await p : p;` or await it.
   */
  fromApiKey(raw: string): Principal | Promise<Principal> {
    const hash = sha256Hex(raw);
    this.sync();
    const k = this.keys.get(hash);
    return k ? this.principalOfKey(k) : this.loadKey(hash, raw);
  }

  private async loadKey(hash: string, raw: string): Promise<Principal> {
    const row = await this.keyRow(hash);
    if (!row) throw new AuthenticationError(invalidKeyMessage(raw), "INVALID_API_KEY");
    const role = row.userId === null ? "member" : row.role;
    const k: CachedKey = { keyId: row.keyId, workspaceId: row.workspaceId, userId: row.userId, revoked: row.revokedAt !== null, principal: role && principalOf(row, role) };
    this.keys.set(hash, k);
    this.index(k, hash);
    return this.principalOfKey(k);
  }

  private principalOfKey(k: CachedKey): Principal {
    if (k.revoked) throw new AuthenticationError("This API key has been revoked: use another, or make one (Settings → API keys, or clanker keys create)", "KEY_REVOKED");
    if (k.principal === null) throw new AuthenticationError("This API key's owner is no longer a member of its workspace", "KEY_REVOKED");
    this.touch(k.keyId);
    return k.principal;
  }

  private async sessionByHash(hash: string) {
    return (await sessionByHash(this.store, { hash }))[0];
  }

  async fromSession(token: string, workspaceHeader: string | null): Promise<Principal> {
    const s = await this.sessionByHash(sha256Hex(token));
    if (!s || s.revokedAt !== null) throw new AuthenticationError("Invalid session token: sign in again (POST /api/v1/auth/email/start, or the sign-in page)", "INVALID_SESSION");
    if (s.expiresAt <= Date.now()) throw new AuthenticationError("Session expired; sign in again", "SESSION_EXPIRED");
    const actor: Actor = { kind: "user", userId: s.userId, sessionId: s.id };
    const rateKey = `user:${s.userId}`;
    if (workspaceHeader) {
      const ws = decodeId("workspace", workspaceHeader);
      const [m] = ws === null ? [] : await roleIn(this.store, { workspaceId: ws, userId: s.userId });
      if (!m || ws === null) throw new NotFoundError("workspace", workspaceHeader);
      return { workspaceId: ws, actor, role: m.role, rateKey };
    }
    const [p] = await defaultWorkspace(this.store, { userId: s.userId });
    if (!p) throw new AuthenticationError("This user belongs to no workspace", "NO_WORKSPACE");
    return { workspaceId: p.id, actor, role: p.role, rateKey };
  }

  /**
   * The principal of whatever credential the request carries (see credentialOf): what the `auth` macro asks on every
   * request, and what a stream that stays open asks again (see /api/events). Throws 401 when there is none.
   */
  fromRequest(request: Request, cred = credentialOf(request)): Principal | Promise<Principal> {
    if (!cred)
      throw new AuthenticationError(
        `Missing credentials: send x-api-key or x-auth-token${new URL(request.url).pathname === "/api/events" ? " (a client that cannot send headers, as EventSource, may put the key in ?apiKey=)" : ""}`,
        "MISSING_CREDENTIALS",
      );
    if ("apiKey" in cred) return this.fromApiKey(cred.apiKey);
    return this.fromSession(cred.session, request.headers.get("x-workspace-id") ?? ("workspace" in cred ? cred.workspace ?? null : null));
  }

  /** The user a session token belongs to while it is live, else null (for pages that only need to know who). */
  async sessionUserId(token: string): Promise<number | null> {
    const s = await this.sessionByHash(sha256Hex(token));
    return s && s.revokedAt === null && s.expiresAt > Date.now() ? s.userId : null;
  }

  // lastUsedAt is informational: write it at most once a minute per key, not on every request, and off the
  // request's path (a failure to record it must not fail the request). READ COMMITTED: replicas touching one key at
  // once take turns at the row instead of failing one and running it again.
  private touch(keyId: number): void {
    const now = Date.now();
    const last = this.lastUsedWritten.get(keyId) ?? 0;
    if (now - last < LAST_USED_EVERY_MS) return;
    // Only the last minute's writes matter: forgotten every 10,000 keys (anonymous agents make new ones freely).
    if (this.lastUsedWritten.size >= 10_000) this.lastUsedWritten.clear();
    this.lastUsedWritten.set(keyId, now);
    this.store.tx(() => this.db.update(apiKeys).set({ lastUsedAt: now }).where(eq(apiKeys.id, keyId)), { readCommitted: true }).catch(() => {});
  }
}

/** Why a key is refused, and what to send instead: a session token (cks_…) sent where a key goes is the usual slip. */
function invalidKeyMessage(raw: string): string {
  if (raw.startsWith("cks_")) return "This is a session token, not an API key: send it as x-auth-token (API keys start with ck_)";
  return "Invalid API key: check it, or make one (Settings → API keys, or clanker keys create; an agent: GET /auth.md)";
}

/** An API key's principal; the rate key is one string per key, so the limiter hashes no new string per request. */
function principalOf(row: KeyRow, role: Role): Principal {
  const actor: Actor =
    row.userId === null
      ? { kind: "agent", userId: null, apiKeyId: row.keyId }
      : row.app !== null
        ? { kind: "apiKey", userId: row.userId, apiKeyId: row.keyId, app: true }
        : { kind: "apiKey", userId: row.userId, apiKeyId: row.keyId };
  return Object.freeze({ workspaceId: row.workspaceId, actor: Object.freeze(actor), role, rateKey: `key:${row.keyId}` });
}
