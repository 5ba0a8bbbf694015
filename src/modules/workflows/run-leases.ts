// Which replica drives which workflow run (PostgreSQL): a lease on the run, taken before driving it, renewed while
// it is driven, let go when it ends or suspends; runs nobody holds (or whose lease ran out) are free to adopt.
// On SQLite one process drives every run and nothing here writes.
import { and, eq, inArray, isNull, lt, or, type SQL } from "drizzle-orm";
import { leaseMillis, predecessorId, replicaId } from "../../lib/replica";
import type { Store } from "../../store/db";
import { workflowRuns } from "../../store/schema";

type RunRow = typeof workflowRuns.$inferSelect;

export class RunLeases {
  readonly shared: boolean;

  constructor(private store: Store) {
    this.shared = store.dialect === "postgres";
  }

  /** The runs any replica may adopt: nobody holds them, their lease ran out, or the dead server this one replaces held them. */
  free(): SQL | undefined {
    if (!this.shared) return undefined;
    const orphan = predecessorId();
    return or(isNull(workflowRuns.leaseExpiresAt), lt(workflowRuns.leaseExpiresAt, Date.now()), orphan ? eq(workflowRuns.leaseOwner, orphan) : undefined);
  }

  /** Takes the run's lease unless another live replica holds it (read and write in one tx: two claimants conflict). */
  async claim(runId: number): Promise<boolean> {
    if (!this.shared) return true;
    const { store } = this;
    return store.tx(async () => {
      const [run] = await store.db.select().from(workflowRuns).where(eq(workflowRuns.id, runId));
      if (!run || run.status !== "running") return false;
      const orphan = run.leaseOwner !== null && run.leaseOwner === predecessorId();
      if (run.leaseOwner && run.leaseOwner !== replicaId && !orphan && (run.leaseExpiresAt ?? 0) >= Date.now()) return false;
      await store.db.update(workflowRuns).set({ leaseOwner: replicaId, leaseExpiresAt: Date.now() + leaseMillis() }).where(eq(workflowRuns.id, runId));
      return true;
    });
  }

  /** One UPDATE for the runs driven here. */
  async renew(ids: number[]): Promise<void> {
    if (!this.shared || !ids.length) return;
    const { store } = this;
    // One run at a time, in id order: one UPDATE locked the rows in whatever order its plan read them, which could
    // cross a definition change locking the same runs in id order (failRunsGone), a deadlock. Each its own tx: no
    // row waits while another is held.
    for (const id of ids.toSorted((a, b) => a - b))
      await store.tx(() =>
        store.db
          .update(workflowRuns)
          .set({ leaseExpiresAt: Date.now() + leaseMillis() })
          .where(and(eq(workflowRuns.id, id), eq(workflowRuns.leaseOwner, replicaId), eq(workflowRuns.status, "running"))),
      );
  }

  /** Lets go of the run (it ended, suspended, or this replica stops): any replica may drive it next. */
  async release(runId: number): Promise<void> {
    if (!this.shared) return;
    const { store } = this;
    await store.tx(() =>
      store.db.update(workflowRuns).set({ leaseOwner: null, leaseExpiresAt: null }).where(and(eq(workflowRuns.id, runId), eq(workflowRuns.leaseOwner, replicaId))),
    );
  }

  /** Whether this process may write the run's steps: on PostgreSQL only while it holds the run's lease. */
  drives(run: RunRow): boolean {
    return !this.shared || run.leaseOwner === replicaId;
  }

  /** How often the driver renews and every replica looks for runs to adopt. */
  period(): number {
    return Math.max(100, Math.floor(leaseMillis() / 3));
  }
}
