// Per-request HTTP figures with no dependency: the first request after start does not load prom-client (the first
// scrape of /metrics does, src/http/metrics.ts).

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
export class RouteLatency {
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
