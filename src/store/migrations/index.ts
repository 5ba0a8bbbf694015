// Every migration, embedded in the binary as text. drizzle-kit writes the .sql; add each new file here
// (test/store.test.ts checks this list against drizzle-kit's journal).
import init from "./0000_init.sql" with { type: "text" };
import skillsSecretsByok from "./0001_skills_secrets_byok.sql" with { type: "text" };
import executionsBillingEvents from "./0002_executions_billing_events.sql" with { type: "text" };
import signin from "./0003_signin_devices_agents_invitations.sql" with { type: "text" };
import workflows from "./0004_workflows.sql" with { type: "text" };
import connectors from "./0005_connectors_integrations_triggers.sql" with { type: "text" };
import leasesFiles from "./0006_leases_files.sql" with { type: "text" };
import runQueueHeads from "./0007_run_queue_heads.sql" with { type: "text" };
import cronRuns from "./0008_cron_runs.sql" with { type: "text" };
import blocksBase from "./0009_blocks_base.sql" with { type: "text" };
import skillTombstones from "./0010_skill_tombstones.sql" with { type: "text" };
import runHolds from "./0011_run_holds.sql" with { type: "text" };
import oauthClients from "./0012_oauth_clients.sql" with { type: "text" };
import listIndexesHookDeliveries from "./0013_list_indexes_hook_deliveries.sql" with { type: "text" };
import webhookSecretOverlap from "./0014_webhook_secret_overlap.sql" with { type: "text" };
import executionStopReason from "./0015_execution_stop_reason.sql" with { type: "text" };

export const MIGRATIONS: { tag: string; sql: string }[] = [
  { tag: "0000_init", sql: init },
  { tag: "0001_skills_secrets_byok", sql: skillsSecretsByok },
  { tag: "0002_executions_billing_events", sql: executionsBillingEvents },
  { tag: "0003_signin_devices_agents_invitations", sql: signin },
  { tag: "0004_workflows", sql: workflows },
  { tag: "0005_connectors_integrations_triggers", sql: connectors },
  { tag: "0006_leases_files", sql: leasesFiles },
  { tag: "0007_run_queue_heads", sql: runQueueHeads },
  { tag: "0008_cron_runs", sql: cronRuns },
  { tag: "0009_blocks_base", sql: blocksBase },
  { tag: "0010_skill_tombstones", sql: skillTombstones },
  { tag: "0011_run_holds", sql: runHolds },
  { tag: "0012_oauth_clients", sql: oauthClients },
  { tag: "0013_list_indexes_hook_deliveries", sql: listIndexesHookDeliveries },
  { tag: "0014_webhook_secret_overlap", sql: webhookSecretOverlap },
  { tag: "0015_execution_stop_reason", sql: executionStopReason },
];
