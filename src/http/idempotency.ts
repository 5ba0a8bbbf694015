// Idempotency keys: per workspace, TTL from config, fingerprint = a keyed hash of method + path + body. The stored answer
// commits in the same transaction as the mutation it answers, so a replay never disagrees with the store.
import { and, eq, lt, sql } from "drizzle-orm";
import { lru, type Lru } from "../lib/lru";
import { ApiError, InvalidRequestError, describeError, type ErrorBody } from "../lib/errors";
import { callerOf, type Ctx } from "../lib/context";
import { sha256Hex } from "../lib/crypto";
import type { SecretBox } from "../lib/secret-box";
import { leaseMillis } from "../lib/replica";
import { storeUnavailable } from "./errors";
import { sortedJson } from "../lib/json-object";
import type { Store, TxOptions } from "../store/db";
import type { InflightLock } from "../shared";
import { idempotencyKeys } from "../store/schema";
import { prepared } from "../store/prepared";
import { deleteInBatches } from "../store/prune";

// PostgreSQL's statements, prepared once (SQLite's are raw, in the constructor).
const ph = sql.placeholder;
const findPg = prepared((db) =>
  db
    .select({ fingerprint: idempotencyKeys.fingerprint, status: idempotencyKeys.status, body: idempotencyKeys.body, expiresAt: idempotencyKeys.expiresAt })
    .from(idempotencyKeys)
    .where(and(eq(idempotencyKeys.workspaceId, ph("ws")), eq(idempotencyKeys.key, ph("key")))),
);
const savePg = prepared((db) =>
  db
    .insert(idempotencyKeys)
    .values({ workspaceId: ph("ws"), key: ph("key"), fingerprint: ph("fingerprint"), status: ph("status"), body: ph("body"), createdAt: ph("now"), expiresAt: ph("expiresAt") })
    .onConflictDoUpdate({
      target: [idempotencyKeys.workspaceId, idempotencyKeys.key],
      set: { fingerprint: sql`excluded.fingerprint`, status: sql`excluded.status`, body: sql`excluded.body`, createdAt: sql`excluded.created_at`, expiresAt: sql`excluded.expires_at` },
    }),
);

interface Stored {
  fingerprint: string;
  status: number;
  body: string;
  expiresAt: number;
}

export interface IdempotentRequest {
  workspaceId: number;
  /**
   * Who is asking (a user, or a key with no user): keys are theirs alone, so another member who sends the same
   * key and body gets a fresh answer of their own, never a replay of someone else's (which may hold a secret).
   */
  principal: string;
  key: string | null;
  method: string;
  path: string;
  body: unknown;
}

export type Answer = { status: number; body: unknown };

export type Outcome = { replayed: false; status: number; body: unknown } | { replayed: true; status: number; body: string };

const KEY_RE = /^[\x21-\x7e]{1,255}$/;
const LEGACY_RECHECK_MS = 60_000;

/**
 * Method, path and body, the body as JSON with every object's keys sorted: a retry is the same request whatever
 * order its client serialised the fields in (JSON objects have none), as Stripe compares parameters, not bytes.
 */
const fingerprintText = (req: IdempotentRequest, json: (v: unknown) => string): string => `${req.method} ${req.path}\n${json(req.body ?? null)}`;

/**
 * `acts`: the handler acts outside the store (an integration's post to Slack, a mail), so it cannot share a transaction
 * with its stored answer, and must not hold one open while it waits on another server: it runs with the key held in
 * flight (a copy meanwhile is 409 IDEMPOTENCY_IN_FLIGHT), and its answer is stored once it has one, as is an error
 * marked `acted` (thrown once the outside server had the request: it may have taken effect). A server that dies
 * between the two has done it without storing it: the one case a retry does it again.
 */
export type RunOptions = TxOptions & {
  acts?: boolean;
  /** What is kept of a success for a replay, when not all of it (see replayAs). */
  keep?: (body: unknown) => unknown;
  /** A replay's answer made from what `keep` kept (what the answer is now), instead of the kept bytes. */
  replayAs?: (kept: unknown) => Promise<unknown>;
};

export class Idempotency {
  /**
   * Answers this process committed, by slot: what PostgreSQL would need a round trip for. None on SQLite, whose own
   * lookup takes a few µs: putting every fresh key's answer in the cache (up to 20,000 held) cost the audited POST
   * ~11 % of its CPU (test/bench/ab.ts: 1.12–1.15× the requests per CPU tick without it), for replays that are rare.
   */
  private cache: Lru<string, Stored> | null;
  private inFlight = new Set<string>();
  private q;

  constructor(
    private store: Store,
    private ttlMs: number,
    private box: SecretBox,
    /** Join the group-commit batch (CLANKER_GROUP_COMMIT); false: one transaction per request, as before. */
    private grouped = true,
    /** The replicas' in-flight slots (Redis), held besides this process's own: null with one process. */
    private shared: InflightLock | null = null,
  ) {
    const sqlite = store.sqlite;
    this.cache = sqlite ? null : lru<string, Stored>(20_000);
    // On SQLite, raw statements: every fresh key misses the cache and looks here, and drizzle's mapping of the row
    // cost more than the lookup itself.
    this.q = sqlite && {
      find: sqlite.query<Stored, [number, string]>(
        "SELECT fingerprint, status, body, expires_at AS expiresAt FROM idempotency_keys WHERE workspace_id = ? AND key = ?",
      ),
      save: sqlite.query(
        `INSERT INTO idempotency_keys (workspace_id, key, fingerprint, status, body, created_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (workspace_id, key) DO UPDATE SET fingerprint = excluded.fingerprint, status = excluded.status,
           body = excluded.body, created_at = excluded.created_at, expires_at = excluded.expires_at`,
      ),
    };
  }

  /**
   * Runs `handler` at most once per (workspace, key, request). Its writes and the stored answer share one
   * transaction (on SQLite a savepoint of the group-commit batch, committed later: await store.pending() before
   * the answer, or a replay, or an error, leaves). A thrown error (a refusal, its writes rolled back) is not stored,
   * so the client may retry with the same key once its cause is gone. `seal` names top-level
   * fields shown once (a new API key): they are stored sealed with the master key, and opened on replay so
   * the client that lost the first answer still gets its secret.
   */
  async run(req: IdempotentRequest, handler: () => Promise<Answer>, seal: readonly string[] = [], txOpts: RunOptions = {}): Promise<Outcome> {
    // Every run joins the group-commit batch (its own savepoint): the caller awaits store.pending() before answering.
    if (req.key === null) return { replayed: false, ...(await (txOpts.acts ? handler() : this.tx(handler, txOpts))) };
    if (!KEY_RE.test(req.key))
      throw new InvalidRequestError("idempotency-key must be 1–255 visible ASCII characters", "idempotency-key");
    // Keyed with the master key: the body may hold a secret's value, which a plain hash in the table (or a backup, a
    // pg_dump) let anyone guess offline, a weak password in moments.
    const fingerprint = this.box.mac(fingerprintText(req, sortedJson));
    // A space never occurs in a client's key (KEY_RE), so principal and key cannot run into each other.
    const key = `${req.principal} ${req.key}`;
    const slot = `${req.workspaceId}:${key}`;
    const now = Date.now();
    // Binds each sealed value to its slot: a row copied to another workspace or key will not open.
    const aad = `idempotency:${slot}`;

    const replay = (prior: Stored): Outcome => {
      // A key stored by an earlier version (a plain SHA-256, of the sorted body or, before that, of the body as it
      // came) still replays within its TTL.
      const legacy = (json: (v: unknown) => string) => prior.fingerprint === sha256Hex(fingerprintText(req, json));
      if (prior.fingerprint !== fingerprint && !legacy(sortedJson) && !legacy(JSON.stringify)) throw reused();
      return { replayed: true, status: prior.status, body: seal.length ? this.opened(prior.body, seal, aad) : prior.body };
    };
    // Where finding the answer costs no round trip (an answer this process committed, or SQLite's own statement),
    // before the slot. On PostgreSQL the lookup comes once the slot is ours: another request could commit its answer
    // and let go of the slot while a lookup ahead of it waited.
    const known = this.lookupNow(req.workspaceId, key, slot, now);
    if (known) return replay(known);
    // Taken: the request holding it may just have committed its answer, which a retry then gets.
    const taken = async (): Promise<Outcome> => {
      const prior = known === null ? null : await this.lookup(req.workspaceId, key, slot, now);
      if (prior) return replay(prior);
      throw inFlight();
    };
    if (this.inFlight.has(slot)) return taken();

    // This process's slot is taken synchronously after a synchronous lookup (SQLite): nothing can slip in between.
    this.inFlight.add(slot);
    let sharedHeld = false;
    try {
      if (this.shared) {
        // A lease like a run's (CLANKER_LEASE_SECONDS), renewed while this request runs: a replica that dies holding
        // the slot keeps its client's retry waiting that long at most.
        if (!(await this.shared.acquire(slot, leaseMillis()))) return await taken();
        sharedHeld = true;
      }
      // Looked up now that the slot is ours (see above); SQLite looked already, unless Redis was awaited since.
      if (known === undefined || this.shared) {
        const prior = await this.lookup(req.workspaceId, key, slot, now);
        if (prior) return replay(prior);
      }
      // A key a version before keys were each caller's stored under the key alone: a retry across the upgrade replays
      // it (it ran once already) rather than run again. Only while such keys may live (a day after the upgrade).
      const legacyUntil = this.legacyUntil !== null && now - this.legacyCheckedAt < LEGACY_RECHECK_MS ? this.legacyUntil : await this.legacyKeysUntil(now);
      if (now < legacyUntil) {
        const old = await this.lookup(req.workspaceId, req.key, `${req.workspaceId}:${req.key}`, now);
        if (old && seal.length) throw new InvalidRequestError("This idempotency-key was used before the server was upgraded, for an answer holding a secret shown once, which is not shown again: use a new key", "idempotency-key", "IDEMPOTENCY_KEY_REUSED");
        if (old) return replay(old);
      }
      const stored = (answer: Answer): Stored => ({
        fingerprint,
        status: answer.status,
        body: JSON.stringify(seal.length ? this.sealed(answer.body, seal, aad) : txOpts.keep && answer.status < 300 ? txOpts.keep(answer.body) : answer.body),
        expiresAt: now + this.ttlMs,
      });
      // A thrown refusal rolled everything back and is not kept (Stripe keeps none for a validation failure or a
      // conflict either): what refused it (no credits, a run still going, a slug taken) may be gone by the retry,
      // which would otherwise get the first refusal, now untrue, for a day.
      if (txOpts.acts) {
        // Done outside the store (see RunOptions): its answer is stored once it has one, the key held meanwhile. A
        // failure once it had acted (the provider refused the post it received, or took too long to say) may have
        // taken effect: it is stored too, so a retry under the key does not act again.
        let a: Answer;
        try {
          a = await handler();
        } catch (e) {
          if (e instanceof ApiError && (e as ApiError & { acted?: boolean }).acted) await this.tx(() => this.save(req.workspaceId, key, slot, stored({ status: e.status, body: e.toBody() }), now));
          throw e;
        }
        if (a.status < 500) await this.tx(() => this.save(req.workspaceId, key, slot, stored(a), now));
        return { replayed: false, ...a };
      }
      const answer = await this.tx(async () => {
        const a = await handler();
        if (a.status < 500) await this.save(req.workspaceId, key, slot, stored(a), now);
        return a;
      }, txOpts);
      return { replayed: false, ...answer };
    } finally {
      this.inFlight.delete(slot);
      if (sharedHeld) await this.shared!.release(slot).catch(() => {});
    }
  }

  /**
   * A call that is not an HTTP request (an MCP tool's) under an idempotency key: `fn` runs once per caller, key, call
   * and arguments; a retry gets the first answer again (a refusal is tried again), as the REST header does. Its
   * answer waits for the commit, as an HTTP answer does.
   */
  async once<T>(ctx: Ctx, key: string | undefined, call: string, args: unknown, fn: () => Promise<T>, txOpts: RunOptions = {}, log?: (line: string) => void): Promise<T> {
    // Without a key the call is what it always was: the service's own transaction.
    if (key === undefined) return fn();
    let out: Outcome;
    try {
      out = await this.run({ workspaceId: ctx.workspaceId, principal: callerOf(ctx), key, method: "CALL", path: call, body: args }, async () => ({ status: 200, body: await fn() }), [], txOpts);
    } catch (e) {
      // The key is a tool's argument here, not a header: its refusals name the argument.
      if (e instanceof ApiError && e.param === "idempotency-key") throw new ApiError(e.type, e.message.replace("idempotency-key", "idempotencyKey"), { code: e.code, param: "idempotencyKey", headers: e.headers });
      throw e;
    } finally {
      await this.committed(log);
    }
    if (!out.replayed) return out.body as T;
    const body = JSON.parse(out.body);
    if (out.status < 300 && txOpts.replayAs) return (await txOpts.replayAs(body)) as T;
    if (out.status < 400) return body as T;
    const e = (body as ErrorBody).error;
    throw new ApiError(e.type, e.message, { code: e.code, param: e.param });
  }

  /**
   * Waits for the open group-commit batch this request's writes or replay joined. A batch the store could not write (a
   * full disk) is 503 STORE_UNAVAILABLE; any other failed COMMIT is 500 COMMIT_FAILED.
   */
  async committed(log?: (line: string) => void): Promise<void> {
    const pending = this.pending();
    if (!pending) return;
    try {
      await pending;
    } catch (e) {
      log?.(`group commit failed: ${describeError(e)}`);
      throw storeUnavailable(e) ?? new ApiError("api_error", "The database could not commit this request; nothing it wrote was saved. Retry it.", { code: "COMMIT_FAILED" });
    }
  }

  private tx<T>(fn: () => Promise<T>, opts?: TxOptions): Promise<T> {
    return this.grouped ? this.store.batchedTx(fn, opts) : this.store.tx(fn, opts);
  }

  /** The open group-commit batch's COMMIT (what an answer from run() waits for), or null. */
  pending(): Promise<void> | null {
    return this.store.pending();
  }

  /**
   * When the last key stored the old way (no caller in it: no space) expires; 0 without one. Asked again each minute:
   * in a rolling upgrade on PostgreSQL, a replica of the older version goes on storing such keys for a while.
   */
  private legacyUntil: number | null = null;
  private legacyCheckedAt = 0;
  private async legacyKeysUntil(now: number): Promise<number> {
    this.legacyCheckedAt = now;
    const [row] = await this.store.db
      .select({ until: sql<number | string | null>`max(${idempotencyKeys.expiresAt})` })
      .from(idempotencyKeys)
      .where(sql`${idempotencyKeys.key} NOT LIKE '% %'`);
    return (this.legacyUntil = Number(row?.until ?? 0));
  }

  /** Deletes expired keys; run by the scheduler. */
  async prune(now = Date.now()): Promise<number> {
    return deleteInBatches(this.store, idempotencyKeys, idempotencyKeys.id, lt(idempotencyKeys.expiresAt, now));
  }

  /** The live stored answer, or null: from the cache, else the database. */
  private async lookup(ws: number, key: string, slot: string, now: number): Promise<Stored | null> {
    const known = this.lookupNow(ws, key, slot, now);
    return known !== undefined ? known : this.fresh((await findPg(this.store, { ws, key }))[0], slot, now);
  }

  /** lookup() without a round trip: the cache, else SQLite's statement; undefined when only PostgreSQL can tell. */
  private lookupNow(ws: number, key: string, slot: string, now: number): Stored | null | undefined {
    const cached = this.cache?.get(slot);
    if (cached && cached.expiresAt > now) return cached;
    return this.q ? this.fresh(this.q.find.get(ws, key), slot, now) : undefined;
  }

  /** A stored row, null once expired; cached unless a group-commit batch is open (the row may be its own, uncommitted). */
  private fresh(row: Stored | null | undefined, slot: string, now: number): Stored | null {
    if (!row || row.expiresAt <= now) return null;
    if (this.store.pending() === null) this.cache?.set(slot, row);
    return row;
  }

  /** Secrets shown once are stored as `{"$sealed": base64}`, never in the clear. */
  private sealed(body: unknown, fields: readonly string[], aad: string): unknown {
    if (typeof body !== "object" || body === null) return body;
    const copy: Record<string, unknown> = { ...(body as Record<string, unknown>) };
    for (const f of fields) {
      const v = copy[f];
      if (typeof v === "string") copy[f] = { $sealed: this.box.seal(v, `${aad}:${f}`).toString("base64") };
    }
    return copy;
  }

  /** The stored answer with its sealed fields opened: the same bytes as the first answer (both JSON.stringify). */
  private opened(stored: string, fields: readonly string[], aad: string): string {
    const body = JSON.parse(stored) as unknown;
    if (typeof body !== "object" || body === null) return stored;
    const copy = body as Record<string, unknown>;
    for (const f of fields) {
      const v = copy[f] as { $sealed?: unknown } | undefined;
      if (v && typeof v === "object" && typeof v.$sealed === "string") copy[f] = this.box.open(Buffer.from(v.$sealed, "base64"), `${aad}:${f}`);
    }
    return JSON.stringify(copy);
  }

  private async save(ws: number, key: string, slot: string, s: Stored, now: number): Promise<void> {
    if (this.q) this.q.save.run(ws, key, s.fingerprint, s.status, s.body, now, s.expiresAt);
    else await this.store.pipeline(savePg(this.store, { ws, key, fingerprint: s.fingerprint, status: s.status, body: s.body, now, expiresAt: s.expiresAt }));
    // Cached once committed: a rolled-back, retried or failed-to-commit transaction leaves no answer to replay.
    if (this.cache) this.store.afterCommit(() => this.cache!.set(slot, s));
  }
}


/** The first request under the key is still running: a retry in a second most likely gets its answer (a replay). */
function inFlight(): ApiError {
  return new ApiError("conflict_error", "A request with this idempotency-key is still in flight; retry in a second to get its answer", {
    code: "IDEMPOTENCY_IN_FLIGHT",
    headers: { "retry-after": "1" },
  });
}

function reused(): InvalidRequestError {
  return new InvalidRequestError(
    "This idempotency-key was already used with a different request; use a new key",
    "idempotency-key",
    "IDEMPOTENCY_KEY_REUSED",
  );
}
