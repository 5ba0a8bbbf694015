// The event log and its fan-out: events are rows (so Last-Event-ID can resume from the store), appended inside the
// transaction that causes them and delivered to subscribers (here, and on every replica) once it has committed.
import { Database } from "bun:sqlite";
import { randomBytes } from "../../lib/crypto";
import { and, eq, gt, lt, sql } from "drizzle-orm";
import { LOCK_SPACES, type Store } from "../../store/db";
import { prepared } from "../../store/prepared";
import { events } from "../../store/schema";
import { deleteInBatches } from "../../store/prune";
import type { Fanout } from "../../shared";
import { LogFollowers, type Following, type Pace, type Sweep } from "./follow";

// A run appends five events or so: the insert is prepared.
const ph = sql.placeholder;
const insertEvent = prepared((db) =>
  db
    .insert(events)
    .values({ workspaceId: ph("workspaceId"), type: ph("type"), source: ph("source"), data: ph("data"), createdAt: ph("now") })
    .returning({ id: events.id }),
);

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
  private followers: LogFollowers | null = null;
  private reader: Database | null | undefined;

  /** Starts every message this bus publishes: the copy the fan-out hands back to this process is skipped. */
  private readonly origin = randomBytes(6).toString("base64url");

  /**
   * `fanout`: the replicas' `events` channel (Redis), or null with one process — then nothing is serialized and
   * delivery stays a synchronous call, as before.
   */
  constructor(
    private store: Store,
    private fanout: Fanout | null = null,
  ) {
    fanout?.subscribe("events", (msg) => {
      if (msg.startsWith(this.origin)) return;
      this.fanOut(JSON.parse(msg.slice(this.origin.length)) as BusEvent);
    });
  }

  /**
   * Inside the caller's store.tx: records the event, and hands it to live subscribers once that tx (or its
   * group-commit batch) has committed, never if it rolls back: no SSE client sees an event the log lost.
   */
  async append(workspaceId: number, type: string, source: string, data: unknown): Promise<BusEvent> {
    // Under PostgreSQL, transactions take ids from the sequence and commit in any order: a reader resuming after id N
    // would never see an N-1 that commits later. Held until this transaction ends, the workspace's lock makes id
    // order commit order (SQLite has one writer already), so the log read from any replica has no hole.
    await this.store.lockInTx(LOCK_SPACES.events, workspaceId);
    const now = Date.now();
    const [row] = await insertEvent(this.store, { workspaceId, type, source, data: JSON.stringify(data), now });
    const id = row!.id;
    const ev: BusEvent = { id, workspaceId, type, source, data, createdAt: now };
    this.store.afterCommit(() => {
      this.fanOut(ev);
      this.fanout?.publish("events", this.origin + JSON.stringify(ev));
    });
    return ev;
  }

  private fanOut(e: BusEvent): void {
    const set = this.listeners.get(e.workspaceId);
    if (set) for (const l of set) l(e);
  }

  subscribe(workspaceId: number, listener: Listener): () => void {
    let set = this.listeners.get(workspaceId);
    if (!set) this.listeners.set(workspaceId, (set = new Set()));
    set.add(listener);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      set!.delete(listener);
      if (set!.size === 0) this.listeners.delete(workspaceId);
    };
  }

  /** Once the streams' reads of the log under way are done (a shutdown waits for it). */
  settled(): Promise<void> {
    return this.followers?.settled() ?? Promise.resolve();
  }

  /**
   * A client of GET /api/events (counted for /metrics): the workspace's events after `after` (0: from now on), in id
   * order and none left out, on one process as across replicas (./follow.ts).
   */
  follow(workspaceId: number, after: number, listener: Listener, pace?: Pace): Following {
    const f = (this.followers ??= new LogFollowers(this, this.sweep())).follow(workspaceId, after, listener, pace);
    this.sse++;
    let done = false;
    return {
      placed: f.placed,
      replayed: f.replayed,
      stop: () => {
        if (done) return;
        done = true;
        this.sse--;
        f.stop();
      },
    };
  }

  /**
   * How often streams read the log unprompted. Replicas: every 5 s, for a cue Redis lost. SQLite: every 200 ms, but
   * only after another process (a `clanker mcp` on this data dir) committed: PRAGMA data_version moves only then.
   */
  private sweep(): Sweep {
    const sqlite = this.store.sqlite;
    if (this.fanout || !sqlite) return { everyMs: 5_000 };
    const version = sqlite.query<{ data_version: number }, []>("PRAGMA data_version");
    let seen = version.get()!.data_version;
    return {
      everyMs: 200,
      due: () => {
        const v = version.get()!.data_version;
        return v !== seen && ((seen = v), true);
      },
    };
  }

  /** The workspace's newest event id in the log, or (null) the whole log's; 0: none. */
  async lastId(workspaceId: number | null): Promise<number> {
    const log = this.committedLog();
    if (log) {
      if (workspaceId === null) return log.query<{ id: number | null }, []>("SELECT max(id) AS id FROM events").get()?.id ?? 0;
      return log.query<{ id: number | null }, [number]>("SELECT max(id) AS id FROM events WHERE workspace_id = ?").get(workspaceId)?.id ?? 0;
    }
    const [row] = await this.store.db
      .select({ id: sql<number | null>`max(${events.id})` })
      .from(events)
      .where(workspaceId === null ? undefined : eq(events.workspaceId, workspaceId));
    return Number(row?.id ?? 0);
  }

  /** Clients connected to GET /api/events now. */
  sseClients(): number {
    return this.sse;
  }

  /** Listeners subscribed in this process, for the metrics (what a leak of them would show in). */
  listenerCount(): number {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }

  /**
   * SQLite: the log as committed, read on a connection of its own (WAL: a reader sees the last COMMIT). On the store's
   * connection a stream's read between a group-commit batch's insert and its COMMIT saw events that could still roll
   * back, and whose ids the events that did commit would then take.
   */
  private committedLog(): Database | null {
    if (this.reader !== undefined) return this.reader;
    const file = this.store.sqlite?.filename;
    if (!file || file === ":memory:") return (this.reader = null);
    this.reader = new Database(file, { readonly: true });
    // A read can meet SQLITE_BUSY for a moment (another process's recovery of the WAL index, a WAL being reset): it
    // waits that moment out rather than end every stream that read then; briefly, since the wait holds the process.
    this.reader.run("PRAGMA busy_timeout = 250");
    return this.reader;
  }

  /** Lets go of the log's reader (before the store closes: the last connection to close folds the WAL in and removes it). */
  close(): void {
    this.reader?.close();
    this.reader = undefined;
  }

  /** Stored events after `afterId`, oldest first, for a resuming client. */
  async since(workspaceId: number, afterId: number, limit = 1000): Promise<BusEvent[]> {
    const log = this.committedLog();
    if (log)
      return log
        .query<Omit<BusEvent, "data"> & { data: string }, [number, number, number]>(
          "SELECT id, workspace_id AS workspaceId, type, source, data, created_at AS createdAt FROM events WHERE workspace_id = ? AND id > ? ORDER BY id LIMIT ?",
        )
        .all(workspaceId, afterId, limit)
        .map((r) => ({ ...r, data: JSON.parse(r.data) as unknown }));
    const rows = await this.store.db
      .select()
      .from(events)
      .where(and(eq(events.workspaceId, workspaceId), gt(events.id, afterId)))
      .orderBy(events.id)
      .limit(limit);
    return rows.map((r) => ({ ...r, data: JSON.parse(r.data) as unknown }));
  }

  /** Forgets events older than `maxAgeMs` (run by the scheduler). */
  async prune(maxAgeMs: number): Promise<void> {
    await deleteInBatches(this.store, events, events.id, lt(events.createdAt, Date.now() - maxAgeMs));
  }

  subscriberCount(): number {
    let n = 0;
    for (const s of this.listeners.values()) n += s.size;
    return n;
  }
}
