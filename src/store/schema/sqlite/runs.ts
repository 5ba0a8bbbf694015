// Executions and their output blocks, artifacts, credits, the event log and outgoing webhooks.
// Times are epoch milliseconds; ids are integers, prefixed only at the API edge.
import { sqliteTable, integer, text, blob, index, uniqueIndex } from "drizzle-orm/sqlite-core";
import { workspaces } from "./workspaces";

export const executions = sqliteTable(
  "executions",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: integer("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    skillSlug: text("skill_slug").notNull(),
    skillName: text("skill_name").notNull(),
    status: text("status", { enum: ["queued", "running", "completed", "failed", "cancelled"] }).notNull(),
    input: text("input").notNull(),
    interface: text("interface").notNull(),
    /** JSON: [{ name, mediaType, text? , data? (base64) }] */
    attachments: text("attachments", { mode: "json" }).$type<unknown[]>(),
    connector: text("connector", { mode: "json" }).$type<{ type: "github" | "local" | "remote"; fields: Record<string, unknown>; context?: unknown }>(),
    callbackUrl: text("callback_url"),
    provider: text("provider"),
    model: text("model"),
    byok: integer("byok", { mode: "boolean" }).notNull().default(false),
    inputTokens: integer("input_tokens").notNull().default(0),
    outputTokens: integer("output_tokens").notNull().default(0),
    costMicro: integer("cost_micro").notNull().default(0),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    /** Why a completed run's answer ended (see executor/stop-reason.ts); null for any other end, and runs from before it. */
    stopReason: text("stop_reason"),
    rerunOf: integer("rerun_of"),
    requestId: text("request_id"),
    actorUserId: integer("actor_user_id"),
    actorApiKeyId: integer("actor_api_key_id"),
    createdAt: integer("created_at").notNull(),
    startedAt: integer("started_at"),
    completedAt: integer("completed_at"),
    /** The replica running it and until when (renewed while it runs): past that, another replica takes it back. */
    leaseOwner: text("lease_owner"),
    leaseExpiresAt: integer("lease_expires_at"),
    /** The last block index before this attempt: a run requeued by a restart numbers its new output after the old, so a
     * client following with blocksAfter misses none of it. 0 on a first attempt. */
    blocksBase: integer("blocks_base").notNull().default(0),
    /** While a paid run runs: the most it can cost (runner.begin), held against the balance so that runs started
     * together cannot spend past it. 0 for BYOK runs and once the run has ended (only running rows are counted). */
    heldMicro: integer("held_micro").notNull().default(0),
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

export const executionBlocks = sqliteTable(
  "execution_blocks",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    executionId: integer("execution_id").notNull().references(() => executions.id, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
    type: text("type").notNull(),
    content: text("content").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("blocks_exec_seq").on(t.executionId, t.seq)],
);

export const artifacts = sqliteTable(
  "artifacts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: integer("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    executionId: integer("execution_id").references(() => executions.id, { onDelete: "set null" }),
    skillSlug: text("skill_slug"),
    name: text("name").notNull(),
    mediaType: text("media_type").notNull(),
    size: integer("size").notNull(),
    /** Relative to the data dir's artifacts/ folder. */
    path: text("path").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("artifacts_ws").on(t.workspaceId, t.id), index("artifacts_exec").on(t.executionId)],
);

export const billingAccounts = sqliteTable("billing_accounts", {
  workspaceId: integer("workspace_id").primaryKey().references(() => workspaces.id, { onDelete: "cascade" }),
  tier: text("tier").notNull(),
  balanceMicro: integer("balance_micro").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const creditTransactions = sqliteTable(
  "credit_transactions",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: integer("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["grant", "charge", "refund"] }).notNull(),
    amountMicro: integer("amount_micro").notNull(),
    balanceAfterMicro: integer("balance_after_micro").notNull(),
    executionId: integer("execution_id"),
    description: text("description").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("credit_tx_ws").on(t.workspaceId, t.id)],
);

/** The event log behind /api/events: ids are the SSE ids, so Last-Event-ID resumes across restarts. */
export const events = sqliteTable(
  "events",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: integer("workspace_id").notNull(),
    type: text("type").notNull(),
    source: text("source").notNull(),
    data: text("data").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("events_ws").on(t.workspaceId, t.id), index("events_created").on(t.createdAt)],
);

export const webhookSecrets = sqliteTable("webhook_secrets", {
  workspaceId: integer("workspace_id").primaryKey().references(() => workspaces.id, { onDelete: "cascade" }),
  ciphertext: blob("ciphertext", { mode: "buffer" }).notNull(),
  createdAt: integer("created_at").notNull(),
  // The secret before the last rotation, still signing beside the new one until previous_until (a rotation with overlap).
  previousCiphertext: blob("previous_ciphertext", { mode: "buffer" }),
  previousUntil: integer("previous_until"),
});

export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: integer("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    url: text("url").notNull(),
    event: text("event").notNull(),
    payload: text("payload").notNull(),
    status: text("status", { enum: ["pending", "delivered", "failed"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: integer("next_attempt_at").notNull(),
    lastError: text("last_error"),
    requestId: text("request_id"),
    createdAt: integer("created_at").notNull(),
    deliveredAt: integer("delivered_at"),
  },
  (t) => [index("webhook_due").on(t.status, t.nextAttemptAt)],
);
