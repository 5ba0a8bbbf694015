// Issue 10, HTTP hardening: deeply nested JSON refused while reading (5), a mangled session cookie is a counted
// 401 (6), mails never carry a client-chosen Host (13), pages refuse framing and the cookie is Secure on https (14).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import { DepthScanner, MAX_JSON_DEPTH } from "../src/http/body";
import { t } from "elysia";
import { toApiError } from "../src/http/errors";
import { createPlatform, type PlatformDeps } from "../src/http/platform";
import { cleanup, readResponse, startServer, testDialect, uniqueEmail, type TestServer } from "./helpers/server";
import { outboxCode, outboxMessages } from "./helpers/mail";
import { waitUntil } from "./helpers/suite";
import { runSql } from "./helpers/sql";
import { connectMcp, toolError } from "./helpers/mcp-client";

type Answer = { status: number; headers: Headers; body: any; text: string };

async function send(srv: TestServer, method: string, path: string, init: { headers?: Record<string, string>; body?: RequestInit["body"] } = {}): Promise<Answer> {
  return readResponse(await fetch(srv.url + path, { method, headers: init.headers, body: init.body, signal: AbortSignal.timeout(30_000) }));
}

/** The typed error envelope, as JSON, with this status and (when given) code. */
function expectEnvelope(r: Answer, status: number, code?: string) {
  expect({ status: r.status, contentType: r.headers.get("content-type"), text: r.text.slice(0, 300) }).toMatchObject({
    status,
    contentType: expect.stringContaining("application/json"),
  });
  expect(Object.keys(r.body)).toEqual(["error"]);
  expect(typeof r.body.error.type).toBe("string");
  expect(typeof r.body.error.message).toBe("string");
  if (code) expect(r.body.error.code).toBe(code);
}

/** One raw HTTP/1.1 exchange over TCP (for what fetch will not send); the whole answer as text. */
function rawHttp(srv: TestServer, request: string): Promise<string> {
  const { hostname, port } = new URL(srv.url);
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`no answer: ${out}`)), 10_000);
    void Bun.connect({
      hostname,
      port: Number(port),
      socket: {
        open: (s) => void s.write(request),
        data: (_s, d) => void (out += d.toString()),
        close: () => {
          clearTimeout(timer);
          resolve(out);
        },
        error: (_s, e) => reject(e),
      },
    });
  });
}

/** Sends `request` and leaves the connection open: the first line of the answer, or "(no answer)" after `waitMs`. */
function firstAnswerLine(srv: TestServer, request: string, waitMs: number): Promise<string> {
  const { hostname, port } = new URL(srv.url);
  return new Promise((resolve, reject) => {
    let out = "";
    let socket: { end(): void } | undefined;
    const done = (line: string) => {
      clearTimeout(timer);
      socket?.end();
      resolve(line);
    };
    const timer = setTimeout(() => done("(no answer)"), waitMs);
    void Bun.connect({
      hostname,
      port: Number(port),
      socket: {
        open: (s) => {
          socket = s;
          s.write(request);
        },
        data: (_s, d) => {
          out += d.toString();
          if (out.includes("\r\n")) done(out.slice(0, out.indexOf("\r\n")));
        },
        error: (_s, e) => reject(e),
      },
    });
  });
}

const deepArrays = (n: number) => "[".repeat(n) + "]".repeat(n);
const deepObjects = (n: number) => '{"a":'.repeat(n) + "1" + "}".repeat(n);
/** An object `levels` deep in all: {"a":{"a":…{}…}}. */
const nestedObject = (levels: number): Record<string, unknown> => (levels <= 1 ? {} : { a: nestedObject(levels - 1) });
const json = { "content-type": "application/json" };

describe("the nesting scanner (item 5)", () => {
  const depthOf = (v: unknown): number =>
    v !== null && typeof v === "object" ? 1 + Math.max(0, ...Object.values(v as Record<string, unknown>).map(depthOf)) : 0;

  test("agrees with the real depth of any JSON, however the bytes are split into chunks, strings and escapes included", () => {
    const tricky = fc.constantFrom("[", "]", "{", "}", '"', "\\", '\\"', "\\\\", "é", "😀", "\u0000");
    const str = fc.oneof(fc.string({ unit: "binary", maxLength: 200, size: "max" }), fc.array(tricky, { maxLength: 12 }).map((a) => a.join("")));
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: "small" }, str, fc.integer(), fc.constant(null), fc.array(tie("value"), { maxLength: 4 }), fc.dictionary(str, tie("value"), { maxKeys: 3 })),
    }));
    fc.assert(
      fc.property(value, fc.array(fc.nat(), { maxLength: 6 }), fc.integer({ min: 0, max: 8 }), (v, cuts, max) => {
        const bytes = new TextEncoder().encode(JSON.stringify(v));
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const scanner = new DepthScanner();
        let ok = true;
        let from = 0;
        for (const p of [...points, bytes.length]) {
          if (ok) ok = scanner.feed(bytes.subarray(from, p), max);
          from = p;
        }
        expect(ok).toBe(depthOf(v) <= max);
      }),
      { numRuns: 600 },
    );
  });
});

describe("deeply nested JSON (item 5)", () => {
  let srv: TestServer;
  let key: string;

  beforeAll(async () => {
    srv = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "1000" } });
    key = await srv.createKey();
  }, 30_000);
  afterAll(async () => {
    await srv.stop();
    cleanup(srv);
  });

  const routes: { name: string; path: string; auth: boolean }[] = [
    { name: "an authenticated POST", path: "/api/v1/memory/append", auth: true },
    { name: "MCP Streamable HTTP", path: "/mcp", auth: true },
    { name: "MCP legacy messages", path: "/mcp/messages?sessionId=x", auth: true },
    { name: "agent registration", path: "/agent/auth", auth: false },
    { name: "sign-in", path: "/api/v1/auth/email/start", auth: false },
  ];

  for (const r of routes)
    for (const [shape, body] of [
      ["arrays", deepArrays(20_000)],
      ["objects", deepObjects(20_000)],
    ] as const)
      test(`20k-deep ${shape} at ${r.name} (${r.path}) → 400 JSON_TOO_DEEP, the JSON envelope`, async () => {
        const headers: Record<string, string> = { ...json, accept: "application/json, text/event-stream" };
        if (r.auth) headers["x-api-key"] = key;
        const a = await send(srv, "POST", r.path, { headers, body });
        expectEnvelope(a, 400, "JSON_TOO_DEEP");
        expect(a.body.error).toMatchObject({ type: "invalid_request_error", param: "body" });
      });

  test("every route that takes a body (from /openapi.json) refuses a 20k-deep one with 400 JSON_TOO_DEEP", async () => {
    const doc = (await send(srv, "GET", "/openapi.json")).body;
    const answers: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, unknown>>))
      for (const method of Object.keys(ops).map((m) => m.toUpperCase())) {
        if (method === "GET" || method === "HEAD") continue;
        // A signature of the right shape: a hook refuses a delivery signed in no scheme before reading its body.
        const signed = { "clanker-signature": `t=1,v1=${"0".repeat(64)}` };
        const a = await send(srv, method, path.replace(/\{[^}]+\}/g, "x"), { headers: { ...json, accept: "application/json, text/event-stream", "x-api-key": key, ...signed }, body: deepObjects(20_000) });
        answers.push(`${method} ${path} ${a.status} ${a.body?.error?.code}`);
      }
    expect(answers.length).toBeGreaterThan(30);
    expect(answers.filter((l) => !l.endsWith(" 400 JSON_TOO_DEEP"))).toEqual([]);
  });

  test("every mutation whose body has no required field (from /openapi.json) refuses a field it does not take, by name", async () => {
    const doc = (await send(srv, "GET", "/openapi.json")).body;
    const answers: string[] = [];
    const undeclared: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>))
      for (const [method, op] of Object.entries(ops)) {
        const schema = op.requestBody?.content?.["application/json"]?.schema;
        if (method !== "get" && !schema) undeclared.push(`${method} ${path}`);
        if (method === "get" || !schema || schema.additionalProperties !== false || schema.required?.length) continue;
        const a = await send(srv, method.toUpperCase(), path.replace(/\{[^}]+\}/g, "x"), { headers: { ...json, "x-api-key": key }, body: '{"notAField":1}' });
        answers.push(`${method} ${path} ${a.status} ${a.body?.error?.code} ${a.body?.error?.param}`);
        // Nor a body that is not an object (Elysia leaves an optional body's schema unchecked for these).
        for (const body of ["[]", "5", "null", '"x"', "true"]) {
          const b = await send(srv, method.toUpperCase(), path.replace(/\{[^}]+\}/g, "x"), { headers: { ...json, "x-api-key": key }, body });
          if (b.status !== 400 || b.body?.error?.param !== "body") answers.push(`${method} ${path} ${body} → ${b.status} ${b.body?.error?.param}`);
        }
      }
    // Install, revoke, cancel, rotate, every DELETE…: those that took no body accepted any before.
    expect(answers.length).toBeGreaterThan(20);
    expect(answers.filter((l) => !l.endsWith(" 400 INVALID_PARAMETER notAField"))).toEqual([]);
    // A mutation says what body it takes (none: `noBody`); only the signed hook and MCP read theirs themselves.
    expect(undeclared.sort()).toEqual(["delete /mcp", "post /hooks/{triggerId}", "post /mcp", "post /mcp/messages"]);
  });

  test("a deep body without credentials at an authenticated route is still a 401 first", async () => {
    expectEnvelope(await send(srv, "POST", "/api/v1/memory/append", { headers: json, body: deepArrays(20_000) }), 401);
  });

  test("a caller who may not send a body is answered without it being read (every authenticated mutation, from /openapi.json): no key, a wrong key; a valid key's body is awaited", async () => {
    // Headers declaring 1 MB, then 10 bytes: an answer before the rest is sent means the body was never waited for.
    const head = (method: string, path: string, credential: string) =>
      `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 1000000\r\n${credential}\r\n{"content":`;
    const doc = (await send(srv, "GET", "/openapi.json")).body;
    const answers: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, { security?: unknown[] }>>))
      for (const [method, op] of Object.entries(ops)) {
        if (method === "get" || method === "head" || (op.security && op.security.length === 0)) continue;
        const at = path.replace(/\{[^}]+\}/g, "x");
        for (const credential of ["", "x-api-key: ck_wrong\r\n"])
          answers.push(`${method} ${path} ${credential ? "wrong key" : "no key"}: ${await firstAnswerLine(srv, head(method.toUpperCase(), at, credential), 5_000)}`);
      }
    expect(answers.length).toBeGreaterThan(60);
    expect(answers.filter((a) => !a.endsWith(": HTTP/1.1 401 Unauthorized"))).toEqual([]);
    expect(await firstAnswerLine(srv, head("POST", "/api/v1/memory/append", `x-api-key: ${key}\r\n`), 700)).toBe("(no answer)");
  });

  test("a multipart body of more than 1,000 parts → 400 TOO_MANY_PARTS (after the 401 without credentials); repeated names still group", async () => {
    const many = new FormData();
    for (let i = 0; i < 20_000; i++) many.append(`f${i}`, "x");
    expectEnvelope(await send(srv, "POST", "/api/v1/memory/append", { body: many }), 401);
    expectEnvelope(await send(srv, "POST", "/api/v1/memory/append", { headers: { "x-api-key": key }, body: many }), 400, "TOO_MANY_PARTS");
    // Parts of one name arrive as a list, in order: two contents are not one note.
    const twice = new FormData();
    twice.append("content", "one");
    twice.append("content", "two");
    const r = await send(srv, "POST", "/api/v1/memory/append", { headers: { "x-api-key": key }, body: twice });
    expectEnvelope(r, 400);
    expect(r.body.error.param).toBe("content");
  });

  test("a deep JSON field in a multipart body → 400 JSON_TOO_DEEP; a malformed multipart body → 400 envelope", async () => {
    const form = new FormData();
    form.set("content", deepArrays(20_000));
    expectEnvelope(await send(srv, "POST", "/api/v1/memory/append", { headers: { "x-api-key": key }, body: form }), 400, "JSON_TOO_DEEP");
    const bad = await send(srv, "POST", "/api/v1/memory/append", {
      headers: { "x-api-key": key, "content-type": "multipart/form-data; boundary=xyz" },
      body: "--nope\r\nnot multipart at all",
    });
    expectEnvelope(bad, 400);
    const ok = new FormData();
    ok.set("content", "a note sent as a form");
    const fine = await send(srv, "POST", "/api/v1/memory/append", { headers: { "x-api-key": key }, body: ok });
    expect({ status: fine.status, text: fine.text }).toMatchObject({ status: 200 });
  });

  test(`${MAX_JSON_DEPTH} levels are fine (an MCP initialize carrying them succeeds); ${MAX_JSON_DEPTH + 1} are refused`, async () => {
    // Outer object, params, capabilities, experimental: 4 levels; the capability adds the rest.
    const init = (levels: number) => ({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: { experimental: { deep: nestedObject(levels - 4) } }, clientInfo: { name: "deep", version: "1" } },
    });
    const headers = { ...json, accept: "application/json, text/event-stream", "x-api-key": key };
    const ok = await send(srv, "POST", "/mcp", { headers, body: JSON.stringify(init(MAX_JSON_DEPTH)) });
    expect({ status: ok.status, text: ok.text.slice(0, 2000) }).toMatchObject({ status: 200, text: expect.stringContaining('"serverInfo"') });
    await send(srv, "DELETE", "/mcp", { headers: { "x-api-key": key, "mcp-session-id": ok.headers.get("mcp-session-id") ?? "" } });
    expectEnvelope(await send(srv, "POST", "/mcp", { headers, body: JSON.stringify(init(MAX_JSON_DEPTH + 1)) }), 400, "JSON_TOO_DEEP");
    // Brackets inside strings are text, not nesting.
    const text = await send(srv, "POST", "/api/v1/memory/append", { headers: { ...json, "x-api-key": key }, body: JSON.stringify({ content: deepArrays(5_000) + '\\"[' }) });
    expect({ status: text.status, text: text.text.slice(0, 200) }).toMatchObject({ status: 200 });
  });

  test("four concurrent 8 MB deep bodies are refused while /healthz stays responsive", async () => {
    const body = deepArrays(4 * 1024 * 1024);
    const bodies = Promise.all(
      Array.from({ length: 4 }, (_, i) => send(srv, "POST", i % 2 ? "/agent/auth" : "/api/v1/memory/append", { headers: { ...json, "x-api-key": key }, body })),
    );
    const latencies: number[] = [];
    let done = false;
    void bodies.finally(() => (done = true));
    do {
      const t0 = performance.now();
      const h = await send(srv, "GET", "/healthz");
      latencies.push(performance.now() - t0);
      expect(h.status).toBe(200);
      await Bun.sleep(5);
    } while (!done || latencies.length < 5);
    for (const a of await bodies) expectEnvelope(a, 400, "JSON_TOO_DEEP");
    const worst = Math.max(...latencies);
    console.log(`/healthz during 4 × 8 MB deep bodies: ${latencies.length} probes, worst ${worst.toFixed(1)} ms`);
    // Generous: the point is an answer at all (it took 4.5 s before), not a timing.
    expect(worst).toBeLessThan(2000);
  }, 60_000);

  test("truncated, unbalanced and oversized bodies all get the envelope, never Bun's own answer", async () => {
    const headers = { ...json, "x-api-key": key };
    expectEnvelope(await send(srv, "POST", "/api/v1/memory/append", { headers, body: '{"content": "x' }), 400, "INVALID_JSON");
    expectEnvelope(await send(srv, "POST", "/api/v1/memory/append", { headers, body: "]]]]}}}}" }), 400, "INVALID_JSON");
    // A declared length past what Bun.serve was told to accept: Bun answered that itself, without a body.
    const big = await rawHttp(
      srv,
      `POST /api/v1/memory/append HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${key}\r\ncontent-type: application/json\r\ncontent-length: ${200 * 1024 * 1024}\r\nconnection: close\r\n\r\n{}`,
    );
    expect(big.split("\r\n")[0]).toContain(" 413 ");
    expect(big.toLowerCase()).toContain("content-type: application/json");
    expect(big).toContain('"type":"request_too_large"');
  });
});

describe("bodies and credentials as HTTP allows them to be sent", () => {
  let srv: TestServer;
  let key: string;
  beforeAll(async () => {
    srv = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "1000" } });
    key = await srv.createKey();
  }, 30_000);
  afterAll(async () => {
    await srv.stop();
    cleanup(srv);
  });

  test("a media type in any case, a byte order mark: read; a compressed body: refused saying so; a key sent twice: said so", async () => {
    const form = new FormData();
    form.set("name", "From a form");
    const multipart = new Response(form);
    const type = multipart.headers.get("content-type")!.replace("multipart/form-data", "Multipart/Form-Data");
    const viaForm = await send(srv, "POST", "/api/v1/workspaces", { headers: { "x-api-key": key, "content-type": type }, body: await multipart.arrayBuffer() });
    expect({ status: viaForm.status, name: viaForm.body.name }).toEqual({ status: 200, name: "From a form" });
    const bom = await send(srv, "POST", "/api/v1/workspaces", { headers: { ...json, "x-api-key": key }, body: new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('{"name":"With a BOM"}')]) });
    expect({ status: bom.status, name: bom.body.name }).toEqual({ status: 200, name: "With a BOM" });
    const gzipped = await send(srv, "POST", "/api/v1/workspaces", { headers: { ...json, "x-api-key": key, "content-encoding": "gzip" }, body: Bun.gzipSync(new TextEncoder().encode('{"name":"Zipped"}')) });
    expectEnvelope(gzipped, 400, "UNSUPPORTED_CONTENT_ENCODING");
    expect(gzipped.body.error).toMatchObject({ param: "content-encoding", message: expect.stringContaining("does not read compressed bodies (content-encoding: gzip)") });
    const twice = await send(srv, "GET", "/api/v1/profile", { headers: [["x-api-key", key], ["x-api-key", key]] as unknown as Record<string, string> });
    expectEnvelope(twice, 401, "INVALID_API_KEY");
    expect(twice.body.error.message).toBe("x-api-key was sent more than once (a proxy adding its own?): send one");
    const bearers = await send(srv, "GET", "/api/v1/profile", { headers: [["authorization", `Bearer ${key}`], ["authorization", `Bearer ${key}`]] as unknown as Record<string, string> });
    expect(bearers.body.error.message).toBe("authorization was sent more than once (a proxy adding its own?): send one");
  });

  test("two session (or workspace) cookies, one tossed in by a site on the same domain: refused naming the fix, never the first one's account", async () => {
    const mine = await srv.createSession(uniqueEmail("cookie-victim"));
    const theirs = await srv.createSession(uniqueEmail("cookie-tosser"));
    const as = async (cookie: string) => send(srv, "GET", "/api/v1/profile", { headers: { cookie } });
    expect((await as(`clanker_session=${mine}`)).status).toBe(200);
    // The browser sends the longer path's first: the tosser's.
    for (const cookie of [`clanker_session=${theirs}; clanker_session=${mine}`, `clanker_session=${mine}; clanker_workspace=ws_1; clanker_workspace=ws_2`]) {
      const refused = await as(cookie);
      expectEnvelope(refused, 401, "COOKIE_SENT_TWICE");
      expect(refused.body.error.message).toContain("clear this site's cookies in the browser, then sign in again");
    }
  });

  test("the web app (its session cookie) may take the person's budget three times as far: a page makes several requests; it is one budget", async () => {
    const session = await srv.createSession(uniqueEmail("browsing"));
    const viaCookie = await send(srv, "GET", "/api/v1/profile", { headers: { cookie: `clanker_session=${session}` } });
    const viaHeader = await send(srv, "GET", "/api/v1/profile", { headers: { "x-auth-token": session } });
    expect([viaCookie.headers.get("x-ratelimit-limit"), viaHeader.headers.get("x-ratelimit-limit")]).toEqual(["3000", "1000"]);
    // One budget: the second request is the second of the window, whichever way it came.
    expect([viaCookie.headers.get("x-ratelimit-remaining"), viaHeader.headers.get("x-ratelimit-remaining")]).toEqual(["2999", "998"]);
  });

  test("a request without a Host header (HTTP/1.0) is told that, not that '' is not allowed", async () => {
    const port = Number(new URL(srv.url).port);
    const answer = await new Promise<string>((resolve, reject) => {
      let got = "";
      Bun.connect({
        hostname: "127.0.0.1",
        port,
        socket: {
          open: (s) => void s.write(`GET /api/v1/profile HTTP/1.0\r\nx-api-key: ${key}\r\n\r\n`),
          data: (_s, d) => void (got += new TextDecoder().decode(d)),
          close: () => resolve(got),
          error: (_s, e) => reject(e),
        },
      }).catch(reject);
    });
    expect(answer).toStartWith("HTTP/1.1 403");
    expect(answer).toContain("The request has no Host header (an HTTP/1.0 client?): send one naming this server");
  });
});

describe("a mangled session cookie (item 6)", () => {
  let srv: TestServer;
  let key: string;
  const LIMIT = 20;

  beforeAll(async () => {
    srv = await startServer({ env: { CLANKER_PUBLIC_RATE_LIMIT_PER_MINUTE: String(LIMIT) } });
    key = await srv.createKey();
  }, 30_000);
  afterAll(async () => {
    await srv.stop();
    cleanup(srv);
  });

  test("other odd credentials are 4xx envelopes, never a 500", async () => {
    // A key with a mangled cookie beside it: the key wins, and logging out does not trip on the cookie.
    const out = await send(srv, "POST", "/api/v1/auth/logout", { headers: { "x-api-key": key, cookie: "clanker_session=%ZZ" } });
    expect({ status: out.status, text: out.text }).toMatchObject({ status: 200 });
    const odd: Record<string, string>[] = [
      { authorization: "Bearer" },
      { authorization: "Bearer %ZZ" },
      { "x-api-key": "%ZZ\u00ff" },
      { "x-auth-token": "%ZZ" },
      { "x-api-key": key, "x-workspace-id": "%ZZ" },
      { cookie: "clanker_session=" },
      { cookie: "clanker_session=%" },
    ];
    for (const headers of odd) {
      const a = await send(srv, "GET", "/api/v1/profile", { headers });
      expect({ headers, status: a.status }).toMatchObject({ status: expect.any(Number) });
      expect(a.status).toBeLessThan(500);
      expect(a.body?.error ?? a.body?.email).toBeDefined();
    }
    // The scheme is matched whatever its case (RFC 9110), as every HTTP client may spell it.
    for (const scheme of ["Bearer", "bearer", "BEARER"]) expect((await send(srv, "GET", "/api/v1/profile", { headers: { authorization: `${scheme} ${key}` } })).status).toBe(200);
    const session = await srv.createSession(uniqueEmail("odd"));
    expectEnvelope(await send(srv, "GET", "/api/v1/profile", { headers: { "x-auth-token": session, "x-workspace-id": "%ZZ" } }), 404);
    const sse = await send(srv, "GET", "/api/events?apiKey=%ZZ");
    expectEnvelope(sse, sse.status === 429 ? 429 : 401);
  });
  test("clanker_session=%ZZ → 401 INVALID_SESSION, counted in the IP bucket (its rate headers), until 429", async () => {
    // The odd credentials above spent some of this address's budget already: count down from wherever it is.
    const remaining: number[] = [];
    let limited: Answer | null = null;
    for (let i = 0; i <= LIMIT && !limited; i++) {
      const a = await send(srv, "GET", i % 2 ? "/api/v1/profile" : "/api/v1/executions", { headers: { cookie: "theme=dark; clanker_session=%ZZ" } });
      if (a.status === 429) {
        limited = a;
        break;
      }
      expectEnvelope(a, 401, "INVALID_SESSION");
      expect(a.body.error.type).toBe("authentication_error");
      expect(a.headers.get("x-ratelimit-limit")).toBe(String(LIMIT));
      remaining.push(Number(a.headers.get("x-ratelimit-remaining")));
    }
    expect(remaining.length).toBeGreaterThan(3);
    expect(remaining).toEqual(remaining.map((_, i) => remaining[0]! - i));
    expect(remaining.at(-1)).toBe(0);
    expectEnvelope(limited!, 429, "RATE_LIMITED");
    expect(Number(limited!.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another mangled form, another route: still the same bucket, still limited.
    expectEnvelope(await send(srv, "POST", "/api/v1/memory/append", { headers: { ...json, cookie: "clanker_session=%E0%A4%A" }, body: "{}" }), 429, "RATE_LIMITED");
  });
});

const mailTo = (srv: TestServer, email: string) => outboxMessages(srv.dataDir, email).map((m) => `${m.subject}\n${m.text}`).join("\n---\n");

describe("mail links off loopback (item 13)", () => {
  let srv: TestServer;
  let owner: string;
  const evil = { host: "evil.example", "x-forwarded-host": "evil.example" };

  beforeAll(async () => {
    // Bound to every interface (we talk to it over 127.0.0.1 only), no CLANKER_PUBLIC_URL, mail to the outbox.
    srv = await startServer({ env: { HOST: "0.0.0.0", CLANKER_SMTP_URL: "" } });
    Object.defineProperty(srv, "url", { value: srv.url.replace("0.0.0.0", "127.0.0.1") });
    owner = await srv.createSession(uniqueEmail("owner"));
  }, 30_000);
  afterAll(async () => {
    await srv.stop();
    cleanup(srv);
  });

  test("the server says once, at start-up, to set CLANKER_PUBLIC_URL", () => {
    const lines = srv.logs().split("\n").filter((l) => l.includes("CLANKER_PUBLIC_URL"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("0.0.0.0");
  });

  test("a sign-in mail asked for with a forged Host carries the code and no link to that host", async () => {
    const email = uniqueEmail("signin");
    const a = await send(srv, "POST", "/api/v1/auth/email/start", { headers: { ...json, ...evil }, body: JSON.stringify({ email }) });
    expect({ status: a.status, text: a.text }).toMatchObject({ status: 200 });
    const code = await outboxCode(srv.dataDir, email);
    const mail = mailTo(srv, email);
    expect(mail).toContain(code);
    expect(mail).not.toContain("evil.example");
    expect(mail).not.toContain("http");
  });

  test("agent claim mails and invitations with a forged Host name no host either", async () => {
    const person = uniqueEmail("claimer");
    const reg = await send(srv, "POST", "/agent/auth", { headers: { ...json, ...evil }, body: JSON.stringify({ type: "identity_assertion", assertion_type: "email", email: person }) });
    expect({ status: reg.status, text: reg.text }).toMatchObject({ status: 200 });
    await outboxCode(srv.dataDir, person);
    const again = await send(srv, "POST", "/agent/auth/claim", { headers: { ...json, ...evil }, body: JSON.stringify({ claim_token: reg.body.claim_token }) });
    expect({ status: again.status, text: again.text }).toMatchObject({ status: 200 });
    expect(outboxMessages(srv.dataDir, person).length).toBe(2);
    expect(mailTo(srv, person)).not.toContain("evil.example");

    const invitee = uniqueEmail("invitee");
    const ws = await send(srv, "GET", "/api/v1/workspaces/current", { headers: { "x-auth-token": owner } });
    const inv = await send(srv, "POST", `/api/v1/workspaces/${ws.body.id}/invitations`, {
      headers: { ...json, ...evil, "x-auth-token": owner },
      body: JSON.stringify({ email: invitee, role: "member" }),
    });
    expect({ status: inv.status, text: inv.text }).toMatchObject({ status: 200 });
    const mail = mailTo(srv, invitee);
    expect(mail).toContain("inv_");
    expect(mail).not.toContain("evil.example");
  });
});

describe("mail links on loopback", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ env: { CLANKER_SMTP_URL: "" } });
  }, 30_000);
  afterAll(async () => {
    await srv.stop();
    cleanup(srv);
  });

  test("a loopback Host with another port: the mails name the port this server listens on, not the client's", async () => {
    const port = new URL(srv.url).port;
    const other = { host: "localhost:9999" };
    const email = uniqueEmail("port");
    expect((await send(srv, "POST", "/api/v1/auth/email/start", { headers: { ...json, ...other }, body: JSON.stringify({ email }) })).status).toBe(200);
    await outboxCode(srv.dataDir, email);
    expect(mailTo(srv, email)).toContain(`http://localhost:${port}`);
    expect(mailTo(srv, email)).not.toContain(":9999");

    const owner = await srv.createSession(uniqueEmail("port-owner"));
    const ws = await send(srv, "GET", "/api/v1/workspaces/current", { headers: { "x-auth-token": owner } });
    const invitee = uniqueEmail("port-invitee");
    const inv = await send(srv, "POST", `/api/v1/workspaces/${ws.body.id}/invitations`, { headers: { ...json, ...other, "x-auth-token": owner }, body: JSON.stringify({ email: invitee, role: "member" }) });
    expect({ status: inv.status, text: inv.text }).toMatchObject({ status: 200 });
    expect(mailTo(srv, invitee)).toContain(`http://localhost:${port}/invitations/accept#token=inv_`);
    expect(mailTo(srv, invitee)).not.toContain(":9999");
  });

  test("a workspace name cannot carry a line break into a mail's headers", async () => {
    const owner = await srv.createSession(uniqueEmail("crlf-owner"));
    const forged = "Evil\r\nBcc: someone@mail.example\r\nX-Injected: 1";
    const made = await send(srv, "POST", "/api/v1/workspaces", { headers: { ...json, "x-auth-token": owner }, body: JSON.stringify({ name: forged }) });
    expect({ status: made.status, param: made.body?.error?.param }).toEqual({ status: 400, param: "name" });
    // One stored before names were checked: the outbox still writes each header on one line.
    const ws = await send(srv, "POST", "/api/v1/workspaces", { headers: { ...json, "x-auth-token": owner }, body: JSON.stringify({ name: "Plain" }) });
    expect(await runSql(srv, "UPDATE workspaces SET name = ? WHERE slug = ?", forged, ws.body.slug)).toBe(1);
    const invitee = uniqueEmail("crlf-invitee");
    const inv = await send(srv, "POST", `/api/v1/workspaces/${ws.body.id}/invitations`, { headers: { ...json, "x-auth-token": owner }, body: JSON.stringify({ email: invitee, role: "member" }) });
    expect({ status: inv.status, text: inv.text }).toMatchObject({ status: 200 });
    const [mail] = outboxMessages(srv.dataDir, invitee);
    expect([...mail!.headers.keys()].sort()).toEqual(["content-type", "date", "from", "subject", "to"]);
    expect(mail!.subject).toContain("Evil Bcc: someone@mail.example X-Injected: 1");
  });

  test("names people give (workspace, API key, profile) are one line of plain text: control and text-direction characters are refused, emoji and accents kept", async () => {
    const owner = await srv.createSession(uniqueEmail("names-owner"));
    const call = (method: string, path: string, name: string) => send(srv, method, path, { headers: { ...json, "x-auth-token": owner }, body: JSON.stringify({ name }) });
    const routes = [["POST", "/api/v1/workspaces"], ["POST", "/api/v1/api-keys"], ["PATCH", "/api/v1/profile"]] as const;
    for (const [method, path] of routes)
      for (const bad of ["a\u0000b", "two\nlines", "tab\there", "key\u202Etxt.exe", "x\u2066y\u2069", "\u0085", "line1\u2028line2", "p\u2029q", "\u200B", "a\uFEFFb", "x\u200Fy", "\u0301\u0301", "\ud800F5", "a\udc00", "hidden\u{E0041}\u{E0042}", "\u3164", "\u2800\u2800", "\u115F\u1160", "\uFFA0", "adm\u3164in", "\u{1D159}"]) {
        const r = await call(method, path, bad);
        expect({ path, bad, status: r.status, param: r.body?.error?.param }).toEqual({ path, bad, status: 400, param: "name" });
      }
    for (const [method, path] of routes) for (const good of ["Zoë's 👩‍💻 team", "می‌خواهم", "ß & Co.", "🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F} Jahres\u00ADbericht"]) expect({ path, good, status: (await call(method, path, good)).status }).toEqual({ path, good, status: 200 });
  });
});

describe("pages and the session cookie (item 14)", () => {
  let local: TestServer;
  let https: TestServer;

  beforeAll(async () => {
    [local, https] = await Promise.all([startServer(), startServer({ env: { CLANKER_PUBLIC_URL: "https://clanker.example" } })]);
  }, 30_000);
  afterAll(async () => {
    await Promise.all([local.stop(), https.stop()]);
    cleanup(local);
    cleanup(https);
  });

  for (const path of ["/activate", "/activate?code=ABCD-1234"])
    test(`${path} cannot be framed, and allows only its own inline script and style`, async () => {
      const a = await send(local, "GET", path);
      expect(a.status).toBe(200);
      expect(a.headers.get("content-type")).toContain("text/html");
      expect(a.headers.get("x-frame-options")).toBe("DENY");
      const csp = a.headers.get("content-security-policy") ?? "";
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("unsafe-inline");
      expect(a.headers.get("referrer-policy")).toBe("no-referrer");
      // The policy names the hash of the page's one inline script, so the page still runs (activate-page.test.ts drives it).
      const script = /<script>([\s\S]*?)<\/script>/.exec(a.text)![1]!;
      const hash = new Bun.CryptoHasher("sha256").update(script).digest("base64");
      expect(csp).toContain(`script-src 'sha256-${hash}'`);
    });

  // Scalar injects <style> elements as it renders (its nonce hook covers one of them), so /docs allows inline
  // styles; scripts stay as strict as the other pages: its bundle from this origin and its one start-up call.
  test("/docs cannot be framed; scripts only from this origin and its own inline call (by hash)", async () => {
    const a = await send(local, "GET", "/docs");
    expect(a.status).toBe(200);
    expect(a.headers.get("x-frame-options")).toBe("DENY");
    const csp = a.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("frame-ancestors 'none'");
    expect(a.headers.get("referrer-policy")).toBe("no-referrer");
    const script = /<script>([\s\S]*?)<\/script>/.exec(a.text)![1]!;
    const hash = new Bun.CryptoHasher("sha256").update(script).digest("base64");
    expect(csp).toContain(`script-src 'self' 'sha256-${hash}';`);
    expect(csp).toContain("style-src 'self' 'unsafe-inline';");
    expect(csp.replace("style-src 'self' 'unsafe-inline';", "")).not.toContain("unsafe-inline");
  });

  test("on loopback there is no CLANKER_PUBLIC_URL warning", () => {
    expect(local.logs()).not.toContain("CLANKER_PUBLIC_URL");
  });

  test("a server with no model says so at start-up, with what to set; one with a model does not", async () => {
    expect(local.logs()).toContain("no model configured: skill runs fail (MODEL_NOT_CONFIGURED) unless their workspace brings its own key (PUT /api/v1/byok); set ANTHROPIC_API_KEY");
    const withModel = await startServer({ env: { ANTHROPIC_API_KEY: "sk-ant-start-log-000000000000000000" } });
    try {
      expect(withModel.logs()).not.toContain("no model configured");
    } finally {
      await withModel.stop();
      cleanup(withModel);
    }
  });

  test("API answers refuse framing too", async () => {
    const a = await send(local, "GET", "/healthz");
    expect(a.headers.get("x-frame-options")).toBe("DENY");
    expect(a.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
  });

  async function signIn(srv: TestServer): Promise<string> {
    const email = uniqueEmail("cookie");
    expect((await send(srv, "POST", "/api/v1/auth/email/start", { headers: json, body: JSON.stringify({ email }) })).status).toBe(200);
    const code = await outboxCode(srv.dataDir, email);
    const v = await send(srv, "POST", "/api/v1/auth/email/verify", { headers: json, body: JSON.stringify({ email, code }) });
    expect({ status: v.status, text: v.text }).toMatchObject({ status: 200 });
    return v.headers.get("set-cookie") ?? "";
  }

  test("with an https public URL the session cookie is Secure (set and cleared); over plain http it is not", async () => {
    const secure = await signIn(https);
    expect(secure).toMatch(/^clanker_session=[^;]+;.*HttpOnly/);
    expect(secure).toContain("; Secure");
    const session = /^clanker_session=([^;]+)/.exec(secure)![1]!;
    const out = await send(https, "POST", "/api/v1/auth/logout", { headers: { cookie: `clanker_session=${session}`, origin: "https://clanker.example" } });
    expect({ status: out.status, text: out.text }).toMatchObject({ status: 200 });
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
    expect(out.headers.get("set-cookie")).toContain("; Secure");

    const plain = await signIn(local);
    expect(plain).toContain("HttpOnly");
    expect(plain).not.toContain("Secure");
  });

  test("signing out ends the session's open event stream at once, with the typed error (not at its next 5 s recheck)", async () => {
    const session = /^clanker_session=([^;]+)/.exec(await signIn(local))![1]!;
    const stream = await fetch(`${local.url}/api/events`, { headers: { "x-auth-token": session } });
    expect(stream.status).toBe(200);
    const reader = stream.body!.getReader();
    let said = "";
    const read = async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return said;
        said += new TextDecoder().decode(value);
      }
    };
    const ended = read();
    await waitUntil("the stream to say it is connected", async () => said.includes("connected"));
    const heard = said;
    expect((await send(local, "POST", "/api/v1/auth/logout", { headers: { "x-auth-token": session } })).status).toBe(200);
    const all = await Promise.race([ended, Bun.sleep(3_000).then(() => `${said} (still open 3 s after signing out)`)]);
    expect(all.slice(heard.length)).toMatch(/^event: error\ndata: \{"error":\{"type":"authentication_error","message":"[^"]+","code":"INVALID_SESSION"\}\}/);
  });
});

describe("a store that cannot write or be reached now", () => {
  test("is a typed 503 STORE_UNAVAILABLE with retry-after, not a bare 500: SQLite's full disk or read-only file, PostgreSQL down (also as a wrapped cause)", () => {
    const req = new Request("http://127.0.0.1/api/v1/memory", { method: "PUT" });
    const failing = [{ code: "SQLITE_FULL" }, { code: "SQLITE_IOERR_WRITE" }, { code: "SQLITE_READONLY" }, { message: "Failed query", cause: { code: "ECONNREFUSED" } }, { code: "57P01" }, { code: "08006" }];
    for (const error of failing) {
      const e = toApiError("UNKNOWN", Object.assign(new Error("x"), error), req);
      expect({ error, status: e.status, type: e.type, code: e.code, retry: e.headers?.["retry-after"] }).toEqual({ error, status: 503, type: "overloaded_error", code: "STORE_UNAVAILABLE", retry: "5" });
    }
    // A bug stays a 500.
    for (const error of [{ code: "SQLITE_CONSTRAINT_UNIQUE" }, {}]) expect(toApiError("UNKNOWN", Object.assign(new Error("x"), error), req).status).toBe(500);
  });
});

describe.skipIf(testDialect() === "postgres")("another process holding SQLite's write lock", () => {
  test("makes writes wait without holding the server: a GET is answered while the lock is held, the write once it is let go", async () => {
    const srv = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "1000" } });
    try {
      const key = await srv.createKey({ email: uniqueEmail("busy") });
      // `sqlite3` (or the CLI) in a transaction of its own, for 1.5 s.
      const short = hold(srv.dataDir, 1_500);
      await short.held;
      const write = send(srv, "POST", "/api/v1/workspaces", { headers: { ...json, "x-api-key": key }, body: JSON.stringify({ name: "Behind a lock" }) }).then((r) => ({ status: r.status, at: Date.now() }));
      await Bun.sleep(50); // the write is waiting for the lock
      const read = await send(srv, "GET", "/healthz");
      const readAt = Date.now();
      const releasedAt = await short.released;
      const written = await write;
      expect({ read: read.status, readWhileHeld: readAt < releasedAt, write: written.status, writtenAfter: written.at >= releasedAt }).toEqual({ read: 200, readWhileHeld: true, write: 200, writtenAfter: true });

      // Held past 5 s: writes queued behind one another each give up 5 s after they came (a typed 503 naming the
      // cause), not one 5 s after another (they answered at 10, 15, 20 s).
      // An MCP tool meets the same typed answer as REST (it was an untyped "Internal error", and nothing logged).
      const mcp = await connectMcp(srv.url, "streamable", { "x-api-key": key });
      const long = hold(srv.dataDir, 6_500);
      await long.held;
      const [viaMcp, ...queued] = await Promise.all([
        toolError(mcp, "write-memory", { content: "behind a lock" }),
        ...[1, 2, 3].map((i) => send(srv, "POST", "/api/v1/workspaces", { headers: { ...json, "x-api-key": key }, body: JSON.stringify({ name: `Queued ${i}` }) }).then((r) => ({ status: r.status, code: (JSON.parse(r.text) as { error?: { code: string; message: string } }).error, at: Date.now() }))),
      ]);
      const longReleasedAt = await long.released;
      for (const q of queued) expect({ status: q.status, code: q.code?.code, message: q.code?.message, beforeRelease: q.at < longReleasedAt }).toEqual({ status: 503, code: "STORE_UNAVAILABLE", message: expect.stringContaining("another process held its write lock"), beforeRelease: true });
      expect({ type: viaMcp.type, code: viaMcp.code }).toEqual({ type: "overloaded_error", code: "STORE_UNAVAILABLE" });
      await mcp.close();
    } finally {
      await srv.stop();
      cleanup(srv);
    }
  }, 20_000);

  test("an upgrade (the store's migrations, at start) waits for another process's short transaction", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "clanker-busy-start-"));
    await (await startServer({ dataDir })).stop();
    // The store as the release before the last migration left it, then another process's transaction held over the start.
    const older = "DROP TABLE oauth_codes; DROP TABLE oauth_clients; ALTER TABLE api_keys DROP COLUMN oauth_client_id; DELETE FROM _migrations WHERE tag = '0012_oauth_clients';";
    const held = hold(dataDir, 1_500, older);
    await held.held;
    const srv = await startServer({ dataDir });
    try {
      const registered = await send(srv, "POST", "/oauth/register", { headers: json, body: JSON.stringify({ client_name: "After the upgrade", redirect_uris: ["http://127.0.0.1:9/cb"] }) });
      expect(registered.status).toBe(201);
      await held.released;
    } finally {
      await srv.stop();
      cleanup(srv);
    }
  });
});

/** Another process (as `sqlite3` or a CLI command would) in a write transaction on the data dir's store for `ms`. */
function hold(dataDir: string, ms: number, before = ""): { held: Promise<void>; released: Promise<number> } {
  const p = Bun.spawn(
    [process.execPath, "-e", `const { Database } = require("bun:sqlite"); const db = new Database(${JSON.stringify(`${dataDir}/clanker.db`)}); db.run("PRAGMA busy_timeout = 5000"); if (${JSON.stringify(before)}) db.exec(${JSON.stringify(before)}); db.run("BEGIN IMMEDIATE"); console.log("held"); await Bun.sleep(${ms}); db.run("COMMIT"); console.log("released " + Date.now());`],
    { stdout: "pipe", stderr: "inherit" },
  );
  let said = "";
  let heldNow = () => {};
  const held = new Promise<void>((resolve) => (heldNow = resolve));
  const released = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of p.stdout) {
      said += decoder.decode(chunk);
      if (said.includes("held")) heldNow();
    }
    return Number(/released (\d+)/.exec(said)![1]);
  })();
  return { held, released };
}

describe("an answer that breaks its own route's response schema", () => {
  test("is the server's 500, logged with the field, not the caller's 400 INVALID_PARAMETER", async () => {
    const logged: string[] = [];
    const quiet = () => {};
    const deps = {
      config: { publicUrl: "http://127.0.0.1:1", allowedHosts: null, maxBodyBytes: 1024, trustedProxies: [] },
      log: Object.assign(quiet, { error: (line: string) => logged.push(line), warn: quiet, info: quiet, debug: quiet, access: quiet }),
      latency: { observe: quiet },
    } as unknown as PlatformDeps;
    const app = createPlatform(deps).get("/drifted", () => ({ n: "not a number" }) as unknown as { n: number }, { response: t.Object({ n: t.Number() }) });
    const res = await app.handle(new Request("http://127.0.0.1/drifted"));
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 500, body: { error: { type: "api_error", message: "Internal server error" } } });
    expect(logged.join("\n")).toContain("/drifted");
  });
});

describe("credentials in the wrong place, and posts from other sites", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startServer({ env: { CLANKER_SMTP_URL: "", CLANKER_PUBLIC_RATE_LIMIT_PER_MINUTE: "1000" } });
  });
  afterAll(async () => {
    await srv?.stop();
    if (srv) cleanup(srv);
  });

  test("a session token sent as a key (Bearer, as MCP clients send one, or x-api-key) says where it goes; a wrong key says how to get one", async () => {
    const session = await srv.createSession(uniqueEmail("wrong-place"));
    for (const headers of [{ authorization: `Bearer ${session}` }, { "x-api-key": session }] as Record<string, string>[]) {
      const r = await send(srv, "GET", "/api/v1/profile", { headers });
      expect({ status: r.status, code: r.body.error?.code, message: r.body.error?.message }).toEqual({ status: 401, code: "INVALID_API_KEY", message: expect.stringContaining("send it as x-auth-token") });
    }
    expect((await send(srv, "GET", "/api/v1/profile", { headers: { "x-api-key": "ck_nope" } })).body.error.message).toContain("clanker keys create");
    expect((await send(srv, "GET", "/api/v1/profile", { headers: { "x-auth-token": "cks_nope" } })).body.error.message).toContain("sign in again");
  });

  test("a page on another site (or a sandboxed frame's Origin: null) cannot post to them: no mail, no agent; programs and our own pages can", async () => {
    const email = uniqueEmail("csrf");
    const post = (path: string, body: unknown, headers: Record<string, string>) => send(srv, "POST", path, { headers: { "content-type": "text/plain", ...headers }, body: JSON.stringify(body) });
    for (const origin of ["null", "http://localhost:1", "http://evil.example"]) {
      for (const [path, body] of [["/api/v1/auth/email/start", { email }], ["/agent/auth", { type: "anonymous" }], ["/api/v1/activate", {}]] as const) {
        const r = await post(path, body, { origin });
        // A foreign host name is refused first by the loopback server's Host/Origin check (ORIGIN_NOT_ALLOWED).
        expect({ origin, path, status: r.status, code: r.body.error?.code }).toEqual({ origin, path, status: 403, code: origin === "http://evil.example" ? "ORIGIN_NOT_ALLOWED" : "CROSS_SITE" });
      }
    }
    expect((await post("/api/v1/auth/email/start", { email }, { "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect(outboxMessages(srv.dataDir, email)).toHaveLength(0);
    expect((await post("/api/v1/auth/email/start", { email }, {})).status).toBe(200);
    expect((await post("/api/v1/auth/email/start", { email }, { origin: srv.url, "sec-fetch-site": "same-origin" })).status).toBe(200);
  });
});
