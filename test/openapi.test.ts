// /openapi.json as an OpenAPI 3.1 document tools accept (Redocly's recommended rules, swagger-parser), true to the
// server it describes (bodies, errors, security, servers), and /docs as a Scalar reference that renders it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import SwaggerParser from "@apidevtools/swagger-parser";
import Ajv2020 from "ajv/dist/2020";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { launchChromium, screenshot } from "./helpers/browser";
import { startFakeModel, type FakeModel } from "./helpers/fake-models";
import { cleanup, startServer, uniqueEmail, type TestServer } from "./helpers/server";

const ROOT = resolve(import.meta.dir, "..");
const PUBLIC_URL = "http://docs.clanker.test:8080";
const METHODS = ["get", "post", "put", "patch", "delete"];

let srv: TestServer;
let fake: FakeModel;
let key: string;
let doc: any;

type Op = { path: string; method: string; op: any };
const operations = (): Op[] =>
  Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([m]) => METHODS.includes(m))
      .map(([method, op]) => ({ path, method, op })),
  );

beforeAll(async () => {
  fake = startFakeModel("anthropic");
  srv = await startServer({
    env: {
      CLANKER_RATE_LIMIT_PER_MINUTE: "10000",
      CLANKER_PUBLIC_RATE_LIMIT_PER_MINUTE: "10000",
      ANTHROPIC_API_KEY: "sk-ant-openapi-0123456789abcdefghijkl",
      ANTHROPIC_BASE_URL: fake.url,
    },
  });
  key = await srv.createKey({ email: uniqueEmail("openapi") });
  doc = await (await fetch(`${srv.url}/openapi.json`)).json();
});

afterAll(async () => {
  await srv?.stop();
  if (srv) cleanup(srv);
  fake?.stop();
});

describe("/openapi.json is valid OpenAPI 3.1", () => {
  test("Redocly CLI (recommended rules) reports 0 errors", async () => {
    const file = join(srv.dataDir, "openapi.json");
    writeFileSync(file, JSON.stringify(doc));
    const proc = Bun.spawn([join(ROOT, "node_modules/.bin/redocly"), "lint", file, "--format=json", "--max-problems=1000"], {
      cwd: srv.dataDir,
      env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true", NO_COLOR: "1" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    await proc.exited;
    const report = JSON.parse(out.slice(out.indexOf("{"))) as { problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[] };
    const errors = report.problems.filter((p) => p.severity === "error").map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
    expect({ errors, stderr: errors.length ? err : "" }).toEqual({ errors: [], stderr: "" });
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
  }, 60_000);

  test("@apidevtools/swagger-parser validate() accepts it", async () => {
    await SwaggerParser.validate(structuredClone(doc));
  });

  test("servers is CLANKER_PUBLIC_URL when set, else the origin the request came to", async () => {
    expect(doc.servers).toEqual([{ url: srv.url, description: "This server" }]);
    const behindProxy = await startServer({ env: { CLANKER_PUBLIC_URL: PUBLIC_URL } });
    try {
      const d: any = await (await fetch(`${behindProxy.url}/openapi.json`)).json();
      expect(d.servers).toEqual([{ url: PUBLIC_URL, description: "This server" }]);
    } finally {
      await behindProxy.stop();
      cleanup(behindProxy);
    }
  });
});

describe("what the document says", () => {
  test("every JSON request body carries its schema", () => {
    const bodies = operations().filter((o) => o.op.requestBody);
    expect(bodies.length).toBeGreaterThanOrEqual(26);
    const missing = bodies.filter((o) => !o.op.requestBody.content?.["application/json"]?.schema?.type).map((o) => `${o.method} ${o.path}`);
    expect(missing).toEqual([]);
    const run = doc.paths["/api/v1/skills/{slug}/run"].post.requestBody.content["application/json"].schema;
    expect(run.required).toEqual(["input"]);
    expect(Object.keys(run.properties)).toEqual(expect.arrayContaining(["input", "attachments", "connector", "callbackUrl"]));
    // The launch body may be left out entirely; the run body may not.
    expect(doc.paths["/api/v1/workflows/{id}/launch"].post.requestBody.required).toBe(false);
    expect(doc.paths["/api/v1/skills/{slug}/run"].post.requestBody.required).toBe(true);
  });

  test("a JSON body or answer never documents an integer as a string: only query parameters take \"3\"", () => {
    const stringly: string[] = [];
    const walk = (node: unknown, where: string): void => {
      if (!node || typeof node !== "object") return;
      const n = node as Record<string, unknown>;
      if (n.format === "integer" && n.type === "string") stringly.push(where);
      for (const [k, v] of Object.entries(n)) walk(v, `${where}/${k}`);
    };
    for (const o of operations()) {
      walk(o.op.requestBody, `${o.method} ${o.path} body`);
      walk(o.op.responses, `${o.method} ${o.path} responses`);
    }
    expect(stringly).toEqual([]);
    const status = doc.paths["/api/v1/executions/{id}/status"].get.responses["200"].content["application/json"].schema;
    expect(status.properties.blocksAfter).toEqual({ type: "integer" });
    expect(status.properties.usage.properties.inputTokens).toEqual({ type: "integer" });
  });

  test("every operation documents a success, its 4xx and a 5xx, all errors through the one Error component", () => {
    const errorRef = { $ref: "#/components/schemas/Error" };
    expect(doc.components.schemas.Error.properties.error.properties.type.enum).toEqual(expect.arrayContaining(["invalid_request_error", "not_found_error", "api_error"]));
    for (const [name, r] of Object.entries(doc.components.responses as Record<string, any>)) expect({ name, schema: r.content["application/json"].schema }).toEqual({ name, schema: errorRef });
    const bad: string[] = [];
    for (const { path, method, op } of operations()) {
      const codes = Object.keys(op.responses ?? {});
      if (!codes.some((c) => c.startsWith("2"))) bad.push(`${method} ${path}: no 2xx`);
      if (!codes.some((c) => c.startsWith("4"))) bad.push(`${method} ${path}: no 4xx`);
      if (!codes.some((c) => c.startsWith("5"))) bad.push(`${method} ${path}: no 5xx`);
      // The MCP transport's own refusals are JSON-RPC errors (what MCP clients read there), or the envelope.
      const mcpTransport = (c: string) => path.startsWith("/mcp") && JSON.stringify(op.responses[c].content?.["application/json"]?.schema) === JSON.stringify({ anyOf: [errorRef, { $ref: "#/components/schemas/JsonRpcError" }] });
      // An OAuth callback answers the browser with a page, or the envelope when refused before it runs.
      const callbackPage = (c: string) =>
        path.endsWith("/callback") && JSON.stringify(op.responses[c].content) === JSON.stringify({ "text/html": { schema: { type: "string" } }, "application/json": { schema: errorRef } });
      for (const c of codes.filter((c) => /^[45]/.test(c)))
        if (!String(op.responses[c].$ref ?? "").startsWith("#/components/responses/") && !mcpTransport(c) && !callbackPage(c)) bad.push(`${method} ${path}: ${c} not the shared Error`);
      if (op.security?.length !== 0 && !codes.includes("401")) bad.push(`${method} ${path}: authenticated without a 401`);
      if (path.includes("{") && !codes.includes("404")) bad.push(`${method} ${path}: an id without a 404`);
    }
    expect(bad).toEqual([]);
  });

  test("security schemes: x-api-key, Bearer, x-auth-token, the session cookie, and ?apiKey= only on /api/events", () => {
    const s = doc.components.securitySchemes;
    expect(s.apiKey).toMatchObject({ type: "apiKey", in: "header", name: "x-api-key" });
    expect(s.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(s.session).toMatchObject({ type: "apiKey", in: "header", name: "x-auth-token" });
    expect(s.cookie).toMatchObject({ type: "apiKey", in: "cookie", name: "clanker_session" });
    expect(s.queryKey).toMatchObject({ type: "apiKey", in: "query", name: "apiKey" });
    expect(doc.security).toEqual([{ apiKey: [] }, { bearer: [] }, { session: [] }, { cookie: [] }]);
    expect(doc.paths["/api/events"].get.security).toEqual([{ queryKey: [] }, ...doc.security]);
    const withQueryKey = operations().filter((o) => JSON.stringify(o.op.security ?? []).includes("queryKey"));
    expect(withQueryKey.map((o) => o.path)).toEqual(["/api/events"]);
  });

  test("examples for running a skill, creating a key and launching a workflow, valid against their own schemas", () => {
    const ajv = new Ajv2020({ strict: false, validateFormats: false });
    for (const [path, method] of [["/api/v1/skills/{slug}/run", "post"], ["/api/v1/api-keys", "post"], ["/api/v1/workflows/{id}/launch", "post"]] as const) {
      const body = doc.paths[path][method].requestBody.content["application/json"];
      expect({ path, example: body.example !== undefined }).toEqual({ path, example: true });
      expect({ path, errors: ajv.validate(body.schema, body.example) ? null : ajv.errors }).toEqual({ path, errors: null });
    }
    expect(doc.paths["/api/v1/workflows/{id}/launch"].post.responses["200"].content["application/json"].example).toMatchObject({ runId: "run_1", status: "running" });
    for (const path of ["/api/v1/skills/{slug}/run", "/api/v1/api-keys"]) {
      const ok = doc.paths[path].post.responses["200"].content["application/json"];
      expect({ path, errors: ajv.validate(ok.schema, ok.example) ? null : ajv.errors }).toEqual({ path, errors: null });
    }
  });

  test("the idempotent creations document the idempotency-key header, and nothing else does", () => {
    const withKey = operations()
      .filter((o) => (o.op.parameters ?? []).some((p: any) => p.in === "header" && p.name === "idempotency-key"))
      .map((o) => `${o.method} ${o.path}`)
      .sort();
    expect(withKey).toEqual(
      ["/api/v1/api-keys", "/api/v1/executions/{id}/rerun", "/api/v1/integrations/{integration}/actions/{action}", "/api/v1/memory/append", "/api/v1/secrets", "/api/v1/skills/{slug}/run", "/api/v1/workflows/{id}/launch", "/api/v1/workflows/{id}/stream", "/api/v1/workspaces"].map((p) => `post ${p}`).sort(),
    );
  });

  test("every /api/v1 answer documents the headers it carries (request id, version, rate limit; retry-after on a 429), and each operation the request headers it takes", async () => {
    const resolve = (r: any) => (r.$ref ? doc.components.responses[r.$ref.split("/").pop()] : r);
    const names = (h: any) => Object.keys(h ?? {}).sort();
    const apiOps = operations().filter((o) => o.path.startsWith("/api/v1/"));
    expect(apiOps.length).toBeGreaterThan(50);
    for (const o of apiOps) {
      for (const [status, r] of Object.entries(o.op.responses as Record<string, any>)) {
        const headers = names(resolve(r).headers);
        for (const h of ["clanker-version", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-request-id"])
          expect({ op: `${o.method} ${o.path} ${status}`, has: headers.includes(h) }).toEqual({ op: `${o.method} ${o.path} ${status}`, has: true });
        if (status === "429") expect(headers).toContain("retry-after");
      }
      const params = (o.op.parameters ?? []).map((p: any) => (p.$ref ? doc.components.parameters[p.$ref.split("/").pop()].name : p.name));
      expect({ op: `${o.method} ${o.path}`, params: ["clanker-version", "x-request-id", "x-workspace-id"].every((h) => params.includes(h)) }).toEqual({ op: `${o.method} ${o.path}`, params: true });
    }
    // What is documented is what an answer carries.
    const res = await fetch(`${srv.url}/api/v1/profile`, { headers: { "x-api-key": key } });
    const documented = names(resolve(doc.paths["/api/v1/profile"].get.responses["200"]).headers);
    expect(documented.filter((h) => !res.headers.has(h))).toEqual([]);
  });

  test("memory documents its ETag and If-Match; the invitation operations their answers", () => {
    const withIfMatch = operations()
      .filter((o) => (o.op.parameters ?? []).some((p: any) => p.in === "header" && p.name === "If-Match"))
      .map((o) => `${o.method} ${o.path}`)
      .sort();
    expect(withIfMatch).toEqual(["post /api/v1/memory/append", "put /api/v1/memory"]);
    for (const [method, path] of [["get", "/api/v1/memory"], ["put", "/api/v1/memory"], ["post", "/api/v1/memory/append"]] as const)
      expect(doc.paths[path][method].responses["200"].headers?.ETag).toBeDefined();
    const schemaOf = (path: string) => doc.paths[path].post.responses["200"].content?.["application/json"]?.schema;
    expect(schemaOf("/api/v1/workspaces/{id}/invitations")?.properties).toHaveProperty("expiresAt");
    expect(schemaOf("/api/v1/invitations/accept")?.properties).toHaveProperty("role");
  });

  // The document's security claims, held against the server: a public operation answers an anonymous caller
  // (with anything but 401), an authenticated one refuses it with 401.
  test("operations marked public answer without credentials; the others refuse them with 401 (/healthz is public)", async () => {
    expect(doc.paths["/healthz"].get.security).toEqual([]);
    const wrong: string[] = [];
    let publicOps = 0;
    for (const { path, method, op } of operations()) {
      const isPublic = Array.isArray(op.security) && op.security.length === 0;
      if (isPublic) publicOps++;
      const url = `${srv.url}${path.replace(/\{[^}]+\}/g, "x")}`;
      const init: RequestInit = { method: method.toUpperCase(), headers: { "content-type": "application/json", accept: "application/json, text/event-stream" } };
      if (method !== "get") init.body = "{}";
      const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
      // A hook takes no credentials but a signature: its 401 says the signature is missing, not a key.
      const signatureRefused = isPublic && res.status === 401 && /"code":"SIGNATURE_MISSING"/.test(await res.text());
      await res.body?.cancel().catch(() => {});
      if (isPublic ? res.status === 401 && !signatureRefused : res.status !== 401) wrong.push(`${method} ${path}: ${isPublic ? "public" : "authenticated"} but ${res.status}`);
    }
    expect(wrong).toEqual([]);
    expect(publicOps).toBeGreaterThanOrEqual(12);
    const health = await fetch(`${srv.url}/healthz`);
    expect(health.status).toBe(200);
  });
});

describe("/docs", () => {
  test("Scalar's build is served from this server, hashed and cached for a year; an old name is a typed 404", async () => {
    const res = await fetch(`${srv.url}/docs`);
    const html = await res.text();
    // The page policy, as strict as Scalar allows: scripts only from here (and the one start-up call, by hash).
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+';/);
    expect(csp).toMatch(/connect-src 'self';/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(csp).not.toMatch(/unsafe-eval|https?:/);
    const src = /<script src="(\/docs\/scalar\.[0-9a-f]{16}\.js)"><\/script>/.exec(html)?.[1];
    expect(src).toBeDefined();
    expect(html).not.toMatch(/https?:\/\//);
    const js = await fetch(`${srv.url}${src}`);
    expect(js.status).toBe(200);
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(js.headers.get("content-type")).toContain("javascript");
    expect((await js.text()).length).toBeGreaterThan(1_000_000);
    // Sent gzipped where the client takes it, never where it refused it (q=0).
    const enc = async (accept: string) => (await fetch(`${srv.url}${src}`, { headers: { "accept-encoding": accept }, decompress: false } as RequestInit)).headers.get("content-encoding");
    expect([await enc("gzip, deflate"), await enc("gzip;q=0, identity"), await enc("*;q=0.5"), await enc("gzip;q=0, *"), await enc("identity")]).toEqual(["gzip", null, "gzip", null, null]);
    const stale = await fetch(`${srv.url}/docs/scalar.0000000000000000.js`);
    expect(stale.status).toBe(404);
    expect(((await stale.json()) as any).error.type).toBe("not_found_error");
  });

  test("in chromium: no console errors, nothing fetched from elsewhere, the run operation shown and tried with a key", async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on("console", (m) => {
        if (m.type() === "error") problems.push(`console: ${m.text()}`);
      });
      page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
      page.on("request", (r) => {
        if (!r.url().startsWith(srv.url) && !r.url().startsWith("data:")) problems.push(`foreign request: ${r.url()}`);
      });
      await page.goto(`${srv.url}/docs#tag/executions/POST/api/v1/skills/{slug}/run`);
      await page.getByRole("heading", { name: "Run a skill (idempotent); answers at once, the run streams on" }).first().waitFor({ timeout: 30_000 });
      await page.getByText("/api/v1/skills/{slug}/run").first().waitFor();
      await screenshot(page, "docs-run");
      // Try it: the person's key in the auth field, a skill in the path, the documented example as the body.
      await page.getByRole("button", { name: "Test Request" }).first().click();
      const client = page.getByRole("dialog").first();
      await client.getByRole("textbox", { name: "Value" }).first().fill(key);
      await client.getByRole("row", { name: /Include slug in request/ }).getByRole("combobox", { name: "Value" }).fill("summarize");
      await client.getByRole("button", { name: /^Send post request/ }).click();
      await client.getByRole("region", { name: "Response" }).getByText("200 OK").waitFor({ timeout: 15_000 });
      await screenshot(page, "docs-try-run");
      const runs: any = await (await fetch(`${srv.url}/api/v1/executions`, { headers: { "x-api-key": key } })).json();
      expect(runs.data.map((r: any) => [r.skillSlug, r.input])).toContainEqual(["summarize", "Summarise this release note in three bullet points: …"]);
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 90_000);
});
