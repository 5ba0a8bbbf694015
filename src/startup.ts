// What every process that serves from the store does before anything else (serve, clanker mcp).
import { migrate, type Store } from "./store/db";
import { checkStartKey } from "./store/master-key";
import { loadSharedSkills } from "./modules/skills/sources";
import { existsSync, statSync } from "node:fs";
import type { Config } from "./config";

/** Migrates; refuses another master key (a replica, a restored backup) before anything reads a secret; under
 * PostgreSQL, fetches the imported skills from the database before the catalog is made. */
export async function prepareStore(store: Store, dataDir: string): Promise<void> {
  await migrate(store);
  await checkStartKey(store, dataDir);
  await loadSharedSkills(store, dataDir);
}

/**
 * Folders the configuration names that are not there: read at start and skipped without a word, a typo served the
 * bundled catalog alone or no local sources. One warning line each (the server still starts: a folder may come later).
 */
export function missingFolders(config: Config, which: "all" | "skills" = "all"): string[] {
  const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();
  const named: [string, string][] = [
    ...(config.skillsDir ? [["CLANKER_SKILLS_DIR", config.skillsDir] as [string, string]] : []),
    ...(which === "all" ? config.connectors.localSources.map((p) => ["CLANKER_LOCAL_SOURCES", p] as [string, string]) : []),
  ];
  return named.filter(([, p]) => !isDir(p)).map(([name, p]) => `${name} names ${p}, which is not a folder: its skills or sources are not served; check the path`);
}

/** Every CLANKER_ variable the server and its CLI read (test/config.test.ts holds the list to the source). */
export const KNOWN_SETTINGS = new Set([
  "CLANKER_ALLOWED_HOSTS", "CLANKER_ANONYMOUS_AGENTS", "CLANKER_ANONYMOUS_CREDIT_GRANT", "CLANKER_ANONYMOUS_RATE_LIMIT_PER_MINUTE",
  "CLANKER_ANTHROPIC_MODEL", "CLANKER_API_KEY", "CLANKER_BACKUP_CRON", "CLANKER_BACKUP_DIR", "CLANKER_BACKUP_KEEP", "CLANKER_CREDIT_GRANT",
  "CLANKER_CRON_MIN_INTERVAL_SECONDS", "CLANKER_DATA_DIR", "CLANKER_DEVICE_POLL_INTERVAL_SECONDS", "CLANKER_GITHUB_API_URL",
  "CLANKER_GITHUB_CLIENT_ID", "CLANKER_GITHUB_CLIENT_SECRET", "CLANKER_GITHUB_OAUTH_URL", "CLANKER_GROUP_COMMIT", "CLANKER_IDEMPOTENCY_TTL_SECONDS",
  "CLANKER_LEASE_SECONDS", "CLANKER_LOCAL_SOURCES", "CLANKER_LOG", "CLANKER_LOG_FORMAT", "CLANKER_MAIL_FROM", "CLANKER_MASTER_KEY",
  "CLANKER_MAX_ATTACHMENT_BYTES", "CLANKER_MAX_BODY_BYTES", "CLANKER_MAX_OUTPUT_TOKENS", "CLANKER_MAX_SOURCE_BYTES", "CLANKER_METRICS_TOKEN",
  "CLANKER_OPENAI_MODEL", "CLANKER_PRICE_INPUT_PER_MTOK", "CLANKER_PRICE_OUTPUT_PER_MTOK", "CLANKER_PUBLIC_RATE_LIMIT_PER_MINUTE",
  "CLANKER_PUBLIC_URL", "CLANKER_RATE_LIMIT_PER_MINUTE", "CLANKER_REDIS_PREFIX", "CLANKER_REMOTE_MAX_BYTES", "CLANKER_REMOTE_TIMEOUT_MS",
  "CLANKER_REMOTE_TTL_SECONDS", "CLANKER_REPLICA_RUNS", "CLANKER_RUN_SOURCE_BUDGET_BYTES", "CLANKER_RUN_TIMEOUT_SECONDS",
  "CLANKER_SHUTDOWN_GRACE_SECONDS", "CLANKER_SKILLS_DIR", "CLANKER_SLACK_API_URL", "CLANKER_SLACK_CLIENT_ID", "CLANKER_SLACK_CLIENT_SECRET",
  "CLANKER_SLACK_OAUTH_URL", "CLANKER_SMTP_URL", "CLANKER_TRUSTED_PROXIES", "CLANKER_WEBHOOK_ALLOW_PRIVATE", "CLANKER_WEBHOOK_MAX_ATTEMPTS", "CLANKER_WEBHOOK_RETRY_BASE_MS",
  "CLANKER_WORKERS", "CLANKER_WORKSPACE_CONCURRENCY",
]);

/**
 * CLANKER_ variables set that this server does not read: a typo (a missing underscore in DATA_DIR) was served with the default, without a
 * word. One warning line each, naming the closest setting (the server still starts: it may be another tool's).
 */
export function unknownSettings(env: Record<string, string | undefined>): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith("CLANKER_") && !KNOWN_SETTINGS.has(name))
    .sort()
    .map((name) => {
      const near = [...KNOWN_SETTINGS].map((known) => [known, editDistance(name, known)] as const).sort((a, b) => a[1] - b[1])[0]!;
      return `${name} is not a setting of this server: it is ignored${near[1] <= 3 ? ` (did you mean ${near[0]}?)` : ""}; README's Configuration lists them`;
    });
}

/** Levenshtein distance: the edits from one name to another. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length]!;
}
