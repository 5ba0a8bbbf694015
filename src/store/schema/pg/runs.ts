// Executions and their output blocks, artifacts, credits, the event log and outgoing webhooks.
// The PostgreSQL twin of ../sqlite/runs.ts: the same tables, columns, indexes and row types (see ../index.ts).
import { pgTable, bigint, boolean, text, json, index, uniqueIndex } from "drizzle-orm/pg-core";
import { bytea } from "./bytea";
import { workspaces } from "./workspaces";

export const executions = pgTable(
  "executions",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    workspaceId: bigint("workspace_id", { mode: "number" }).notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    skillSlug: text("skill_slug").notNull(),
    skillName: text("skill_name").notNull(),
    status: text("status", { enum: ["queued", "running", "completed", "failed", "cancelled"] }).notNull(),
    input: text("input").notNull(),
    interface: text("interface").notNull(),
    /** JSON: [{ name, mediaType, text? , data? (base64) }] */
    attachments: json("attachments").$type<unknown[]>(),
    connector: json("connector").$type<{ type: "github" | "local" | "remote"; fields: Record<string, unknown>; context?: unknown }>(),
    callbackUrl: text("callback_url"),
    provider: text("provider"),
    model: text("model"),
    byok: boolean("byok").notNull().default(false),
    inputTokens: bigint("input_tokens", { mode: "number" }).notNull().default(0),
    outputTokens: bigint("output_tokens", { mode: "number" }).notNull().default(0),
    costMicro: bigint("cost_micro", { mode: "number" }).notNull().default(0),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    /** Why a completed run's answer ended (see executor/stop-reason.ts); null for any other end, and runs from before it. */
    stopReason: text("stop_reason"),
    rerunOf: bigint("rerun_of", { mode: "number" }),
    requestId: text("request_id"),
    actorUserId: bigint("actor_user_id", { mode: "number" }),
    actorApiKeyId: bigint("actor_api_key_id", { mode: "number" }),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    startedAt: bigint("started_at", { mode: "number" }),
    completedAt: bigint("completed_at", { mode: "number" }),
    /** The replica running it and until when (renewed while it runs): past that, another replica takes it back. */
    leaseOwner: text("lease_owner"),
    leaseExpiresAt: bigint("lease_expires_at", { mode: "number" }),
    /** The last block index before this attempt: a run requeued by a restart numbers its new output after the old, so a
     * client following with blocksAfter misses none of it. 0 on a first attempt. */
    blocksBase: bigint("blocks_base", { mode: "number" }).notNull().default(0),
    heldMicro: bigint("held_micro", { mode: "number" }).notNull().default(0),
  },
  (t) => [
    index("executions_ws").on(t.workspaceId, t.id),
    // ?skill=: a skill's runs in id order (a rarely run skill's were found by reading all the workspace's runs).
    index("executions_ws_skill").on(t.workspaceId, t.skillSlug, t.id),
    index("executions_status").on(t.status, t.id),
    // The dispatcher reads the oldest few queued runs of each workspace (claims.ts): one short range per workspace.
    index("executions_queue").on(t.status, t.workspaceId, t.id),
  ],
);

export const executionBlocks = pgTable(
  "execution_blocks",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    executionId: bigint("execution_id", { mode: "number" }).notNull().references(() => executions.id, { onDelete: "cascade" }),
    seq: bigint("seq", { mode: "number" }).notNull(),
    type: text("type").notNull(),
    content: text("content").notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
  },
  (t) => [uniqueIndex("blocks_exec_seq").on(t.executionId, t.seq)],
);

export const artifacts = pgTable(
  "artifacts",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    workspaceId: bigint("workspace_id", { mode: "number" }).notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    executionId: bigint("execution_id", { mode: "number" }).references(() => executions.id, { onDelete: "set null" }),
    skillSlug: text("skill_slug"),
    name: text("name").notNull(),
    mediaType: text("media_type").notNull(),
    size: bigint("size", { mode: "number" }).notNull(),
    /** Relative to the data dir's artifacts/ folder. */
    path: text("path").notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
  },
  (t) => [index("artifacts_ws").on(t.workspaceId, t.id), index("artifacts_exec").on(t.executionId)],
);

export const billingAccounts = pgTable("billing_accounts", {
  workspaceId: bigint("workspace_id", { mode: "number" }).primaryKey().references(() => workspaces.id, { onDelete: "cascade" }),
  tier: text("tier").notNull(),
  balanceMicro: bigint("balance_micro", { mode: "number" }).notNull(),
  updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
});

export const creditTransactions = pgTable(
  "credit_transactions",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    workspaceId: bigint("workspace_id", { mode: "number" }).notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["grant", "charge", "refund"] }).notNull(),
    amountMicro: bigint("amount_micro", { mode: "number" }).notNull(),
    balanceAfterMicro: bigint("balance_after_micro", { mode: "number" }).notNull(),
    executionId: bigint("execution_id", { mode: "number" }),
    description: text("description").notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
  },
  (t) => [index("credit_tx_ws").on(t.workspaceId, t.id)],
);

/** The event log behind /api/events: ids are the SSE ids, so Last-Event-ID resumes across restarts. */
export const events = pgTable(
  "events",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    workspaceId: bigint("workspace_id", { mode: "number" }).notNull(),
    type: text("type").notNull(),
    source: text("source").notNull(),
    data: text("data").notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
  },
  (t) => [index("events_ws").on(t.workspaceId, t.id), index("events_created").on(t.createdAt)],
);

export const webhookSecrets = pgTable("webhook_secrets", {
  workspaceId: bigint("workspace_id", { mode: "number" }).primaryKey().references(() => workspaces.id, { onDelete: "cascade" }),
  ciphertext: bytea("ciphertext").notNull(),
  createdAt: bigint("created_at", { mode: "number" }).notNull(),
  // The secret before the last rotation, still signing beside the new one until previous_until (a rotation with overlap).
  previousCiphertext: bytea("previous_ciphertext"),
  previousUntil: bigint("previous_until", { mode: "number" }),
});

export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    workspaceId: bigint("workspace_id", { mode: "number" }).notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    event: text("event").notNull(),
    payload: text("payload").notNull(),
    status: text("status", { enum: ["pending", "delivered", "failed"] }).notNull(),
    attempts: bigint("attempts", { mode: "number" }).notNull().default(0),
    nextAttemptAt: bigint("next_attempt_at", { mode: "number" }).notNull(),
    lastError: text("last_error"),
    requestId: text("request_id"),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    deliveredAt: bigint("delivered_at", { mode: "number" }),
  },
  (t) => [index("webhook_due").on(t.status, t.nextAttemptAt)],
);
