// Starts the HTTP server over a store (what `clanker serve` and the test helpers run), and drains it on shutdown.
import { join } from "node:path";
import type { Config } from "./config";
import { openStore, storeOptions, type Store } from "./store/db";
import { SqliteStore } from "./store/sqlite-store";
import { surviveClientSocketRaces } from "./store/pg-failures";
import { missingFolders, prepareStore, unknownSettings } from "./startup";
import { lockDataDir } from "./store/data-lock";
import { MIGRATIONS } from "./store/migrations";
import { createApp, createDeps } from "./app";
import { startJobs } from "./jobs/scheduler";
import { endEventStreams } from "./modules/events/routes";
import { endWorkflowStreams } from "./modules/workflows/stream";
import { backupJobs } from "./jobs/backups";
import { pruneOutbox } from "./modules/signin/mailer";
import { pruneSessions } from "./modules/users/sessions";
import { createFileStore } from "./store/files";
import { lastResortResponse } from "./http/errors";
import { describeError } from "./lib/errors";
import { logFirstStartSteps, reachableUrl } from "./cli/next-steps";
import { urlHost } from "./lib/url-host";
import { createLog, type Log } from "./lib/log";
import { createSharedState, type SharedState } from "./shared";
import { takeOverDataDir } from "./lib/replica";
import { Failure } from "./cli/errors";
import { logIntegrity } from "./store/integrity";
import { DB_FILE } from "./store/data-dir";

const JOBS_DELAY_MS = 50;
const INTEGRITY_DELAY_MS = 2_000;
/** How long the event log (SSE replay by Last-Event-ID) and ended callbacks are kept (README: Operations). */
const EVENTS_KEEP_MS = 7 * 24 * 3600 * 1000;
const CALLBACKS_KEEP_MS = 30 * 24 * 3600 * 1000;

/** A start-up failure the operator can fix: `clanker serve` prints its message as one line and exits 2. */
export class StartError extends Error {}

export interface Running {
  url: string;
  port: number;
  /**
   * Graceful stop: refuse new connections, let running executions (and the workflow steps waiting on them)
   * finish for up to the configured grace, put what is still running back to `queued`, then close.
   */
  shutdown(reason: string): Promise<void>;
  /** Stop without waiting: what is running goes back to `queued` at once; resolves once the store is closed. */
  stopNow(reason: string): Promise<void>;
}


/**
 * The server logs as configured (CLANKER_LOG, CLANKER_LOG_FORMAT). A caller's line printer is not
 * used for that: it is accepted so older callers still compile; a Log passed in (tests of this module) is.
 */
export async function startServer(config: Config, logger?: Log | ((line: string) => void)): Promise<Running> {
  const log: Log = logger && "error" in logger ? (logger as Log) : createLog({ level: config.logLevel, format: config.logFormat });
  // Before the store opens: a second server on this dir must not even migrate it.
  const lock = lockDataDir(config.dataDir, MIGRATIONS.at(-1)!.tag);
  let store: Store;
  try {
    store = await openStore(storeOptions(config));
  } catch (e) {
    lock.release();
    throw e;
  }
  if (store instanceof SqliteStore && store.checkpoints) store.checkpoints.warn = (line) => log.warn(line);
  if (store.dialect === "postgres") surviveClientSocketRaces((m) => log.warn(m));
  try {
    await prepareStore(store, config.dataDir);
  } catch (e) {
    await store.close();
    lock.release();
    throw e;
  }
  // Redis (REDIS_URL) or this process: a replica that cannot reach what the others share must not start alone.
  let shared: SharedState | undefined;
  try {
    shared = await createSharedState({ redisUrl: config.redisUrl, log, redis: { prefix: config.redisPrefix } });
    // Under the lock, before the first request: what the process this one took the data dir over from (SIGKILL)
    // still held is orphaned. Its idempotency slots are freed now, so a client retrying what it never answered
    // is not told IN_FLIGHT; its runs are taken back by the runner's recovery.
    const predecessor = takeOverDataDir(config.dataDir);
    if (predecessor) await shared.inflight.releaseOwnedBy(predecessor);
  } catch (e) {
    await shared?.close();
    await store.close();
    lock.release();
    throw e instanceof Failure ? e : new StartError((e as Error).message);
  }
  const deps = createDeps(config, store, log, { shared });
  const app = createApp(deps);
  try {
    // Every channel the services subscribed to hears the other replicas before the first request is served.
    await shared.fanout.ready();
    skipSecondRoutePass(app);
    app.listen({
      hostname: config.host,
      port: config.port,
      // Elysia turns reusePort on by default: a second server would then share the port silently and requests
      // would alternate between two data dirs. Off, a busy port is an error we can name.
      reusePort: false,
      development: false,
      // SSE and MCP streams send heartbeats every 5 s; ordinary idle keep-alive connections close after 30 s.
      idleTimeout: 30,
      // Every body is read by our onParse, which stops at the limit with a typed 413 (a declared content-length is
      // refused before reading). A lower cap here would let Bun answer a bare 413 of its own, without the envelope.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      // A throw that escapes Elysia's own error hooks: still our JSON envelope, not Bun's text/plain page.
      error(e: Error) {
        log.error(`error (unhandled): ${e?.stack ?? e}`);
        return lastResortResponse();
      },
    });
  } catch (e) {
    await shared.close();
    await store.close();
    lock.release();
    throw listenError(e, config);
  }
  const server = app.server!;
  // Before the first request can be answered: whoever sees this server up can also read where it listens.
  lock.announce(reachableUrl(config, server.port!));
  const { services } = deps;
  await services.runner.start();
  await services.workflowEngine.recover();
  await services.workflowTriggers.sync();
  const jobs = [
    { name: "idempotency-prune", pattern: "*/10 * * * *", run: () => deps.idempotency.prune() },
    { name: "webhook-deliveries", pattern: "*/5 * * * * *", run: () => services.webhooks.deliverDue() },
    { name: "events-prune", pattern: "17 * * * *", run: () => services.bus.prune(EVENTS_KEEP_MS) },
    { name: "callbacks-prune", pattern: "23 * * * *", run: () => services.webhooks.prune(CALLBACKS_KEEP_MS) },
    { name: "mcp-sessions-sweep", pattern: "* * * * *", run: () => deps.mcp.sweep() },
    {
      name: "codes-prune",
      pattern: "41 * * * *",
      run: async () => {
        await services.otp.prune();
        await services.device.prune();
        await services.oauthStates.prune();
        await services.oauth.prune();
        await services.agents.prune();
        await services.triggers.prune();
      },
    },
    // Jobs of their own: one that fails (logged) does not skip the others.
    { name: "outbox-prune", pattern: "43 * * * *", run: () => pruneOutbox(createFileStore(store, config.dataDir)) },
    { name: "sessions-prune", pattern: "47 * * * *", run: () => pruneSessions(store) },
    ...backupJobs(config, store, log),
  ];
  // The schedules start just after the requests already waiting: croner's first date arithmetic (time-zone data)
  // costs 10-20 ms that the first 200 need not wait for. Every pattern is a minute or more apart, except the
  // webhook retries, which also run once then: deliveries left due by the last process go out in the background
  // (failures are logged), behind the first requests rather than in front of them (their query is built then).
  let stopJobs = () => {};
  const jobsTimer = setTimeout(() => {
    stopJobs = startJobs(jobs, log);
    void Promise.resolve(services.webhooks.deliverDue()).catch((e: unknown) => log.error(`job webhook-deliveries failed: ${describeError(e)}`));
  }, JOBS_DELAY_MS);
  // The whole file, once, on a thread of its own, well after the start (it costs a thread's start and a read of every
  // page): a damaged page can leave it opening and answering wrongly.
  const file = join(config.dataDir, DB_FILE);
  const checkTimer = store.sqlite ? setTimeout(() => void logIntegrity(file, log), INTEGRITY_DELAY_MS) : null;
  checkTimer?.unref();
  const url = `http://${urlHost(config.host)}:${server.port}`;
  if ((await deps.services.users.count()) === 0) logFirstStartSteps(config, server.port!, log);
  const threads = config.executor.workers;
  log(`Clanker listening on ${url} (data in ${config.dataDir}, pid ${process.pid}, ${threads} executor thread${threads === 1 ? "" : "s"})`);
  for (const line of [...missingFolders(config), ...unknownSettings(process.env)]) log.warn(line);
  // Found out at the first run otherwise (MODEL_NOT_CONFIGURED), by someone who may not read this log.
  if (!config.models.anthropicApiKey && !config.models.openaiBaseUrl)
    log.warn("no model configured: skill runs fail (MODEL_NOT_CONFIGURED) unless their workspace brings its own key (PUT /api/v1/byok); set ANTHROPIC_API_KEY, or OPENAI_BASE_URL for an OpenAI-compatible server such as a local Ollama (http://127.0.0.1:11434/v1), and restart");

  const { runner, workflowEngine } = services;
  const describe = (r: { executionId: string; skillSlug: string }) => {
    const step = workflowEngine.stepOf(r.executionId);
    return `${r.executionId} (${r.skillSlug}${step ? `, step '${step.stepId}' of ${step.runId}` : ""})`;
  };
  let closing: Promise<void> | null = null;
  const close = () => (closing ??= closeOnce());
  /** Until when requests still being answered (a slow upload) may finish: the grace; a second signal ends it. */
  let drainUntil = 0;
  const closeOnce = async () => {
    const requeued = await runner.requeueRunning();
    if (requeued.length) log(`put ${requeued.length} unfinished run(s) back to queued, for the next start: ${requeued.join(", ")}`);
    runner.stop();
    // Answers still due to MCP clients get what requests still being answered get (below): the grace, at least 1 s.
    await deps.mcp.closeAll(Math.max(drainUntil, Date.now() + 1000));
    // The last events (the runs just waited for, the requeue above) are committed and handed to the streams, which
    // end after them. Then what is left closes: no stream holds the stop.
    await store.flush();
    // With replicas a stream reads what it was cued to from the log: that read is let finish first.
    await services.bus.settled();
    endEventStreams();
    endWorkflowStreams();
    // Up to a second for the sockets to carry the streams' last events; requests still being answered, the grace.
    const floor = Date.now() + 1000;
    while (server.pendingRequests > 0 && Date.now() < Math.max(drainUntil, floor)) await Bun.sleep(20);
    void app.stop(true).catch(() => {});
    await shared.close();
    services.bus.close();
    // Commits the open group-commit batch (the requeue above included) before the file is let go.
    await store.close();
    lock.release();
    log("Clanker stopped");
  };
  return {
    url,
    port: server.port!,
    async shutdown(reason) {
      clearTimeout(jobsTimer);
      if (checkTimer) clearTimeout(checkTimer);
      stopJobs();
      services.workflowTriggers.stop();
      runner.pause();
      workflowEngine.pause();
      // New connections are refused from here on (the port is free again), idle keep-alive ones close, and
      // requests and streams already open go on, so a client watching its run still hears it end.
      void server.stop(false);
      drainUntil = Date.now() + config.shutdownGraceSeconds * 1000;
      const inFlight = runner.inFlight();
      const actions = workflowEngine.actionsInFlight();
      const callbacks = services.webhooks.sendingCount();
      const grace = config.shutdownGraceSeconds;
      if (inFlight.length || actions.length || callbacks) {
        const what = [
          ...(inFlight.length ? [`${inFlight.length} run(s): ${inFlight.map(describe).join(", ")}`] : []),
          ...(actions.length ? [`${actions.length} workflow action(s): ${actions.join(", ")}`] : []),
          ...(callbacks ? [`${callbacks} callback(s) being sent`] : []),
        ];
        log(`${reason}: shutting down; refusing new connections; waiting up to ${grace}s for ${what.join("; and ")}. Queued runs stay queued. Send the signal again to stop now.`);
        const idle = await runner.whenIdle(grace * 1000, (left) => log(`still waiting for ${left} run(s): ${runner.inFlight().map(describe).join(", ")}`));
        // An action cut short would fail its run at the next start (it may have taken effect): it is let finish too.
        const acted = await workflowEngine.whenActionsDone(Math.max(0, drainUntil - Date.now()));
        if (!idle || !acted) log.warn(`the ${grace}s shutdown grace is over`);
      } else log(`${reason}: shutting down; nothing running`);
      // No callback begins from here (the runs' last ones were sent meanwhile, or wait in the store for the next
      // start); those under way end first: one cut off mid-send goes again after the restart, and arrives twice.
      services.webhooks.pause();
      if (!(await services.webhooks.whenSent(Math.max(0, drainUntil - Date.now())))) log.warn(`the ${grace}s shutdown grace is over: callbacks still being sent go again at the next start`);
      // A workflow step whose execution just ended saves its result in the continuations that follow.
      await new Promise((r) => setImmediate(r));
      await close();
    },
    stopNow(reason) {
      log(`${reason} again: not waiting any longer`);
      drainUntil = 0;
      return close();
    },
  };
}

/**
 * Once Bun.serve is up, Elysia's listen queues a pass that waits for plugins loaded lazily (`app.use(import(…))`),
 * then compiles the app again, reloads the server and hints a GC: milliseconds in front of the first request. This
 * app loads no plugin lazily, so that pass would remake what the first one made: with none pending, its group is
 * replaced by one that never settles. (Should Elysia rename the field, the pass just runs.)
 */
function skipSecondRoutePass(app: ReturnType<typeof createApp>): void {
  const elysia = app as unknown as { promisedModules: { size: number }; _promisedModules?: unknown };
  if (elysia.promisedModules.size === 0) elysia._promisedModules = { size: 0, promises: [], then: () => {} };
}

/**
 * `serve`, before the data dir is made: a port already taken (or not ours to take), or a host that is not an address
 * of this machine, must not leave a fresh store behind, as a typo in the configuration does not. The listen itself
 * still decides; this only looks first.
 */
export function refuseUnusableAddress(config: Config): void {
  try {
    // Port 0 (any free one) probes the host alone: an address not of this machine is refused as early. Bun.listen
    // takes an IPv6 address without the brackets Bun.serve accepts ([::1]).
    Bun.listen({ hostname: config.host.replace(/^\[(.*)\]$/, "$1"), port: config.port, socket: { data() {} } }).stop(true);
  } catch (e) {
    // Bun.listen names a busy port (EADDRINUSE) or another machine's address (EADDRNOTAVAIL), but throws a host name
    // that does not resolve without a code ("Failed to listen at …"), where Bun.serve says EINVAL. Anything else is
    // left to the listen itself.
    const { code, message } = e as { code?: string; message?: string };
    const refused = listenError({ code: code ?? (message?.startsWith("Failed to listen") ? "EINVAL" : undefined) }, config);
    if (refused instanceof StartError) throw refused;
  }
}

function listenError(e: unknown, config: Config): unknown {
  const code = (e as { code?: string }).code;
  const where = `port ${config.port} on ${config.host}`;
  if (code === "EADDRINUSE") return new StartError(`${where} is already in use (another clanker?); stop that process, or start on another port with --port or PORT`);
  if (code === "EACCES") return new StartError(`${where} needs privileges this process does not have; use a port above 1023 with --port or PORT`);
  // EINVAL: Bun's answer for a host name that does not resolve.
  if (code === "EADDRNOTAVAIL" || code === "EINVAL" || code === "ENOTFOUND") return new StartError(`${config.host} is not an address of this machine; set --host or HOST to one that is (127.0.0.1, 0.0.0.0)`);
  return e;
}
