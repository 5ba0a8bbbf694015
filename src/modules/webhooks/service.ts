// Webhooks: signed callbacks (clanker-signature: t=…,v1=HMAC-SHA256(secret, "t.body"), and the Standard Webhooks
// headers beside it) from a persisted queue, retried with exponential backoff, so a restart loses no notification.
import { and, eq, inArray, lte, sql } from "drizzle-orm";
import { MAX_OVERLAP_SECONDS, newSecret, SCHEME, sign, signStandard, standardSecret } from "./signing";
import { assertRole, type Ctx } from "../../lib/context";
import type { WebhookConfig } from "../../config";
import { InvalidRequestError } from "../../lib/errors";
import { guardedFetch, OutboundRefused, urlProblem } from "../../lib/outbound";
import type { SecretBox } from "../../lib/secret-box";
import { deleteInBatches } from "../../store/prune";
import type { Store } from "../../store/db";
import { writeAudit } from "../../store/audit";
import { lockedRows } from "../../store/row-lock";
import { webhookDeliveries, webhookSecrets } from "../../store/schema";
import type { Log } from "../../lib/log";
import { leaseMillis } from "../../lib/replica";

/** Where a delivery went, for the log: the origin only (a callback URL's path or query is often its token). */
const originOf = (url: string): string => (URL.canParse(url) ? `${new URL(url).origin}/…` : "(a URL)");

const aadOf = (workspaceId: number) => `webhook:ws:${workspaceId}`;
const TIMEOUT_MS = 10_000;
/** Deliveries one process sends at once, and of those, one workspace's (see claimDue). */
const MAX_SENDING = 32;
const PER_WORKSPACE = 4;
/** The longest a delivery may be held back before it is due (a cancelled run's callback waiting for its charge). */
export const MAX_HOLD_MS = 12_000;
const MAX_BACKOFF_MS = 3_600_000;

/** The workspace's signing secret, and the one before it while a rotation's overlap lasts. */
interface Signing {
  secret: string;
  previous: string | null;
  previousUntil: number | null;
}

/**
 * `sendsHere`: whether this process sends the callbacks due. `clanker mcp` beside a server on the same data dir leaves
 * them to that server (its 5 s rounds), or both sent the same callback: on SQLite the rows are not claimed.
 */
export function createWebhooksService(store: Store, box: SecretBox, config: WebhookConfig, log: Log, sendsHere: () => boolean = () => true) {
  const db = store.db;
  const sending = new Set<number>();
  // Attempts since start, by result, for /metrics.
  const results: Record<"delivered" | "retry" | "failed", number> = { delivered: 0, retry: 0, failed: 0 };
  let kickTimer: ReturnType<typeof setTimeout> | null = null;
  let kickAt = 0;
  /**
   * By event: what a payload says that may have changed since it was queued (a cancelled workflow's cost, once its
   * steps' charges landed), asked once, before the first attempt; retries send the bytes that attempt sent.
   */
  const refreshers = new Map<string, (workspaceId: number, payload: Record<string, unknown>) => Promise<Record<string, unknown>>>();

  /** The payload to send: refreshed before a first attempt (see refreshers), else as stored. */
  async function payloadOf(d: typeof webhookDeliveries.$inferSelect): Promise<string> {
    const refresh = d.attempts === 0 ? refreshers.get(d.event) : undefined;
    if (!refresh) return d.payload;
    try {
      const payload = JSON.parse(d.payload) as Record<string, unknown>;
      return JSON.stringify({ ...payload, ...(await refresh(d.workspaceId, payload)) });
    } catch (e) {
      log.warn(`webhook ${d.id}: could not refresh its payload, sending it as queued: ${(e as Error).message}`);
      return d.payload;
    }
  }

  /**
   * The workspace's secret, made on first use (in its own tx, or a savepoint of the caller's), and the one it replaced
   * while that still signs beside it (a rotation's overlap).
   */
  async function signingFor(workspaceId: number): Promise<Signing> {
    const read = async () => (await db.select().from(webhookSecrets).where(eq(webhookSecrets.workspaceId, workspaceId)))[0];
    let row = await read();
    if (!row) {
      const secret = newSecret();
      // Whoever inserts first wins; everyone reads back the one stored.
      row = await store.tx(async () => {
        await db.insert(webhookSecrets).values({ workspaceId, ciphertext: box.seal(secret, aadOf(workspaceId)), createdAt: Date.now() }).onConflictDoNothing();
        return (await read())!;
      });
    }
    const previousLive = row.previousCiphertext !== null && row.previousUntil !== null && row.previousUntil > Date.now();
    return {
      secret: box.open(row.ciphertext, aadOf(workspaceId)),
      previous: previousLive ? box.open(row.previousCiphertext!, aadOf(workspaceId)) : null,
      previousUntil: previousLive ? row.previousUntil : null,
    };
  }
  /** Every secret a callback is signed with now: the workspace's, then the one rotated out while it overlaps. */
  const signingKeys = (s: Signing): string[] => (s.previous ? [s.secret, s.previous] : [s.secret]);
  const secretView = (s: Signing) => ({
    secret: s.secret,
    signatureHeader: "clanker-signature",
    scheme: SCHEME,
    standardSecret: standardSecret(s.secret),
    previousSecretExpiresAt: s.previousUntil === null ? null : new Date(s.previousUntil).toISOString(),
  });

  /** The checks that need no DNS, at request time: an http(s) URL without credentials whose host is not a
   * metadata name nor an address we may not call (in any spelling). Names are resolved and checked at delivery. */
  function validateUrl(raw: string, param = "callbackUrl"): string {
    const problem = urlProblem(raw, config.allowPrivate);
    if (problem) throw new InvalidRequestError(`${param} ${problem}`, param);
    return new URL(raw).toString();
  }

  async function attempt(d: typeof webhookDeliveries.$inferSelect): Promise<void> {
    let error: string | null = null;
    const payload = await payloadOf(d);
    // Stored with the outcome when refreshed: a retry sends what this attempt sent.
    const sent = payload === d.payload ? {} : { payload };
    try {
      const keys = signingKeys(await signingFor(d.workspaceId));
      const ts = Math.floor(Date.now() / 1000);
      // The same id on every retry of a delivery, so a receiver can drop duplicates.
      const msgId = `msg_${d.id}`;
      const res = await guardedFetch(
        d.url,
        {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "user-agent": "Clanker-Webhooks/1",
            "clanker-event": d.event,
            "clanker-delivery": String(d.id),
            "clanker-signature": sign(keys, ts, payload),
            "webhook-id": msgId,
            "webhook-timestamp": String(ts),
            "webhook-signature": signStandard(keys, msgId, ts, payload),
            ...(d.requestId ? { "x-request-id": d.requestId } : {}),
          },
          body: payload,
        },
        { allowPrivate: config.allowPrivate, timeoutMs: TIMEOUT_MS },
      );
      // Only the status matters; whatever body the receiver sends is not read.
      await res.body?.cancel().catch(() => undefined);
      if (res.status < 200 || res.status >= 300) error = `receiver answered ${res.status}`;
    } catch (e) {
      error = e instanceof OutboundRefused ? `refused: ${e.message}` : (e as Error).message;
    }
    const attempts = d.attempts + 1;
    const now = Date.now();
    // The HTTP call above ran outside any transaction; only the outcome is written in one.
    if (error === null) {
      await store.tx(async () => {
        await db.update(webhookDeliveries).set({ ...sent, status: "delivered", attempts, deliveredAt: now, lastError: null }).where(eq(webhookDeliveries.id, d.id));
      });
      results.delivered++;
      log.debug(`webhook ${d.id} delivered to ${originOf(d.url)} (attempt ${attempts})`);
      return;
    }
    // 410 Gone: the receiver says there is nobody there any more (Standard Webhooks: stop sending).
    const giveUp = attempts >= config.maxAttempts || error.startsWith("refused:") || error === "receiver answered 410";
    const delay = Math.min(MAX_BACKOFF_MS, config.retryBaseMs * 3 ** (attempts - 1));
    await store.tx(async () => {
      await db
        .update(webhookDeliveries)
        .set({ ...sent, status: giveUp ? "failed" : "pending", attempts, lastError: error, nextAttemptAt: now + delay })
        .where(eq(webhookDeliveries.id, d.id));
    });
    results[giveUp ? "failed" : "retry"]++;
    if (giveUp) log.warn(`webhook ${d.id} to ${originOf(d.url)} failed for good after ${attempts} attempts: ${error}`);
    else {
      log.debug(`webhook ${d.id} to ${originOf(d.url)} failed (attempt ${attempts}): ${error}; next try in ${delay} ms`);
      schedule(delay);
    }
  }

  /**
   * A send round in `ms`. One timer, set for the earliest round asked for (a held-back callback delays no other);
   * the later ones wait in `later` and the next is set when that round ends (they waited for the 5 s scheduler).
   */
  const later = new Set<number>();
  function schedule(ms: number): void {
    const at = Date.now() + ms;
    if (kickTimer) {
      if (kickAt <= at) {
        later.add(at);
        return;
      }
      clearTimeout(kickTimer);
      later.add(kickAt);
    }
    kickAt = at;
    kickTimer = setTimeout(() => {
      kickTimer = null;
      const began = Date.now();
      // Off any request path: a failed round is logged, and the scheduler's next round tries again.
      void deliverDue()
        .catch((e) => log.error(`webhook deliveries failed: ${(e as Error).message}`))
        .finally(() => {
          // What this round sent needs no round of its own; the earliest still ahead gets the timer, unless one set
          // during the round (a retry's) comes first.
          for (const t of later) if (t <= began) later.delete(t);
          if (later.size) {
            const next = Math.min(...later);
            later.delete(next);
            schedule(Math.max(0, next - Date.now()));
          }
        });
    }, ms);
  }

  /**
   * The rows due next, oldest first, at most PER_WORKSPACE of each workspace: one workspace's backlog (a fan-out to a
   * receiver that hangs) would otherwise fill every page, and no other workspace's row would even be read.
   */
  const dueIds = () => {
    const due = and(eq(webhookDeliveries.status, "pending"), lte(webhookDeliveries.nextAttemptAt, Date.now()));
    const ranked = db
      .select({ id: webhookDeliveries.id, rank: sql<number>`row_number() OVER (PARTITION BY ${webhookDeliveries.workspaceId} ORDER BY ${webhookDeliveries.nextAttemptAt}, ${webhookDeliveries.id})`.as("rank") })
      .from(webhookDeliveries)
      .where(due)
      .as("ranked");
    return db.select({ id: ranked.id }).from(ranked).where(lte(ranked.rank, PER_WORKSPACE));
  };
  const dueQuery = () => db.select().from(webhookDeliveries).where(inArray(webhookDeliveries.id, dueIds())).orderBy(webhookDeliveries.nextAttemptAt, webhookDeliveries.id).limit(MAX_SENDING * 4);
  let claiming: Promise<unknown> = Promise.resolve();
  /** By workspace, the deliveries this process is sending. */
  const sendingOf = new Map<number, number>();
  /** Whether the last claim left due rows behind (a round follows each send that ends, until none are left). */
  let backlog = false;
  /** Set at shutdown: nothing more is sent (a send begun then would be cut off, and go again after the restart). */
  let paused = false;

  /**
   * The due rows this process sends now: at most MAX_SENDING at once, and PER_WORKSPACE of one workspace: a receiver
   * that hangs (a firewall dropping packets) held every send slot for its 10 s timeouts, and every other workspace's
   * callbacks waited behind it. On SQLite the rows being sent stay due (and hold their workspace's places in
   * dueQuery); this process alone sends them (see `sendsHere`). On PostgreSQL they are claimed in one tx, their next
   * attempt pushed past the send's timeout plus a lease, skipping rows another replica is claiming: each goes out from
   * one replica, and if it dies mid-send the row is simply due again later (the receiver sees the same id).
   */
  async function claimDue(): Promise<(typeof webhookDeliveries.$inferSelect)[]> {
    const pick = (rows: (typeof webhookDeliveries.$inferSelect)[]) => {
      const picked: typeof rows = [];
      const taken = new Map<number, number>();
      for (const d of rows) {
        if (sending.size + picked.length >= MAX_SENDING) break;
        if ((sendingOf.get(d.workspaceId) ?? 0) + (taken.get(d.workspaceId) ?? 0) >= PER_WORKSPACE || sending.has(d.id)) continue;
        picked.push(d);
        taken.set(d.workspaceId, (taken.get(d.workspaceId) ?? 0) + 1);
      }
      backlog = picked.length < rows.length;
      return picked;
    };
    if (store.dialect !== "postgres") return pick(await dueQuery());
    return store.tx(async () => {
      const rows = await (dueQuery() as unknown as { for(s: "update", o: { skipLocked: true }): Promise<(typeof webhookDeliveries.$inferSelect)[]> }).for("update", { skipLocked: true });
      const picked = pick(rows);
      if (picked.length)
        await db
          .update(webhookDeliveries)
          .set({ nextAttemptAt: Date.now() + TIMEOUT_MS + leaseMillis() })
          .where(inArray(webhookDeliveries.id, picked.map((d) => d.id)));
      return picked;
    });
  }

  /** Sends the deliveries due (run by the scheduler, kicked after each enqueue, and after each send while some wait). */
  async function deliverDue(): Promise<void> {
    if (paused || !sendsHere()) return;
    // One claim at a time in this process: two at once each counted the other's picks as free, and on PostgreSQL one
    // found every row locked by the other, so left no backlog to follow and the rest waited for the 5 s round.
    const claim = claiming.catch(() => {}).then(claimDue);
    claiming = claim;
    const due = await claim;
    await Promise.all(
      due.map(async (d) => {
        sending.add(d.id);
        sendingOf.set(d.workspaceId, (sendingOf.get(d.workspaceId) ?? 0) + 1);
        const sent = attempt(d);
        inFlight.add(sent);
        try {
          await sent;
        } finally {
          inFlight.delete(sent);
          sending.delete(d.id);
          const left = sendingOf.get(d.workspaceId)! - 1;
          if (left) sendingOf.set(d.workspaceId, left);
          else sendingOf.delete(d.workspaceId);
          if (backlog) schedule(0);
        }
      }),
    );
  }
  const inFlight = new Set<Promise<void>>();

  return {
    validateUrl,
    /** `fn` refreshes the payload of every `event` callback before its first attempt (see refreshers). */
    refreshBeforeSending(event: string, fn: (workspaceId: number, payload: Record<string, unknown>) => Promise<Record<string, unknown>>): void {
      refreshers.set(event, fn);
    },
    deliverDue,
    results: () => ({ ...results }),
    /** How many deliveries are being sent now. */
    sendingCount: () => inFlight.size,
    /** At shutdown: no send begins from now on (those under way end; whenSent waits for them). */
    pause(): void {
      paused = true;
      if (kickTimer) clearTimeout(kickTimer);
      kickTimer = null;
    },
    /** Resolves once the sends under way have ended, or after `ms` (false): a stop waits for them within its grace. */
    async whenSent(ms: number): Promise<boolean> {
      const until = Date.now() + ms;
      while (inFlight.size && Date.now() < until) await Promise.race([Promise.allSettled([...inFlight]), Bun.sleep(Math.max(0, until - Date.now()))]);
      return inFlight.size === 0;
    },

    /**
     * Deletes callbacks that ended (delivered, or failed for good) before `now - keepMs`: each holds its URL (a token,
     * often) and its payload, and nothing reads one once it has ended but an operator looking back.
     */
    async prune(keepMs: number, now = Date.now()): Promise<void> {
      // The first prune after an upgrade may have months of them to delete.
      const ended = and(inArray(webhookDeliveries.status, ["delivered", "failed"]), lte(webhookDeliveries.createdAt, now - keepMs));
      await deleteInBatches(store, webhookDeliveries, webhookDeliveries.id, ended);
    },

    /**
     * Inside the store.tx of the change it reports; the delivery goes out once that commits. Only an enqueue kicks
     * the sender, so a change that queued nothing (most runs end without a callback URL) costs no query.
     */
    async enqueue(workspaceId: number, url: string, event: string, payload: unknown, requestId: string | null, delayMs = 0): Promise<void> {
      // A hold worked out from a lease that already ran out comes in negative: due now (setTimeout warns on < 0).
      delayMs = Math.min(Math.max(0, delayMs), MAX_HOLD_MS);
      await db
        .insert(webhookDeliveries)
        .values({ workspaceId, url, event, payload: JSON.stringify(payload), status: "pending", nextAttemptAt: Date.now() + delayMs, requestId, createdAt: Date.now() });
      store.afterCommit(() => schedule(delayMs));
    },

    /**
     * The `clanker-integration-signature` of a payload a member chose to post (the webhook integration): signed
     * with the workspace secret over "<t>.integration.<body>", so it can never pass for one of our own callbacks
     * (whose `clanker-signature` covers "<t>.<body>") — members may post, but not forge execution events.
     */
    async integrationSignatureFor(workspaceId: number, body: string): Promise<string> {
      return sign(signingKeys(await signingFor(workspaceId)), Math.floor(Date.now() / 1000), `integration.${body}`);
    },

    // Whoever holds the signing secret can forge callbacks: owners and admins only.
    async show(ctx: Ctx) {
      assertRole(ctx, "admin", "read the webhook signing secret");
      return secretView(await signingFor(ctx.workspaceId));
    },

    /**
     * A new secret. `previousSecretValidSeconds` (default 0: the old one stops at once, as after a leak) keeps the old
     * one signing beside it for that long, so a receiver can switch to the new one without a callback it refuses.
     */
    async rotate(ctx: Ctx, input: { previousSecretValidSeconds?: number } = {}) {
      assertRole(ctx, "admin", "rotate the webhook signing secret");
      const overlap = input.previousSecretValidSeconds ?? 0;
      if (!Number.isInteger(overlap) || overlap < 0 || overlap > MAX_OVERLAP_SECONDS)
        throw new InvalidRequestError(`previousSecretValidSeconds must be a whole number of seconds from 0 to ${MAX_OVERLAP_SECONDS} (7 days)`, "previousSecretValidSeconds");
      const secret = newSecret();
      const now = Date.now();
      const previousUntil = await store.tx(async () => {
        // Locked (PostgreSQL): two rotations at once each kept the same old secret, and the one shown to the first
        // caller then signed nothing. A workspace whose secret was never made has none to keep.
        const [old] = overlap > 0 ? await lockedRows(store, db.select().from(webhookSecrets).where(eq(webhookSecrets.workspaceId, ctx.workspaceId)), "update") : [];
        const row = {
          ciphertext: box.seal(secret, aadOf(ctx.workspaceId)),
          previousCiphertext: old ? old.ciphertext : null,
          previousUntil: old ? now + overlap * 1000 : null,
          createdAt: now,
        };
        await db.insert(webhookSecrets).values({ workspaceId: ctx.workspaceId, ...row }).onConflictDoUpdate({ target: webhookSecrets.workspaceId, set: row });
        await writeAudit(store, ctx, { action: "webhook.secret.rotate", resourceType: "webhook_secret", resourceId: null, metadata: { previousSecretValidSeconds: old ? overlap : 0 } });
        return row.previousUntil;
      });
      return secretView({ secret, previous: null, previousUntil });
    },

    pendingCount: async () => (await db.select({ n: sql<number>`count(*)`.mapWith(Number) }).from(webhookDeliveries).where(eq(webhookDeliveries.status, "pending")))[0]!.n,
  };
}

export type WebhooksService = ReturnType<typeof createWebhooksService>;
