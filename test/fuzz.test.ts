// Fuzz suite generated from the running server's /openapi.json: every path × method gets malformed path params,
// query strings, bodies, content types, odd headers, credentials and session cookies, and JSON nested thousands
// of levels deep. The property: never a 5xx, and every non-2xx answer is the typed JSON error envelope (see
// problemWith in helpers/openapi-fuzz.ts for the MCP exception); an id from another workspace never answers 2xx.
// Reproduce a failure with FUZZ_SEED=<seed>; FUZZ_SCALE=<n> multiplies every numRuns for a longer local hunt.
// Outbound safety: callbacks may only target loopback (and CLANKER_WEBHOOK_ALLOW_PRIVATE=false refuses most of
// those); every JSON body passes through sanitize(), which replaces anything URL-like with a loopback URL or junk.
import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeModel, type FakeModel } from "./helpers/fake-models";
import { cleanup, startServer, type TestServer } from "./helpers/server";
import { describe as describeRequest, headBytes, MAX_HEAD_BYTES, problemWith, send, type Body, type Operation, type RequestSpec } from "./helpers/openapi-fuzz";
import { buildWorld } from "./helpers/fuzz-world";
import { nearMisses, valuesOf } from "./helpers/fuzz-schema";
import { anyContentType, badCookies, bodiesFor, credentials, deepBodies, oddHeaders, pathValues, queries, type FuzzWorld } from "./helpers/fuzz-arbitraries";

const SEED = Number(process.env.FUZZ_SEED ?? 20251010);
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
/** Categories to leave out in a local hunt, comma-separated (e.g. FUZZ_SKIP="deep nesting"); FUZZ_TIMINGS=1 prints
 * the answers by status and the slowest categories. */
const SKIP = new Set((process.env.FUZZ_SKIP ?? "").split(",").filter(Boolean));
const timings: [string, number][] = [];
const statuses = new Map<number, number>();

// Set up at load time, so that each route of the document gets a test named after it.
const fake: FakeModel = startFakeModel("anthropic");
// A folder the `local` connector serves, so the connector routes have a real source to be fuzzed against.
const sourceRoot = join(mkdtempSync(join(tmpdir(), "clanker-fuzz-src-")), "fuzzsrc");
mkdirSync(join(sourceRoot, "docs"), { recursive: true });
writeFileSync(join(sourceRoot, "README.md"), "# Fuzz source\n");
writeFileSync(join(sourceRoot, "docs", "a.txt"), "a");
const srv: TestServer = await startServer({
  env: {
    CLANKER_RATE_LIMIT_PER_MINUTE: "1000000",
    CLANKER_PUBLIC_RATE_LIMIT_PER_MINUTE: "1000000",
    CLANKER_ANONYMOUS_RATE_LIMIT_PER_MINUTE: "1000000",
    CLANKER_WEBHOOK_ALLOW_PRIVATE: "false",
    CLANKER_WEBHOOK_MAX_ATTEMPTS: "1",
    CLANKER_CREDIT_GRANT: "1000000",
    CLANKER_WORKERS: "2",
    CLANKER_SMTP_URL: "",
    CLANKER_LOCAL_SOURCES: sourceRoot,
    ANTHROPIC_API_KEY: "sk-ant-fuzz-0123456789abcdefghijklmn",
    ANTHROPIC_BASE_URL: fake.url,
    OPENAI_BASE_URL: "",
    OPENAI_API_KEY: "",
  },
});
const { ops, world }: { ops: Operation[]; world: FuzzWorld } = await buildWorld(srv);

afterAll(async () => {
  if (process.env.FUZZ_TIMINGS) {
    console.log("answers by status:", JSON.stringify(Object.fromEntries(statuses)));
    console.log(`schema-valid bodies past validation: ${schemaValid.validated}/${schemaValid.sent}`, schemaValid.refused.slice(0, 20));
    for (const [k, ms] of timings.sort((x, y) => y[1] - x[1]).slice(0, 25)) console.log(`${Math.round(ms)} ms  ${k}`);
  }
  await srv.stop().catch(() => {});
  cleanup(srv);
  fake.stop();
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

/** A request the route accepts: valid path ids, no query, its own key, its seed body. */
function baseline(op: Operation): RequestSpec {
  const seed = world.seedBody(op);
  const body: Body = seed ? { kind: "json", value: seed } : { kind: "none" };
  const path = Object.fromEntries(Object.entries(world.pathValues(op).valid).map(([k, v]) => [k, { enc: v }]));
  return { path, query: [], headers: world.validCred(op), body, contentType: seed ? "application/json" : null };
}

const categories: Category[] = [
  {
    name: "path params",
    runs: 14,
    applies: (op) => op.pathParams.length > 0,
    spec: (op) => pathValues(op, world).map((path) => ({ ...baseline(op), path })),
    checkForeign: true,
  },
  { name: "query", runs: 10, applies: () => true, spec: (op) => queries(op, world).map((query) => ({ ...baseline(op), query })) },
  {
    name: "body",
    runs: 30,
    applies: (op) => op.takesBody,
    spec: (op) => fc.tuple(bodiesFor(world.seedBody(op)), anyContentType).map(([body, contentType]) => ({ ...baseline(op), body, contentType })),
  },
  // From the document's body schemas: values they accept reach the services (not only the validator); one field
  // wrong, missing or extra must be the typed 400 (or what the service answers), never a 5xx.
  {
    name: "schema-valid body",
    runs: 20,
    applies: (op) => op.bodySchema !== undefined,
    spec: (op) => valuesOf(op.bodySchema).map((value) => ({ ...baseline(op), body: { kind: "json", value } as Body, contentType: "application/json" })),
  },
  {
    name: "schema near-miss body",
    runs: 10,
    applies: (op) => op.bodySchema !== undefined,
    spec: (op) => nearMisses(op.bodySchema!).map((value) => ({ ...baseline(op), body: { kind: "json", value } as Body, contentType: "application/json" })),
  },
  {
    name: "deep nesting",
    runs: 3,
    applies: (op) => op.takesBody,
    spec: (op) => deepBodies(world.seedBody(op)).map((body) => ({ ...baseline(op), body, contentType: "application/json" })),
  },
  {
    name: "headers and credentials",
    runs: 16,
    applies: () => true,
    spec: (op) => fc.tuple(oddHeaders(world), credentials(op, world)).map(([odd, cred]) => ({ ...baseline(op), headers: { ...odd, ...cred } })),
  },
  { name: "session cookie", runs: 6, applies: () => true, spec: (op) => badCookies.map((headers) => ({ ...baseline(op), headers })) },
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

/** Answers to schema-valid bodies: how many got past validation (anything but a 400 naming a body field). */
const schemaValid = { sent: 0, validated: 0, refused: [] as string[] };

async function check(op: Operation, spec: RequestSpec, checkForeign: boolean, category = ""): Promise<void> {
  fc.pre(headBytes(op, spec) < MAX_HEAD_BYTES);
  let answer;
  try {
    answer = await send(srv.url, op, spec);
  } catch (e) {
    throw new Error(describeRequest(op, spec, null, `the request failed (${(e as Error).message})`));
  }
  statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
  if (category === "schema-valid body") {
    schemaValid.sent++;
    if (answer.status !== 400 || !/Invalid body/.test(answer.text)) schemaValid.validated++;
    else schemaValid.refused.push(`${op.label}: ${answer.text.slice(0, 160)}`);
  }
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
        const op: Operation = { method, path: raw, pathParams: [], queryParams: [], takesBody: false, statuses: [], label: `${method} ${raw}` };
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
          fc.asyncProperty(cat.spec(op), (spec) => check(op, spec, cat.checkForeign === true, cat.name)),
          { seed: SEED, numRuns: Math.max(1, Math.round(cat.runs * SCALE)), endOnFailure: true },
        );
        timings.push([`${op.label} · ${cat.name}`, performance.now() - t0]);
        if (out.failed)
          failures.push(`[${op.label} · ${cat.name}] after ${out.numRuns} runs (FUZZ_SEED=${out.seed}, fast-check path "${out.counterexamplePath}")\n${(out.errorInstance as Error)?.message ?? String(out.errorInstance)}`);
      }
      if (failures.length) throw new Error(failures.join("\n\n"));
    }, 120_000);
  }

  // Runs after every route's test: the document's body schemas and the server's validator agree.
  test("every schema-valid body got past the server's validator", () => {
    if (SKIP.has("schema-valid body")) return;
    expect(schemaValid.refused).toEqual([]);
    expect(schemaValid.sent).toBeGreaterThan(300);
  });
});
