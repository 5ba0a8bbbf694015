// Triggers: what can start a workflow (cron from the definitions; webhook and github rows with their own hook URL
// and secret), reading and rotating a secret, and receiving a signed delivery at POST /hooks/:triggerId.
import { and, gt, inArray, lte } from "drizzle-orm";
import { cronTooOften } from "../workflows/cron-interval";
import { sha256Hex } from "../../lib/crypto";
import { assertRole, systemCtx, type Ctx } from "../../lib/context";
import { InvalidRequestError, NotFoundError } from "../../lib/errors";
import { decodeId, encodeId } from "../../lib/ids";
import { toIso } from "../../lib/clock";
import { writeAudit } from "../../store/audit";
import type { Store } from "../../store/db";
import { workspaceRow } from "../../store/lookup";
import { pageOfList, type Page, type PageParams } from "../../store/paginate";
import { eventTriggers, hookDeliveries } from "../../store/schema";
import { deleteInBatches } from "../../store/prune";
import type { WorkflowsService } from "../workflows/service";
import { githubInput, REPLAY_WINDOW_SECONDS, verifyClankerSignature, verifyGithubSignature } from "./inbound";
import type { EventTriggerRow, EventTriggerStore } from "./store";
import type { OnceLock } from "../../shared";
import { isJsonObject } from "../../lib/json-object";
import type { LoopMarks } from "../workflows/loop-mark";

export interface TriggersDeps {
  store: Store;
  eventTriggers: EventTriggerStore;
  workflows: WorkflowsService;
  /** Deliveries already launched: in this process, or in Redis across replicas (src/shared). */
  lock: OnceLock;
  /** Recognises issues a workflow run opened: they start no workflow (see workflows/loop-mark.ts). */
  loopMarks: LoopMarks;
  /** CLANKER_CRON_MIN_INTERVAL_SECONDS: a cron saved before it that fires more often is not scheduled. */
  cronMinIntervalSeconds: number;
}

export interface TriggerView {
  id: string;
  kind: "cron" | "webhook" | "github";
  workflowId: string;
  enabled: boolean;
  /** POST here to fire it (null for cron). */
  hookUrl: string | null;
  settings: Record<string, unknown>;
  lastFiredAt: string | null;
  createdAt: string | null;
}

/** What arrived at the hook: the exact bytes are what the signature covers. */
export interface Delivery {
  headers: Headers;
  raw: Uint8Array;
  body: unknown;
  ip: string | null;
  userAgent: string | null;
  requestId: string;
}

export interface Received {
  status: 200 | 202;
  body: { received: true; runId?: string; workflowId?: string; status?: string; event?: string; ignored?: string };
}

const SCHEMES = {
  webhook: { signatureHeader: "clanker-signature", scheme: 't=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>' },
  github: { signatureHeader: "X-Hub-Signature-256", scheme: "sha256=<hex HMAC-SHA256(secret, raw body)> (GitHub's webhook secret; content type application/json)" },
} as const;

/** The list query (limit, after_id, before_id), as every list takes it. */
export interface PageQuery {
  limit?: number;
  after_id?: string;
  before_id?: string;
}

const GITHUB_REPLAY_TTL_MS = 24 * 3600 * 1000;


/** A cron trigger's id: `<workflow>#<n>`, its place in the definition's triggers. */
const CRON_ID = /^[^#]+#\d+$/;

/** A list cursor: an event trigger's id (`trg_…`), or a cron trigger's `<workflow>#<n>`. */
function cursorOf(param: "after_id" | "before_id", raw: string): { row: number } | { cron: string } {
  const id = decodeId("trigger", raw);
  if (id !== null) return { row: id };
  if (CRON_ID.test(raw)) return { cron: raw };
  throw new InvalidRequestError(`${param} '${raw}' is not a trigger id (trg_… or <workflow>#<n>)`, param);
}

export function createTriggersService({ store, eventTriggers: rows, workflows, lock, loopMarks, cronMinIntervalSeconds }: TriggersDeps) {
  // Deliveries already launched are names in the once-lock: ours for twice the timestamp window (older ones are
  // refused anyway); GitHub's, which carry no timestamp, for a day. Only verified deliveries take names.
  const SEEN_MS = 2 * REPLAY_WINDOW_SECONDS * 1000;
  /**
   * Takes the delivery's keys one by one; the first one already taken makes it a replay (the ones taken before it
   * are let go again, as if never marked). In order, so of two copies racing, one takes them all.
   */
  const firstSight = async (keys: string[], ttlMs: number): Promise<boolean> => {
    const taken: string[] = [];
    for (const k of keys) {
      if (await lock.tryOnce(`hook:${k}`, ttlMs)) taken.push(k);
      else {
        await forget(taken);
        return false;
      }
    }
    return true;
  };
  const forget = (keys: string[]) => Promise.all(keys.map((k) => lock.forget(`hook:${k}`)));
  /** Whether a delivery under any of these keys launched before, in this process's life or another's (hookDeliveries). */
  const launchedBefore = async (keys: string[], now: number) =>
    (await store.db.select({ key: hookDeliveries.key }).from(hookDeliveries).where(and(inArray(hookDeliveries.key, keys), gt(hookDeliveries.expiresAt, now))).limit(1)).length > 0;
  const remember = (triggerId: number, keys: string[], expiresAt: number) =>
    store.db
      .insert(hookDeliveries)
      .values(keys.map((key) => ({ key, triggerId, expiresAt })))
      .onConflictDoUpdate({ target: hookDeliveries.key, set: { expiresAt } });

  const hookUrl = (base: string, id: number) => `${base}/hooks/${encodeId("trigger", id)}`;

  const view = (r: EventTriggerRow, base: string): TriggerView => ({
    id: encodeId("trigger", r.id),
    kind: r.kind,
    workflowId: r.workflowId,
    enabled: r.enabled,
    hookUrl: hookUrl(base, r.id),
    settings: r.settings,
    lastFiredAt: toIso(r.lastFiredAt),
    createdAt: toIso(r.createdAt),
  });

  const own = (ctx: Ctx, ref: string) => workspaceRow(store.db, eventTriggers, "trigger", "trigger", ctx.workspaceId, ref);

  /** A trigger that has a signing secret: a cron trigger (found, or not) is told apart from a trigger that is not there. */
  const signed = async (ctx: Ctx, ref: string) => {
    if (CRON_ID.test(ref) && (await cronViews(ctx, ref.slice(0, ref.lastIndexOf("#")))).some((t) => t.id === ref))
      throw new InvalidRequestError(`${ref} is a cron trigger: it fires on its schedule and has no hook URL or signing secret (webhook and github triggers have them)`, "id", "TRIGGER_HAS_NO_SECRET");
    return own(ctx, ref);
  };

  /** The cron triggers of the workspace's definitions (of one workflow, if given), with when each last fired. */
  const cronViews = async (ctx: Ctx, workflowId?: string): Promise<TriggerView[]> => {
    const declared = (await workflows.triggers(ctx)).filter((t) => workflowId === undefined || t.workflowId === workflowId);
    const fired = await workflows.lastCronRuns(ctx, declared.map((t) => t.id));
    return declared.map((t) => {
      // As the scheduler judges it (src/modules/workflows/triggers.ts): such a cron is not scheduled, and says why.
      let gap: number | null = null;
      try {
        gap = cronTooOften(t.cron, t.timezone, cronMinIntervalSeconds);
      } catch {}
      const notScheduled = gap === null ? {} : { notScheduled: `fires every ${gap} s at times, more often than this server's CLANKER_CRON_MIN_INTERVAL_SECONDS (${cronMinIntervalSeconds}) allows: save the definition again with a slower schedule` };
      return {
        id: t.id,
        kind: "cron" as const,
        workflowId: t.workflowId,
        enabled: t.enabled && gap === null,
        hookUrl: null,
        settings: { cron: t.cron, timezone: t.timezone, input: t.input, ...notScheduled },
        lastFiredAt: toIso(fired.get(t.id)?.createdAt ?? null),
        createdAt: null,
      };
    });
  };

  const withSecret = (r: EventTriggerRow, base: string, secret: string) => ({ ...view(r, base), secret, ...SCHEMES[r.kind] });

  return {
    /** Forgets deliveries past the time a copy of them would be refused anyway (the scheduler's). */
    prune: (now = Date.now()) => deleteInBatches(store, hookDeliveries, hookDeliveries.key, lte(hookDeliveries.expiresAt, now)),
    /**
     * Every trigger of the workspace's workflows, as one list: the cron triggers first (they are part of the
     * definitions, not rows: ordered by id, `<workflow>#<n>`), then the webhook and github rows newest first
     * through the shared paginator. A cursor is either kind of id; paging crosses from one part to the other.
     */
    async list(ctx: Ctx, q: PageQuery, base: string): Promise<Page<TriggerView>> {
      if (q.after_id !== undefined && q.before_id !== undefined) throw new InvalidRequestError("Pass after_id or before_id, not both", "before_id");
      const limit = q.limit ?? 20;
      const after = q.after_id === undefined ? undefined : cursorOf("after_id", q.after_id);
      const before = q.before_id === undefined ? undefined : cursorOf("before_id", q.before_id);
      const events = async (p: PageParams): Promise<Page<TriggerView>> => {
        const page = await rows.page(ctx.workspaceId, p);
        return { rows: page.rows.map((r) => view(r, base)), hasMore: page.hasMore };
      };
      if (after && "row" in after) return events({ limit, afterId: after.row });
      const crons = (await cronViews(ctx)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const cronId = (t: TriggerView) => t.id;
      if (before && "row" in before) {
        // Newer event triggers first; once they run out, the page fills up with the last crons.
        const newer = await events({ limit, beforeId: before.row });
        if (newer.hasMore) return newer;
        const from = Math.max(0, crons.length - (limit - newer.rows.length));
        return { rows: [...crons.slice(from), ...newer.rows], hasMore: from > 0 };
      }
      if (before) return pageOfList(crons, cronId, { limit, beforeId: before.cron });
      const head = pageOfList(crons, cronId, { limit, afterId: after && "cron" in after ? after.cron : undefined });
      if (head.hasMore) return head;
      // limit 0 still answers whether any event trigger follows (the paginator fetches limit + 1 rows).
      const tail = await events({ limit: limit - head.rows.length });
      return { rows: [...head.rows, ...tail.rows], hasMore: tail.hasMore };
    },

    /** One trigger by the id the list gives it: an event trigger's `trg_…`, or a cron trigger's `<workflow>#<n>`. */
    async get(ctx: Ctx, ref: string, base: string): Promise<TriggerView> {
      if (!CRON_ID.test(ref)) return view(await own(ctx, ref), base);
      const cron = (await cronViews(ctx, ref.slice(0, ref.lastIndexOf("#")))).find((t) => t.id === ref);
      if (!cron) throw new NotFoundError("trigger", ref);
      return cron;
    },

    /** The hook URL with the secret that signs its deliveries: owners and admins only. */
    async secret(ctx: Ctx, ref: string, base: string) {
      // Another workspace's trigger is a 404 whoever asks (not a 403 that a member meets first).
      const r = await signed(ctx, ref);
      assertRole(ctx, "admin", "read a trigger's signing secret");
      return withSecret(r, base, rows.secretOf(r));
    },

    async rotate(ctx: Ctx, ref: string, base: string) {
      const r = await signed(ctx, ref);
      assertRole(ctx, "admin", "rotate a trigger's signing secret");
      const secret = await store.tx(async () => {
        const s = await rows.rotate(r);
        await writeAudit(store, ctx, { action: "trigger.rotate", resourceType: "trigger", resourceId: encodeId("trigger", r.id), metadata: { workflow: r.workflowId, kind: r.kind } });
        return s;
      });
      return withSecret(r, base, secret);
    },

    /**
     * A delivery to POST /hooks/:triggerId. Unknown, disabled or orphaned triggers are one 404; the signature is
     * checked before anything in the body is believed; a verified delivery launches the workflow as the trigger.
     */
    async receive(ref: string, dl: Delivery): Promise<Received> {
      const id = decodeId("trigger", ref);
      const row = id === null ? undefined : await rows.byId(id);
      if (!row || !row.enabled || !(await workflows.definitionOf(row.workspaceId, row.workflowId))) throw new NotFoundError("trigger", ref);
      const secret = rows.secretOf(row);
      // A delivery is a replay when any of its keys was seen: keys come from what the signature covers, never
      // from how the header is spelled or from an unsigned header alone.
      let replayKeys: string[];
      let input: Record<string, unknown>;
      if (row.kind === "webhook") {
        const { t, hmac } = verifyClankerSignature(secret, dl.headers.get("clanker-signature"), dl.raw, Math.floor(Date.now() / 1000));
        replayKeys = [`${row.id}:sig:${t}:${hmac}`];
        if (dl.body !== undefined && !isJsonObject(dl.body)) throw new InvalidRequestError("The body must be a JSON object: it becomes the workflow's input", "body");
        input = (dl.body as Record<string, unknown> | undefined) ?? {};
      } else {
        verifyGithubSignature(secret, dl.headers.get("x-hub-signature-256"), dl.raw);
        const event = dl.headers.get("x-github-event");
        if (!event) throw new InvalidRequestError("Missing X-GitHub-Event header", "x-github-event");
        if (event === "ping") return { status: 200, body: { received: true, event } };
        if (!isJsonObject(dl.body)) throw new InvalidRequestError("The body must be GitHub's JSON payload (set the webhook's content type to application/json)", "body");
        const delivery = dl.headers.get("x-github-delivery");
        // GitHub signs no timestamp and no delivery id: the signed body is the key (a redelivery is byte-identical);
        // the delivery id only adds one, so a redelivery whose payload was re-rendered still launches once.
        replayKeys = [`${row.id}:gh-body:${sha256Hex(dl.raw)}`];
        if (delivery) replayKeys.push(`${row.id}:gh-id:${delivery}`);
        const outcome = githubInput(event, dl.body, row.settings as { events?: string[]; repo?: string }, delivery, loopMarks.madeByWorkflow);
        if ("ignored" in outcome) return { status: 202, body: { received: true, event, ignored: outcome.ignored } };
        input = outcome.input;
      }
      // Marked before the launch awaits (a copy arriving meanwhile, on any replica, is a replay), and unmarked if the
      // launch is refused: a delivery refused for a reason the sender can fix may be sent again.
      // The store remembers what launched for as long (a restart empties the lock held in memory), and is asked in
      // the launch's transaction, which records the keys with it.
      const ttlMs = row.kind === "github" ? GITHUB_REPLAY_TTL_MS : SEEN_MS;
      const replay: Received = { status: 202, body: { received: true, ignored: "this delivery was already received" } };
      if (!(await firstSight(replayKeys, ttlMs))) return replay;
      const ctx: Ctx = { ...systemCtx(row.workspaceId, dl.requestId), ip: dl.ip, userAgent: dl.userAgent };
      let run;
      try {
        run = await store.tx(async () => {
          const now = Date.now();
          if (await launchedBefore(replayKeys, now)) return null;
          const launched = await workflows.launch(ctx, row.workflowId, { inputData: input }, row.kind);
          await rows.fired(row.id);
          await remember(row.id, replayKeys, now + ttlMs);
          return launched;
        });
      } catch (e) {
        await forget(replayKeys);
        throw e;
      }
      if (run === null) return replay;
      return { status: 202, body: { received: true, runId: run.id, workflowId: run.workflowId, status: run.status } };
    },
  };
}

export type TriggersService = ReturnType<typeof createTriggersService>;
