// Prometheus metrics (prom-client, one registry per app): requests and latency by route pattern, plus gauges
// read at scrape time from the store and services, and who may scrape them (GET /metrics).
import { createHash, timingSafeEqual } from "node:crypto";
import { Counter, Gauge, Registry, type Metric } from "prom-client";
import { count, eq } from "drizzle-orm";
import { isLoopback, type Config } from "../config";
import { AuthenticationError, PermissionError } from "../lib/errors";
import type { Store } from "../store/db";
import { executions, webhookDeliveries } from "../store/schema";

export interface MetricSources {
  store: Store;
  /** Delivery attempts since start, by result (delivered, retry, failed). */
  webhookResults(): Record<string, number>;
  /** Clients connected to GET /api/events now. */
  sseClients(): number;
}

const RUN_STATUSES = ["queued", "running", "completed", "failed", "cancelled"] as const;

export class Metrics {
  readonly registry = new Registry();
  private readonly requests: Counter<"method" | "route" | "status">;
  private readonly latency = new RouteLatency();

  constructor(sources: MetricSources) {
    const r = this.registry;
    // Read at scrape time: prom-client awaits an async collect.
    const db = () => sources.store.db;
    const runsByStatus = () => db().select({ status: executions.status, n: count() }).from(executions).groupBy(executions.status);
    const pendingDeliveries = async () => (await db().select({ n: count() }).from(webhookDeliveries).where(eq(webhookDeliveries.status, "pending")))[0]?.n ?? 0;
    const latency = this.latency;
    this.requests = new Counter({
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
    r.registerMetric(this.latency as unknown as Metric);
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
      name: "clanker_sse_clients",
      help: "Clients connected to GET /api/events",
      registers: [r],
      collect() {
        this.set(sources.sseClients());
      },
    });
  }

  observe(method: string, route: string, status: number, seconds: number): void {
    this.latency.observe(method, route, status, seconds);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One method and route pattern's answers: latency buckets (not cumulative; the last is +Inf), their sum and count, and counts by status. */
interface RouteSeries {
  method: string;
  route: string;
  buckets: number[];
  sum: number;
  count: number;
  byStatus: Map<number, number>;
}

/**
 * clanker_http_request_duration_seconds, a Prometheus histogram by method and route pattern, counted in plain arrays
 * found by method, then route: a request costs two lookups by strings that already exist (a "METHOD route" key was a
 * new string to hash on every request) and a few increments. prom-client's Histogram hashed the label object on
 * every observe (~5 % of a GET's CPU). The registry renders it from get(), in the shape prom-client's own gives;
 * the requests counter reads its counts by status from the same series.
 */
class RouteLatency {
  readonly name = "clanker_http_request_duration_seconds";
  readonly help = "Time to answer an HTTP request (to the response head; streams not included), by method and route pattern";
  readonly type = "histogram";
  readonly aggregator = "sum";
  private series = new Map<string, Map<string, RouteSeries>>();

  observe(method: string, route: string, status: number, seconds: number): void {
    let byRoute = this.series.get(method);
    if (!byRoute) this.series.set(method, (byRoute = new Map()));
    let s = byRoute.get(route);
    if (!s) byRoute.set(route, (s = { method, route, buckets: new Array<number>(BUCKETS.length + 1).fill(0), sum: 0, count: 0, byStatus: new Map() }));
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++;
    s.buckets[i]!++;
    s.sum += seconds;
    s.count++;
    s.byStatus.set(status, (s.byStatus.get(status) ?? 0) + 1);
  }

  *all(): Iterable<RouteSeries> {
    for (const byRoute of this.series.values()) yield* byRoute.values();
  }

  get() {
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
    for (const { method, route, buckets, sum, count } of this.all()) {
      let acc = 0;
      BUCKETS.forEach((le, i) => values.push({ metricName: `${this.name}_bucket`, labels: { le, method, route }, value: (acc += buckets[i]!) }));
      values.push({ metricName: `${this.name}_bucket`, labels: { le: "+Inf", method, route }, value: count });
      values.push({ metricName: `${this.name}_sum`, labels: { method, route }, value: sum });
      values.push({ metricName: `${this.name}_count`, labels: { method, route }, value: count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.series = new Map();
  }
}

const digest = (s: string) => createHash("sha256").update(s).digest();

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
  const m = /^Bearer\s+(\S+)$/i.exec(request.headers.get("authorization") ?? "");
  if (!m || !timingSafeEqual(digest(m[1]!), digest(token))) throw new AuthenticationError("GET /metrics wants Authorization: Bearer <CLANKER_METRICS_TOKEN>", "INVALID_METRICS_TOKEN");
}
