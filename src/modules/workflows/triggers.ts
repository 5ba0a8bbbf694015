// Cron triggers of workspace definitions: each launches its workflow with fixed input. Croner does not catch up
// on runs missed while the server was down, so a restart never fires a burst.
import { Cron } from "croner";
import { systemCtx } from "../../lib/context";
import type { WorkflowsService } from "./service";
import type { Log } from "../../lib/log";

export class WorkflowTriggers {
  private crons = new Map<string, Cron>();
  /** Syncs run one after another: two at once would both see a schedule missing and start it twice. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private workflows: WorkflowsService,
    private log: Log,
  ) {}

  /** Brings the schedules in line with the stored definitions (at start-up and after each change); logs its failures. */
  sync(): Promise<void> {
    const next = this.chain.then(() => this.apply()).catch((e) => this.log.error(`cron triggers could not be synced: ${(e as Error).message}`));
    this.chain = next;
    return next;
  }

  private async apply(): Promise<void> {
    const wanted = new Map((await this.workflows.triggers()).map((t) => [`${t.workspaceId}:${t.id}:${t.cron}:${t.timezone}:${JSON.stringify(t.input)}`, t]));
    for (const [key, cron] of this.crons) {
      if (wanted.has(key)) continue;
      cron.stop();
      this.crons.delete(key);
    }
    for (const [key, t] of wanted) {
      if (this.crons.has(key)) continue;
      const cron = new Cron(t.cron, { timezone: t.timezone, protect: true }, async () => {
        try {
          await this.workflows.launch(systemCtx(t.workspaceId, `cron-${t.id}`), t.workflowId, { inputData: t.input }, "cron");
        } catch (e) {
          this.log.error(`cron trigger ${t.id} could not launch: ${(e as Error).message}`);
        }
      });
      this.crons.set(key, cron);
    }
  }

  stop(): void {
    for (const c of this.crons.values()) c.stop();
    this.crons.clear();
  }
}
