// Several replicas of one deployment (issue 15): N real server processes, each with its own data dir and port,
// sharing one PostgreSQL database, the test Redis (one key prefix) and one CLANKER_MASTER_KEY — what a balancer
// would put in front. Only with CLANKER_TEST_DATABASE_URL (source .ci/services.sh); `replicasAvailable` says so.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanup, freshDatabase, replicaStackEnv, startServer, type TestServer } from "./server";

export const replicasAvailable = !!process.env.CLANKER_TEST_DATABASE_URL && !!process.env.CLANKER_TEST_REDIS_URL;

export interface Replicas {
  servers: TestServer[];
  /** The environment every replica shares (DATABASE_URL, REDIS_URL, CLANKER_REDIS_PREFIX, CLANKER_MASTER_KEY, …). */
  env: Record<string, string>;
  /** Starts one more replica on the same stack. */
  add(extraEnv?: Record<string, string>): Promise<TestServer>;
  stop(): Promise<void>;
}

export async function startReplicas(n: number, env: Record<string, string> = {}): Promise<Replicas> {
  const first = mkdtempSync(join(tmpdir(), "clanker-replica-"));
  const shared: Record<string, string> = {
    ...(await replicaStackEnv(await freshDatabase(first))),
    CLANKER_MASTER_KEY: randomBytes(32).toString("base64"),
    ...env,
  };
  const servers: TestServer[] = [];
  const add = async (extraEnv: Record<string, string> = {}) => {
    const dataDir = servers.length === 0 ? first : mkdtempSync(join(tmpdir(), "clanker-replica-"));
    const s = await startServer({ dataDir, env: { ...shared, ...extraEnv } });
    servers.push(s);
    return s;
  };
  // One at a time: the first migrates the empty database; the others find it done (or wait on its advisory lock).
  for (let i = 0; i < n; i++) await add();
  return {
    servers,
    env: shared,
    add,
    async stop() {
      await Promise.all(servers.map((s) => s.stop().catch(() => 0)));
      // The first data dir owns the database: cleaned last, so the others never find it dropped under them.
      for (const s of servers.slice(1)) cleanup(s);
      cleanup(servers[0]!);
    },
  };
}
