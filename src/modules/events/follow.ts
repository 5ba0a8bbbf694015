// GET /api/events' view of the event log: a workspace's events after a position, in id order, none left out.
// Events are committed by more than this process: replicas (PostgreSQL + Redis), and on SQLite a `clanker mcp` on the
// same data dir, whose runs' events this server never hears of. What a follower hears is only a cue to read the log
// after the last event each follower was handed, once for all the workspace's followers; and the log is read again
// every sweep in case a cue never came (a publish lost while Redis was away; a commit by another process on SQLite,
// seen at once through PRAGMA data_version, so the sweep is short there and reads only after such a commit).
import type { BusEvent } from "./bus";

type Listener = (e: BusEvent) => void;

/** What follow() needs of the bus. */
export interface FollowedLog {
  subscribe(workspaceId: number, listener: Listener): () => void;
  since(workspaceId: number, afterId: number, limit?: number): Promise<BusEvent[]>;
  /** The workspace's newest id, or (null) the whole log's. */
  lastId(workspaceId: number | null): Promise<number>;
}

export interface Following {
  /** Settles once the follower's position is known: from then on nothing committed is left out. */
  placed: Promise<void>;
  /** Settles once the events already in the log after the position have been handed over (rejects if it failed). */
  replayed: Promise<void>;
  stop(): void;
}

const BATCH = 1000;
/**
 * Events a follower catching up is handed before it is paced (see follow): a resume from far back is read in such
 * steps, each once the client has taken the last, and never in one turn (a million events held the server 1.5 s).
 */
const CATCH_UP_BATCH = 200;

/** Settles when the follower may be handed more: its client has taken what it holds (or has gone). */
export type Pace = () => Promise<void>;

/** Lets the other requests waiting on this process run before the next step of a catch-up. */
const nextTurn: Pace = () => new Promise((resolve) => setImmediate(resolve));

/** How often the log is read without a cue; `due`, when given, says whether anything may have been missed since. */
export interface Sweep {
  everyMs: number;
  due?: () => boolean;
}

interface Member {
  fn: Listener;
  /**
   * The last id handed over by the group's reads; null while the follower is placed and catches up on its own (at its
   * client's pace), so that one far behind holds back neither the group nor the server.
   */
  after: number | null;
}

interface Group {
  members: Set<Member>;
  /** Another read is wanted (a cue came, or a member joined) while one runs. */
  again: boolean;
  running: Promise<void> | null;
  off: () => void;
}

/** The followers of each workspace, fed by reads of the log that their cues (and sweeps) start. */
export class LogFollowers {
  private groups = new Map<number, Group>();
  private sweep: ReturnType<typeof setInterval> | null = null;

  constructor(
    private log: FollowedLog,
    private every: Sweep,
  ) {}

  follow(workspaceId: number, after: number, fn: Listener, pace: Pace = nextTurn): Following {
    let group = this.groups.get(workspaceId);
    if (!group) {
      const g: Group = { members: new Set(), again: false, running: null, off: () => {} };
      // A failed read (the store away) is tried again at the next cue or sweep.
      g.off = this.log.subscribe(workspaceId, () => void this.read(workspaceId, g).catch(() => {}));
      this.groups.set(workspaceId, (group = g));
      this.sweep ??= setInterval(() => {
        if (this.every.due && !this.every.due()) return;
        for (const [ws, each] of this.groups) void this.read(ws, each).catch(() => {});
      }, this.every.everyMs);
      this.sweep.unref?.();
    }
    const g = group;
    const member: Member = { fn, after: null };
    g.members.add(member);
    // A follower that starts now starts after what the log holds now. One resuming from an id the log never reached
    // (from before a restore put an older log back: ids run again from its end) starts there too: waiting for the
    // ids to pass its own, it heard nothing, and the new history's events under its id never.
    const start = (after > 0 ? this.log.lastId(null).then((newest) => (after <= newest ? after : null)) : Promise.resolve(null)).then((from) =>
      from !== null ? from : this.log.lastId(workspaceId),
    );
    const placed = start.then(() => {});
    const replayed = start.then((from) => this.catchUp(workspaceId, g, member, from, pace));
    // A caller that met the failure at `placed` does not wait for this one too.
    replayed.catch(() => {});
    return {
      placed,
      replayed,
      stop: () => {
        if (!g.members.delete(member) || g.members.size) return;
        g.off();
        this.groups.delete(workspaceId);
        if (!this.groups.size && this.sweep) {
          clearInterval(this.sweep);
          this.sweep = null;
        }
      },
    };
  }

  /**
   * Once every read under way (and any it was asked to do again) has handed its events over: a shutdown ends the
   * streams after this, so a follower cued by the last commit still gets what it was cued for. Bounded: a store
   * that stopped answering does not hold the stop.
   */
  async settled(timeoutMs = 2000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const running = [...this.groups.values()].flatMap((g) => (g.running ? [g.running] : []));
      if (!running.length || Date.now() >= deadline) return;
      await Promise.race([Promise.allSettled(running), Bun.sleep(Math.max(0, deadline - Date.now()))]);
    }
  }

  /**
   * Hands one member the log after `from` in steps, each once `pace` says its client took the last, then lets the
   * group's reads take it on from where it got to. A member stopped meanwhile is read for no further.
   */
  private async catchUp(workspaceId: number, g: Group, m: Member, from: number, pace: Pace): Promise<void> {
    for (;;) {
      const batch = await this.log.since(workspaceId, from, CATCH_UP_BATCH);
      if (!g.members.has(m)) return;
      for (const e of batch) {
        m.fn(e);
        from = e.id;
      }
      if (batch.length < CATCH_UP_BATCH) break;
      await pace();
      if (!g.members.has(m)) return;
    }
    m.after = from;
    // What was committed while it caught up (the group's reads passed it by).
    await this.read(workspaceId, g);
  }

  /** Reads the log after the least advanced member, handing each member what is past its own position, in id order. */
  private read(workspaceId: number, g: Group): Promise<void> {
    g.again = true;
    if (g.running) return g.running;
    const run = (async () => {
      // Never settles in this turn: `running` is set before the loop can end and clear it.
      await Promise.resolve();
      try {
        while (g.again) {
          g.again = false;
          let from = Infinity;
          for (const m of g.members) if (m.after !== null && m.after < from) from = m.after;
          while (from !== Infinity) {
            const start = from;
            const batch = await this.log.since(workspaceId, start, BATCH);
            for (const m of g.members)
              // A member placed behind where this batch starts (it caught up while the read was on its way) is left
              // to the next pass, which starts from it: handed this batch, it would skip what lies in between.
              if (m.after !== null && m.after < start) g.again = true;
            for (const e of batch)
              for (const m of g.members)
                if (m.after !== null && m.after >= start && e.id > m.after) {
                  m.after = e.id;
                  m.fn(e);
                }
            if (batch.length < BATCH) break;
            from = batch[batch.length - 1]!.id;
          }
        }
      } finally {
        g.running = null;
      }
    })();
    g.running = run;
    return run;
  }
}
