// Every PostgreSQL migration, embedded in the binary as text. drizzle-kit writes the .sql (npm run db:generate,
// drizzle.pg.config.ts); add each new file here (test/pg-store.test.ts checks this list against the journal).
import init from "./0000_init.sql" with { type: "text" };
import leasesFiles from "./0001_leases_files.sql" with { type: "text" };
// Written by hand (a trigger): not in drizzle-kit's snapshots, only in its journal.
import authChangeNotify from "./0002_auth_change_notify.sql" with { type: "text" };
import authNotifyNarrow from "./0003_auth_notify_narrow.sql" with { type: "text" };
import runQueueHeads from "./0004_run_queue_heads.sql" with { type: "text" };
import cronRuns from "./0005_cron_runs.sql" with { type: "text" };
import blocksBase from "./0006_blocks_base.sql" with { type: "text" };
import skillTombstones from "./0007_skill_tombstones.sql" with { type: "text" };
import runHolds from "./0008_run_holds.sql" with { type: "text" };
import oauthClients from "./0009_oauth_clients.sql" with { type: "text" };
// Written by hand (a trigger), as 0002.
import sessionNotify from "./0010_session_notify.sql" with { type: "text" };
import listIndexesHookDeliveries from "./0011_list_indexes_hook_deliveries.sql" with { type: "text" };
import webhookSecretOverlap from "./0012_webhook_secret_overlap.sql" with { type: "text" };
import executionStopReason from "./0013_execution_stop_reason.sql" with { type: "text" };

export const MIGRATIONS_PG: { tag: string; sql: string }[] = [
  { tag: "0000_init", sql: init },
  { tag: "0001_leases_files", sql: leasesFiles },
  { tag: "0002_auth_change_notify", sql: authChangeNotify },
  { tag: "0003_auth_notify_narrow", sql: authNotifyNarrow },
  { tag: "0004_run_queue_heads", sql: runQueueHeads },
  { tag: "0005_cron_runs", sql: cronRuns },
  { tag: "0006_blocks_base", sql: blocksBase },
  { tag: "0007_skill_tombstones", sql: skillTombstones },
  { tag: "0008_run_holds", sql: runHolds },
  { tag: "0009_oauth_clients", sql: oauthClients },
  { tag: "0010_session_notify", sql: sessionNotify },
  { tag: "0011_list_indexes_hook_deliveries", sql: listIndexesHookDeliveries },
  { tag: "0012_webhook_secret_overlap", sql: webhookSecretOverlap },
  { tag: "0013_execution_stop_reason", sql: executionStopReason },
];
