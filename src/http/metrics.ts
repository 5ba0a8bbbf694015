// Prometheus metrics (prom-client, one registry per app, made by the first scrape): requests and latency by route
// pattern (counted in route-latency.ts), plus gauges read at scrape time from the store and services, and who may
// scrape them (GET /metrics).
import { bytesEqual } from "../lib/crypto";
import { BEARER_RE } from "./credential";
import { Counter, Gauge, Registry, type Metric } from "prom-client";
import { count, eq } from "drizzle-orm";
import type { Config } from "../config";
import { isLoopback } from "../config-values";
import { AuthenticationError, PermissionError } from "../lib/errors";
import type { Store } from "../store/db";
import type { RouteLatency } from "./route-latency";
import { executions, webhookDeliveries } from "../store/schema";
import { backupOutcomes } from "../jobs/backups";

export interface MetricSources {
  store: Store;
  /** Requests and latency by route, counted from the first request on (prom-client is loaded by the first scrape). */
  latency: RouteLatency;
  /** Delivery attempts since start, by result (delivered, retry, failed). */
  webhookResults(): Record<string, number>;
  /** Clients connected to GET /api/events now. */
  sseClients(): number;
  /** MCP sessions open over HTTP now. */
  mcpSessions(): number;
  /** Listeners to workspace events in this process (event streams, MCP sessions, runs waited on): a leak raises it. */
  eventListeners(): number;
}

const RUN_STATUSES = ["queued", "running", "completed", "failed", "cancelled"] as const;

export class Metrics {
  readonly registry = new Registry();

  constructor(sources: MetricSources) {
    const r = this.registry;
    // Read at scrape time: prom-client awaits an async collect.
    const db = () => sources.store.db;
    const runsByStatus = () => db().select({ status: executions.status, n: count() }).from(executions).groupBy(executions.status);
    const pendingDeliveries = async () => (await db().select({ n: count() }).from(webhookDeliveries).where(eq(webhookDeliveries.status, "pending")))[0]?.n ?? 0;
    const latency = sources.latency;
    new Counter({
      name: "clanker_http_requests_total",
      help: "HTTP requests answered, by method, route pattern and status",
      labelNames: ["method", "route", "status"],
      registers: [r],
      // Counted in plain numbers per request (see observe) and handed to prom-client only when scraped.
      collect() {
        this.reset();
        for (const s of latency.all()) for (const [status, n] of s.byStatus) this.inc({ method: s.method, route: s.route, status: String(status) }, n);
      },
    });
    r.registerMetric(latency as unknown as Metric);
    let byStatus: Record<string, number> = {};
    new Gauge({
      name: "clanker_runs",
      help: "Executions in the store, by status",
      labelNames: ["status"],
      registers: [r],
      async collect() {
        byStatus = Object.fromEntries((await runsByStatus()).map((row) => [row.status, row.n]));
        for (const s of RUN_STATUSES) this.set({ status: s }, byStatus[s] ?? 0);
      },
    });
    new Gauge({
      name: "clanker_run_queue_depth",
      help: "Executions waiting for a worker (status queued)",
      registers: [r],
      async collect() {
        this.set((await runsByStatus()).find((row) => row.status === "queued")?.n ?? 0);
      },
    });
    new Counter({
      name: "clanker_webhook_deliveries_total",
      help: "Webhook delivery attempts since start, by result (delivered, retry: failed and rescheduled, failed: given up)",
      labelNames: ["result"],
      registers: [r],
      collect() {
        this.reset();
        for (const [result, n] of Object.entries(sources.webhookResults())) this.inc({ result }, n);
      },
    });
    new Gauge({
      name: "clanker_webhook_queue_depth",
      help: "Webhook deliveries waiting to be sent or retried",
      registers: [r],
      async collect() {
        this.set(await pendingDeliveries());
      },
    });
    new Gauge({
      name: "clanker_backup_last_success_timestamp_seconds",
      help: "When this process last wrote a scheduled backup (CLANKER_BACKUP_CRON), Unix seconds; 0 before the first",
      registers: [r],
      collect() {
        this.set(Math.floor(backupOutcomes.lastSuccessAt / 1000));
      },
    });
    new Counter({
      name: "clanker_backup_failures_total",
      help: "Scheduled backups that failed since start (the log says why)",
      registers: [r],
      collect() {
        this.reset();
        this.inc(backupOutcomes.failures);
      },
    });
    new Counter({
      name: "clanker_store_retries_total",
      help: "Transactions run again after a serialization failure or deadlock since start (PostgreSQL; 0 on SQLite)",
      registers: [r],
      collect() {
        this.reset();
        this.inc(sources.store.retries);
      },
    });
    new Counter({
      name: "clanker_store_deadlocks_total",
      help: "Of those retries, deadlocks: transactions that took the same locks in opposite orders (a bug: please report it)",
      registers: [r],
      collect() {
        this.reset();
        this.inc(sources.store.deadlocks);
      },
    });
    new Gauge({
      name: "clanker_sse_clients",
      help: "Clients connected to GET /api/events",
      registers: [r],
      collect() {
        this.set(sources.sseClients());
      },
    });
    new Gauge({
      name: "clanker_mcp_sessions",
      help: "MCP sessions open over HTTP",
      registers: [r],
      collect() {
        this.set(sources.mcpSessions());
      },
    });
    new Gauge({
      name: "clanker_event_listeners",
      help: "Listeners to workspace events in this process: event streams, MCP sessions, runs waited on",
      registers: [r],
      collect() {
        this.set(sources.eventListeners());
      },
    });
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

const digest = (s: string) => Bun.SHA256.hash(s) as Uint8Array;

/**
 * Who may read /metrics: with CLANKER_METRICS_TOKEN set, whoever sends it as a bearer token (wherever bound);
 * without it, anyone who reaches a loopback-bound server, and nobody on a server bound off loopback.
 */
export function assertMetricsAccess(config: Config, request: Request): void {
  const token = config.metricsToken;
  if (token === null) {
    if (isLoopback(config.host)) return;
    throw new PermissionError("GET /metrics is served off loopback only with CLANKER_METRICS_TOKEN set", "METRICS_DISABLED");
  }
  const m = BEARER_RE.exec(request.headers.get("authorization") ?? "");
  if (!m || !bytesEqual(digest(m[1]!), digest(token))) throw new AuthenticationError("GET /metrics wants Authorization: Bearer <CLANKER_METRICS_TOKEN>", "INVALID_METRICS_TOKEN");
}
