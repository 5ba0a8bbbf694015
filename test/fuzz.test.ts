// Fuzz suite generated from the running server's /openapi.json: every path × method gets malformed path params,
// query strings, bodies, content types, odd headers, credentials and session cookies, and JSON nested thousands
// of levels deep. The property: never a 5xx, and every non-2xx answer is the typed JSON error envelope (see
// problemWith in helpers/openapi-fuzz.ts for the MCP exception); an id from another workspace never answers 2xx.
// Reproduce a failure with FUZZ_SEED=<seed>; FUZZ_SCALE=<n> multiplies every numRuns for a longer local hunt.
// Outbound safety: callbacks may only target loopback (and CLANKER_WEBHOOK_ALLOW_PRIVATE=false refuses most of
// those); every JSON body passes through sanitize(), which replaces anything URL-like with a loopback URL or junk.
import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { startFakeModel, type FakeModel } from "./helpers/fake-models";
import { cleanup, client, startServer, uniqueEmail, type TestServer } from "./helpers/server";
import {
  describe as describeRequest,
  headBytes,
  MAX_HEAD_BYTES,
  operationsOf,
  problemWith,
  send,
  type Body,
  type Operation,
  type RequestSpec,
} from "./helpers/openapi-fuzz";
import { anyContentType, badCookies, bodiesFor, credentials, deepBodies, oddHeaders, pathValues, queries, type FuzzWorld } from "./helpers/fuzz-arbitraries";

const SEED = Number(process.env.FUZZ_SEED ?? 20251010);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
/** Categories to leave out in a local hunt, comma-separated (e.g. FUZZ_SKIP="deep nesting"). */
const SKIP = new Set((process.env.FUZZ_SKIP ?? "").split(",").filter(Boolean));
const timings: [string, number][] = [];
const statuses = new Map<number, number>();

let fake: FakeModel;
let srv: TestServer;
let ops: Operation[] = [];
let world: FuzzWorld;

type Call = ReturnType<typeof client>;

async function ok(call: Call, method: string, path: string, body?: unknown): Promise<any> {
  const r = await call(method, path, body === undefined ? {} : { body });
  if (r.status >= 300) throw new Error(`setup ${method} ${path} → ${r.status} ${r.text}`);
  return r.body;
}

async function waitEnded(call: Call, id: string): Promise<any> {
  const end = Date.now() + 20_000;
  for (;;) {
    const s = await ok(call, "GET", `/api/v1/executions/${id}/status`);
    if (["completed", "failed", "cancelled"].includes(s.status)) return s;
    if (Date.now() > end) throw new Error(`setup: execution ${id} never ended: ${JSON.stringify(s)}`);
    await Bun.sleep(50);
  }
}

/** One workspace's resources, so path params can be valid here and foreign there. */
async function populate(call: Call, tag: string) {
  const ws = (await ok(call, "GET", "/api/v1/workspaces/current")).id as string;
  const secret = (await ok(call, "POST", "/api/v1/secrets", { name: `FUZZ_${tag}`, value: `v-${tag}` })).id as string;
  await ok(call, "POST", "/api/v1/skills/summarize/install");
  const binding = (await ok(call, "POST", "/api/v1/skills/summarize/secrets", { secretId: secret, envVar: `FUZZ_${tag}_TOKEN` })).id as string;
  const exec = (await ok(call, "POST", "/api/v1/skills/summarize/run", { input: `Make a page ${tag} [[file]]` })).executionId as string;
  const status = await waitEnded(call, exec);
  const artifact = (status.artifactIds?.[0] ?? status.artifactId) as string;
  if (!artifact) throw new Error(`setup: no artifact from ${JSON.stringify(status)}`);
  const flow = `fuzz-${tag.toLowerCase()}`;
  await ok(call, "POST", "/api/v1/workflows/definitions", {
    id: flow,
    name: `Fuzz ${tag}`,
    steps: [
      { id: "first", kind: "skill", skill: "summarize", input: `Flow ${tag}` },
      { id: "gate", kind: "approval", message: "ok?" },
    ],
  });
  const run = (await ok(call, "POST", `/api/v1/workflows/${flow}/launch`, { input: {} })).runId as string;
  const sacrificialKey = (await ok(call, "POST", "/api/v1/api-keys", { name: `revoke me ${tag}` })).id as string;
  return { ws, secret, binding, exec, artifact, flow, run, sacrificialKey };
}

/** The id each path param names, by the route it belongs to. */
function idFor(path: string, param: string, r: Awaited<ReturnType<typeof populate>>): string {
  if (param === "slug") return "summarize";
  if (path.startsWith("/api/v1/workspaces/")) return r.ws;
  if (path.startsWith("/api/v1/api-keys/")) return r.sacrificialKey;
  if (path.startsWith("/api/v1/skills/")) return r.binding;
  if (path.startsWith("/api/v1/secrets/")) return r.secret;
  if (path.startsWith("/api/v1/executions/")) return r.exec;
  if (path.startsWith("/api/v1/artifacts/")) return r.artifact;
  if (path.startsWith("/api/v1/workflows/runs/")) return r.run;
  if (path.startsWith("/api/v1/workflows/")) return r.flow;
  throw new Error(`no fixture for {${param}} in ${path}`);
}

// Destructive routes run last, so the resources and the session they would remove serve every other route first.
const destructive = (op: Operation) => op.method === "DELETE" || /\/(revoke|uninstall|cancel|logout)$/.test(op.path);

// Set up at load time, so that each route of the document gets a test named after it.
{
  fake = startFakeModel("anthropic");
  srv = await startServer({
    env: {
      CLANKER_RATE_LIMIT_PER_MINUTE: "1000000",
      CLANKER_PUBLIC_RATE_LIMIT_PER_MINUTE: "1000000",
      CLANKER_ANONYMOUS_RATE_LIMIT_PER_MINUTE: "1000000",
      CLANKER_WEBHOOK_ALLOW_PRIVATE: "false",
      CLANKER_WEBHOOK_MAX_ATTEMPTS: "1",
      CLANKER_CREDIT_GRANT: "1000000",
      CLANKER_WORKERS: "2",
      CLANKER_SMTP_URL: "",
      ANTHROPIC_API_KEY: "sk-ant-fuzz-0123456789abcdefghijklmn",
      ANTHROPIC_BASE_URL: fake.url,
      OPENAI_BASE_URL: "",
      OPENAI_API_KEY: "",
    },
  });
  const emailA = uniqueEmail("fuzz-a");
  const [keyA, keyB] = await Promise.all([srv.createKey({ email: emailA }), srv.createKey({ email: uniqueEmail("fuzz-b") })]);
  const [sessionA, logoutSession] = await Promise.all([srv.createSession(emailA), srv.createSession(emailA)]);
  const a = client(srv, { apiKey: keyA });
  const [mine, foreign] = await Promise.all([populate(a, "A"), populate(client(srv, { apiKey: keyB }), "B")]);
  const device = await ok(client(srv), "POST", "/api/v1/activate");
  const agent = await ok(client(srv), "POST", "/agent/auth", { type: "anonymous" });
  const revoked = (await ok(a, "POST", "/api/v1/api-keys", { name: "revoked" })) as { id: string; key: string };
  await ok(a, "POST", `/api/v1/api-keys/${revoked.id}/revoke`);

  const doc = (await (await fetch(`${srv.url}/openapi.json`)).json()) as Parameters<typeof operationsOf>[0];
  ops = operationsOf(doc).sort((x, y) => Number(destructive(x)) - Number(destructive(y)) || Number(x.path.endsWith("/logout")) - Number(y.path.endsWith("/logout")));
  // Each route fuzzes with its own key: a generated path id that happens to revoke or rebind a key only costs that route.
  const keys = new Map<string, string>();
  for (const op of ops) keys.set(op.label, (await ok(a, "POST", "/api/v1/api-keys", { name: `fuzz ${op.label}`.slice(0, 100) })).key);

  const seeds: Record<string, Record<string, unknown>> = {
    "PATCH /api/v1/profile": { name: "Fuzz" },
    "POST /api/v1/workspaces": { name: "Fuzz ws" },
    "PUT /api/v1/workspaces/current": { workspace: mine.ws },
    "POST /api/v1/api-keys": { name: "fuzz" },
    "PUT /api/v1/memory": { content: "fuzz memory" },
    "POST /api/v1/memory/append": { content: "more" },
    "POST /api/v1/skills/{slug}/secrets": { secretId: mine.secret, envVar: "FUZZ_ENV" },
    "POST /api/v1/secrets": { name: "FUZZ_NEW", value: "v" },
    "PATCH /api/v1/secrets/{id}": { value: "v2" },
    "PUT /api/v1/byok": { anthropicKey: "sk-ant-fuzz-byok-0123456789" },
    "POST /api/v1/skills/{slug}/run": { input: "Summarize fuzz", callbackUrl: "http://[::ffff:7f00:1]:9/hook" },
    "POST /api/v1/executions/{id}/rerun": { input: "again" },
    "POST /api/v1/auth/email/start": { email: "fuzz@example.test" },
    "POST /api/v1/auth/email/verify": { email: "fuzz@example.test", code: "123456" },
    "POST /api/v1/activate/poll": { code: device.code },
    "POST /api/v1/activate/confirm": { code: device.code },
    "POST /agent/auth": { type: "anonymous" },
    "POST /agent/auth/claim": { claim_token: agent.claim_token, email: "fuzz-claim@example.test" },
    "POST /agent/auth/claim/complete": { claim_token: agent.claim_token, otp: "123456" },
    "POST /api/v1/workspaces/{id}/invitations": { email: "fuzz-invite@example.test", role: "member" },
    "POST /api/v1/invitations/accept": { token: "inv-token" },
    "POST /api/v1/workflows/definitions": { id: "fuzz-new", name: "n", steps: [{ id: "s", kind: "skill", skill: "summarize", input: "x" }] },
    "PUT /api/v1/workflows/definitions/{id}": { id: mine.flow, name: "n", steps: [{ id: "s", kind: "skill", skill: "summarize", input: "x" }] },
    "POST /api/v1/workflows/{id}/launch": { input: {}, callbackUrl: "http://127.0.0.1:9/hook" },
    "POST /api/v1/workflows/{id}/stream": { inputData: {}, runId: mine.run, step: "gate", resumeData: {} },
    "POST /api/v1/workflows/runs/{id}/resume": { step: "gate", resumeData: { ok: true } },
    "POST /mcp": { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "fuzz", version: "1" } } },
    "POST /mcp/messages": { jsonrpc: "2.0", id: 1, method: "ping" },
  };
  const session = { "x-auth-token": sessionA };
  world = {
    pathValues: (op) => ({
      valid: Object.fromEntries(op.pathParams.map((p) => [p, idFor(op.path, p, mine)])),
      foreign: Object.fromEntries(op.pathParams.filter((p) => p !== "slug").map((p) => [p, idFor(op.path, p, foreign)])),
    }),
    seedBody: (op) => seeds[op.label],
    validCred: (op): Record<string, string> => (op.path.endsWith("/logout") ? { "x-auth-token": logoutSession } : { "x-api-key": keys.get(op.label)! }),
    otherCreds: [
      { "x-api-key": keyB },
      { "x-api-key": revoked.key },
      session,
      { ...session, "x-workspace-id": foreign.ws },
      { cookie: `clanker_session=${encodeURIComponent(sessionA)}` },
      { authorization: `Bearer ${keys.get(ops[0]!.label)}` },
      { "x-api-key": "ck_live_0000000000000000000000000000" },
    ],
    workspaces: { mine: mine.ws, foreign: foreign.ws },
  };
}

afterAll(async () => {
  if (process.env.FUZZ_TIMINGS) console.log("answers by status:", JSON.stringify(Object.fromEntries(statuses)));
  if (process.env.FUZZ_TIMINGS) for (const [k, ms] of timings.sort((x, y) => y[1] - x[1]).slice(0, 25)) console.log(`${Math.round(ms)} ms  ${k}`);
  await srv?.stop().catch(() => {});
  if (srv) cleanup(srv);
  fake?.stop();
});

/** What one category varies; everything else stays valid (the route's own key, its seed body, JSON). */
interface Category {
  name: string;
  runs: number;
  applies(op: Operation): boolean;
  spec(op: Operation): fc.Arbitrary<RequestSpec>;
  /** An id from another workspace with the route's own valid key must never answer 2xx. */
  checkForeign?: boolean;
}

function baseline(op: Operation): RequestSpec {
  const seed = world.seedBody(op);
  const body: Body = seed ? { kind: "json", value: seed } : { kind: "none" };
  return { path: world.pathValues(op).valid as unknown as RequestSpec["path"], query: [], headers: world.validCred(op), body, contentType: seed ? "application/json" : null };
}

const fixPath = (op: Operation, s: RequestSpec): RequestSpec => ({
  ...s,
  path: Object.fromEntries(Object.entries(world.pathValues(op).valid).map(([k, v]) => [k, { enc: v }])),
});

const categories: Category[] = [
  {
    name: "path params",
    runs: 14,
    applies: (op) => op.pathParams.length > 0,
    spec: (op) => pathValues(op, world).map((path) => ({ ...fixPath(op, baseline(op)), path })),
    checkForeign: true,
  },
  { name: "query", runs: 10, applies: () => true, spec: (op) => queries(op, world).map((query) => ({ ...fixPath(op, baseline(op)), query })) },
  {
    name: "body",
    runs: 30,
    applies: (op) => op.takesBody,
    spec: (op) => fc.tuple(bodiesFor(world.seedBody(op)), anyContentType).map(([body, contentType]) => ({ ...fixPath(op, baseline(op)), body, contentType })),
  },
  {
    name: "deep nesting",
    runs: 3,
    applies: (op) => op.takesBody,
    spec: (op) => deepBodies(world.seedBody(op)).map((body) => ({ ...fixPath(op, baseline(op)), body, contentType: "application/json" })),
  },
  {
    name: "headers and credentials",
    runs: 16,
    applies: () => true,
    spec: (op) => fc.tuple(oddHeaders(world), credentials(op, world)).map(([odd, cred]) => ({ ...fixPath(op, baseline(op)), headers: { ...odd, ...cred } })),
  },
  { name: "session cookie", runs: 6, applies: () => true, spec: (op) => badCookies.map((headers) => ({ ...fixPath(op, baseline(op)), headers })) },
  {
    name: "everything at once",
    runs: 12,
    applies: () => true,
    spec: (op) =>
      fc
        .record({
          path: op.pathParams.length ? pathValues(op, world) : fc.constant({}),
          query: queries(op, world),
          odd: oddHeaders(world),
          cred: credentials(op, world),
          body: op.takesBody ? bodiesFor(world.seedBody(op)) : fc.constant<Body>({ kind: "none" }),
          contentType: anyContentType,
        })
        .map(({ odd, cred, ...r }) => ({ ...r, headers: { ...odd, ...cred } })),
  },
];

async function check(op: Operation, spec: RequestSpec, checkForeign: boolean): Promise<void> {
  fc.pre(headBytes(op, spec) < MAX_HEAD_BYTES);
  let answer;
  try {
    answer = await send(srv.url, op, spec);
  } catch (e) {
    throw new Error(describeRequest(op, spec, null, `the request failed (${(e as Error).message})`));
  }
  statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
  let why = problemWith(op, answer);
  if (!why && checkForeign && answer.status < 300 && Object.values(spec.path).some((v) => "foreign" in v && v.foreign))
    why = `an id from another workspace answered ${answer.status}`;
  if (why) throw new Error(describeRequest(op, spec, answer, why));
}

describe("fuzz from /openapi.json: no 5xx, every error the typed envelope", () => {
  test("the document lists the routes", () => {
    expect(ops.length).toBeGreaterThan(50);
    expect(ops.map((o) => o.label)).toContain("POST /api/v1/skills/{slug}/run");
  });

  test("paths and methods outside the document: never a 5xx, every error the envelope", async () => {
    const segment = fc.oneof(fc.constantFrom("api", "v1", "executions", "mcp", "..", ".", "", "%ZZ", "%2F", "exec_1", "openapi.json", "healthz"), fc.string({ maxLength: 20 }));
    const arb = fc.record({
      method: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND"),
      prefix: fc.constantFrom("/", "/api/v1/", "/api/", "/mcp/", "//", "/agent/"),
      segments: fc.array(segment, { maxLength: 4 }),
      cred: fc.constantFrom<Record<string, string>>({}, world.validCred(ops[0]!)),
    });
    const out = await fc.check(
      fc.asyncProperty(arb, async ({ method, prefix, segments, cred }) => {
        const raw = prefix + segments.map((x) => (/^%|^\.{1,2}$/.test(x) ? x : encodeURIComponent(x.toWellFormed()))).join("/");
        const op: Operation = { method, path: raw, pathParams: [], queryParams: [], takesBody: false, label: `${method} ${raw}` };
        await check(op, { path: {}, query: [], headers: cred, body: { kind: "none" }, contentType: null }, false);
      }),
      { seed: SEED, numRuns: Math.round(150 * SCALE), endOnFailure: true },
    );
    if (out.failed) throw new Error(`FUZZ_SEED=${out.seed} path "${out.counterexamplePath}"\n${(out.errorInstance as Error)?.message}`);
  }, 60_000);

  for (const op of ops) {
    test(op.label, async () => {
      const failures: string[] = [];
      for (const cat of categories) {
        if (!cat.applies(op) || SKIP.has(cat.name)) continue;
        const t0 = performance.now();
        const out = await fc.check(
          fc.asyncProperty(cat.spec(op), (spec) => check(op, spec, cat.checkForeign === true)),
          { seed: SEED, numRuns: Math.max(1, Math.round(cat.runs * SCALE)), endOnFailure: true },
        );
        timings.push([`${op.label} · ${cat.name}`, performance.now() - t0]);
        if (out.failed)
          failures.push(`[${op.label} · ${cat.name}] after ${out.numRuns} runs (FUZZ_SEED=${out.seed}, fast-check path "${out.counterexamplePath}")\n${(out.errorInstance as Error)?.message ?? String(out.errorInstance)}`);
      }
      if (failures.length) throw new Error(failures.join("\n\n"));
    }, 120_000);
  }
});
