// Which replica runs which execution: queued runs are claimed from the database with a lease (on PostgreSQL
// `FOR UPDATE SKIP LOCKED`, per-workspace limits counted over every replica), owners renew their leases, and runs
// whose lease ran out (a replica that died) go back to `queued` for any replica; plus the single-process paths
// (fail what a crash left running, requeue what a shutdown interrupts).
import { and, asc, eq, inArray, isNull, lt, or, sql, type SQL } from "drizzle-orm";
// The same function in pg-core (a proxy naming the table): the tables here are typed as SQLite's on either dialect.
import { alias } from "drizzle-orm/sqlite-core";
import type { Config } from "../../config";
import { describeError } from "../../lib/errors";
import { encodeId } from "../../lib/ids";
import { holderGone, leaseMillis, predecessorId, replicaId } from "../../lib/replica";
import { LOCK_SPACES, type Store } from "../../store/db";
import { prepared } from "../../store/prepared";
import { executionBlocks, executions } from "../../store/schema";
import type { Log } from "../../lib/log";
import type { EventBus } from "../events/bus";
import type { RunSettler } from "./settle";
import { EXECUTION_EVENT } from "./settle";
import type { ExecutionRow } from "./view";

/** A queued run as the dispatcher picks it (begin reads the whole row of each it picks). */
export type QueuedRun = Pick<ExecutionRow, "id" | "workspaceId" | "createdAt">;

/**
 * The oldest queued runs of each workspace, at most `perWorkspace` of each (no pass can start more of one), oldest
 * first, 500 at most in all; only what picking among them needs. Per workspace, not the head of the whole queue: a
 * backlog held at one workspace's limit would fill any page of the queue and hide the later runs of every other
 * workspace until it drained. One short range of executions_queue per workspace. A whole row (input, attachments)
 * costs ~5 µs to read in SQLite alone, before drizzle maps it, so only the runs picked are read whole, by begin.
 * Prepared: built anew on every dispatch, drizzle's SQL building cost about what SQLite took to run it.
 */
const queuedFields = { id: executions.id, workspaceId: executions.workspaceId, createdAt: executions.createdAt };
const queuedRuns = prepared((db) => {
  const waiting = db.selectDistinct({ workspaceId: executions.workspaceId }).from(executions).where(eq(executions.status, "queued")).as("waiting");
  const head = alias(executions, "head");
  const headOf = db
    .select({ id: head.id })
    .from(head)
    .where(and(eq(head.status, "queued"), eq(head.workspaceId, waiting.workspaceId)))
    .orderBy(asc(head.id))
    .limit(sql.placeholder("perWorkspace"));
  return db
    .select(queuedFields)
    .from(waiting)
    .innerJoin(executions, inArray(executions.id, headOf))
    .orderBy(asc(executions.id))
    .limit(500);
});

/** PostgreSQL: how often a replica looks at the queue besides kick() (runs queued on other replicas). */
export const POLL_MS = 1000;

/**
 * A run that goes back to `queued` mid-stream: its blocks are dropped (the next attempt starts from the top) and the
 * last index it reached is kept, so the next attempt numbers its output after it and a client following with
 * `blocksAfter` gets all of the new output instead of missing its first blocks.
 */
const REQUEUED = {
  status: "queued" as const,
  startedAt: null,
  leaseOwner: null,
  leaseExpiresAt: null,
  blocksBase: sql<number>`coalesce((SELECT max(${executionBlocks.seq}) FROM ${executionBlocks} WHERE ${executionBlocks.executionId} = ${executions.id}), ${executions.blocksBase})`,
};

/** PostgreSQL: runs whose lease ran out, none, or that the dead server this one replaces on its data dir held. */
function expiredOrOrphaned(): SQL | undefined {
  const orphan = predecessorId();
  return or(isNull(executions.leaseExpiresAt), lt(executions.leaseExpiresAt, Date.now()), orphan ? eq(executions.leaseOwner, orphan) : undefined);
}

/** What the runner tells the timers: how to dispatch, what it runs, how to stop a run it lost. */
interface Hooks {
  kick(): void;
  running(): Iterable<number>;
  lost(id: number): void;
  /** Runs fn between two of this process's settles, never during one (see renew). */
  betweenSettles<T>(fn: () => Promise<T>): Promise<T>;
  /** Whether this process takes back other replicas' expired runs (not `clanker mcp` running only its own). */
  reap: boolean;
  /** Whether it looks at the queue every POLL_MS for runs other processes queued. */
  poll: boolean;
  log: Log;
}

/** A PostgreSQL select builder as drizzle has it (the store's Db is typed as SQLite's, which has no row locks). */
type Lockable = { for(strength: "update", opts: { skipLocked: true }): Promise<{ id: number }[]> };

export class RunClaims {
  private timers: ReturnType<typeof setInterval>[] = [];
  /** No reaping before this (see start): set when this replica could not reach the store. */
  private reapAfter = 0;

  constructor(private d: { store: Store; bus: EventBus; config: Config; settle: RunSettler }) {}

  /**
   * Runs fn every ms (not while its last round is still going); a failure is logged. A round still going after a
   * lease (two periods at least) is given up on: one that never settles (a query to a PostgreSQL that stopped
   * answering) kept the loop waiting for good, and this replica's leases ran out while it still ran their runs.
   */
  private every(ms: number, what: string, log: Log, fn: () => Promise<unknown>): void {
    let rounds = 0;
    let busy = 0; // the round going on (its number), 0: none
    let began = 0;
    const t = setInterval(() => {
      if (busy) {
        const deadline = Math.max(leaseMillis(), 2 * ms);
        if (Date.now() - began < deadline) return;
        log.error(`${what}: a round has not ended in ${deadline} ms; starting the next one`);
      }
      const round = (busy = ++rounds);
      began = Date.now();
      void fn()
        .catch((err: unknown) => log.error(`${what} failed: ${describeError(err)}`))
        // A round given up on that ends later must not mark the round going on as ended.
        .finally(() => {
          if (busy === round) busy = 0;
        });
    }, ms);
    t.unref?.();
    this.timers.push(t);
  }

  /**
   * Looks at the queue every POLL_MS. On SQLite only this: another process on the data dir queues runs or hands
   * them back (`clanker mcp` at its exit puts what it could not finish back in the queue), and nothing else would
   * tell this server about them.
   */
  poll(kick: () => void, log: Log): void {
    this.every(POLL_MS, "polling the run queue", log, async () => kick());
  }

  /**
   * Polls the queue; every third of a lease, renews this process's leases and takes back expired runs: on PostgreSQL
   * a replica's that died, on SQLite a `clanker mcp`'s killed beside the server.
   */
  start(h: Hooks): void {
    if (h.poll) this.poll(h.kick, h.log);
    this.every(Math.max(100, Math.floor(leaseMillis() / 3)), "renewing run leases", h.log, async () => {
      let lost: number[];
      try {
        // A run no longer held (cancelled on another replica, or taken back after a stall) is stopped here. The renewal
        // writes the rows this replica's settles write: one after the other, neither fails at the other's row and runs again.
        lost = await h.betweenSettles(async () => {
          const mine = [...h.running()];
          if (!mine.length) return [];
          const held = await this.renew();
          return mine.filter((id) => !held.has(id));
        });
      } catch (e) {
        // The store out of reach here was most likely out of reach for every replica: their leases ran out for the
        // same reason ours did. They get a whole lease to renew before this one takes their runs for dead ones (a
        // 20 s outage had a live replica's runs taken and sent to the model twice).
        this.reapAfter = Date.now() + leaseMillis();
        throw e;
      }
      for (const id of lost) h.lost(id);
      if (!h.reap || Date.now() < this.reapAfter) return;
      const reaped = await this.reap();
      if (!reaped) return;
      h.log.warn(`put ${reaped} run(s) whose holder is gone (a replica whose lease ran out, a clanker mcp that stopped) back to queued`);
      h.kick();
    });
  }

  stop(): void {
    for (const t of this.timers.splice(0)) clearInterval(t);
  }

  /**
   * PostgreSQL: from the queue, one tx reads how many runs each workspace has running (on every replica), picks
   * up to `room` runs within the limits, locks those still queued (rows another replica is locking right now are
   * skipped) and hands each to `begin` (marks it running under this replica's lease). Dispatches on every replica take
   * one lock in turn, so each counts what the previous one committed: two never take the same free slot. SERIALIZABLE,
   * its read of the running runs would conflict with runs queued and settled meanwhile, and run again.
   */
  async claim(room: number, only: number[] | null, accept: (e: QueuedRun) => boolean, begin: (id: number) => Promise<(() => void) | null>): Promise<(() => void)[]> {
    const { store, config } = this.d;
    if (room <= 0) return [];
    // Read outside the tx: a tx that read the whole queue would conflict with every request queueing a run.
    const queued = await this.queue(only);
    const candidates = queued.filter(accept);
    if (!candidates.length) return [];
    return store.tx(async () => {
      const db = store.db;
      const wsIds = [...new Set(candidates.map((e) => e.workspaceId))];
      const counts = await db
        .select({ ws: executions.workspaceId, n: sql<number>`count(*)`.mapWith(Number) })
        .from(executions)
        .where(and(eq(executions.status, "running"), inArray(executions.workspaceId, wsIds)))
        .groupBy(executions.workspaceId);
      const perWs = new Map(counts.map((c) => [c.ws, c.n]));
      const picked: QueuedRun[] = [];
      for (const e of candidates) {
        if (picked.length >= room) break;
        const n = perWs.get(e.workspaceId) ?? 0;
        if (n >= config.executor.workspaceConcurrency) continue;
        perWs.set(e.workspaceId, n + 1);
        picked.push(e);
      }
      if (!picked.length) return [];
      const lockQuery = db
        .select({ id: executions.id })
        .from(executions)
        .where(and(inArray(executions.id, picked.map((e) => e.id)), eq(executions.status, "queued")));
      const locked = new Set((await (lockQuery as unknown as Lockable).for("update", { skipLocked: true })).map((r) => r.id));
      const launches: (() => void)[] = [];
      // Begun workspace by workspace, in id order: each begin appends its workspace's event (its events lock), and
      // every transaction that takes several of those locks takes them in that order (see run-output.ts).
      for (const e of picked.toSorted((x, y) => x.workspaceId - y.workspaceId)) {
        if (!locked.has(e.id)) continue;
        const launch = await begin(e.id);
        if (launch) launches.push(launch);
      }
      return launches;
    }, { lock: [LOCK_SPACES.dispatch, 0] });
  }

  /**
   * One process (SQLite): the queue in id order within the per-workspace limits, counted from `perWs` (what this
   * process runs); every run started in this pass is marked running in one commit (a commit costs more than the
   * rows in it).
   */
  async claimLocal(perWs: Map<number, number>, only: number[] | null, accept: (e: QueuedRun) => boolean, begin: (id: number) => Promise<(() => void) | null>): Promise<(() => void)[]> {
    const { store, config } = this.d;
    // Commit an open group-commit batch first: a run queued by a request is dispatched only once it is on disk.
    await store.flush();
    const queued = await this.queue(only);
    const picked: QueuedRun[] = [];
    for (const e of queued) {
      if (!accept(e)) continue;
      const n = perWs.get(e.workspaceId) ?? 0;
      if (n >= config.executor.workspaceConcurrency) continue;
      perWs.set(e.workspaceId, n + 1);
      picked.push(e);
    }
    if (!picked.length) return [];
    return store.tx(async () => {
      const out: (() => void)[] = [];
      for (const e of picked) {
        const launch = await begin(e.id);
        if (launch) out.push(launch);
      }
      return out;
    });
  }

  /**
   * What a dispatch picks from: the heads of every workspace's queue, or, given `only` (the runs `clanker mcp` queued
   * itself), those of them still queued, wherever they stand in their workspace's queue.
   */
  private async queue(only: number[] | null): Promise<QueuedRun[]> {
    const { store, config } = this.d;
    if (!only) return queuedRuns(store, { perWorkspace: config.executor.workspaceConcurrency });
    if (!only.length) return [];
    return store.db
      .select(queuedFields)
      .from(executions)
      .where(and(eq(executions.status, "queued"), inArray(executions.id, only)))
      .orderBy(asc(executions.id));
  }

  /** The lease fields a run gets when this replica starts it. */
  lease(): { leaseOwner: string; leaseExpiresAt: number } {
    return { leaseOwner: replicaId, leaseExpiresAt: Date.now() + leaseMillis() };
  }

  /** One UPDATE for every run this replica holds; returns the ids it still holds (the others were lost or ended). */
  async renew(): Promise<Set<number>> {
    const { store } = this.d;
    const rows = await store.tx(() =>
      store.db
        .update(executions)
        .set({ leaseExpiresAt: Date.now() + leaseMillis() })
        .where(and(eq(executions.leaseOwner, replicaId), eq(executions.status, "running")))
        .returning({ id: executions.id }),
      // One conditional UPDATE: a run settling meanwhile is waited for and then skipped, not a retry of both.
      { readCommitted: true },
    );
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Runs whose holder is gone go back to `queued` from the top: their blocks are dropped and a `queued` event says
   * so. PostgreSQL: a replica's whose lease ran out (it died or stalled; if alive, it finds the run lost at its next
   * renewal and may no longer settle it), or the dead server's this one replaces on its data dir. SQLite: a
   * `clanker mcp`'s that is no longer running (see heldByTheGone).
   */
  async reap(): Promise<number> {
    const { store, bus } = this.d;
    const gone = store.dialect === "postgres" ? expiredOrOrphaned() : await this.heldByTheGone();
    if (!gone) return 0;
    return store.tx(async () => {
      const rows = await store.db
        .update(executions)
        .set(REQUEUED)
        .where(and(eq(executions.status, "running"), gone))
        .returning({ id: executions.id, workspaceId: executions.workspaceId, skillSlug: executions.skillSlug, source: executions.interface });
      if (!rows.length) return 0;
      await store.db.delete(executionBlocks).where(inArray(executionBlocks.executionId, rows.map((r) => r.id)));
      // The workspaces' events locks in id order, as every transaction that takes several does.
      for (const r of rows.toSorted((x, y) => x.workspaceId - y.workspaceId)) await bus.append(r.workspaceId, EXECUTION_EVENT, r.source, { executionId: encodeId("execution", r.id), skillSlug: r.skillSlug, status: "queued", blocks: [] });
      return rows.length;
    });
  }

  /**
   * SQLite: which running runs a process that is gone held, as a condition (null: none). Every process on a data dir
   * runs on this machine, so its pid says whether it still runs: a lease alone can run out under a live `clanker mcp`
   * (a stall, a laptop's sleep, an older binary that does not renew), and a run taken back from it would be run twice.
   */
  private async heldByTheGone(): Promise<SQL | null> {
    const rows = await this.d.store.db
      .select({ id: executions.id, owner: executions.leaseOwner, expiresAt: executions.leaseExpiresAt })
      .from(executions)
      .where(eq(executions.status, "running"));
    const now = Date.now();
    const ids = rows.filter((r) => holderGone(r.owner, r.expiresAt, now)).map((r) => r.id);
    return ids.length ? inArray(executions.id, ids) : null;
  }

  /**
   * SQLite: the runs a crash left `running` (they can't be resumed mid-stream), failed with SERVER_RESTARTED; their
   * ids. A run a live `clanker mcp` beside this server holds stays its own.
   */
  async failInterrupted(): Promise<string[]> {
    const { store, settle } = this.d;
    const gone = await this.heldByTheGone();
    if (!gone) return [];
    const stuckRuns = and(eq(executions.status, "running"), gone);
    return store.tx(async () => {
      const stuck = await store.db.select().from(executions).where(stuckRuns);
      for (const e of stuck)
        await settle.finalize(e, "failed", { inputTokens: 0, outputTokens: 0 }, { code: "SERVER_RESTARTED", message: "The server restarted while this run was in progress; rerun it" });
      return stuck.map((e) => encodeId("execution", e.id));
    });
  }

  /** Shutdown: this replica's runs still going go back to `queued` (partial output dropped); a run cancelled meanwhile keeps its state. */
  async requeue(left: { id: number; workspaceId: number; skillSlug: string; source: string }[]): Promise<string[]> {
    const { store, bus } = this.d;
    return store.tx(async () => {
      const requeued: string[] = [];
      // The workspaces' events locks in id order, as every transaction that takes several does.
      for (const r of left.toSorted((x, y) => x.workspaceId - y.workspaceId)) {
        const [row] = await store.db
          .update(executions)
          .set(REQUEUED)
          .where(and(eq(executions.id, r.id), eq(executions.status, "running"), eq(executions.leaseOwner, replicaId)))
          .returning({ id: executions.id });
        if (!row) continue;
        await store.db.delete(executionBlocks).where(eq(executionBlocks.executionId, r.id));
        const executionId = encodeId("execution", r.id);
        await bus.append(r.workspaceId, EXECUTION_EVENT, r.source, { executionId, skillSlug: r.skillSlug, status: "queued", blocks: [] });
        requeued.push(executionId);
      }
      return requeued;
    });
  }

  /**
   * Inside a flush tx: which of these runs are still running here. A cancel commits before the worker hears of it, so
   * text it streamed meanwhile must not follow the run's `cancelled` event as `running` ones; and a run taken back
   * (another replica's now, or the server's beside a `clanker mcp`) gets no more of this process's blocks.
   */
  async held(ids: number[]): Promise<Set<number>> {
    if (!ids.length) return new Set();
    const rows = await this.d.store.db
      .select({ id: executions.id })
      .from(executions)
      .where(and(inArray(executions.id, ids), eq(executions.status, "running"), eq(executions.leaseOwner, replicaId)));
    return new Set(rows.map((r) => r.id));
  }
}
