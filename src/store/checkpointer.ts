// WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside the COMMIT that passes 1,000 WAL
// pages: it copies them into the database file and fsyncs it, on the thread that serves requests. Under steady
// writes that stalled the event loop ~50 µs per audited POST (~20 µs of it CPU, the rest waiting on the disk).
// Here a worker thread with its own connection runs PASSIVE checkpoints (they never block the writer or readers)
// after every few commits; the writer's own automatic checkpoint stays as a backstop at a higher mark, and takes
// over entirely if the thread cannot start or fails.
//
// Copying alone never shortens the WAL: SQLite starts it over from its first frame only when a write transaction
// begins with every frame already copied, and under steady writes the next one always begins while the thread is
// still copying. So the WAL grew to the backstop, whose checkpoint then ran inside a COMMIT: 35-75 ms with the
// event loop stopped (an fsync of each file), twice a second under the audited POST's load. Now, once a round
// finds the WAL past RESTART_MARK, the store holds its writes (requests wait on its lock; the event loop goes on)
// while the thread copies the last frames, and the next write restarts the WAL. The audited POST under wrk, 8 runs
// each, alternating with the backstop alone: +5 % req/s, p99 ~50 → ~33 ms.
import type { Database } from "bun:sqlite";
import { statSync } from "node:fs";
import { workerEntry } from "../lib/worker-entry";

export type ToCheckpointer = { type: "open"; path: string } | { type: "checkpoint" } | { type: "close" } | { type: "check"; path: string };
export type FromCheckpointer =
  | { type: "ready" }
  /** What PRAGMA quick_check found wrong (none: the file is whole). */
  | { type: "checked"; problems: string[] }
  /** frames: in the WAL as the round found it (-1: not in WAL mode); copied: how many of them are in the db file. */
  | { type: "checkpointed"; frames: number; copied: number }
  | { type: "closed" }
  /** fatal: the thread cannot checkpoint at all (its connection did not open); else one round failed. */
  | { type: "failed"; message: string; fatal: boolean };

/** SQLite's default mark, kept while no checkpointer thread runs. */
const OWN_MARK = 1_000;
/**
 * A round that finds more WAL frames than this (~32 MB) holds the writes for one more, so the WAL can restart. A
 * hold took ~20 ms here (the round's fsyncs), once or twice a second under the audited POST's load.
 */
export const RESTART_MARK = 8_000;
/**
 * The writer's backstop once the thread runs: it checkpoints itself only if the WAL outgrows this (~64 MB), as
 * when a reader (a backup, another process) keeps the restart from happening.
 */
export const BACKSTOP_MARK = 16_000;
/** Commits between checkpoints, and the longest a committed frame waits for one while writes go on. */
const EVERY_COMMITS = 64;
const EVERY_MS = 1000;
/** The longest the writes wait for a restart's round. */
const HOLD_MS = 1000;

export class Checkpointer {
  /** Checkpoints the thread has run, and how many of them held the writes to restart the WAL (for tests). */
  runs = 0;
  restarts = 0;
  /** WAL frames the last round found (for tests). */
  frames = 0;
  /**
   * The frames at which a round holds the writes: RESTART_MARK, or further on after a held round could not copy
   * every frame. A reader's snapshot (another process's long read, a backup tool) keeps those frames from being
   * copied, and the WAL from restarting until it ends: a hold every round would only stall the writes in vain.
   */
  private holdAt = RESTART_MARK;
  private worker: Worker | null = null;
  private state: "idle" | "starting" | "ready" | "busy" | "off" = "idle";
  private commits = 0;
  private lastAt = performance.now();
  private closed: Promise<void> | null = null;

  /** Ends the held round (releases the writes): set from its start to the thread's reply. */
  private onRound: (() => void) | null = null;
  /** The WAL file as the first round found it: one deleted or replaced under the server is noticed by the next. */
  private wal: { dev: number; ino: number } | null = null;
  /** Set once the WAL was deleted or replaced under the server: what the store reports as its problem. */
  lost: string | null = null;
  /** Looks at the WAL file every EVERY_MS once there were writes, idle or not (a delete then silence was never noticed). */
  private watch: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly path: string,
    private readonly sqlite: Database,
    /** Runs `work` with no write transaction open and none beginning until it settles (the store's writer lock). */
    private readonly hold: (work: () => Promise<void>) => Promise<void>,
    /** Where the one line goes if the thread gives up: stderr until the server hands over its log. */
    public warn: (line: string) => void = (line) => console.error(line),
  ) {}

  /**
   * A transaction committed on the writer. The thread starts when the first round is due: a CLI command or a server
   * that mostly reads never pays for it.
   */
  committed(): void {
    if (this.watch === null && this.lost === null) {
      // From the first write: the WAL as it is now, then a look every EVERY_MS.
      this.watch = setInterval(() => this.walStillThere(), EVERY_MS);
      this.watch.unref?.();
      if (!this.walStillThere()) return;
    }
    if (this.state === "busy") this.commits++;
    if (this.state !== "ready" && this.state !== "idle") return;
    this.commits++;
    const now = performance.now();
    if (this.commits < EVERY_COMMITS && now - this.lastAt < EVERY_MS) return;
    this.commits = 0;
    this.lastAt = now;
    if (!this.walStillThere()) return;
    if (this.state === "idle") return this.start();
    this.state = "busy";
    this.worker!.postMessage({ type: "checkpoint" } satisfies ToCheckpointer);
  }

  /** Stops the thread (its connection closed first, so the writer's close is the last and removes the WAL). */
  close(): Promise<void> {
    if (this.watch) clearInterval(this.watch);
    this.watch = null;
    const worker = this.worker;
    if (!worker) return Promise.resolve();
    return (this.closed ??= new Promise<void>((resolve) => {
      const done = () => {
        this.endRound();
        worker.terminate();
        resolve();
      };
      const timer = setTimeout(done, 2_000);
      worker.addEventListener("message", (e: MessageEvent<FromCheckpointer>) => {
        if (e.data.type !== "closed") return;
        clearTimeout(timer);
        done();
      });
      worker.postMessage({ type: "close" } satisfies ToCheckpointer);
    }));
  }

  private start(): void {
    this.state = "starting";
    let worker: Worker;
    try {
      worker = new Worker(workerEntry("store/checkpoint-worker"));
    } catch (e) {
      return this.giveUp(`could not start: ${(e as Error).message}`);
    }
    this.worker = worker;
    worker.onmessage = (e: MessageEvent<FromCheckpointer>) => {
      const msg = e.data;
      if (msg.type === "ready") {
        this.sqlite.run(`PRAGMA wal_autocheckpoint = ${BACKSTOP_MARK}`);
        this.state = "ready";
        this.lastAt = performance.now();
      } else if (msg.type === "checkpointed") {
        this.runs++;
        this.frames = msg.frames;
        // The held round: when a reader kept frames from being copied, the WAL cannot start over yet, so the next
        // hold waits until it has grown by half a mark.
        if (this.endRound()) this.holdAt = msg.copied < msg.frames ? msg.frames + RESTART_MARK / 2 : RESTART_MARK;
        // The WAL started over.
        else if (msg.frames < RESTART_MARK) this.holdAt = RESTART_MARK;
        // A round that found the WAL long holds the writes for one more.
        else if (msg.frames >= this.holdAt) return this.restart();
        if (this.state === "busy") this.state = "ready";
      } else if (msg.type === "failed") {
        this.endRound();
        if (msg.fatal) this.giveUp(msg.message);
        else if (this.state === "busy") this.state = "ready";
      }
    };
    worker.onerror = (e) => this.giveUp(e.message);
    // The thread must not keep a stopping process alive.
    worker.unref();
    worker.postMessage({ type: "open", path: this.path } satisfies ToCheckpointer);
  }

  /**
   * One more round with the writes held: it copies every frame (no write can add one), so the next write transaction
   * starts the WAL over. A round that takes over HOLD_MS lets the writes go on; its reply still ends it.
   */
  private restart(): void {
    this.restarts++;
    void this.hold(
      () =>
        new Promise<void>((resolve) => {
          if (!this.worker || this.closed) return resolve();
          this.onRound = resolve;
          setTimeout(resolve, HOLD_MS).unref();
          this.worker.postMessage({ type: "checkpoint" } satisfies ToCheckpointer);
        }),
    );
  }

  /** Ends the held round, if one runs: true if one did. */
  private endRound(): boolean {
    const done = this.onRound;
    this.onRound = null;
    done?.();
    return done !== null;
  }

  /**
   * Whether the WAL file is the one this process writes. Deleted (a person tidying the data dir) or replaced, the
   * writer's commits go on into a file no other connection can see: the thread's checkpoints copy nothing, and a
   * crash lost every write since (a clean stop still folds them in through the writer's own handle). From then on
   * the writer copies each commit into clanker.db itself, and /healthz says to restart.
   */
  private walStillThere(): boolean {
    if (this.lost !== null) return false;
    const st = statSync(`${this.path}-wal`, { throwIfNoEntry: false });
    if (st && (this.wal === null || (st.dev === this.wal.dev && st.ino === this.wal.ino))) {
      this.wal ??= { dev: st.dev, ino: st.ino };
      return true;
    }
    // No WAL seen yet: nothing to lose (nor ever, where SQLite could not turn WAL mode on and keeps a rollback journal).
    if (this.wal === null) return true;
    this.lost = `${this.path}-wal was ${st ? "replaced" : "deleted"} while the server ran: writes are copied into ${this.path} at each commit until it restarts; stop it cleanly (SIGTERM, not kill -9) and start it again`;
    this.giveUp("stopped: the WAL file was deleted under it");
    try {
      this.sqlite.run("PRAGMA wal_autocheckpoint = 1");
      this.sqlite.run("PRAGMA wal_checkpoint(FULL)");
    } catch {}
    this.warn(`error: ${this.lost}`);
    return false;
  }

  /** Back to SQLite's own checkpoints on the writer. */
  private giveUp(why: string): void {
    if (this.state === "off") return;
    this.state = "off";
    this.endRound();
    this.worker?.terminate();
    this.worker = null;
    try {
      this.sqlite.run(`PRAGMA wal_autocheckpoint = ${OWN_MARK}`);
    } catch {}
    this.warn(`WAL checkpoints run on the writer again (the checkpoint thread ${why})`);
  }
}
