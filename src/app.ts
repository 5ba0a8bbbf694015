// createApp(deps) → the Elysia app with every route, no listen(): main and the tests both use it.
import { ApiError } from "./lib/errors";
import { t } from "elysia";
import type { Config } from "./config";
import type { Store } from "./store/db";
import { createServices } from "./services";
import { Authenticator } from "./http/auth";
import { Idempotency } from "./http/idempotency";
import { memoryState, type SharedState } from "./shared";
import { API_VERSION, createPlatform, type PlatformDeps } from "./http/platform";
import { baseUrl } from "./http/origin";
import type { buildOpenApi } from "./http/openapi";
import { profileRoutes } from "./modules/profile/routes";
import { workspacesRoutes } from "./modules/workspaces/routes";
import { apiKeysRoutes } from "./modules/api-keys/routes";
import { auditLogsRoutes } from "./modules/audit-logs/routes";
import { memoryRoutes } from "./modules/memory/routes";
import { marketplaceRoutes } from "./modules/marketplace/routes";
import { skillsRoutes } from "./modules/skills/routes";
import { secretsRoutes } from "./modules/secrets/routes";
import { byokRoutes } from "./modules/byok/routes";
import { loadConfiguredCatalog } from "./modules/skills/sources";
import { SecretBox } from "./lib/secret-box";
import { loadMasterKey } from "./store/master-key";
import { executionsRoutes } from "./modules/executions/routes";
import { artifactsRoutes } from "./modules/artifacts/routes";
import { billingRoutes } from "./modules/billing/routes";
import { webhooksRoutes } from "./modules/webhooks/routes";
import { eventsRoutes } from "./modules/events/routes";
import { signinRoutes } from "./modules/signin/routes";
import { oauthRoutes } from "./modules/signin/oauth-routes";
import { workflowsRoutes } from "./modules/workflows/routes";
import { triggersRoutes } from "./modules/triggers/routes";
import { integrationsRoutes } from "./modules/integrations/routes";
import { connectorsRoutes } from "./modules/connectors/routes";
import { McpSessions } from "./mcp/http";
import { mcpRoutes } from "./mcp/routes";
import { docsRoutes } from "./web/docs";
import { webAppRoutes } from "./web/app/routes";
import { asLog, type Log } from "./lib/log";
import type { Metrics } from "./http/metrics";
import { RouteLatency } from "./http/route-latency";

/** src/http/metrics.ts and prom-client, loaded (require) by the first scrape of /metrics: prom-client alone costs ~35 ms. */
const metricsModule = () => require("./http/metrics") as typeof import("./http/metrics");

/** `shared`: what replicas share (createSharedState at start); this process's memory when left out (tests, tools). */
export function createDeps(
  config: Config,
  store: Store,
  print: Log | ((line: string) => void),
  opts: { ownRunsOnly?: boolean; shared?: SharedState } = {},
): PlatformDeps & { store: Store } {
  const log = asLog(print);
  const shared = opts.shared ?? memoryState(log);
  const redis = shared.kind === "redis";
  const authenticator = new Authenticator(store);
  const catalog = loadConfiguredCatalog(config, log);
  const box = new SecretBox(loadMasterKey(config.dataDir));
  // Another replica, the CLI or psql changed a key, a membership or a user: PostgreSQL says so at its COMMIT.
  store.onAuthChange((what) => authenticator.changed(what)).catch((e: Error) => log.error(`listening for auth changes failed: ${e.message}`));
  const keyCache = authenticator;
  const services = createServices({ store, config, keyCache, catalog, box, log, ownRunsOnly: opts.ownRunsOnly, shared });
  let metrics: Metrics | undefined;
  const latency = new RouteLatency();
  // This process's in-flight set always; the replicas' slots (Redis) besides it.
  const idempotency = new Idempotency(store, config.idempotencyTtlSeconds * 1000, box, config.groupCommit, redis ? shared.inflight : null);
  const mcp = new McpSessions(
    services,
    (request) => authenticator.fromRequest(request),
    (ctx, key, call, args, fn, tx) => idempotency.once(ctx, key, call, args, fn, tx, (line) => log.error(line)),
    log,
  );
  authenticator.onAccessEnded(() => mcp.recheck());
  return {
    config,
    store,
    services,
    mcp,
    authenticator,
    limiter: shared.limiter,
    idempotency,
    log,
    latency,
    get metrics() {
      return (metrics ??= new (metricsModule().Metrics)({
        store,
        latency,
        webhookResults: services.webhooks.results,
        sseClients: () => services.bus.sseClients(),
        mcpSessions: () => mcp.size,
        eventListeners: () => services.bus.listenerCount(),
      }));
    },
  };
}

export function createApp(deps: PlatformDeps) {
  const app = createPlatform(deps)
    .use(profileRoutes)
    .use(workspacesRoutes)
    .use(apiKeysRoutes)
    .use(auditLogsRoutes)
    .use(memoryRoutes)
    .use(marketplaceRoutes)
    .use(skillsRoutes)
    .use(secretsRoutes)
    .use(byokRoutes)
    .use(executionsRoutes)
    .use(artifactsRoutes)
    .use(billingRoutes)
    .use(webhooksRoutes)
    .use(eventsRoutes)
    .use(signinRoutes)
    .use(oauthRoutes)
    .use(workflowsRoutes)
    .use(triggersRoutes)
    .use(integrationsRoutes)
    .use(connectorsRoutes)
    .use(mcpRoutes)
    .use(webAppRoutes)
    .get(
      "/healthz",
      ({ deps }) => {
        const problem = deps.store.problem();
        // A supervisor (Docker's HEALTHCHECK, systemd) restarts it, which is the fix.
        if (problem !== null) throw new ApiError("overloaded_error", problem, { code: "STORE_DEGRADED" });
        return { status: "ok" as const, version: API_VERSION };
      },
      {
        response: t.Object({ status: t.Literal("ok"), version: t.String() }),
        detail: { tags: ["System"], summary: "Liveness: 503 when the store cannot keep what it commits (the log and `problem` say what to do)", security: [] },
      },
    );

  let doc: ReturnType<typeof buildOpenApi> | null = null;
  return app
    .get(
      "/openapi.json",
      ({ set, deps, request }) => {
        set.headers["content-type"] = "application/json";
        // The OpenAPI plugin is loaded (require) by the first request for the document, not at start.
        const { buildOpenApi, withServers } = require("./http/openapi") as typeof import("./http/openapi");
        doc ??= buildOpenApi(app, { version: API_VERSION });
        return JSON.stringify(withServers(doc, baseUrl(deps.config, request)));
      },
      { detail: { hide: true } },
    )
    // Prometheus text; who may scrape it: assertMetricsAccess. Left out of the OpenAPI document: it is for the
    // operator's scraper, not an API client.
    .get(
      "/metrics",
      async ({ request, set, deps }) => {
        metricsModule().assertMetricsAccess(deps.config, request);
        set.headers["content-type"] = deps.metrics.contentType;
        set.headers["cache-control"] = "no-store";
        return deps.metrics.render();
      },
      { publicLimit: true, detail: { hide: true } },
    )
    .use(docsRoutes);
}

export type App = ReturnType<typeof createApp>;
