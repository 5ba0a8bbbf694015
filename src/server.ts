// Starts the HTTP server over a store: what `clanker serve` and the test helpers run.
import type { Config } from "./config";
import { migrate, openStore } from "./store/db";
import { createApp, createDeps } from "./app";
import { startJobs } from "./jobs/scheduler";
import { backupJobs } from "./jobs/backups";
import { join } from "node:path";
import { lastResortResponse } from "./http/errors";

export interface Running {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export function dbPath(config: Config): string {
  return join(config.dataDir, "clanker.db");
}

export function startServer(config: Config, log: (line: string) => void): Running {
  const store = openStore(dbPath(config));
  migrate(store);
  const deps = createDeps(config, store, log);
  const app = createApp(deps);
  app.listen({
    hostname: config.host,
    port: config.port,
    development: false,
    // SSE and MCP streams send heartbeats every 5 s; ordinary idle keep-alive connections close after 30 s.
    idleTimeout: 30,
    // Every body is read by our onParse, which stops at the limit with a typed 413 (a declared content-length is
    // refused before reading). A lower cap here would let Bun answer a bare 413 of its own, without the envelope.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    // A throw that escapes Elysia's own error hooks: still our JSON envelope, not Bun's text/plain page.
    error(e: Error) {
      log(`error (unhandled): ${e?.stack ?? e}`);
      return lastResortResponse();
    },
  });
  const server = app.server!;
  const { services } = deps;
  services.runner.start();
  services.workflowEngine.recover();
  services.workflowTriggers.sync();
  const stopJobs = startJobs(
    [
      { name: "idempotency-prune", pattern: "*/10 * * * *", run: () => deps.idempotency.prune() },
      { name: "webhook-deliveries", pattern: "*/5 * * * * *", run: () => services.webhooks.deliverDue() },
      { name: "events-prune", pattern: "17 * * * *", run: () => services.bus.prune(7 * 24 * 3600 * 1000) },
      { name: "mcp-sessions-sweep", pattern: "* * * * *", run: () => deps.mcp.sweep() },
      {
        name: "codes-prune",
        pattern: "41 * * * *",
        run: () => {
          services.otp.prune();
          services.device.prune();
        },
      },
      ...backupJobs(config, store, log),
    ],
    log,
  );
  void services.webhooks.deliverDue();
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${server.port}`;
  if (deps.services.users.count() === 0)
    log(`No users yet. Create your first API key with:  clanker keys create --name "my key" --email you@example.com`);
  log(`Clanker listening on ${url} (data in ${config.dataDir})`);
  return {
    url,
    port: server.port!,
    async stop() {
      stopJobs();
      services.runner.stop();
      services.workflowTriggers.stop();
      deps.mcp.closeAll();
      await app.stop(true);
      store.close();
    },
  };
}
