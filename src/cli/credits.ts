// `clanker credits grant --workspace SLUG --amount N`: add credits to a workspace's ledger.
import { eq } from "drizzle-orm";
import type { Config } from "../config";
import { MAX_CREDITS } from "../config-values";
import type { Store } from "../store/db";
import { workspaces } from "../store/schema";
import { createBillingService } from "../modules/billing/service";
import { encodeId } from "../lib/ids";
import { systemCtx } from "../lib/context";
import { writeAudit } from "../store/audit";
import { usageError as usage } from "./errors";

export async function runCreditsCommand(store: Store, config: Config, flags: { workspace?: string; amount?: string }): Promise<void> {
  if (!flags.workspace) usage("credits grant needs --workspace SLUG");
  const amount = Number(flags.amount);
  if (!flags.amount || !/^[0-9]+(\.[0-9]+)?$/.test(flags.amount) || !(amount > 0)) usage(`--amount must be a positive number of credits, got '${flags.amount ?? ""}'`);
  if (!/^[0-9]+(\.[0-9]{1,6})?$/.test(flags.amount)) usage(`--amount takes at most 6 decimals, got '${flags.amount}'`);
  if (amount > MAX_CREDITS) usage(`--amount must be at most ${MAX_CREDITS.toLocaleString("en")} credits at a time, got '${flags.amount}'`);
  const [ws] = await store.db.select().from(workspaces).where(eq(workspaces.slug, flags.workspace));
  if (!ws) usage(`no workspace with slug '${flags.workspace}' in this data dir; clanker keys list names each key's workspace`);
  const txn = await store.tx(async () => {
    // An account this grant opens gets no welcome grant: the command line does not know the server's
    // CLANKER_CREDIT_GRANT (set 0 on a server others reach), and gave its own default, 100, besides.
    const t = await createBillingService(store, { ...config.billing, grantCredits: 0 }).grant(ws.id, amount, "Granted from the command line");
    await writeAudit(store, systemCtx(ws.id, "cli"), { action: "credits.grant", resourceType: "billing_transaction", resourceId: t.id, metadata: { amount, via: "cli" } });
    return t;
  });
  console.log(`Granted ${amount} credits to ${ws.slug} (${encodeId("workspace", ws.id)}); balance is now ${txn.balanceAfter}`);
}
