// Cron triggers of workspace definitions: each launches its workflow with fixed input. Croner does not catch up
// on runs missed while the server was down, so a restart never fires a burst. Every replica keeps the same
// schedules; a tick launches on the one replica whose once-lock for that tick wins.
import { Cron } from "croner";
import { systemCtx } from "../../lib/context";
import { NotFoundError } from "../../lib/errors";
import type { WorkflowsService } from "./service";
import { cronRequestId } from "./definition";
import { cronTooOften } from "./cron-interval";
import { secondPassOfRepeatedHour } from "./repeated-hour";
import type { Log } from "../../lib/log";
import type { Fanout, OnceLock } from "../../shared";

/** How long a tick's lock outlives it: longer than any replica's clock skew or late timer. */
const TICK_LOCK_MS = 10 * 60_000;
/** With replicas, schedules are also re-read this often: a `triggers` message lost to a Redis blip heals by itself. */
const RESYNC_MS = 60_000;

export interface TriggerSharing {
  lock: OnceLock;
  /** The replicas' `triggers` channel, or null with one process. */
  fanout: Fanout | null;
}

type CronTriggerRow = Awaited<ReturnType<WorkflowsService["triggers"]>>[number];

export class WorkflowTriggers {
  private crons = new Map<string, Cron>();
  /** Syncs run one after another: two at once would both see a schedule missing and start it twice. */
  private chain: Promise<void> = Promise.resolve();
  private resync: ReturnType<typeof setInterval> | null = null;
  private stopped = false;

  constructor(
    private workflows: WorkflowsService,
    private log: Log,
    private sharing: TriggerSharing,
    /** CLANKER_CRON_MIN_INTERVAL_SECONDS: checked when a definition is saved, and again here for one saved before. */
    private minIntervalSeconds: number,
  ) {
    sharing.fanout?.subscribe("triggers", () => void this.sync());
  }

  /** Brings the schedules in line with the stored definitions (at start-up); logs its failures. */
  sync(): Promise<void> {
    if (this.stopped) return this.chain;
    if (this.sharing.fanout && !this.resync) {
      this.resync = setInterval(() => void this.sync(), RESYNC_MS);
      this.resync.unref?.();
    }
    const next = this.chain.then(() => this.apply()).catch((e) => this.log.error(`cron triggers could not be synced: ${(e as Error).message}`));
    this.chain = next;
    return next;
  }

  /** The definitions changed (committed): this replica re-syncs now, every other one on the `triggers` message. */
  changed(): Promise<void> {
    if (!this.sharing.fanout) return this.sync();
    // The fan-out calls this replica's own subscriber synchronously (it chains the sync), then the others'.
    this.sharing.fanout.publish("triggers", "");
    return this.chain;
  }

  private async apply(): Promise<void> {
    const wanted = new Map((await this.workflows.triggers()).filter((t) => t.enabled).map((t) => [`${t.workspaceId}:${t.id}:${t.cron}:${t.timezone}:${JSON.stringify(t.input)}`, t]));
    if (this.stopped) return;
    for (const [key, cron] of this.crons) {
      if (wanted.has(key)) continue;
      cron.stop();
      this.crons.delete(key);
    }
    for (const [key, t] of wanted) {
      if (this.crons.has(key)) continue;
      // One schedule croner cannot run (a definition saved before its zone was checked) must not stop the others.
      try {
        const gap = cronTooOften(t.cron, t.timezone, this.minIntervalSeconds);
        if (gap !== null) {
          this.log.error(`cron trigger ${t.id} of workspace ${t.workspaceId} fires every ${gap} s at times, more often than CLANKER_CRON_MIN_INTERVAL_SECONDS (${this.minIntervalSeconds}) allows: not scheduled; save its definition again with a slower schedule`);
          continue;
        }
        this.crons.set(key, this.schedule(t));
      } catch (e) {
        this.log.error(`cron trigger ${t.id} of workspace ${t.workspaceId} cannot be scheduled (${(e as Error).message}): save its definition again with a valid cron and timezone`);
      }
    }
  }

  private schedule(t: CronTriggerRow): Cron {
    const cron: Cron = new Cron(t.cron, { timezone: t.timezone, protect: true }, async () => {
      try {
        // The tick this firing belongs to (croner fires at or just after it, never before): the same name on
        // every replica, whatever each one's timer delay.
        const tick = cron.previousRuns(1, new Date(Date.now() + 1))[0]?.getTime() ?? Math.floor(Date.now() / 1000) * 1000;
        if (secondPassOfRepeatedHour(t.cron, tick, t.timezone)) return;
        if (!(await this.sharing.lock.tryOnce(`cron:${t.workspaceId}:${t.id}:${tick}`, TICK_LOCK_MS))) return;
        // The tick's run would queue behind its last one, still running (its steps slower than the schedule): skipped,
        // as a tick missed while the server was stopped is, or the runs (and their charges) piled up without end.
        const ctx = systemCtx(t.workspaceId, cronRequestId(t.id));
        if ((await this.workflows.lastCronRuns(ctx, [t.id])).get(t.id)?.status === "running") {
          this.log.info(`cron trigger ${t.id} of workspace ${t.workspaceId}: tick skipped, its last run is still running`);
          return;
        }
        await this.workflows.launch(ctx, t.workflowId, { inputData: t.input }, "cron");
      } catch (e) {
        // A tick that fired while its definition's DELETE committed, before the schedule was stopped: nothing to run.
        if (e instanceof NotFoundError) return;
        this.log.error(`cron trigger ${t.id} could not launch: ${(e as Error).message}`);
      }
    });
    return cron;
  }

  stop(): void {
    this.stopped = true;
    if (this.resync) clearInterval(this.resync);
    this.resync = null;
    for (const c of this.crons.values()) c.stop();
    this.crons.clear();
  }
}
