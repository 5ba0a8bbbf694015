// Workflow definitions and runs, and the inbound event triggers that launch them.
// Times are epoch milliseconds; ids are integers, prefixed only at the API edge.
import { sql } from "drizzle-orm";
import { sqliteTable, integer, text, blob, index, uniqueIndex } from "drizzle-orm/sqlite-core";
import { workspaces } from "./workspaces";

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
    /** The replica driving it and until when (renewed while it drives): past that, another replica adopts it. */
    leaseOwner: text("lease_owner"),
    leaseExpiresAt: integer("lease_expires_at"),
  },
  (t) => [
    index("workflow_runs_ws").on(t.workspaceId, t.id),
    // The list's ?status= and ?workflow= filters.
    index("workflow_runs_ws_status").on(t.workspaceId, t.status, t.id),
    index("workflow_runs_ws_workflow").on(t.workspaceId, t.workflowId, t.id),
    index("workflow_runs_status").on(t.status),
    // A cron trigger's last firing (its runs carry the request id `cron-<trigger id>`): one index lookup each.
    index("workflow_runs_cron").on(t.workspaceId, t.requestId, t.id).where(sql`trigger = 'cron'`),
  ],
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

/**
 * Deliveries a trigger launched, each under its replay keys until a copy would be refused anyway (ours: twice the
 * signature's time window; GitHub's, which carry no time: a day). Kept in the store, not in memory only: a captured
 * delivery sent again after a restart launched its workflow again.
 */
export const hookDeliveries = sqliteTable(
  "hook_deliveries",
  {
    key: text("key").primaryKey(),
    triggerId: integer("trigger_id").notNull().references(() => eventTriggers.id, { onDelete: "cascade" }),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("hook_deliveries_expires").on(t.expiresAt)],
);
