// Running skills over real HTTP against protocol-faithful fake model servers (Anthropic Messages and
// OpenAI-compatible, each a real HTTP server on 127.0.0.1): the run answer, polling and delta polling,
// cost, prompts and attachments reaching the model, model selection (server key, OpenAI-compatible, BYOK,
// none), model failures, cancel, rerun, listing, idempotency, isolation, per-workspace concurrency,
// billing, and the audit trail.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { answerFor, promptText, startFakeModel, type FakeModel, type RecordedRequest } from "./helpers/fake-models";
import { client, logMessages, startServer, uniqueEmail, type ApiResponse, type TestServer } from "./helpers/server";
import { stopAll, waitUntil } from "./helpers/suite";
import { runSql } from "./helpers/sql";

type Call = ReturnType<typeof client>;

const SERVER_KEY = "sk-ant-server-key-0123456789abcdefghijkl";
const BYOK_KEY = "sk-ant-byok-key-ZYXWVUTSRQ9876543210zyxw";
const RUN = "/api/v1/skills/summarize/run";

let fakeA: FakeModel; // Anthropic Messages
let fakeO: FakeModel; // OpenAI-compatible
let srv: TestServer; // ANTHROPIC_API_KEY + ANTHROPIC_BASE_URL, attachments capped at 1000 bytes
let srvO: TestServer; // OPENAI_BASE_URL only, one run at a time per workspace
let srvNone: TestServer; // no model at all
let srvBroke: TestServer; // a model, but new workspaces get no credits
let a: Call; // main workspace on srv
let b: Call; // another workspace on srv
let byokWs: Call; // a workspace on srv that brings its own key
let listWs: Call; // a workspace on srv used only for list/idempotency checks
let billWs: Call; // a workspace on srv used only for billing checks
let o: Call; // on srvO
let none: Call; // on srvNone
let broke: Call; // on srvBroke
let instructions: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let seq = 0;
const marker = (tag: string) => `${tag}-${process.pid}-${++seq}`;

function expectError(r: ApiResponse, status: number, type: string, extra: { code?: string; param?: string } = {}) {
  expect({ status: r.status, type: r.body?.error?.type, text: r.text }).toMatchObject({ status, type });
  expect(Object.keys(r.body)).toEqual(["error"]);
  expect(typeof r.body.error.message).toBe("string");
  if (extra.code !== undefined) expect(r.body.error.code).toBe(extra.code);
  if (extra.param !== undefined) expect(r.body.error.param).toBe(extra.param);
}

/** Polls GET /executions/:id/status every 50 ms until `done` holds; fails after `timeoutMs`. */
async function waitStatus(call: Call, id: string, done: (b: any) => boolean, timeoutMs = 10_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: ApiResponse | undefined;
  while (Date.now() < deadline) {
    last = await call("GET", `/api/v1/executions/${id}/status`);
    expect(last.status).toBe(200);
    if (done(last.body)) return last.body;
    await sleep(50);
  }
  throw new Error(`execution ${id} did not reach the expected state in ${timeoutMs} ms; last: ${last?.text}`);
}

const ended = (b: any) => ["completed", "failed", "cancelled"].includes(b.status);
const waitEnd = (call: Call, id: string, timeoutMs?: number) => waitStatus(call, id, ended, timeoutMs);

async function start(call: Call, body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<string> {
  const r = await call("POST", RUN, { body, headers });
  expect({ status: r.status, text: r.text }).toMatchObject({ status: 200 });
  return r.body.executionId;
}

/** The fake's recorded request whose user text carries `tag`. */
async function requestWith(fake: FakeModel, tag: string, timeoutMs = 5000): Promise<RecordedRequest> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = fake.requests.find((q) => promptText(q.body).includes(tag));
    if (r) return r;
    await sleep(20);
  }
  throw new Error(`the fake model never received a request containing ${tag}`);
}

/** The system prompt of a recorded request, in either wire format. */
function systemText(body: any): string {
  if (typeof body.system === "string") return body.system;
  if (Array.isArray(body.system)) return body.system.map((p: any) => p.text ?? "").join("\n");
  const m = (body.messages ?? []).find((x: any) => x.role === "system");
  if (!m) return "";
  return typeof m.content === "string" ? m.content : m.content.map((p: any) => p.text ?? "").join("\n");
}

const joined = (blocks: { content: string }[]) => blocks.map((b) => b.content).join("");
const expectedCost = (inputTokens: number, outputTokens: number) => (inputTokens * 300 + outputTokens * 1500) / 1e6;

async function audit(call: Call, action: string): Promise<any[]> {
  const r = await call("GET", `/api/v1/audit-logs?limit=100&action=${action}`);
  expect(r.status).toBe(200);
  return r.body.data;
}

const baseEnv = { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", CLANKER_WORKERS: "2", ANTHROPIC_API_KEY: "", ANTHROPIC_BASE_URL: "", OPENAI_BASE_URL: "", OPENAI_API_KEY: "" };

beforeAll(async () => {
  fakeA = startFakeModel("anthropic");
  fakeO = startFakeModel("openai");
  [srv, srvO, srvNone, srvBroke] = await Promise.all([
    startServer({ env: { ...baseEnv, ANTHROPIC_API_KEY: SERVER_KEY, ANTHROPIC_BASE_URL: fakeA.url, CLANKER_MAX_ATTACHMENT_BYTES: "1000" } }),
    startServer({ env: { ...baseEnv, OPENAI_BASE_URL: `${fakeO.url}/v1`, CLANKER_WORKSPACE_CONCURRENCY: "1" } }),
    startServer({ env: baseEnv }),
    // A grant smaller than one run costs, spent by the first run; one run at a time, so the next waits queued.
    startServer({ env: { ...baseEnv, ANTHROPIC_API_KEY: SERVER_KEY, ANTHROPIC_BASE_URL: fakeA.url, CLANKER_CREDIT_GRANT: "0.00001", CLANKER_WORKSPACE_CONCURRENCY: "1" } }),
  ]);
  const keys = await Promise.all([
    srv.createKey({ email: uniqueEmail("exec-a") }),
    srv.createKey({ email: uniqueEmail("exec-b") }),
    srv.createKey({ email: uniqueEmail("exec-byok") }),
    srv.createKey({ email: uniqueEmail("exec-list") }),
    srv.createKey({ email: uniqueEmail("exec-bill") }),
    srvO.createKey({ email: uniqueEmail("exec-o") }),
    srvNone.createKey({ email: uniqueEmail("exec-none") }),
    srvBroke.createKey({ email: uniqueEmail("exec-broke") }),
  ]);
  a = client(srv, { apiKey: keys[0] });
  b = client(srv, { apiKey: keys[1] });
  byokWs = client(srv, { apiKey: keys[2] });
  listWs = client(srv, { apiKey: keys[3] });
  billWs = client(srv, { apiKey: keys[4] });
  o = client(srvO, { apiKey: keys[5] });
  none = client(srvNone, { apiKey: keys[6] });
  broke = client(srvBroke, { apiKey: keys[7] });
  const skill = await a("GET", "/api/v1/marketplace/skills/summarize");
  expect(skill.status).toBe(200);
  instructions = skill.body.instructions;
  expect(instructions.length).toBeGreaterThan(50);
}, 30_000);

afterAll(() => stopAll([srv, srvO, srvNone, srvBroke, fakeA, fakeO]));

describe("a run against the Anthropic fake", () => {
  let execId: string;
  let input: string;
  let final: any;

  test("POST /skills/summarize/run answers the spec's shape at once", async () => {
    input = `Summarize this ${marker("basic")}: Clanker runs skills.`;
    const r = await a("POST", RUN, { body: { input, interface: "api" } });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      executionId: expect.stringMatching(/^exec_\d+$/),
      skillName: "Summarize",
      status: "started",
      message: expect.any(String),
      sseUrl: "/api/events",
    });
    expect(r.body.message.length).toBeGreaterThan(0);
    execId = r.body.executionId;
  });

  test("polling reaches completed with the fake's answer as output blocks", async () => {
    final = await waitEnd(a, execId);
    expect(final.status).toBe("completed");
    expect(final.error).toBeNull();
    expect(final.executionId).toBe(execId);
    expect(final.skillSlug).toBe("summarize");
    expect(final.input).toBe(input);
    expect(final.outputBlocks.length).toBeGreaterThan(0);
    expect(joined(final.outputBlocks)).toBe(answerFor(input).join(""));
    const idx = final.outputBlocks.map((x: any) => x.index);
    expect(idx).toEqual([...idx].sort((p: number, q: number) => p - q));
    expect(new Set(idx).size).toBe(idx.length);
    expect(final.provider).toBe("anthropic");
    expect(final.byok).toBe(false);
  });

  test("blocksAfter=N returns only blocks with index > N", async () => {
    const first = final.outputBlocks[0].index;
    const r = await a("GET", `/api/v1/executions/${execId}/status?blocksAfter=${first}`);
    expect(r.status).toBe(200);
    expect(r.body.outputBlocks).toEqual(final.outputBlocks.filter((x: any) => x.index > first));
    for (const blk of r.body.outputBlocks) expect(blk.index).toBeGreaterThan(first);
    const last = final.outputBlocks[final.outputBlocks.length - 1].index;
    const none = await a("GET", `/api/v1/executions/${execId}/status?blocksAfter=${last}`);
    expect(none.body.outputBlocks).toEqual([]);
    expect(none.body.status).toBe("completed");
  });

  test("cost follows token usage and the default price table; executionTime is a number", () => {
    expect(final.usage.inputTokens).toBe(42); // what the fake's message_start reports
    expect(final.usage.outputTokens).toBeGreaterThan(0);
    expect(final.cost).toBeGreaterThan(0);
    expect(final.cost).toBeCloseTo(expectedCost(final.usage.inputTokens, final.usage.outputTokens), 9);
    expect(typeof final.executionTime).toBe("number");
    expect(final.executionTime).toBeGreaterThanOrEqual(0);
  });

  test("the model got the server's key and a system prompt with the skill's instructions", async () => {
    const req = await requestWith(fakeA, input);
    expect(req.headers["x-api-key"]).toBe(SERVER_KEY);
    expect(systemText(req.body)).toContain(instructions);
    expect(req.body.stream).toBe(true);
  });
});

describe("attachments and connectors", () => {
  test("a text attachment reaches the model", async () => {
    const input = `Summarize the notes ${marker("att")}`;
    const content = `ATTACHED-CONTENT-${marker("att-body")}`;
    const id = await start(a, { input, attachments: [{ name: "notes.txt", mediaType: "text/plain", content }] });
    const done = await waitEnd(a, id);
    expect(done.status).toBe("completed");
    const req = await requestWith(fakeA, input);
    expect(JSON.stringify(req.body)).toContain(content);
  });

  test("a base64 text attachment reaches the model decoded", async () => {
    const input = `Summarize the data ${marker("att64")}`;
    const content = `BASE64-CONTENT-${marker("att64-body")}`;
    const id = await start(a, { input, attachments: [{ name: "data.csv", mediaType: "text/csv", data: Buffer.from(content).toString("base64") }] });
    expect((await waitEnd(a, id)).status).toBe("completed");
    const req = await requestWith(fakeA, input);
    expect(promptText(req.body)).toContain(content);
  });

  test("an oversized attachment → 400 param attachments.0, nothing queued", async () => {
    const before = (await a("GET", "/api/v1/executions?limit=1")).body.first_id;
    const r = await a("POST", RUN, { body: { input: "Summarize", attachments: [{ name: "big.txt", mediaType: "text/plain", content: "x".repeat(1001) }] } });
    expectError(r, 400, "invalid_request_error", { param: "attachments.0" });
    expect((await a("GET", "/api/v1/executions?limit=1")).body.first_id).toBe(before);
    // At the limit is fine.
    const ok = await a("POST", RUN, { body: { input: `Summarize ${marker("att-limit")}`, attachments: [{ name: "ok.txt", mediaType: "text/plain", content: "y".repeat(1000) }] } });
    expect(ok.status).toBe(200);
    await waitEnd(a, ok.body.executionId);
  });

  test("data that is not base64 as the model client decodes it → 400 param attachments.0.data, nothing queued", async () => {
    const before = (await a("GET", "/api/v1/executions?limit=1")).body.first_id;
    for (const data of ["AAAAA", "A", "AA=", "A=AA", "AAAA===", "AA AA!"]) {
      const r = await a("POST", RUN, { body: { input: "Summarize", attachments: [{ name: "a.png", mediaType: "image/png", data }] } });
      expectError(r, 400, "invalid_request_error", { param: "attachments.0.data" });
    }
    expect((await a("GET", "/api/v1/executions?limit=1")).body.first_id).toBe(before);
    // Unpadded and line-wrapped base64 is base64.
    for (const data of ["iVBORw0KGgo", "iVBO\nRw0KGgo="]) {
      const r = await a("POST", RUN, { body: { input: `Summarize ${marker("att-b64")}`, attachments: [{ name: "a.png", mediaType: "image/png", data }] } });
      expect(r.status).toBe(200);
      expect((await waitEnd(a, r.body.executionId)).status).toBe("completed");
    }
  });

  test("an unsupported media type → 400", async () => {
    const r = await a("POST", RUN, { body: { input: "Summarize", attachments: [{ name: "x.exe", mediaType: "application/x-msdownload", data: "TVqQAAMAAAAEAAAA" }] } });
    expectError(r, 400, "invalid_request_error");
    expect(r.body.error.param).toMatch(/^attachments\.0/);
  });

  test("a github connector with a bad repo → 400 param connector.fields.repo; a good one needs github connected first", async () => {
    const r = await a("POST", RUN, { body: { input: "Summarize", connector: { type: "github", fields: { repo: "bad" } } } });
    expectError(r, 400, "invalid_request_error", { param: "connector.fields.repo" });
    // Runs read the repository now (test/connectors-runs.test.ts): without a connection there is nothing to read.
    const good = await a("POST", RUN, { body: { input: "Summarize", connector: { type: "github", fields: { repo: "octo/hello-world" } } } });
    expectError(good, 400, "invalid_request_error", { param: "connector" });
    expect(good.body.error.code).toBe("CONNECTOR_NOT_CONNECTED");
  });
});

describe("model selection", () => {
  test("with only OPENAI_BASE_URL the run completes against the OpenAI-compatible fake", async () => {
    const input = `Summarize via openai ${marker("oai")}`;
    const id = await start(o, { input });
    const done = await waitEnd(o, id);
    expect(done.status).toBe("completed");
    expect(done.provider).toBe("openai-compatible");
    expect(joined(done.outputBlocks)).toBe(answerFor(input).join(""));
    expect(done.usage.inputTokens).toBe(30); // the fake's prompt_tokens
    expect(done.cost).toBeCloseTo(expectedCost(done.usage.inputTokens, done.usage.outputTokens), 9);
    const req = await requestWith(fakeO, input);
    expect(req.path).toBe("/v1/chat/completions");
    expect(systemText(req.body)).toContain(instructions);
    expect(fakeA.requests.some((q) => promptText(q.body).includes(input))).toBe(false);
  });

  test("no model configured → 400 MODEL_NOT_CONFIGURED naming BYOK and the server env vars; nothing queued", async () => {
    const r = await none("POST", RUN, { body: { input: "Summarize this" } });
    expectError(r, 400, "invalid_request_error", { code: "MODEL_NOT_CONFIGURED" });
    expect(r.body.error.message).toMatch(/byok/i);
    expect(r.body.error.message).toContain("ANTHROPIC_API_KEY");
    expect(r.body.error.message).toContain("OPENAI_BASE_URL");
    const list = await none("GET", "/api/v1/executions");
    expect(list.body.data).toEqual([]);
  });

  test("a provider that repeats the key it refused: the run's error, status and log name a workspace's own key by its last four, the server's by no part of it", async () => {
    expect((await byokWs("PUT", "/api/v1/byok", { body: { anthropicKey: BYOK_KEY } })).status).toBe(200);
    for (const [call, key, shown] of [[byokWs, BYOK_KEY, `…${BYOK_KEY.slice(-4)}`], [a, SERVER_KEY, "[the server's key]"]] as const) {
      const input = `Summarize, key repeated [[echo-key]] ${marker("echo-key")}`;
      const done = await waitEnd(call, await start(call, { input }));
      expect((await requestWith(fakeA, input)).headers["x-api-key"]).toBe(key);
      expect({ status: done.status, message: done.error?.message }).toEqual({ status: "failed", message: expect.stringContaining(`invalid api key: ${shown}`) });
      const list = (await call("GET", "/api/v1/executions?limit=5")).body;
      expect(JSON.stringify([done, list])).not.toContain(key);
      if (key === SERVER_KEY) expect(JSON.stringify([done, list])).not.toContain(key.slice(-4));
    }
    // The server's key as the provider masks it (OpenAI's 401): no part of it either.
    const masked = await waitEnd(a, await start(a, { input: `Summarize, key masked [[masked-key]] ${marker("masked-key")}` }));
    expect({ code: masked.error?.code, message: masked.error?.message }).toEqual({ code: "MODEL_AUTH_FAILED", message: expect.stringContaining("Incorrect API key provided: [the server's key]") });
    expect(masked.error.message).not.toContain(SERVER_KEY.slice(-4));
    expect(masked.error.message).not.toContain(SERVER_KEY.slice(0, 8));
    // As LiteLLM answers (its last four behind "sk-...", its SHA-256), or cut short and dot-masked: nothing of the
    // server's key; a workspace's own by its last four only.
    const sha = (k: string) => new Bun.CryptoHasher("sha256").update(k).digest("hex");
    for (const [call, key] of [[a, SERVER_KEY], [byokWs, BYOK_KEY]] as const) {
      for (const steer of ["[[litellm-key]]", "[[cut-key]]"]) {
        const done = await waitEnd(call, await start(call, { input: `Summarize, key ${steer} ${marker("proxy-key")}` }));
        const message: string = done.error.message;
        expect({ steer, code: done.error.code }).toEqual({ steer, code: "MODEL_AUTH_FAILED" });
        for (const part of [key.slice(0, -3), key.slice(0, 14), sha(key), key.slice(3, 15)]) expect({ steer, leaked: message.includes(part) }).toEqual({ steer, leaked: false });
        if (key === SERVER_KEY) expect({ steer, last4: message.includes(key.slice(-4)) }).toEqual({ steer, last4: false });
        else expect(message).toContain(`…${key.slice(-4)}`);
      }
    }
    expect(srv.logs()).not.toContain(BYOK_KEY);
    expect(srv.logs()).not.toContain(SERVER_KEY);
    expect(srv.logs()).not.toContain(sha(SERVER_KEY));
  });

  test("BYOK: the model sees the workspace's key, the run costs 0 and charges nothing", async () => {
    const put = await byokWs("PUT", "/api/v1/byok", { body: { anthropicKey: BYOK_KEY } });
    expect(put.status).toBe(200);
    expect(put.body.configured).toBe(true);
    const input = `Summarize with my key ${marker("byok")}`;
    const id = await start(byokWs, { input });
    const done = await waitEnd(byokWs, id);
    expect(done.status).toBe("completed");
    expect(done.byok).toBe(true);
    expect(done.usage.inputTokens).toBeGreaterThan(0);
    expect(done.cost).toBe(0);
    const req = await requestWith(fakeA, input);
    expect(req.headers["x-api-key"]).toBe(BYOK_KEY);
    const tx = await byokWs("GET", "/api/v1/billing/transactions?limit=100");
    expect(tx.status).toBe(200);
    expect(tx.body.data.filter((t: any) => t.kind === "charge")).toEqual([]);
    expect(tx.body.data.some((t: any) => t.executionId === id)).toBe(false);
    expect((await byokWs("GET", "/api/v1/billing/balance")).body.balance).toBe(100);
  });

  test("BYOK: a replaced key is the very next runs' key, and once removed the server's key is (workers keep no stale model)", async () => {
    const runsSee = async (label: string) => {
      const seen: string[] = [];
      // Several runs one after another: each worker that ran one with the old key is asked again.
      for (let i = 0; i < 4; i++) {
        const input = `Summarize ${marker(`${label}-${i}`)}`;
        expect((await waitEnd(byokWs, await start(byokWs, { input }))).status).toBe("completed");
        seen.push((await requestWith(fakeA, input)).headers["x-api-key"]!);
      }
      return [...new Set(seen)];
    };
    const OTHER_KEY = "sk-ant-byok-other-key-0123456789ABCDEFGH";
    expect((await byokWs("PUT", "/api/v1/byok", { body: { anthropicKey: BYOK_KEY } })).status).toBe(200);
    expect(await runsSee("byok-first")).toEqual([BYOK_KEY]);
    expect((await byokWs("PUT", "/api/v1/byok", { body: { anthropicKey: OTHER_KEY } })).status).toBe(200);
    expect(await runsSee("byok-replaced")).toEqual([OTHER_KEY]);
    expect((await byokWs("DELETE", "/api/v1/byok")).status).toBe(200);
    expect(await runsSee("byok-removed")).toEqual([SERVER_KEY]);
  });
});

describe("a model key bound to the skill (POST /skills/:slug/secrets)", () => {
  const SKILL_KEY = "sk-ant-skill-key-0123456789abcdefghijklmn";

  /** A new workspace on `server` with `value` bound to summarize as `envVar`; the binding's id. */
  async function bound(server: TestServer, label: string, envVar: string, value: string): Promise<{ call: Call; binding: string }> {
    const call = client(server, { apiKey: await server.createKey({ email: uniqueEmail(label) }) });
    const secret = await call("POST", "/api/v1/secrets", { body: { name: `${label}-key`, value } });
    expect(secret.status).toBe(200);
    const binding = await call("POST", "/api/v1/skills/summarize/secrets", { body: { secretId: secret.body.id, envVar } });
    expect({ status: binding.status, text: binding.text }).toMatchObject({ status: 200 });
    return { call, binding: binding.body.id };
  }

  test("ANTHROPIC_API_KEY: the skill's runs send it, cost 0 and charge nothing; another skill's runs, and the skill once unbound, use the server's key", async () => {
    const { call, binding } = await bound(srv, "skill-key", "ANTHROPIC_API_KEY", SKILL_KEY);
    const input = `Summarize with the skill's key ${marker("skill-key")}`;
    const done = await waitEnd(call, await start(call, { input }));
    expect(done).toMatchObject({ status: "completed", byok: true, cost: 0 });
    expect((await requestWith(fakeA, input)).headers["x-api-key"]).toBe(SKILL_KEY);
    const tx = (await call("GET", "/api/v1/billing/transactions?limit=100")).body.data;
    expect(tx.filter((t: any) => t.kind === "charge")).toEqual([]);
    const other = `Review with the server's key ${marker("skill-key-other")}`;
    const r = await call("POST", "/api/v1/skills/code-review/run", { body: { input: other } });
    expect(r.status).toBe(200);
    expect((await waitEnd(call, r.body.executionId)).byok).toBe(false);
    expect((await requestWith(fakeA, other)).headers["x-api-key"]).toBe(SERVER_KEY);
    expect((await call("DELETE", `/api/v1/skills/summarize/secrets/${binding}`)).status).toBe(200);
    const after = `Summarize unbound ${marker("skill-key-unbound")}`;
    expect((await waitEnd(call, await start(call, { input: after }))).byok).toBe(false);
    expect((await requestWith(fakeA, after)).headers["x-api-key"]).toBe(SERVER_KEY);
  });

  test("a bound key pasted with a line break after it is sent and hidden as the key it is; one with a break inside → 400 MODEL_KEY_INVALID naming the secret", async () => {
    const pasted = await bound(srv, "skill-key-pasted", "ANTHROPIC_API_KEY", ` ${SKILL_KEY}  \n`);
    const input = `Summarize, key repeated [[echo-key]] ${marker("pasted-key")}`;
    const done = await waitEnd(pasted.call, await start(pasted.call, { input }));
    expect((await requestWith(fakeA, input)).headers["x-api-key"]).toBe(SKILL_KEY);
    expect(done.error.message).toContain(`invalid api key: …${SKILL_KEY.slice(-4)}`);
    expect(JSON.stringify(done)).not.toContain(SKILL_KEY.slice(0, 20));
    const broken = await bound(srv, "skill-key-broken", "ANTHROPIC_API_KEY", `${SKILL_KEY.slice(0, 20)}\n${SKILL_KEY.slice(20)}`);
    const r = await broken.call("POST", RUN, { body: { input: "Summarize with a broken key" } });
    expectError(r, 400, "invalid_request_error", { code: "MODEL_KEY_INVALID" });
    expect(r.body.error.message).toMatch(/^The secret sec_\d+ bound to summarize as ANTHROPIC_API_KEY holds a space, line break/);
    expect(r.body.error.message).not.toContain(SKILL_KEY.slice(0, 20));
    expect((await broken.call("GET", "/api/v1/executions")).body.data).toEqual([]);
  });

  test("OPENAI_API_KEY: sent to the server's OpenAI-compatible endpoint; with none configured (Anthropic only) the binding is not used", async () => {
    const oai = await bound(srvO, "skill-oai", "OPENAI_API_KEY", "sk-openai-skill-key-0123456789");
    const input = `Summarize with the skill's OpenAI key ${marker("skill-oai")}`;
    expect(await waitEnd(oai.call, await start(oai.call, { input }))).toMatchObject({ status: "completed", provider: "openai-compatible", byok: true, cost: 0 });
    expect((await requestWith(fakeO, input)).headers["authorization"]).toBe("Bearer sk-openai-skill-key-0123456789");
    const anthropicOnly = await bound(srv, "skill-oai-nowhere", "OPENAI_API_KEY", "sk-openai-skill-key-0123456789");
    const there = `Summarize on the Anthropic server ${marker("skill-oai-nowhere")}`;
    expect(await waitEnd(anthropicOnly.call, await start(anthropicOnly.call, { input: there }))).toMatchObject({ status: "completed", provider: "anthropic", byok: false });
    expect((await requestWith(fakeA, there)).headers["x-api-key"]).toBe(SERVER_KEY);
  });
});

describe("model failures end the run failed with the provider's reason", () => {
  const cases = [
    { steer: "[[fail:500]]", code: "MODEL_UNAVAILABLE", reason: /Internal server error/, partial: false },
    // Whose key it was, and who can replace it.
    { steer: "[[fail:401]]", code: "MODEL_AUTH_FAILED", reason: /invalid x-api-key\. It refused the server's key: the server's operator can replace ANTHROPIC_API_KEY/, partial: false },
    { steer: "[[fail:429]]", code: "MODEL_RATE_LIMITED", reason: /rate limit.*run it again later/, partial: false },
    // How much of a broken stream arrives before the break is the sockets' business: its usage is not checked.
    { steer: "[[drop]]", code: "MODEL_STREAM_ERROR", reason: /\S/, partial: undefined },
    // A stream closed cleanly mid-answer is a cut-off answer, not a completed run.
    { steer: "[[eof]]", code: "MODEL_STREAM_ERROR", reason: /closed before the answer was complete/, partial: true },
    // Overloaded mid-answer is the code an overloaded status gets.
    { steer: "[[stream-error:overloaded_error]]", code: "MODEL_UNAVAILABLE", reason: /overloaded_error: Overloaded/, partial: true },
  ];
  test("a provider's passing refusal (529 overloaded, 429) is retried: the run completes; a lasting one fails after 3 tries", async () => {
    for (const status of [529, 429]) {
      const input = `Summarize after a refusal [[fail-once:${status}]] ${marker("retry")}`;
      const done = await waitEnd(a, await start(a, { input }), 10_000);
      expect({ status, run: done.status }).toEqual({ status, run: "completed" });
      expect(fakeA.requests.filter((q) => promptText(q.body).includes(input)).length).toBe(2);
    }
    const input = `Summarize never [[fail:500]] ${marker("retry-lasting")}`;
    expect((await waitEnd(a, await start(a, { input }), 10_000)).error.code).toBe("MODEL_UNAVAILABLE");
    expect(fakeA.requests.filter((q) => promptText(q.body).includes(input)).length).toBe(3);
    // A refused key is not retried.
    const refused = `Summarize with a bad key [[fail:401]] ${marker("retry-401")}`;
    expect((await waitEnd(a, await start(a, { input: refused }), 10_000)).error.code).toBe("MODEL_AUTH_FAILED");
    expect(fakeA.requests.filter((q) => promptText(q.body).includes(refused)).length).toBe(1);
  });

  for (const c of cases) {
    test(`${c.steer} → failed ${c.code}`, async () => {
      const input = `Summarize ${c.steer} ${marker("fail")}`;
      const id = await start(a, { input });
      const done = await waitEnd(a, id, 10_000);
      expect({ status: done.status, code: done.error?.code, message: done.error?.message }).toMatchObject({ status: "failed", code: c.code });
      expect(done.error.message).toMatch(c.reason);
      // Bun's fetch advice to whoever wrote the call ("pass `verbose: true` …") is not the caller's.
      expect(done.error.message).not.toContain("verbose");
      expect(typeof done.executionTime).toBe("number");
      // Broken mid-answer, the run still records (and pays for) the input the provider reported at its start, and the
      // output it streamed before the break (not reported: at 4 characters a token).
      const streamed = done.outputBlocks.map((b: any) => b.content).join("").length;
      if (c.partial) expect({ usage: done.usage, cost: done.cost }).toEqual({ usage: { inputTokens: 42, outputTokens: Math.max(1, Math.ceil(streamed / 4)) }, cost: expectedCost(42, Math.max(1, Math.ceil(streamed / 4))) });
      else if (c.partial === false) expect({ usage: done.usage, cost: done.cost }).toEqual({ usage: { inputTokens: 0, outputTokens: 0 }, cost: 0 });
      await requestWith(fakeA, input);
      // The operator hears it as one structured warn line, not the SDK's error object on stderr.
      const line = await waitUntil("the run's warn line", () => logMessages(srv.logs()).split("\n").find((l) => l.startsWith(`run ${id} (summarize) failed: ${c.code}: `)));
      expect(line).toMatch(c.reason);
      expect(srv.logs()).not.toContain("APICallError");
      expect(srv.logs()).not.toContain("requestBodyValues");
    });
  }
});

describe("what a provider reports it used is bounded by what the run could use", () => {
  // CLANKER_MAX_OUTPUT_TOKENS' default: what each run asks its provider for at most.
  const MAX_OUTPUT = 4096;
  test("a trillion tokens (either provider): charged the answer asked for at most, and no more input than the prompt has bytes", async () => {
    for (const [call, name] of [[a, "anthropic"], [o, "openai"]] as const) {
      const input = `Summarize on a lying meter [[usage:1e12,1e12]] ${marker(`usage-huge-${name}`)}`;
      const before = (await call("GET", "/api/v1/billing/balance")).body;
      const done = await waitEnd(call, await start(call, { input }), 10_000);
      expect({ name, status: done.status, output: done.usage.outputTokens }).toEqual({ name, status: "completed", output: MAX_OUTPUT });
      expect(done.usage.inputTokens).toBeGreaterThan(0);
      expect(done.usage.inputTokens).toBeLessThan(1_000 + 4 * (instructions.length + input.length));
      expect(done.cost).toBeCloseTo(expectedCost(done.usage.inputTokens, done.usage.outputTokens), 9);
      const after = (await call("GET", "/api/v1/billing/balance")).body;
      // 4096 answer tokens cost ~6 credits; the trillion would have cost 1.8 billion.
      expect(before.balance - after.balance).toBeLessThan(10);
    }
  });

  test("a document's pages count beyond its bytes: a small PDF reported at 150,000 tokens is charged them", async () => {
    const pdf = Buffer.from("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n").toString("base64");
    const input = `Summarize a hundred pages [[usage:150000,10]] ${marker("usage-pdf")}`;
    const done = await waitEnd(a, await start(a, { input, attachments: [{ name: "long.pdf", mediaType: "application/pdf", data: pdf }] }), 10_000);
    expect({ status: done.status, usage: done.usage }).toEqual({ status: "completed", usage: { inputTokens: 150_000, outputTokens: 10 } });
  });

  test("negative and fractional counts are whole and not below zero, and every list still answers", async () => {
    const input = `Summarize on a broken meter [[usage:0.5,-5000000]] ${marker("usage-odd")}`;
    const id = await start(a, { input });
    const done = await waitEnd(a, id, 10_000);
    expect({ status: done.status, usage: done.usage, cost: done.cost }).toEqual({ status: "completed", usage: { inputTokens: 1, outputTokens: 0 }, cost: expectedCost(1, 0) });
    const list = await a("GET", "/api/v1/executions?limit=5");
    expect(list.status).toBe(200);
    expect(list.body.data.find((e: any) => e.id === id)?.usage).toEqual({ inputTokens: 1, outputTokens: 0 });
  });
});

describe("a provider that answers with a redirect", () => {
  test("is not followed to another address with the run's key: the run fails saying so (either provider, a BYOK key too)", async () => {
    const reached: Record<string, string>[] = [];
    const elsewhere = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => (reached.push(Object.fromEntries(req.headers)), new Response("{}", { status: 500 })) });
    try {
      for (const [call, name] of [[a, "anthropic"], [o, "openai"], [byokWs, "byok"]] as const) {
        const input = `Summarize somewhere else [[redirect:${elsewhere.port}]] ${marker(`redirect-${name}`)}`;
        const done = await waitEnd(call, await start(call, { input }), 10_000);
        expect({ name, status: done.status, code: done.error?.code }).toEqual({ name, status: "failed", code: "MODEL_ERROR" });
        expect(done.error.message).toContain(`307, sending the call to http://127.0.0.1:${elsewhere.port}: not followed`);
      }
      expect(reached).toEqual([]);
    } finally {
      elsewhere.stop(true);
    }
  });

  test("on the provider's own origin is followed, as fetch would (a proxy normalising its path)", async () => {
    const input = `Summarize via a moved path [[redirect:self]] ${marker("redirect-self")}`;
    expect((await waitEnd(a, await start(a, { input }), 10_000)).status).toBe("completed");
    expect(fakeA.requests.filter((q) => promptText(q.body).includes(input)).length).toBe(2);
  });
});

describe("an answer longer than its token limit can hold", () => {
  test("is read up to the bound and the run fails saying so, charged at most the answer's limit; the provider's request is closed there", async () => {
    const input = `Summarize at length [[bulk:700000]] [[slow:20]] ${marker("bulk")}`;
    const done = await waitEnd(a, await start(a, { input }), 20_000);
    expect({ status: done.status, code: done.error?.code, message: done.error?.message }).toEqual({ status: "failed", code: "MODEL_ERROR", message: expect.stringContaining("more text than its answer's token limit can hold (over 524288 characters)") });
    const kept = done.outputBlocks.map((b: { content: string }) => b.content).join("").length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThanOrEqual(4096 * 128);
    expect(done.usage.outputTokens).toBeLessThanOrEqual(4096);
    // Not read on to its end: the provider would go on generating (and billing) an answer nobody reads.
    const request = fakeA.requests.find((q) => promptText(q.body).includes(input))!;
    for (let i = 0; i < 100 && !request.aborted; i++) await Bun.sleep(20);
    expect({ aborted: request.aborted, finished: request.finished }).toEqual({ aborted: true, finished: false });
  });
});

test("an Anthropic event or delta of a type it has not defined yet is skipped: the run completes with the whole answer", async () => {
  const input = `Summarize despite new events [[future]] ${marker("future")}`;
  const done = await waitEnd(a, await start(a, { input }), 10_000);
  expect({ status: done.status, error: done.error }).toEqual({ status: "completed", error: null });
  expect(done.outputBlocks.map((b: { content: string }) => b.content).join("")).toBe(answerFor(input).join(""));
});

describe("a refused key", () => {
  test("a workspace's own key refused: the message says it was that key, and how to replace it", async () => {
    expect((await byokWs("PUT", "/api/v1/byok", { body: { anthropicKey: BYOK_KEY } })).status).toBe(200);
    try {
      const done = await waitEnd(byokWs, await start(byokWs, { input: `Summarize with a refused key [[fail:401]] ${marker("byok-401")}` }), 10_000);
      expect({ code: done.error?.code, message: done.error?.message }).toEqual({ code: "MODEL_AUTH_FAILED", message: expect.stringContaining("It refused the workspace's own key (…zyxw) (BYOK, or the skill's bound key): replace it (PUT /api/v1/byok)") });
    } finally {
      expect((await byokWs("DELETE", "/api/v1/byok")).status).toBe(200);
    }
  });
});

describe("cancel", () => {
  let cancelledId: string;

  test("cancel mid-stream → cancelled, and the fake's stream is stopped", async () => {
    const input = `Summarize slowly [[slow]] ${marker("cancel")}`;
    const id = await start(a, { input });
    // Mid-stream: running with at least one block already in.
    await waitStatus(a, id, (s) => s.status === "running" && s.outputBlocks.length > 0);
    const r = await a("POST", `/api/v1/executions/${id}/cancel`);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe("cancelled");
    // This run's own request (an earlier test's run was cut off too).
    const req = await requestWith(fakeA, input);
    for (let i = 0; i < 250 && !req.aborted; i++) await sleep(20);
    expect({ aborted: req.aborted, finished: req.finished }).toEqual({ aborted: true, finished: false });
    // It stays cancelled once the worker winds down.
    await sleep(300);
    const s = await a("GET", `/api/v1/executions/${id}/status`);
    expect(s.body.status).toBe("cancelled");
    cancelledId = id;
    // The input the provider reported at its start is recorded and charged, as the provider bills it, and the output
    // it had streamed by the cancel, which it had not reported yet: at least what was saved, at 4 characters a token.
    const charged = await waitStatus(a, id, (b) => b.usage.inputTokens > 0);
    const saved = charged.outputBlocks.map((b: any) => b.content).join("").length;
    expect(charged.usage.inputTokens).toBe(42);
    expect(charged.usage.outputTokens).toBeGreaterThanOrEqual(Math.max(2, Math.ceil(saved / 4)));
    expect(charged.cost).toBe(expectedCost(42, charged.usage.outputTokens));
  });

  test("an OpenAI-compatible server that sends no usage at all: the completed run is charged its prompt and answer at 4 characters a token, not 0", async () => {
    const call = client(srvO, { apiKey: await srvO.createKey({ email: uniqueEmail("no-usage") }) });
    const input = `Summarize, no usage sent [[no-usage]] ${marker("no-usage")}`;
    const done = await waitEnd(call, await start(call, { input }));
    const answer = done.outputBlocks.map((b: any) => b.content).join("");
    expect(done.status).toBe("completed");
    expect(done.usage.outputTokens).toBe(Math.ceil(answer.length / 4));
    expect(done.usage.inputTokens).toBeGreaterThan(Math.ceil(input.length / 4));
    expect(done.cost).toBe(expectedCost(done.usage.inputTokens, done.usage.outputTokens));
  });

  test("an Anthropic-compatible server that sends no usage (a proxy, a local server): the run completes, charged at 4 characters a token, and the log warns once", async () => {
    const input = (n: number) => `Summarize, no usage sent [[no-usage]] ${marker(`no-usage-anthropic-${n}`)}`;
    const first = await waitEnd(a, await start(a, { input: input(1) }));
    expect({ status: first.status, error: first.error }).toEqual({ status: "completed", error: null });
    const answer = first.outputBlocks.map((b: any) => b.content).join("");
    expect(first.usage.outputTokens).toBe(Math.ceil(answer.length / 4));
    expect(first.usage.inputTokens).toBeGreaterThan(Math.ceil(input(1).length / 4));
    expect(first.cost).toBe(expectedCost(first.usage.inputTokens, first.usage.outputTokens));
    expect((await waitEnd(a, await start(a, { input: input(2) }))).status).toBe("completed");
    const warnings = srv.logs().split("\n").filter((l) => l.includes("sent no token usage"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(fakeA.url);
  });

  test("an Anthropic-compatible proxy that gives usage only in message_delta: its output count is charged as given (not raised to the estimate), its input estimated", async () => {
    const input = `Summarize, usage at the end only [[delta-usage-only]] [[usage:0,3]] ${marker("delta-usage-only")}`;
    const done = await waitEnd(a, await start(a, { input }));
    expect({ status: done.status, error: done.error }).toEqual({ status: "completed", error: null });
    const answer = done.outputBlocks.map((b: any) => b.content).join("");
    expect(Math.ceil(answer.length / 4)).toBeGreaterThan(3);
    expect(done.usage.outputTokens).toBe(3);
    expect(done.usage.inputTokens).toBeGreaterThan(Math.ceil(input.length / 4));
    expect(done.cost).toBe(expectedCost(done.usage.inputTokens, 3));
    // The reverse, with a placeholder 0 for the prompt: no count (a prompt is never 0 tokens), so it is estimated too.
    const placeholder = `Summarize, usage at the start only [[start-usage-only]] [[usage:0,1]] ${marker("start-usage-only")}`;
    const other = await waitEnd(a, await start(a, { input: placeholder }));
    expect(other.status).toBe("completed");
    expect(other.usage.inputTokens).toBeGreaterThan(Math.ceil(placeholder.length / 4));
    expect(other.usage.outputTokens).toBe(Math.ceil(other.outputBlocks.map((b: any) => b.content).join("").length / 4));
  });

  test("a completed run says why its answer ended (stopReason): end_turn, max_tokens when cut off at the token limit, refusal; Anthropic's and OpenAI's words alike; null for a failed run", async () => {
    const oai = client(srvO, { apiKey: await srvO.createKey({ email: uniqueEmail("stop-reason") }) });
    const ended = async (call: typeof a, input: string) => {
      const done = await waitEnd(call, await start(call, { input: `${input} ${marker("stop-reason")}` }));
      return { status: done.status, stopReason: done.stopReason };
    };
    expect(await ended(a, "Summarize")).toEqual({ status: "completed", stopReason: "end_turn" });
    expect(await ended(a, "Summarize [[stop:max_tokens]]")).toEqual({ status: "completed", stopReason: "max_tokens" });
    expect(await ended(a, "Summarize [[stop:refusal]]")).toEqual({ status: "completed", stopReason: "refusal" });
    expect(await ended(a, "Summarize [[stop:stop_sequence]]")).toEqual({ status: "completed", stopReason: "stop_sequence" });
    expect(await ended(oai, "Summarize")).toEqual({ status: "completed", stopReason: "end_turn" });
    expect(await ended(oai, "Summarize [[stop:length]]")).toEqual({ status: "completed", stopReason: "max_tokens" });
    expect(await ended(oai, "Summarize [[stop:content_filter]]")).toEqual({ status: "completed", stopReason: "refusal" });
    expect(await ended(a, "Summarize [[fail:500]]")).toEqual({ status: "failed", stopReason: null });
    // The list says it too.
    const listed = (await a("GET", "/api/v1/executions?limit=10")).body.data as { stopReason: string | null }[];
    expect(listed.map((e) => e.stopReason)).toContain("max_tokens");
  }, 30_000);

  test("an answer that is only a tool call, with no usage sent, is charged its prompt and the call's arguments, not 0", async () => {
    const call = client(srvO, { apiKey: await srvO.createKey({ email: uniqueEmail("tool-only") }) });
    const input = `Summarize [[tool-only]] [[no-usage]] ${marker("tool-only")}`;
    const done = await waitEnd(call, await start(call, { input }));
    const args = JSON.stringify({ query: "x".repeat(4000) });
    expect(done.usage.outputTokens).toBe(Math.ceil(args.length / 4));
    expect(done.usage.inputTokens).toBeGreaterThan(Math.ceil(input.length / 4));
    expect(done.cost).toBeGreaterThan(0);
  });

  test("cancel mid-stream on an OpenAI-compatible provider (no usage until its end): what it had read and streamed is charged", async () => {
    const call = client(srvO, { apiKey: await srvO.createKey({ email: uniqueEmail("cancel-oai") }) });
    const input = `Summarize slowly [[slow]] ${marker("cancel-oai")}`;
    const id = await start(call, { input });
    await waitStatus(call, id, (s) => s.status === "running" && s.outputBlocks.length > 0);
    expect((await call("POST", `/api/v1/executions/${id}/cancel`)).status).toBe(200);
    const charged = await waitStatus(call, id, (b) => b.usage.inputTokens > 0);
    const saved = charged.outputBlocks.map((b: any) => b.content).join("").length;
    // The prompt (the skill's instructions and the input) at 4 characters a token.
    expect(charged.usage.inputTokens).toBeGreaterThan(Math.ceil(input.length / 4));
    expect(charged.usage.outputTokens).toBeGreaterThanOrEqual(Math.ceil(saved / 4));
    expect(charged.cost).toBe(expectedCost(charged.usage.inputTokens, charged.usage.outputTokens));
    expect(charged.cost).toBeGreaterThan(0);
  });

  test("cancelling an ended run → 409 EXECUTION_NOT_RUNNING", async () => {
    const r = await a("POST", `/api/v1/executions/${cancelledId}/cancel`);
    expectError(r, 409, "conflict_error", { code: "EXECUTION_NOT_RUNNING" });
    const id = await start(a, { input: `Summarize ${marker("done")}` });
    expect((await waitEnd(a, id)).status).toBe("completed");
    expectError(await a("POST", `/api/v1/executions/${id}/cancel`), 409, "conflict_error", { code: "EXECUTION_NOT_RUNNING" });
  });
});

describe("rerun", () => {
  let original: string;
  let rerunId: string;
  let runningId: string;

  test("rerun of a completed run with new input creates a new execution with rerunOf and the new input", async () => {
    original = await start(a, { input: `Summarize the original ${marker("orig")}` });
    expect((await waitEnd(a, original)).status).toBe("completed");
    const newInput = `Summarize the new text ${marker("rerun")}`;
    const r = await a("POST", `/api/v1/executions/${original}/rerun`, { body: { input: newInput } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ skillName: "Summarize", status: "started", sseUrl: "/api/events" });
    expect(r.body.executionId).toMatch(/^exec_\d+$/);
    expect(r.body.executionId).not.toBe(original);
    rerunId = r.body.executionId;
    const done = await waitEnd(a, rerunId);
    expect(done).toMatchObject({ status: "completed", rerunOf: original, input: newInput });
    expect(joined(done.outputBlocks)).toBe(answerFor(newInput).join(""));
    await requestWith(fakeA, newInput);
    // The original is untouched.
    const orig = await a("GET", `/api/v1/executions/${original}/status`);
    expect(orig.body.rerunOf).toBeNull();
    expect(orig.body.input).not.toBe(newInput);
  });

  test("a rerun comes from its caller's interface (api unless it says), not the original's: a client following sources=api hears it", async () => {
    const fromWeb = await start(a, { input: `Summarize from the web ${marker("web")}`, interface: "web" });
    expect((await waitEnd(a, fromWeb)).status).toBe("completed");
    const again = await a("POST", `/api/v1/executions/${fromWeb}/rerun`);
    expect(again.status).toBe(200);
    const interfaceOf = async (id: string) => (await a("GET", "/api/v1/executions?limit=10")).body.data.find((e: { id: string }) => e.id === id)?.interface;
    expect(await interfaceOf(again.body.executionId)).toBe("api");
    const fromPage = await a("POST", `/api/v1/executions/${fromWeb}/rerun`, { body: { interface: "web" } });
    expect(await interfaceOf(fromPage.body.executionId)).toBe("web");
    expectError(await a("POST", `/api/v1/executions/${fromWeb}/rerun`, { body: { interface: "Not A Word" } }), 400, "invalid_request_error", { param: "interface" });
    await waitEnd(a, again.body.executionId);
    await waitEnd(a, fromPage.body.executionId);
  });

  test("rerun while running → 409 EXECUTION_RUNNING", async () => {
    runningId = await start(a, { input: `Summarize slowly [[slow]] ${marker("busy")}` });
    await waitStatus(a, runningId, (s) => s.status === "running");
    const r = await a("POST", `/api/v1/executions/${runningId}/rerun`, { body: { input: "again" } });
    expectError(r, 409, "conflict_error", { code: "EXECUTION_RUNNING" });
    expect((await a("POST", `/api/v1/executions/${runningId}/cancel`)).status).toBe(200);
  });

  test("audit rows execution.create, execution.cancel and execution.rerun", async () => {
    const creates = await audit(a, "execution.create");
    expect(creates.map((e) => e.resourceId)).toContain(original);
    expect(creates.find((e) => e.resourceId === original)).toMatchObject({ action: "execution.create", resourceType: "execution" });
    const reruns = await audit(a, "execution.rerun");
    expect(reruns.find((e) => e.resourceId === rerunId)).toMatchObject({ action: "execution.rerun", resourceType: "execution" });
    expect(reruns.some((e) => e.resourceId === original)).toBe(false);
    const cancels = await audit(a, "execution.cancel");
    expect(cancels.find((e) => e.resourceId === runningId)).toMatchObject({ action: "execution.cancel", resourceType: "execution" });
    expect(creates.some((e) => e.resourceId === rerunId)).toBe(false);
  });
});

describe("listing, idempotency and isolation", () => {
  test("a page holds at most 8 MB of inputs: it ends early with has_more, and the cursor walks the rest", async () => {
    const key = await srv.createKey({ email: uniqueEmail("big-list") });
    const call = client(srv, { apiKey: key });
    const ws = Number((await call("GET", "/api/v1/workspaces/current")).body.id.replace("ws_", ""));
    // Five finished runs of 3 MB inputs, written straight into the store (sending them to the model is not the point).
    for (let i = 0; i < 5; i++)
      await runSql(srv, "INSERT INTO executions (workspace_id, skill_slug, skill_name, status, input, interface, created_at) VALUES (?, 'summarize', 'Summarize', 'failed', ?, 'api', ?)", ws, `${i}`.repeat(3 * 1024 * 1024), Date.now());
    const seen: string[] = [];
    const sizes: number[] = [];
    let after = "";
    for (;;) {
      const page = await call("GET", `/api/v1/executions?limit=100${after ? `&after_id=${after}` : ""}`);
      expect(page.status).toBe(200);
      sizes.push(page.body.data.length);
      seen.push(...page.body.data.map((e: any) => e.id));
      expect(page.body.data.every((e: any) => e.input.length === 3 * 1024 * 1024)).toBe(true);
      if (!page.body.has_more) break;
      after = page.body.last_id;
    }
    expect(sizes).toEqual([2, 2, 1]);
    expect(new Set(seen).size).toBe(5);
    // before_id from the oldest gives its newer neighbours, closest first, within the same bound.
    const back = await call("GET", `/api/v1/executions?limit=100&before_id=${seen[4]}`);
    expect({ ids: back.body.data.map((e: any) => e.id), more: back.body.has_more }).toEqual({ ids: [seen[2], seen[3]], more: true });
  }, 30_000);

  test("GET /executions cursor-paginates newest first", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(await start(listWs, { input: `Summarize item ${i} ${marker("list")}` }));
    const p1 = await listWs("GET", "/api/v1/executions?limit=2");
    expect(p1.status).toBe(200);
    expect(p1.body.data.map((e: any) => e.id)).toEqual([ids[2], ids[1]]);
    expect(p1.body).toMatchObject({ first_id: ids[2], last_id: ids[1], has_more: true });
    const p2 = await listWs("GET", `/api/v1/executions?limit=2&after_id=${p1.body.last_id}`);
    expect(p2.body.data.map((e: any) => e.id)).toEqual([ids[0]]);
    expect(p2.body.has_more).toBe(false);
    const back = await listWs("GET", `/api/v1/executions?limit=2&before_id=${ids[0]}`);
    expect(back.body.data.map((e: any) => e.id)).toEqual([ids[2], ids[1]]);
    for (const id of ids) await waitEnd(listWs, id);
  });

  test("the same idempotency-key twice → one execution; the second answer is replayed", async () => {
    const before = (await listWs("GET", "/api/v1/executions?limit=100")).body.data.length;
    const key = `idem-${marker("idem")}`;
    const body = { input: `Summarize once ${marker("idem-input")}` };
    const r1 = await listWs("POST", RUN, { body, headers: { "idempotency-key": key } });
    const r2 = await listWs("POST", RUN, { body, headers: { "idempotency-key": key } });
    expect(r1.status).toBe(200);
    expect(r2.status).toBe(200);
    expect(r2.body).toEqual(r1.body);
    expect(r1.headers.get("idempotency-replayed")).not.toBe("true");
    expect(r2.headers.get("idempotency-replayed")).toBe("true");
    const after = (await listWs("GET", "/api/v1/executions?limit=100")).body.data;
    expect(after.length).toBe(before + 1);
    expect(after.filter((e: any) => e.input === body.input).length).toBe(1);
    await waitEnd(listWs, r1.body.executionId);
  });

  test("another workspace's execution → 404 on status, cancel and rerun; not listed", async () => {
    const id = await start(a, { input: `Summarize private ${marker("iso")}` });
    expectError(await b("GET", `/api/v1/executions/${id}/status`), 404, "not_found_error");
    expectError(await b("POST", `/api/v1/executions/${id}/cancel`), 404, "not_found_error");
    expectError(await b("POST", `/api/v1/executions/${id}/rerun`, { body: {} }), 404, "not_found_error");
    expect((await b("GET", "/api/v1/executions?limit=100")).body.data.some((e: any) => e.id === id)).toBe(false);
    expect((await waitEnd(a, id)).status).toBe("completed");
  });
});

describe("per-workspace concurrency", () => {
  test("with CLANKER_WORKSPACE_CONCURRENCY=1 a second run waits queued while the first runs", async () => {
    const first = await start(o, { input: `Summarize first [[slow]] ${marker("conc1")}` });
    const second = await start(o, { input: `Summarize second [[slow]] ${marker("conc2")}` });
    await waitStatus(o, first, (s) => s.status === "running");
    // While the first is still running, the second never leaves queued.
    let checks = 0;
    for (;;) {
      // The second's state first, then the first's: if the second had left queued, the first had ended before
      // that read, so the later read of the first sees it ended (read together, they could cross a handover).
      const s = await o("GET", `/api/v1/executions/${second}/status`);
      const f = await o("GET", `/api/v1/executions/${first}/status`);
      if (f.body.status !== "running") break;
      expect(s.body.status).toBe("queued");
      checks++;
      await sleep(50);
      if (checks > 200) throw new Error("the first run never ended");
    }
    expect(checks).toBeGreaterThan(0);
    const f = await waitEnd(o, first);
    expect(f.status).toBe("completed");
    const s = await waitEnd(o, second);
    expect(s.status).toBe("completed");
    expect(Date.parse(s.startedAt)).toBeGreaterThanOrEqual(Date.parse(f.completedAt));
  });

  test("a workspace's backlog of 500+ runs held at its limit does not hold up a run queued later in another workspace", async () => {
    const [busyKey, idleKey] = await Promise.all([srvO.createKey({ email: uniqueEmail("backlog-busy") }), srvO.createKey({ email: uniqueEmail("backlog-idle") })]);
    const busy = client(srvO, { apiKey: busyKey });
    const idle = client(srvO, { apiKey: idleKey });
    // Every busy run takes 4 s (four deltas a second apart) and its workspace runs one at a time: the backlog cannot
    // drain while the test looks.
    const slow = (tag: string) => ({ input: `Summarize [[slow:1000]] ${marker(tag)}` });
    const first = await start(busy, slow("backlog-first"));
    await waitStatus(busy, first, (s) => s.status === "running");
    const backlog: string[] = [];
    for (let i = 0; i < 510; i += 30) backlog.push(...(await Promise.all(Array.from({ length: 30 }, () => start(busy, slow("backlog"))))));
    const other = await start(idle, { input: `Summarize ${marker("backlog-other")}` });
    expect((await waitEnd(idle, other, 10_000)).status).toBe("completed");
    // It went ahead of the backlog, which is still there.
    const last = await busy("GET", `/api/v1/executions/${backlog.at(-1)}/status`);
    expect(last.body.status).toBe("queued");
  }, 60_000);
});

describe("billing", () => {
  test("a new workspace starts with the default grant of 100", async () => {
    const r = await billWs("GET", "/api/v1/billing/balance");
    expect(r.status).toBe(200);
    expect(r.body.balance).toBe(100);
  });

  test("a run's charge is a transaction with its executionId and the balance drops by the cost", async () => {
    const id = await start(billWs, { input: `Summarize for money ${marker("bill")}` });
    const done = await waitEnd(billWs, id);
    expect(done.status).toBe("completed");
    expect(done.cost).toBeGreaterThan(0);
    const tx = await billWs("GET", "/api/v1/billing/transactions?limit=100");
    expect(tx.status).toBe(200);
    const charges = tx.body.data.filter((t: any) => t.executionId === id);
    expect(charges.length).toBe(1);
    expect(charges[0].kind).toBe("charge");
    expect(charges[0].amount).toBeCloseTo(-done.cost, 9);
    expect(charges[0].balanceAfter).toBeCloseTo(100 - done.cost, 9);
    const bal = await billWs("GET", "/api/v1/billing/balance");
    expect(bal.body.balance).toBeCloseTo(100 - done.cost, 9);
  });

  test("a run queued while the credits ran out fails at its start with INSUFFICIENT_CREDITS: never sent to the model, not charged", async () => {
    expect((await broke("GET", "/api/v1/billing/balance")).body.balance).toBe(0.00001);
    // Both are accepted (the balance is above 0); the second waits behind the first, whose cost spends the grant.
    const first = await start(broke, { input: `Summarize slowly [[slow:100]] ${marker("broke-first")}` });
    const late = marker("broke-late");
    const second = await start(broke, { input: `Summarize after it ${late}` });
    const spent = await waitEnd(broke, first);
    expect(spent).toMatchObject({ status: "completed" });
    expect(spent.cost).toBeGreaterThan(0.00001);
    const refused = await waitEnd(broke, second);
    expect(refused).toMatchObject({ status: "failed", cost: 0, error: { code: "INSUFFICIENT_CREDITS" } });
    expect(fakeA.requests.some((q) => promptText(q.body).includes(late))).toBe(false);
    const tx = (await broke("GET", "/api/v1/billing/transactions?limit=100")).body.data;
    expect(tx.filter((t: any) => t.kind === "charge").map((t: any) => t.executionId)).toEqual([first]);
    expect((await broke("GET", "/api/v1/billing/balance")).body.balance).toBeCloseTo(0.00001 - spent.cost, 9);
  });

  test("with no credits left a run is refused with 402 INSUFFICIENT_CREDITS before it exists", async () => {
    expect((await broke("GET", "/api/v1/billing/balance")).body.balance).toBeLessThan(0);
    const before = fakeA.requests.length;
    const listed = (await broke("GET", "/api/v1/executions")).body.data.length;
    const r = await broke("POST", RUN, { body: { input: `Summarize for free ${marker("broke")}` } });
    expectError(r, 402, "billing_error", { code: "INSUFFICIENT_CREDITS" });
    expect((await broke("GET", "/api/v1/executions")).body.data.length).toBe(listed);
    expect(fakeA.requests.length).toBe(before);
  });
});
