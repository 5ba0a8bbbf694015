// The drizzle tables. Times are epoch milliseconds; ids are integers, prefixed only at the API edge.
import { sqliteTable, integer, text, blob, index, uniqueIndex } from "drizzle-orm/sqlite-core";

export const users = sqliteTable("users", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  email: text("email").unique(),
  name: text("name").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const workspaces = sqliteTable("workspaces", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  name: text("name").notNull(),
  slug: text("slug").notNull().unique(),
  personal: integer("personal", { mode: "boolean" }).notNull().default(false),
  createdByUserId: integer("created_by_user_id").references(() => users.id),
  createdAt: integer("created_at").notNull(),
});

export const memberships = sqliteTable(
  "memberships",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: integer("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: ["owner", "admin", "member"] }).notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("memberships_ws_user").on(t.workspaceId, t.userId), index("memberships_user").on(t.userId)],
);

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: integer("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    userId: integer("user_id").references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    keyHash: text("key_hash").notNull().unique(),
    prefix: text("prefix").notNull(),
    last4: text("last4").notNull(),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("api_keys_ws").on(t.workspaceId, t.id)],
);

export const sessions = sqliteTable("sessions", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  userId: integer("user_id").notNull().references(() => users.id, { onDelete: "cascade" }),
  tokenHash: text("token_hash").notNull().unique(),
  createdAt: integer("created_at").notNull(),
  expiresAt: integer("expires_at").notNull(),
  revokedAt: integer("revoked_at"),
});

export const auditLogs = sqliteTable(
  "audit_logs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: integer("workspace_id").notNull(),
    actorType: text("actor_type", { enum: ["user", "apiKey", "agent", "system"] }).notNull(),
    actorUserId: integer("actor_user_id"),
    actorApiKeyId: integer("actor_api_key_id"),
    ip: text("ip"),
    userAgent: text("user_agent"),
    requestId: text("request_id").notNull(),
    action: text("action").notNull(),
    resourceType: text("resource_type").notNull(),
    resourceId: text("resource_id"),
    metadata: text("metadata", { mode: "json" }).$type<Record<string, unknown>>(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("audit_logs_ws").on(t.workspaceId, t.id), index("audit_logs_ws_action").on(t.workspaceId, t.action, t.id)],
);

export const idempotencyKeys = sqliteTable(
  "idempotency_keys",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: integer("workspace_id").notNull(),
    key: text("key").notNull(),
    fingerprint: text("fingerprint").notNull(),
    status: integer("status").notNull(),
    body: text("body").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [uniqueIndex("idempotency_ws_key").on(t.workspaceId, t.key), index("idempotency_expires").on(t.expiresAt)],
);

export const memory = sqliteTable("memory", {
  workspaceId: integer("workspace_id").primaryKey().references(() => workspaces.id, { onDelete: "cascade" }),
  content: text("content").notNull(),
  version: integer("version").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const installedSkills = sqliteTable(
  "installed_skills",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: integer("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    slug: text("slug").notNull(),
    installedAt: integer("installed_at").notNull(),
  },
  (t) => [uniqueIndex("installed_skills_ws_slug").on(t.workspaceId, t.slug)],
);

/** Values are AES-256-GCM ciphertext (iv ‖ tag ‖ data), bound to the workspace as associated data. */
export const secrets = sqliteTable(
  "secrets",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: integer("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    ciphertext: blob("ciphertext", { mode: "buffer" }).notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("secrets_ws_name").on(t.workspaceId, t.name), index("secrets_ws").on(t.workspaceId, t.id)],
);

export const skillSecretBindings = sqliteTable(
  "skill_secret_bindings",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: integer("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    skillSlug: text("skill_slug").notNull(),
    secretId: integer("secret_id").notNull().references(() => secrets.id, { onDelete: "cascade" }),
    envVar: text("env_var").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("bindings_ws_skill_env").on(t.workspaceId, t.skillSlug, t.envVar), index("bindings_secret").on(t.secretId)],
);

export const byokKeys = sqliteTable("byok_keys", {
  workspaceId: integer("workspace_id").primaryKey().references(() => workspaces.id, { onDelete: "cascade" }),
  provider: text("provider").notNull(),
  ciphertext: blob("ciphertext", { mode: "buffer" }).notNull(),
  last4: text("last4").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

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
    rerunOf: integer("rerun_of"),
    requestId: text("request_id"),
    actorUserId: integer("actor_user_id"),
    actorApiKeyId: integer("actor_api_key_id"),
    createdAt: integer("created_at").notNull(),
    startedAt: integer("started_at"),
    completedAt: integer("completed_at"),
  },
  (t) => [index("executions_ws").on(t.workspaceId, t.id), index("executions_status").on(t.status, t.id)],
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

/** One-time codes sent by mail (sign-in, agent claims), stored as hashes with an attempt budget. */
export const otpCodes = sqliteTable(
  "otp_codes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    purpose: text("purpose", { enum: ["signin", "agent_claim"] }).notNull(),
    email: text("email").notNull(),
    codeHash: text("code_hash").notNull(),
    subjectId: integer("subject_id"),
    attempts: integer("attempts").notNull().default(0),
    expiresAt: integer("expires_at").notNull(),
    consumedAt: integer("consumed_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("otp_lookup").on(t.purpose, t.email, t.id)],
);

export const deviceCodes = sqliteTable("device_codes", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  codeHash: text("code_hash").notNull().unique(),
  status: text("status", { enum: ["pending", "approved", "consumed"] }).notNull(),
  userId: integer("user_id"),
  workspaceId: integer("workspace_id"),
  lastPolledAt: integer("last_polled_at"),
  expiresAt: integer("expires_at").notNull(),
  createdAt: integer("created_at").notNull(),
});

export const agentRegistrations = sqliteTable("agent_registrations", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  kind: text("kind", { enum: ["anonymous", "identity_assertion"] }).notNull(),
  claimTokenHash: text("claim_token_hash").notNull().unique(),
  email: text("email"),
  status: text("status", { enum: ["pending", "active", "claimed"] }).notNull(),
  apiKeyId: integer("api_key_id"),
  workspaceId: integer("workspace_id"),
  userId: integer("user_id"),
  claimExpiresAt: integer("claim_expires_at").notNull(),
  createdAt: integer("created_at").notNull(),
  claimedAt: integer("claimed_at"),
});

export const invitations = sqliteTable(
  "invitations",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: integer("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    role: text("role", { enum: ["admin", "member"] }).notNull(),
    tokenHash: text("token_hash").notNull().unique(),
    invitedByUserId: integer("invited_by_user_id"),
    status: text("status", { enum: ["pending", "accepted", "revoked"] }).notNull(),
    expiresAt: integer("expires_at").notNull(),
    createdAt: integer("created_at").notNull(),
    acceptedAt: integer("accepted_at"),
  },
  (t) => [index("invitations_ws").on(t.workspaceId, t.id)],
);

/** Workflow definitions a workspace added (bundled ones live in the binary). */
export const workflowDefinitions = sqliteTable(
  "workflow_definitions",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: integer("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    definition: text("definition", { mode: "json" }).$type<unknown>().notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("workflow_definitions_ws_key").on(t.workspaceId, t.key)],
);

/** A run's whole state (each step's status, input, output, execution and suspend payload) is persisted as it changes. */
export const workflowRuns = sqliteTable(
  "workflow_runs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: integer("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    workflowId: text("workflow_id").notNull(),
    status: text("status", { enum: ["running", "suspended", "completed", "failed", "cancelled"] }).notNull(),
    input: text("input", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    state: text("state", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    suspendedStep: text("suspended_step"),
    callbackUrl: text("callback_url"),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    trigger: text("trigger").notNull(),
    /** Who launched it (null for a trigger): a member may cancel only runs they started. */
    actorUserId: integer("actor_user_id"),
    actorApiKeyId: integer("actor_api_key_id"),
    requestId: text("request_id"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    completedAt: integer("completed_at"),
  },
  (t) => [index("workflow_runs_ws").on(t.workspaceId, t.id), index("workflow_runs_status").on(t.status)],
);

/**
 * A workspace's link to an outside service: a connector (a source a skill reads: github, local, remote) or an
 * integration (a service a skill or workflow acts on: slack, github, email, webhook). Credentials are sealed
 * with the master key (never returned); `account` is what the service says we are (login, team, URL host).
 */
export const connections = sqliteTable(
  "connections",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: integer("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["connector", "integration"] }).notNull(),
    provider: text("provider").notNull(),
    account: text("account"),
    /** Sealed JSON of the credentials ({token}, {url, secret}, …), AAD bound to workspace, kind and provider. */
    ciphertext: blob("ciphertext", { mode: "buffer" }),
    /** Non-secret settings (allowed recipients, default channel, …). */
    settings: text("settings", { mode: "json" }).$type<Record<string, unknown>>(),
    createdByUserId: integer("created_by_user_id"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("connections_ws_kind_provider").on(t.workspaceId, t.kind, t.provider)],
);

/** OAuth web-flow states: single use, bound to the workspace and the person or key that started the flow. */
export const oauthStates = sqliteTable(
  "oauth_states",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    stateHash: text("state_hash").notNull().unique(),
    workspaceId: integer("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["connector", "integration"] }).notNull(),
    provider: text("provider").notNull(),
    actorUserId: integer("actor_user_id"),
    actorApiKeyId: integer("actor_api_key_id"),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("oauth_states_expires").on(t.expiresAt)],
);

/**
 * Inbound event triggers that launch a workflow: `webhook` (POST /hooks/:triggerId signed with the trigger's own
 * secret) or `github` (events verified with X-Hub-Signature-256). Cron triggers live in the definitions.
 */
export const eventTriggers = sqliteTable(
  "event_triggers",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: integer("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    workflowId: text("workflow_id").notNull(),
    kind: text("kind", { enum: ["webhook", "github"] }).notNull(),
    /** github: {events: ["push", "pull_request", …], repo?: "owner/repo"}; webhook: {}. */
    settings: text("settings", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    /** The sealed signing secret. */
    ciphertext: blob("ciphertext", { mode: "buffer" }).notNull(),
    enabled: integer("enabled", { mode: "boolean" }).notNull().default(true),
    createdByUserId: integer("created_by_user_id"),
    lastFiredAt: integer("last_fired_at"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("event_triggers_ws").on(t.workspaceId, t.id)],
);
