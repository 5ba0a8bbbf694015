// The replica stack for the HTTP bench: PostgreSQL + Redis, either the ones CLANKER_TEST_DATABASE_URL and
// CLANKER_TEST_REDIS_URL point at, or a throwaway pair started by .ci/services.sh (the CI's own logic, so the
// bench measures the same cluster settings the suite runs on), and one fresh database for the bench's server.
import { resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");

export interface Stack {
  /** DATABASE_URL, REDIS_URL and a Redis key prefix for a server on the bench's own database. */
  env: Record<string, string>;
  /** Drops the database and stops the services if this module started them. */
  stop(): Promise<void>;
}

/** postgres.js on the admin URL for one statement (CREATE/DROP DATABASE cannot run in a transaction). */
async function adminSql(adminUrl: string, statement: string): Promise<void> {
  const { default: postgres } = await import("postgres");
  const sql = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(statement);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/**
 * Starts (or reuses) PostgreSQL + Redis. The services.sh shell stays alive reading its stdin: closing it (stop(), or
 * this process dying) makes it call stop_services, so no cluster outlives the bench. { skipped } with the reason on failure.
 */
export async function startStack(): Promise<Stack | { skipped: string }> {
  let adminUrl = process.env.CLANKER_TEST_DATABASE_URL;
  let redisUrl = process.env.CLANKER_TEST_REDIS_URL;
  let shell: Bun.Subprocess<"pipe", "pipe", "inherit"> | null = null;
  if (!adminUrl || !redisUrl) {
    shell = Bun.spawn(["bash", "-c", 'source .ci/services.sh >&2 || { stop_services; exit 1; }; echo "$CLANKER_TEST_DATABASE_URL $CLANKER_TEST_REDIS_URL"; read -r _; stop_services'], {
      cwd: ROOT,
      stdin: "pipe",
      stdout: "pipe",
      stderr: "inherit",
    });
    const reader = shell.stdout.getReader();
    let line = "";
    while (!line.includes("\n")) {
      const { done, value } = await reader.read();
      if (done) return { skipped: ".ci/services.sh could not start PostgreSQL and Redis" };
      line += new TextDecoder().decode(value);
    }
    reader.releaseLock();
    [adminUrl, redisUrl] = line.trim().split(" ");
  }
  const name = `ck_bench_${process.pid}_${Date.now().toString(36)}`;
  await adminSql(adminUrl!, `CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl!);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString(), REDIS_URL: redisUrl!, CLANKER_REDIS_PREFIX: `ck:${name}:` },
    async stop() {
      await adminSql(adminUrl!, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {});
      if (shell) {
        await shell.stdin.end();
        await shell.exited;
      }
    },
  };
}
