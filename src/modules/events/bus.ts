// The event log and its in-process fan-out: events are rows (so Last-Event-ID can resume from the store),
// appended inside the transaction that causes them and delivered to subscribers once it has committed.
import { and, eq, gt, lt, sql } from "drizzle-orm";
import type { Store } from "../../store/db";
import { events } from "../../store/schema";

export interface BusEvent {
  id: number;
  workspaceId: number;
  type: string;
  source: string;
  data: unknown;
  createdAt: number;
}

type Listener = (e: BusEvent) => void;

export class EventBus {
  private listeners = new Map<number, Set<Listener>>();
  private sse = 0;
  private insert;

  constructor(private store: Store) {
    this.insert = store.db
      .insert(events)
      .values({
        workspaceId: sql.placeholder("ws"),
        type: sql.placeholder("type"),
        source: sql.placeholder("source"),
        data: sql.placeholder("data"),
        createdAt: sql.placeholder("now"),
      })
      .returning({ id: events.id })
      .prepare();
  }

  /** Inside a tx: records the event. Call deliver() with the result after the tx commits. */
  append(workspaceId: number, type: string, source: string, data: unknown): BusEvent {
    const now = Date.now();
    const { id } = this.insert.get({ ws: workspaceId, type, source, data: JSON.stringify(data), now })!;
    return { id, workspaceId, type, source, data, createdAt: now };
  }

  deliver(...evs: BusEvent[]): void {
    for (const e of evs) {
      const set = this.listeners.get(e.workspaceId);
      if (set) for (const l of set) l(e);
    }
  }

  /** `sse`: a client of GET /api/events, counted for /metrics. */
  subscribe(workspaceId: number, listener: Listener, kind?: "sse"): () => void {
    let set = this.listeners.get(workspaceId);
    if (!set) this.listeners.set(workspaceId, (set = new Set()));
    set.add(listener);
    if (kind === "sse") this.sse++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      if (kind === "sse") this.sse--;
      set!.delete(listener);
      if (set!.size === 0) this.listeners.delete(workspaceId);
    };
  }

  /** Clients connected to GET /api/events now. */
  sseClients(): number {
    return this.sse;
  }

  /** Stored events after `afterId`, oldest first, for a resuming client. */
  since(workspaceId: number, afterId: number, limit = 1000): BusEvent[] {
    return this.store.db
      .select()
      .from(events)
      .where(and(eq(events.workspaceId, workspaceId), gt(events.id, afterId)))
      .orderBy(events.id)
      .limit(limit)
      .all()
      .map((r) => ({ ...r, data: JSON.parse(r.data) }));
  }

  /** Forgets events older than `maxAgeMs` (run by the scheduler). */
  prune(maxAgeMs: number): void {
    this.store.db.delete(events).where(lt(events.createdAt, Date.now() - maxAgeMs)).run();
  }

  subscriberCount(): number {
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }
}
