// Workflow definitions and runs, and the inbound event triggers that launch them.
// The PostgreSQL twin of ../sqlite/workflows.ts: the same tables, columns, indexes and row types (see ../index.ts).
import { sql } from "drizzle-orm";
import { pgTable, bigint, boolean, text, json, index, uniqueIndex } from "drizzle-orm/pg-core";
import { bytea } from "./bytea";
import { workspaces } from "./workspaces";

/** Workflow definitions a workspace added (bundled ones live in the binary). */
export const workflowDefinitions = pgTable(
  "workflow_definitions",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    workspaceId: bigint("workspace_id", { mode: "number" }).notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    definition: json("definition").$type<unknown>().notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
  },
  (t) => [uniqueIndex("workflow_definitions_ws_key").on(t.workspaceId, t.key)],
);

/** A run's whole state (each step's status, input, output, execution and suspend payload) is persisted as it changes. */
export const workflowRuns = pgTable(
  "workflow_runs",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    workspaceId: bigint("workspace_id", { mode: "number" }).notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    workflowId: text("workflow_id").notNull(),
    status: text("status", { enum: ["running", "suspended", "completed", "failed", "cancelled"] }).notNull(),
    input: json("input").$type<Record<string, unknown>>().notNull(),
    state: json("state").$type<Record<string, unknown>>().notNull(),
    suspendedStep: text("suspended_step"),
    callbackUrl: text("callback_url"),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    trigger: text("trigger").notNull(),
    /** Who launched it (null for a trigger): a member may cancel only runs they started. */
    actorUserId: bigint("actor_user_id", { mode: "number" }),
    actorApiKeyId: bigint("actor_api_key_id", { mode: "number" }),
    requestId: text("request_id"),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
    completedAt: bigint("completed_at", { mode: "number" }),
    /** The replica driving it and until when (renewed while it drives): past that, another replica adopts it. */
    leaseOwner: text("lease_owner"),
    leaseExpiresAt: bigint("lease_expires_at", { mode: "number" }),
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
export const eventTriggers = pgTable(
  "event_triggers",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    workspaceId: bigint("workspace_id", { mode: "number" }).notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    workflowId: text("workflow_id").notNull(),
    kind: text("kind", { enum: ["webhook", "github"] }).notNull(),
    /** github: {events: ["push", "pull_request", …], repo?: "owner/repo"}; webhook: {}. */
    settings: json("settings").$type<Record<string, unknown>>().notNull(),
    /** The sealed signing secret. */
    ciphertext: bytea("ciphertext").notNull(),
    enabled: boolean("enabled").notNull().default(true),
    createdByUserId: bigint("created_by_user_id", { mode: "number" }),
    lastFiredAt: bigint("last_fired_at", { mode: "number" }),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
  },
  (t) => [index("event_triggers_ws").on(t.workspaceId, t.id)],
);

/**
 * Deliveries a trigger launched, each under its replay keys until a copy would be refused anyway (ours: twice the
 * signature's time window; GitHub's, which carry no time: a day). Kept in the store, not in memory only: a captured
 * delivery sent again after a restart launched its workflow again.
 */
export const hookDeliveries = pgTable(
  "hook_deliveries",
  {
    key: text("key").primaryKey(),
    triggerId: bigint("trigger_id", { mode: "number" }).notNull().references(() => eventTriggers.id, { onDelete: "cascade" }),
    expiresAt: bigint("expires_at", { mode: "number" }).notNull(),
  },
  (t) => [index("hook_deliveries_expires").on(t.expiresAt)],
);
