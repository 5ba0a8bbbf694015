// Credit holds: a paid run's cost is known only once it ends, so while it runs it holds back the most it can cost
// (executions.held_micro), and a paid run starts only while the balance has something left past the holds of the
// workspace's running runs. Runs started together cannot then spend past the balance together: a run the holds leave
// no room for stays queued and is dispatched again when one of them ends, so at most one run's cost goes below zero
// (requiring its whole hold to be left would strand a balance smaller than one run's worst case).
import type { Config } from "../../config";
import type { Store } from "../../store/db";
import type { BillingService } from "../billing/service";
import type { Skill } from "../skills/catalog";
import { CHARS_PER_TOKEN, promptTokensGuess, type Attachment } from "./prompt";
import { heldByRunning } from "./run-queries";

interface HoldDeps {
  store: Store;
  billing: BillingService;
  config: Config;
}

/** Inside the dispatch's tx: INSUFFICIENT_CREDITS once the balance is spent; false while the holds take what is left. */
export async function creditsAllowStart(d: HoldDeps, workspaceId: number): Promise<boolean> {
  const [{ held }] = (await heldByRunning(d.store, { workspaceId })) as [{ held: number }];
  return d.billing.canStart(workspaceId, held);
}

/**
 * The most a run can cost: its prompt (guessed) and the longest answer it may be given; micro-credits. A run that
 * reads code (`readsSource`) is given up to CLANKER_RUN_SOURCE_BUDGET_BYTES of it, read after the hold is taken:
 * left out, four such runs held a third of what each then cost, and together took the balance far below zero.
 */
export function creditHold(d: HoldDeps, skill: Skill, input: string, attachments: Attachment[], readsSource: boolean): number {
  const source = readsSource ? Math.ceil(d.config.connectors.runBudgetBytes / CHARS_PER_TOKEN) : 0;
  return d.billing.costMicro(promptTokensGuess(skill, input, attachments) + source, d.config.models.maxOutputTokens);
}
