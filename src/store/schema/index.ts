// The drizzle tables every service imports, picked by the dialect (../dialect.ts): SQLite's (./sqlite) by default,
// PostgreSQL's (./pg) under DATABASE_URL=postgres://…. Both are typed as the SQLite tables, and the queries written
// against them are the dialect-neutral subset both speak (awaited builders, .returning(), onConflict…); the row
// types of the two are the same (checked below), so a service sees the same rows on both.
// The SQLite path must not load drizzle-orm/pg-core: ./pg is required only in the PostgreSQL branch.
import * as lite from "./sqlite";
import type * as pg from "./pg";
import { DIALECT } from "../dialect";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const t: typeof lite = DIALECT === "postgres" ? (require("./pg") as typeof lite) : lite;

// One line per table (every export of ./sqlite; test/pg-store.test.ts checks the list is whole).
export const connections: typeof lite.connections = t.connections;
export const oauthStates: typeof lite.oauthStates = t.oauthStates;
export const executions: typeof lite.executions = t.executions;
export const executionBlocks: typeof lite.executionBlocks = t.executionBlocks;
export const artifacts: typeof lite.artifacts = t.artifacts;
export const billingAccounts: typeof lite.billingAccounts = t.billingAccounts;
export const creditTransactions: typeof lite.creditTransactions = t.creditTransactions;
export const events: typeof lite.events = t.events;
export const webhookSecrets: typeof lite.webhookSecrets = t.webhookSecrets;
export const webhookDeliveries: typeof lite.webhookDeliveries = t.webhookDeliveries;
export const otpCodes: typeof lite.otpCodes = t.otpCodes;
export const deviceCodes: typeof lite.deviceCodes = t.deviceCodes;
export const oauthClients: typeof lite.oauthClients = t.oauthClients;
export const oauthCodes: typeof lite.oauthCodes = t.oauthCodes;
export const agentRegistrations: typeof lite.agentRegistrations = t.agentRegistrations;
export const invitations: typeof lite.invitations = t.invitations;
export const installedSkills: typeof lite.installedSkills = t.installedSkills;
export const secrets: typeof lite.secrets = t.secrets;
export const skillSecretBindings: typeof lite.skillSecretBindings = t.skillSecretBindings;
export const byokKeys: typeof lite.byokKeys = t.byokKeys;
export const workflowDefinitions: typeof lite.workflowDefinitions = t.workflowDefinitions;
export const workflowRuns: typeof lite.workflowRuns = t.workflowRuns;
export const eventTriggers: typeof lite.eventTriggers = t.eventTriggers;
export const hookDeliveries: typeof lite.hookDeliveries = t.hookDeliveries;
export const users: typeof lite.users = t.users;
export const workspaces: typeof lite.workspaces = t.workspaces;
export const memberships: typeof lite.memberships = t.memberships;
export const apiKeys: typeof lite.apiKeys = t.apiKeys;
export const sessions: typeof lite.sessions = t.sessions;
export const auditLogs: typeof lite.auditLogs = t.auditLogs;
export const files: typeof lite.files = t.files;
export const idempotencyKeys: typeof lite.idempotencyKeys = t.idempotencyKeys;
export const memory: typeof lite.memory = t.memory;

// Row types: each PostgreSQL table's select and insert rows have the same keys as SQLite's and are mutually
// assignable, so the casts above hide no difference a service could trip on. A mismatch fails `tsc` here.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? ([keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false) : false) : false;
type Tables = Exclude<keyof typeof pg, "bytea">;
/**
 * SQLite types a non-id integer primary key (workspace_id of billing_accounts, byok_keys, memory, webhook_secrets)
 * as optional on insert (a rowid alias would fill it in); PostgreSQL requires it. Services always give it, so the
 * insert rows are compared with that key required on both sides.
 */
type Insert<T, K extends PropertyKey> = T extends { workspaceId?: infer W }
  ? K extends "billingAccounts" | "byokKeys" | "memory" | "webhookSecrets"
    ? Omit<T, "workspaceId"> & { workspaceId: NonNullable<W> }
    : T
  : T;
type RowsMatch = {
  [K in Tables]: K extends keyof typeof lite
    ? Same<(typeof lite)[K]["$inferSelect"], (typeof pg)[K]["$inferSelect"]> extends true
      ? Same<Insert<(typeof lite)[K]["$inferInsert"], K>, Insert<(typeof pg)[K]["$inferInsert"], K>>
      : false
    : false;
};
type Assert<T extends true> = T;
/** The same table names on both sides, and every table's rows the same (true, or tsc fails). */
export type SchemasMatch = Assert<Same<Tables, keyof typeof lite>> & Assert<RowsMatch[Tables] extends true ? true : false>;
