// Logs and metrics over real HTTP: the server's stdout is JSON lines (pino's format) with one access line per request
// (request id, method, route pattern, status, duration); CLANKER_LOG filters by level and CLANKER_LOG_FORMAT=pretty
// prints text; GET /metrics is Prometheus text (requests by route and status, latency, runs by status, queue
// depth, webhook deliveries, SSE clients), open on loopback and behind CLANKER_METRICS_TOKEN off it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startFakeModel, type FakeModel } from "./helpers/fake-models";
import { client, startServer, uniqueEmail, type TestServer } from "./helpers/server";
import { startReceiver, stopAll, waitUntil } from "./helpers/suite";
import { finished } from "./helpers/api";
import { parseMetrics, sample } from "./helpers/metrics";

const ROOT = resolve(import.meta.dir, "..");
const TOKEN = "metrics-token-0123456789abcdef";

let fake: FakeModel;
let srv: TestServer; // loopback, JSON logs, a model and a webhook receiver
let pretty: TestServer; // bound to 0.0.0.0 without a metrics token, pretty logs
let key: string;
let receiver: ReturnType<typeof Bun.serve>;
const received: string[] = [];

async function scrape(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string | null; text: string }> {
  const r = await fetch(`${url}/metrics`, { headers });
  return { status: r.status, type: r.headers.get("content-type"), text: await r.text() };
}

const jsonLines = (out: string) =>
  out
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);

beforeAll(async () => {
  fake = startFakeModel("anthropic");
  receiver = startReceiver(async (req) => {
    received.push(await req.text());
    return new Response("ok");
  });
  [srv, pretty] = await Promise.all([
    startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", ANTHROPIC_API_KEY: "sk-ant-obs-0123456789abcdefghij", ANTHROPIC_BASE_URL: fake.url, OPENAI_BASE_URL: "" } }),
    startServer({ env: { HOST: "0.0.0.0", CLANKER_LOG_FORMAT: "pretty", CLANKER_PUBLIC_URL: "http://127.0.0.1" } }),
  ]);
  Object.defineProperty(pretty, "url", { value: pretty.url.replace("0.0.0.0", "127.0.0.1") });
  key = await srv.createKey({ email: uniqueEmail("obs") });
}, 30_000);

afterAll(() => stopAll([srv, pretty, receiver, fake]));

describe("logs", () => {
  test("stdout is JSON lines; a request gets one access line with its id, method, route pattern, status and duration", async () => {
    const r = await client(srv, { apiKey: key })("GET", "/api/v1/executions/exec_987654/status", { headers: { "x-request-id": "obs-req-1" } });
    expect(r.status).toBe(404);
    const line = await waitUntil("the access line", () => jsonLines(srv.logs()).find((l) => l.requestId === "obs-req-1" && l.route !== undefined));
    expect(line).toMatchObject({ level: "info", method: "GET", route: "/api/v1/executions/:id/status", status: 404 });
    expect(typeof line.ms).toBe("number");
    expect(line.ms as number).toBeGreaterThanOrEqual(0);
    expect(typeof line.time).toBe("string");
    expect(jsonLines(srv.logs()).filter((l) => l.requestId === "obs-req-1")).toHaveLength(1);
    // The start-up lines are JSON too, their wording kept.
    expect(jsonLines(srv.logs()).some((l) => l.level === "info" && String(l.msg).startsWith("Clanker listening on http://127.0.0.1:"))).toBe(true);
  });

  test("CLANKER_LOG_FORMAT=pretty prints text lines, the access line included", async () => {
    expect((await fetch(`${pretty.url}/healthz`, { headers: { "x-request-id": "obs-pretty-1" } })).status).toBe(200);
    const line = await waitUntil("the pretty access line", () => pretty.logs().split("\n").find((l) => l.includes("obs-pretty-1")));
    expect(line).toContain("INFO");
    expect(line).toContain("GET /healthz 200");
    expect(pretty.logs()).toContain("Clanker listening on http://0.0.0.0:");
    expect(pretty.logs().split("\n").filter((l) => l.startsWith("{"))).toEqual([]);
  });

  test("bad CLANKER_LOG or CLANKER_LOG_FORMAT: exit 2 naming the variable", async () => {
    const level = await srv.cli(["serve"], { CLANKER_LOG: "verbose" });
    expect(level.code).toBe(2);
    expect(level.stderr).toContain("CLANKER_LOG");
    const format = await srv.cli(["serve"], { CLANKER_LOG_FORMAT: "xml" });
    expect(format.code).toBe(2);
    expect(format.stderr).toContain("CLANKER_LOG_FORMAT");
  });
});

describe("metrics", () => {
  test("Prometheus text: requests by route pattern and status, latency, runs by status, queue depth, webhook deliveries, SSE clients", async () => {
    const call = client(srv, { apiKey: key });
    expect((await call("GET", "/api/v1/executions/exec_424242/status")).status).toBe(404);
    const run = await call("POST", "/api/v1/skills/summarize/run", { body: { input: "Summarize the metrics", callbackUrl: `http://127.0.0.1:${receiver.port}/hook` } });
    expect(run.status).toBe(200);
    expect((await finished(call, run.body.executionId)).status).toBe("completed");
    await waitUntil("the webhook delivery", () => received.length > 0);
    // The receiver has the body before the server has read its answer and written the outcome (later still on
    // PostgreSQL): the delivery is counted only then.
    await waitUntil("the delivery to be recorded", async () => sample(parseMetrics((await scrape(srv.url)).text), "clanker_webhook_deliveries_total", { result: "delivered" }) === 1);

    // An SSE client, connected while we scrape. Its answer and reader are held with the abort until it leaves: a
    // Response the test let go of could be collected and its connection closed, out of the count before the scrape.
    const abort = new AbortController();
    const res = await fetch(`${srv.url}/api/events`, { headers: { "x-api-key": key }, signal: abort.signal });
    const sse = { abort, res, reader: res.body!.getReader() };
    await sse.reader.read();

    const m = await scrape(srv.url);
    expect(m.status).toBe(200);
    expect(m.type).toContain("text/plain");
    const s = parseMetrics(m.text);
    expect(sample(s, "clanker_http_requests_total", { method: "GET", route: "/api/v1/executions/:id/status", status: "404" })).toBeGreaterThanOrEqual(1);
    expect(sample(s, "clanker_http_requests_total", { method: "POST", route: "/api/v1/skills/:slug/run", status: "200" })).toBe(1);
    // Patterns, never raw paths: ids would make a series per object.
    expect(m.text).not.toContain("exec_424242");
    expect(sample(s, "clanker_http_request_duration_seconds_count", { method: "GET", route: "/api/v1/executions/:id/status" })).toBeGreaterThanOrEqual(1);
    expect(sample(s, "clanker_http_request_duration_seconds_bucket", { method: "GET", route: "/api/v1/executions/:id/status", le: "+Inf" })).toBeGreaterThanOrEqual(1);
    // A histogram as Prometheus reads one: cumulative buckets in order of le, the last (+Inf) equal to the count.
    const status = { method: "GET", route: "/api/v1/executions/:id/status" };
    const buckets = s.filter((x) => x.name === "clanker_http_request_duration_seconds_bucket" && x.labels.route === status.route && x.labels.method === "GET");
    expect(buckets.map((b) => b.labels.le)).toEqual(["0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]);
    expect(buckets.every((b, i) => i === 0 || b.value >= buckets[i - 1]!.value)).toBe(true);
    expect(buckets.at(-1)!.value).toBe(sample(s, "clanker_http_request_duration_seconds_count", status)!);
    expect(sample(s, "clanker_http_request_duration_seconds_sum", status)).toBeGreaterThan(0);
    expect(sample(s, "clanker_runs", { status: "completed" })).toBe(1);
    expect(sample(s, "clanker_runs", { status: "failed" })).toBe(0);
    expect(sample(s, "clanker_run_queue_depth")).toBe(0);
    expect(sample(s, "clanker_webhook_deliveries_total", { result: "delivered" })).toBe(1);
    expect(sample(s, "clanker_webhook_queue_depth")).toBe(0);
    expect(sample(s, "clanker_sse_clients")).toBe(1);
    expect(sample(s, "clanker_mcp_sessions")).toBe(0);
    expect(sample(s, "clanker_event_listeners")).toBeGreaterThanOrEqual(1);
    expect(sample(s, "clanker_store_retries_total")).toBeNumber();

    sse.abort.abort();
    await waitUntil("the SSE client to be gone", async () => sample(parseMetrics((await scrape(srv.url)).text), "clanker_sse_clients") === 0);
  });

  test("bound off loopback without CLANKER_METRICS_TOKEN: 403, nothing exposed", async () => {
    const m = await scrape(pretty.url);
    expect(m.status).toBe(403);
    expect(JSON.parse(m.text).error).toMatchObject({ type: "permission_error", code: "METRICS_DISABLED" });
    expect(m.text).not.toContain("clanker_http_requests_total");
  });
});

describe("CLANKER_LOG=warn, bound off loopback with CLANKER_METRICS_TOKEN", () => {
  let proc: ReturnType<typeof Bun.spawn> | undefined;
  let out = "";
  let url = "";
  const dataDir = mkdtempSync(join(tmpdir(), "clanker-obs-"));

  beforeAll(async () => {
    // Nothing at info is printed, not even the listening line: the port is chosen here and polled.
    const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const port = probe.port;
    probe.stop(true);
    url = `http://127.0.0.1:${port}`;
    const env = { ...process.env, CLANKER_DATA_DIR: dataDir, HOST: "0.0.0.0", PORT: String(port), CLANKER_LOG: "warn", CLANKER_LOG_FORMAT: "json", CLANKER_METRICS_TOKEN: TOKEN, CLANKER_PUBLIC_URL: "" };
    proc = Bun.spawn([process.execPath, join(ROOT, "src/main.ts"), "serve"], { env, cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    void (async () => {
      for await (const chunk of proc!.stdout as ReadableStream<Uint8Array>) out += new TextDecoder().decode(chunk);
    })();
    await waitUntil("the server to answer", () => fetch(`${url}/healthz`).then((r) => r.ok, () => false), 20_000);
  }, 30_000);

  afterAll(async () => {
    proc?.kill("SIGTERM");
    await proc?.exited;
    rmSync(dataDir, { recursive: true, force: true });
  });

  test("/metrics wants the bearer token: none or a wrong one → 401, the right one → 200", async () => {
    const none = await fetch(`${url}/metrics`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: unknown }).error).toMatchObject({ type: "authentication_error", code: "INVALID_METRICS_TOKEN" });
    expect((await scrape(url, { authorization: "Bearer not-the-token-at-all-000" })).status).toBe(401);
    const ok = await scrape(url, { authorization: `Bearer ${TOKEN}` });
    expect(ok.status).toBe(200);
    expect(sample(parseMetrics(ok.text), "clanker_http_requests_total", { route: "/healthz", status: "200" })).toBeGreaterThanOrEqual(1);
  });

  test("only warn and above reach stdout: the missing-public-URL warning, no start-up or access lines", async () => {
    await waitUntil("the warning line", () => out.includes("CLANKER_PUBLIC_URL"));
    const lines = jsonLines(out);
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const l of lines) expect(["warn", "error", "fatal"]).toContain(l.level as string);
    expect(lines.find((l) => String(l.msg).includes("CLANKER_PUBLIC_URL"))).toMatchObject({ level: "warn" });
    expect(out).not.toContain("listening on");
    expect(out).not.toContain("/healthz");
  });
});
