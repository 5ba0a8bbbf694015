// Triggers: what can start a workflow (cron from the definitions; webhook and github rows with their own hook URL
// and secret), reading and rotating a secret, and receiving a signed delivery at POST /hooks/:triggerId.
import { LRUCache } from "lru-cache";
import { assertRole, systemCtx, type Ctx } from "../../lib/context";
import { InvalidRequestError, NotFoundError } from "../../lib/errors";
import { decodeId, encodeId } from "../../lib/ids";
import { toIso } from "../../lib/clock";
import { writeAudit } from "../../store/audit";
import type { Store } from "../../store/db";
import { workspaceRow } from "../../store/lookup";
import { eventTriggers } from "../../store/schema";
import type { WorkflowsService } from "../workflows/service";
import { githubInput, REPLAY_WINDOW_SECONDS, verifyClankerSignature, verifyGithubSignature } from "./inbound";
import type { EventTriggerRow, EventTriggerStore } from "./store";

export interface TriggersDeps {
  store: Store;
  eventTriggers: EventTriggerStore;
  workflows: WorkflowsService;
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

const obj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** One page of an in-memory list in its own order; a cursor is an item's id. */
function pageOf<T extends { id: string }>(all: T[], q: PageQuery): { rows: T[]; hasMore: boolean } {
  const limit = q.limit ?? 20;
  const cursor = q.after_id ?? q.before_id;
  if (q.after_id !== undefined && q.before_id !== undefined) throw new InvalidRequestError("Pass after_id or before_id, not both", "before_id");
  if (cursor === undefined) return { rows: all.slice(0, limit), hasMore: all.length > limit };
  const at = all.findIndex((t) => t.id === cursor);
  const param = q.after_id !== undefined ? "after_id" : "before_id";
  if (at === -1) throw new InvalidRequestError(`${param} '${cursor}' is not a trigger of this workspace`, param);
  if (q.after_id !== undefined) return { rows: all.slice(at + 1, at + 1 + limit), hasMore: at + 1 + limit < all.length };
  const start = Math.max(0, at - limit);
  return { rows: all.slice(start, at), hasMore: start > 0 };
}

export function createTriggersService({ store, eventTriggers: rows, workflows }: TriggersDeps) {
  // Deliveries already launched within the replay window (GitHub's delivery id, or our signature), kept in memory.
  const seen = new LRUCache<string, true>({ max: 50_000, ttl: 2 * REPLAY_WINDOW_SECONDS * 1000 });

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

  const withSecret = (r: EventTriggerRow, base: string, secret: string) => ({ ...view(r, base), secret, ...SCHEMES[r.kind] });

  return {
    /** Every trigger of the workspace's workflows, ordered by workflow (cron first, then webhook and github by id). */
    list(ctx: Ctx, q: PageQuery, base: string) {
      const cron: TriggerView[] = workflows.triggers(ctx).map((t) => ({
        id: t.id,
        kind: "cron",
        workflowId: t.workflowId,
        enabled: true,
        hookUrl: null,
        settings: { cron: t.cron, timezone: t.timezone, input: t.input },
        lastFiredAt: null,
        createdAt: null,
      }));
      const events = rows.ofWorkspace(ctx.workspaceId).map((r) => view(r, base));
      const all = [...cron, ...events].sort((a, b) => (a.workflowId === b.workflowId ? 0 : a.workflowId < b.workflowId ? -1 : 1));
      return pageOf(all, q);
    },

    get: (ctx: Ctx, ref: string, base: string): TriggerView => view(own(ctx, ref), base),

    /** The hook URL with the secret that signs its deliveries: owners and admins only. */
    secret(ctx: Ctx, ref: string, base: string) {
      assertRole(ctx, "admin", "read a trigger's signing secret");
      const r = own(ctx, ref);
      return withSecret(r, base, rows.secretOf(r));
    },

    rotate(ctx: Ctx, ref: string, base: string) {
      assertRole(ctx, "admin", "rotate a trigger's signing secret");
      const r = own(ctx, ref);
      const secret = store.tx(() => {
        const s = rows.rotate(r);
        writeAudit(store, ctx, { action: "trigger.rotate", resourceType: "trigger", resourceId: encodeId("trigger", r.id), metadata: { workflow: r.workflowId, kind: r.kind } });
        return s;
      });
      return withSecret(r, base, secret);
    },

    /**
     * A delivery to POST /hooks/:triggerId. Unknown, disabled or orphaned triggers are one 404; the signature is
     * checked before anything in the body is believed; a verified delivery launches the workflow as the trigger.
     */
    receive(ref: string, dl: Delivery): Received {
      const id = decodeId("trigger", ref);
      const row = id === null ? undefined : rows.byId(id);
      if (!row || !row.enabled || !workflows.definitionOf(row.workspaceId, row.workflowId)) throw new NotFoundError("trigger", ref);
      const secret = rows.secretOf(row);
      let replayKey: string | null;
      let input: Record<string, unknown>;
      if (row.kind === "webhook") {
        const header = dl.headers.get("clanker-signature");
        verifyClankerSignature(secret, header, dl.raw, Math.floor(Date.now() / 1000));
        replayKey = `${row.id}:sig:${header}`;
        if (dl.body !== undefined && !obj(dl.body)) throw new InvalidRequestError("The body must be a JSON object: it becomes the workflow's input", "body");
        input = (dl.body as Record<string, unknown> | undefined) ?? {};
      } else {
        verifyGithubSignature(secret, dl.headers.get("x-hub-signature-256"), dl.raw);
        const event = dl.headers.get("x-github-event");
        if (!event) throw new InvalidRequestError("Missing X-GitHub-Event header", "x-github-event");
        if (event === "ping") return { status: 200, body: { received: true, event } };
        if (!obj(dl.body)) throw new InvalidRequestError("The body must be GitHub's JSON payload (set the webhook's content type to application/json)", "body");
        const delivery = dl.headers.get("x-github-delivery");
        replayKey = delivery ? `${row.id}:gh:${delivery}` : null;
        const outcome = githubInput(event, dl.body, row.settings as { events?: string[]; repo?: string }, delivery);
        if ("ignored" in outcome) return { status: 202, body: { received: true, event, ignored: outcome.ignored } };
        input = outcome.input;
      }
      if (replayKey && seen.has(replayKey)) return { status: 202, body: { received: true, ignored: "this delivery was already received" } };
      const ctx: Ctx = { ...systemCtx(row.workspaceId, dl.requestId), ip: dl.ip, userAgent: dl.userAgent };
      const run = workflows.launch(ctx, row.workflowId, { inputData: input }, row.kind);
      // Marked only once launched: a delivery refused for a reason the sender can fix may be sent again.
      if (replayKey) seen.set(replayKey, true);
      rows.fired(row.id);
      return { status: 202, body: { received: true, runId: run.id, workflowId: run.workflowId, status: run.status } };
    },
  };
}

export type TriggersService = ReturnType<typeof createTriggersService>;
