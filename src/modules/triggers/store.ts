// The event_triggers rows behind a definition's webhook and github triggers: synced when the definition is saved or
// deleted (inside the caller's store.tx), each with its own signing secret sealed to its workspace and id.
import { and, asc, eq } from "drizzle-orm";
import type { Ctx } from "../../lib/context";
import { randomToken } from "../../lib/crypto";
import { encodeId } from "../../lib/ids";
import type { SecretBox } from "../../lib/secret-box";
import { writeAudit } from "../../store/audit";
import type { Store } from "../../store/db";
import { workspacePage, type Page, type PageParams } from "../../store/paginate";
import { eventTriggers } from "../../store/schema";
import { isCron, type Trigger } from "../workflows/definition";

export type EventTriggerRow = typeof eventTriggers.$inferSelect;
export type EventKind = EventTriggerRow["kind"];

interface Declared {
  kind: EventKind;
  settings: Record<string, unknown>;
  enabled: boolean;
}

const aadOf = (workspaceId: number, id: number) => `event-trigger:ws:${workspaceId}:${id}`;
const newSecret = () => `whsec_${randomToken(24)}`;

function declaredOf(triggers: Trigger[]): Declared[] {
  return triggers.flatMap((t): Declared[] => {
    if (isCron(t)) return [];
    const enabled = t.enabled ?? true;
    return "webhook" in t ? [{ kind: "webhook", settings: {}, enabled }] : [{ kind: "github", settings: { ...t.github }, enabled }];
  });
}

export function createEventTriggerStore(store: Store, box: SecretBox) {
  const db = store.db;

  async function sealInto(row: { id: number; workspaceId: number }, secret: string): Promise<void> {
    await db.update(eventTriggers).set({ ciphertext: box.seal(secret, aadOf(row.workspaceId, row.id)), updatedAt: Date.now() }).where(eq(eventTriggers.id, row.id));
  }

  return {
    /**
     * Brings a workflow's rows in line with its declared triggers, inside the caller's store.tx. A
     * declared trigger keeps the row (id, hook URL and secret) of an identical one first, else of the first
     * leftover of its kind (so editing a github trigger's events keeps its secret); other rows go.
     */
    async sync(ctx: Ctx, workflowId: string, triggers: Trigger[]): Promise<void> {
      const rows = await db
        .select()
        .from(eventTriggers)
        .where(and(eq(eventTriggers.workspaceId, ctx.workspaceId), eq(eventTriggers.workflowId, workflowId)))
        .orderBy(asc(eventTriggers.id));
      const declared = declaredOf(triggers);
      const paired = new Map<Declared, EventTriggerRow>();
      const used = new Set<number>();
      const same = (d: Declared, r: EventTriggerRow) => r.kind === d.kind && JSON.stringify(r.settings) === JSON.stringify(d.settings);
      for (const pass of [same, (d: Declared, r: EventTriggerRow) => r.kind === d.kind]) {
        for (const d of declared) {
          if (paired.has(d)) continue;
          const r = rows.find((r) => !used.has(r.id) && pass(d, r));
          if (!r) continue;
          paired.set(d, r);
          used.add(r.id);
        }
      }
      const now = Date.now();
      const audit = (action: string, id: number, kind: EventKind) =>
        writeAudit(store, ctx, { action, resourceType: "trigger", resourceId: encodeId("trigger", id), metadata: { workflow: workflowId, kind } });
      for (const d of declared) {
        const r = paired.get(d);
        if (r) {
          if (same(d, r) && r.enabled === d.enabled) continue;
          await db.update(eventTriggers).set({ settings: d.settings, enabled: d.enabled, updatedAt: now }).where(eq(eventTriggers.id, r.id));
          await audit("trigger.update", r.id, d.kind);
          continue;
        }
        const userId = ctx.actor.userId;
        const [row] = await db
          .insert(eventTriggers)
          .values({ workspaceId: ctx.workspaceId, workflowId, kind: d.kind, settings: d.settings, ciphertext: Buffer.alloc(0), enabled: d.enabled, createdByUserId: userId, createdAt: now, updatedAt: now })
          .returning();
        // Sealed after the insert: the associated data names the row's id, so a ciphertext copied to another row will not open.
        await sealInto(row!, newSecret());
        await audit("trigger.create", row!.id, d.kind);
      }
      for (const r of rows) {
        if (used.has(r.id)) continue;
        await db.delete(eventTriggers).where(eq(eventTriggers.id, r.id));
        await audit("trigger.delete", r.id, r.kind);
      }
    },

    async byId(id: number): Promise<EventTriggerRow | undefined> {
      const [row] = await db.select().from(eventTriggers).where(eq(eventTriggers.id, id));
      return row;
    },

    /** One page of the workspace's rows, newest first (the shared paginator). */
    page(workspaceId: number, p: PageParams): Promise<Page<EventTriggerRow>> {
      return workspacePage(db, eventTriggers, workspaceId, p);
    },

    secretOf(row: EventTriggerRow): string {
      return box.open(row.ciphertext, aadOf(row.workspaceId, row.id));
    },

    /** A new secret for the row, inside the caller's store.tx. */
    async rotate(row: EventTriggerRow): Promise<string> {
      const secret = newSecret();
      await sealInto(row, secret);
      return secret;
    },

    /** Inside the caller's store.tx. */
    async fired(id: number): Promise<void> {
      await db.update(eventTriggers).set({ lastFiredAt: Date.now() }).where(eq(eventTriggers.id, id));
    },
  };
}

export type EventTriggerStore = ReturnType<typeof createEventTriggerStore>;
