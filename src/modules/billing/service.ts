// Per-workspace credit ledger: integer micro-credits in the store (sums never drift), decimals in the API.
import { eq, sql } from "drizzle-orm";
import type { Ctx } from "../../lib/context";
import type { BillingConfig } from "../../config";
import { BillingError } from "../../lib/errors";
import { encodeId } from "../../lib/ids";
import { toIso } from "../../lib/clock";
import type { Store } from "../../store/db";
import { prepared } from "../../store/prepared";
import { workspacePage, type PageParams } from "../../store/paginate";
import { billingAccounts, creditTransactions } from "../../store/schema";

export const MICRO = 1_000_000;
export const toCredits = (micro: number): number => Math.round(micro) / MICRO;
export const toMicro = (credits: number): number => Math.round(credits * MICRO);

export const DEFAULT_TIER = "paygmode";

/** A tier as people read it: "paygmode" is the API's id for it, not a name. */
export const tierName = (tier: string): string => (tier === DEFAULT_TIER ? "Pay as you go" : tier);

// A welcome grant names its tier; grants written before the name was used carry the id ("(paygmode)"), so they
// read with the name too.
const WELCOME = "Welcome grant for a new workspace";
const welcomeOf = (tier: string) => `${WELCOME} (${tierName(tier)})`;
const WELCOME_RE = new RegExp(`^${WELCOME} \\((.+)\\)$`);
const readable = (t: TxRow) => {
  const written = t.kind === "grant" ? WELCOME_RE.exec(t.description) : null;
  return written ? welcomeOf(written[1]!) : t.description;
};

type TxRow = typeof creditTransactions.$inferSelect;

export function transactionView(t: TxRow) {
  return {
    id: encodeId("transaction", t.id),
    kind: t.kind,
    amount: toCredits(t.amountMicro),
    balanceAfter: toCredits(t.balanceAfterMicro),
    executionId: t.executionId === null ? null : encodeId("execution", t.executionId),
    description: readable(t),
    createdAt: toIso(t.createdAt)!,
  };
}

// Every paid run charges once: the ledger's statements are prepared.
const ph = sql.placeholder;
const accountOf = prepared((db) => db.select().from(billingAccounts).where(eq(billingAccounts.workspaceId, ph("workspaceId"))));
const addToBalance = prepared((db) =>
  db
    .update(billingAccounts)
    .set({ balanceMicro: sql`${billingAccounts.balanceMicro} + ${ph("amountMicro")}`, updatedAt: ph("now") as never })
    .where(eq(billingAccounts.workspaceId, ph("workspaceId")))
    .returning({ balanceMicro: billingAccounts.balanceMicro }),
);
const insertTransaction = prepared((db) =>
  db
    .insert(creditTransactions)
    .values({
      workspaceId: ph("workspaceId"),
      kind: ph("kind"),
      amountMicro: ph("amountMicro"),
      balanceAfterMicro: ph("balanceAfterMicro"),
      executionId: ph("executionId"),
      description: ph("description"),
      createdAt: ph("now"),
    })
    .returning(),
);

export function createBillingService(store: Store, config: BillingConfig) {
  const db = store.db;
  const selectAccount = async (workspaceId: number) => (await accountOf(store, { workspaceId }))[0];

  /** Inside the caller's tx: moves the balance and records the transaction with the balance it left. */
  async function record(workspaceId: number, kind: TxRow["kind"], amountMicro: number, description: string, executionId: number | null = null) {
    const now = Date.now();
    const [acct] = await addToBalance(store, { workspaceId, amountMicro, now });
    const [row] = await insertTransaction(store, { workspaceId, kind, amountMicro, balanceAfterMicro: acct!.balanceMicro, executionId, description, now });
    return row!;
  }

  /**
   * The account, opened the first time it is needed with the new-workspace grant (or, for an unclaimed
   * agent's workspace, the given tier and grant).
   */
  async function account(workspaceId: number, opening: { tier: string; grantCredits: number } = { tier: DEFAULT_TIER, grantCredits: config.grantCredits }) {
    const existing = await selectAccount(workspaceId);
    if (existing) return existing;
    return store.tx(async () => {
      // Requests opening it at once: one inserts (and grants), the others wait for it here and find its row. Without
      // ON CONFLICT, a READ COMMITTED caller (queueing a run) would fail on the key instead.
      const opened = await db
        .insert(billingAccounts)
        .values({ workspaceId, tier: opening.tier, balanceMicro: 0, updatedAt: Date.now() })
        .onConflictDoNothing()
        .returning({ workspaceId: billingAccounts.workspaceId });
      if (opened.length && opening.grantCredits > 0) await record(workspaceId, "grant", toMicro(opening.grantCredits), welcomeOf(opening.tier));
      return (await selectAccount(workspaceId))!;
    });
  }

  // Prices of 0 (a local model of the operator's own): a run costs nothing, so no balance is asked of it.
  const free = config.inputPerMTok === 0 && config.outputPerMTok === 0;

  /** The balance, in micro-credits; INSUFFICIENT_CREDITS once it is spent. */
  async function creditsLeft(workspaceId: number): Promise<number> {
    const a = await account(workspaceId);
    if (a.balanceMicro <= 0)
      throw new BillingError(`This workspace has no credits left (balance ${toCredits(a.balanceMicro)}); add credits or bring your own Anthropic key (PUT /api/v1/byok)`, "INSUFFICIENT_CREDITS");
    return a.balanceMicro;
  }

  return {
    account,

    async balance(ctx: Ctx) {
      const a = await account(ctx.workspaceId);
      return { workspaceId: encodeId("workspace", ctx.workspaceId), balance: toCredits(a.balanceMicro), currency: "credits", tier: a.tier, updatedAt: toIso(a.updatedAt)! };
    },

    async tier(ctx: Ctx) {
      const a = await account(ctx.workspaceId);
      return {
        tier: a.tier,
        name: tierName(a.tier),
        prices: { inputPerMTok: config.inputPerMTok, outputPerMTok: config.outputPerMTok, currency: "credits" },
        byokCost: 0,
      };
    },

    async transactions(ctx: Ctx, p: PageParams) {
      await account(ctx.workspaceId);
      const page = await workspacePage(db, creditTransactions, ctx.workspaceId, p);
      return { rows: page.rows.map(transactionView), hasMore: page.hasMore };
    },

    /** Refuses a paid run up front when the workspace has no credits left (never when runs cost nothing). */
    async assertCanRun(workspaceId: number): Promise<void> {
      if (!free) await creditsLeft(workspaceId);
    },

    /**
     * A paid run's start, given what the workspace's running runs hold (executions.held_micro): refused as above when
     * the credits are spent; false (the run waits, queued) while those holds take what is left, so that runs started
     * together cannot spend past the balance: it is known what a run cost only once it ends.
     */
    async canStart(workspaceId: number, heldMicro: number): Promise<boolean> {
      return free || (await creditsLeft(workspaceId)) - heldMicro > 0;
    },

    /** Cost of a run by its token usage and the configured price table, in micro-credits (prices are per
     * million tokens, so tokens × price is already in millionths of a credit). */
    costMicro(inputTokens: number, outputTokens: number): number {
      return Math.ceil(inputTokens * config.inputPerMTok + outputTokens * config.outputPerMTok);
    },

    /** Inside the run's completion tx. */
    async charge(workspaceId: number, amountMicro: number, executionId: number, description: string): Promise<void> {
      await account(workspaceId);
      if (amountMicro > 0) await record(workspaceId, "charge", -amountMicro, description, executionId);
    },

    /** A claimed agent's workspace leaves the anonymous tier. */
    async setTier(workspaceId: number, tier: string): Promise<void> {
      await store.tx(async () => {
        await account(workspaceId);
        await db.update(billingAccounts).set({ tier, updatedAt: Date.now() }).where(eq(billingAccounts.workspaceId, workspaceId));
      });
    },

    grant(workspaceId: number, credits: number, description: string) {
      return store.tx(async () => {
        await account(workspaceId);
        return transactionView(await record(workspaceId, "grant", toMicro(credits), description));
      });
    },
  };
}

export type BillingService = ReturnType<typeof createBillingService>;
