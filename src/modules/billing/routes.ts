// /api/v1/billing: balance, transactions, subscription tier.
import { t } from "elysia";
import type { Platform } from "../../http/platform";
import { listEnvelope, listSchema, pageQuery, parsePage } from "../../http/pagination";
import { isoDate } from "../../http/schemas";

const transaction = t.Object({
  id: t.String(),
  kind: t.String(),
  amount: t.Number(),
  balanceAfter: t.Number(),
  executionId: t.Nullable(t.String()),
  description: t.String(),
  createdAt: isoDate,
});

export const billingRoutes = (app: Platform) =>
  app
    .get("/api/v1/billing/balance", ({ ctx, deps }) => deps.services.billing.balance(ctx), {
      auth: true,
      response: t.Object({ workspaceId: t.String(), balance: t.Number(), currency: t.String(), tier: t.String(), updatedAt: isoDate }),
      detail: { tags: ["Billing"], summary: "Credit balance" },
    })
    .get(
      "/api/v1/billing/transactions",
      async ({ ctx, deps, query }) => listEnvelope(await deps.services.billing.transactions(ctx, parsePage(query, "transaction"))),
      { auth: true, query: t.Object(pageQuery), response: listSchema(transaction), detail: { tags: ["Billing"], summary: "Credit transactions" } },
    )
    .get("/api/v1/billing/subscription/tier", ({ ctx, deps }) => deps.services.billing.tier(ctx), {
      auth: true,
      response: t.Object({
        tier: t.String(),
        name: t.String(),
        prices: t.Object({ inputPerMTok: t.Number(), outputPerMTok: t.Number(), currency: t.String() }),
        byokCost: t.Number(),
      }),
      detail: { tags: ["Billing"], summary: "Subscription tier and prices" },
    });
