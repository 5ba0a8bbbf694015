// Anonymous agents (issue 10, item 2): an unclaimed key holds only the scopes its registration advertises, over
// REST and MCP alike, and everything once a person claims it; CLANKER_ANONYMOUS_AGENTS turns anonymous
// registration off (the default off loopback), and /auth.md and the discovery metadata say which it is.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { loadConfig } from "../src/config";
import { client, startServer, uniqueEmail, type ApiResponse, type TestServer } from "./helpers/server";
import { stopAll } from "./helpers/suite";
import { expectError } from "./helpers/api";
import { startFakeModel, type FakeModel } from "./helpers/fake-models";
import { outboxCode } from "./helpers/mail";
import { connectMcp, toolError, toolOk } from "./helpers/mcp-client";

let srv: TestServer;
let off: TestServer;
let fake: FakeModel;
const clients: Client[] = [];

beforeAll(async () => {
  fake = startFakeModel("anthropic");
  const env = {
    CLANKER_RATE_LIMIT_PER_MINUTE: "10000",
    CLANKER_ANONYMOUS_RATE_LIMIT_PER_MINUTE: "10000",
    ANTHROPIC_API_KEY: "sk-ant-scopes-test-0000000000000000",
    ANTHROPIC_BASE_URL: fake.url,
  };
  [srv, off] = await Promise.all([startServer({ env }), startServer({ env: { ...env, CLANKER_ANONYMOUS_AGENTS: "off" } })]);
}, 30_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await stopAll([srv, off, fake]);
});

const scopeRefusal = (r: ApiResponse, scope: string) => {
  expectError(r, 403, "permission_error", "SCOPE_REQUIRED");
  expect(r.body.error.message).toContain(`'${scope}'`);
};

async function registerAnonymous(s: TestServer) {
  const r = await client(s)("POST", "/agent/auth", { body: { type: "anonymous" } });
  expect(r.status).toBe(200);
  return r.body as { credential: string; claim_token: string; scopes: string[] };
}

describe("an unclaimed agent key", () => {
  let reg: { credential: string; claim_token: string; scopes: string[] };
  let agent: ReturnType<typeof client>;
  let mcp: Client;

  beforeAll(async () => {
    reg = await registerAnonymous(srv);
    agent = client(srv, { apiKey: reg.credential });
    mcp = await connectMcp(srv.url, "streamable", { "x-api-key": reg.credential });
    clients.push(mcp);
  });

  test("registration advertises exactly the scopes that are enforced", () => {
    expect(reg.scopes).toEqual(["skills:run", "executions:read", "artifacts:read", "memory:read", "memory:write", "billing:read", "profile:read"]);
  });

  test("REST: runs a skill, reads its status, writes and reads memory, reads its balance", async () => {
    const run = await agent("POST", "/api/v1/skills/summarize/run", { body: { input: "Agent scopes: a run" } });
    expect(run.status).toBe(200);
    expect((await agent("GET", `/api/v1/executions/${run.body.executionId}/status`)).status).toBe(200);
    expect((await agent("GET", "/api/v1/executions")).status).toBe(200);
    expect((await agent("PUT", "/api/v1/memory", { body: { content: "agent note" } })).status).toBe(200);
    const mem = await agent("GET", "/api/v1/memory");
    expect(mem.status).toBe(200);
    expect(mem.body.content).toBe("agent note");
    expect((await agent("GET", "/api/v1/billing/balance")).status).toBe(200);
  });

  test("REST: 403 SCOPE_REQUIRED on workflow launch, skill install, audit logs, webhook secret rotate, api-key creation", async () => {
    scopeRefusal(await agent("POST", "/api/v1/workflows/parallel-review/launch", { body: { inputData: { code: "x", doc: "y" } } }), "workflows:run");
    scopeRefusal(await agent("POST", "/api/v1/skills/summarize/install"), "skills:install");
    scopeRefusal(await agent("GET", "/api/v1/audit-logs"), "audit-logs:read");
    scopeRefusal(await agent("POST", "/api/v1/webhooks/secret/rotate"), "webhooks:write");
    scopeRefusal(await agent("GET", "/api/v1/webhooks/secret"), "webhooks:read");
    scopeRefusal(await agent("POST", "/api/v1/api-keys", { body: { name: "sneaky" } }), "api-keys:write");
    scopeRefusal(await agent("PUT", "/api/v1/workspaces/current", { body: { workspace: "ws_1" } }), "workspaces:write");
    // Nothing was made.
    expect((await agent("GET", "/api/v1/skills")).body.data).toEqual([]);
  });

  test("MCP: runs a skill to the end and reads memory; workflow start and skill install are refused with SCOPE_REQUIRED", async () => {
    const done = await toolOk(mcp, "execute-skill", { slug: "summarize", input: "Agent scopes over MCP", timeoutSeconds: 60 });
    expect(done.status).toBe("completed");
    expect((await toolOk(mcp, "read-memory")).content).toBe("agent note");
    await toolOk(mcp, "write-memory", { content: "from mcp" });
    await toolOk(mcp, "get-credit-balance");
    for (const [name, args, scope] of [
      ["start-workflow", { workflowId: "parallel-review", inputData: { code: "x", doc: "y" } }, "workflows:run"],
      ["install-skill", { slug: "summarize" }, "skills:install"],
      ["list-workflow-runs", {}, "workflows:read"],
      ["delete-artifact", { id: "art_1" }, "artifacts:write"],
    ] as const) {
      const err = await toolError(mcp, name, args);
      expect({ name, type: err.type, code: err.code }).toEqual({ name, type: "permission_error", code: "SCOPE_REQUIRED" });
      expect(err.message).toContain(`'${scope}'`);
    }
    // resources/list lists what the key may read (skills, memory, the run's artifact) and leaves out the workflows
    // it may not: one refused template used to fail the whole listing. Completion of a workflow id is empty.
    const uris = (await mcp.listResources()).resources.map((r) => r.uri);
    expect(uris).toContain("clanker://memory");
    expect(uris).toContain("clanker://skills/summarize");
    expect(uris.some((u) => u.startsWith("clanker://artifacts/"))).toBe(true);
    expect(uris.filter((u) => u.startsWith("clanker://workflows/"))).toEqual([]);
    const completed = await mcp.complete({ ref: { type: "ref/resource", uri: "clanker://workflows/{id}" }, argument: { name: "id", value: "" } });
    expect(completed.completion.values).toEqual([]);
  });

  test("after a person claims it, the same key (and the same open MCP session) may do all of it", async () => {
    const email = uniqueEmail("claimer");
    const anon = client(srv);
    expect((await anon("POST", "/agent/auth/claim", { body: { claim_token: reg.claim_token, email } })).status).toBe(200);
    const otp = await outboxCode(srv.dataDir, email);
    const done = await anon("POST", "/agent/auth/claim/complete", { body: { claim_token: reg.claim_token, otp } });
    expect(done.status).toBe(200);

    expect((await agent("POST", "/api/v1/workflows/parallel-review/launch", { body: { inputData: { code: "x", doc: "y" } } })).status).toBe(200);
    expect((await agent("POST", "/api/v1/skills/summarize/install")).status).toBe(200);
    expect((await agent("GET", "/api/v1/audit-logs")).status).toBe(200);
    expect((await agent("POST", "/api/v1/webhooks/secret/rotate")).status).toBe(200);
    const key = await agent("POST", "/api/v1/api-keys", { body: { name: "made after claim" } });
    expect(key.status).toBe(200);

    const run = await toolOk(mcp, "start-workflow", { workflowId: "parallel-review", inputData: { code: "a", doc: "b" } });
    expect(run.id).toMatch(/^run_/);
    expect((await toolOk(mcp, "install-skill", { slug: "code-review" })).installed).toBe(true);
    // The key still acts in its workspace, so the session outlives the server's recheck of its credential (5 s),
    // which closes a session whose key moved to another workspace.
    await Bun.sleep(5_500);
    expect((await toolOk(mcp, "read-memory")).content).toEndWith("from mcp");
  }, 20_000);
});

describe("CLANKER_ANONYMOUS_AGENTS", () => {
  test("off: anonymous registration → 403 ANONYMOUS_DISABLED saying how to get a key; identity assertion still works", async () => {
    const anon = client(off);
    const r = await anon("POST", "/agent/auth", { body: { type: "anonymous" } });
    expectError(r, 403, "permission_error", "ANONYMOUS_DISABLED");
    expect(r.body.error.message).toContain("identity_assertion");
    expect(r.body.error.message).toContain(`${off.url}/api/v1/activate`);
    expect(r.text).not.toContain("ck_");
    const asserted = await anon("POST", "/agent/auth", { body: { type: "identity_assertion", assertion_type: "email", email: uniqueEmail("asserted") } });
    expect(asserted.status).toBe(200);
    expect(asserted.body.status).toBe("pending");
  });

  test("/auth.md and the discovery metadata say which it is", async () => {
    const onDoc = await client(srv)("GET", "/auth.md");
    const offDoc = await client(off)("GET", "/auth.md");
    expect(onDoc.text).toContain("Anonymous registration is on on this server");
    expect(onDoc.text).toContain(`curl -X POST ${srv.url}/agent/auth -H "Content-Type: application/json" -d '{"type":"anonymous"}'`);
    expect(offDoc.text).toContain("Anonymous registration is off on this server");
    expect(offDoc.text).toContain("ANONYMOUS_DISABLED");
    expect(offDoc.text).not.toContain(`-d '{"type":"anonymous"}'`);
    for (const doc of [onDoc.text, offDoc.text]) expect(doc).not.toContain("<!--");

    for (const path of ["/.well-known/oauth-authorization-server", "/.well-known/oauth-protected-resource"]) {
      expect((await client(srv)("GET", path)).body.agent_auth.registration_types).toEqual(["anonymous", "identity_assertion"]);
      expect((await client(off)("GET", path)).body.agent_auth.registration_types).toEqual(["identity_assertion"]);
    }
  });

  test("defaults on only while bound to loopback; on|off override; anything else is refused", () => {
    expect(loadConfig({ host: "127.0.0.1" }, {}).signin.anonymousAgents).toBe(true);
    expect(loadConfig({ host: "0.0.0.0" }, {}).signin.anonymousAgents).toBe(false);
    expect(loadConfig({ host: "0.0.0.0" }, { CLANKER_ANONYMOUS_AGENTS: "on" }).signin.anonymousAgents).toBe(true);
    expect(loadConfig({ host: "127.0.0.1" }, { CLANKER_ANONYMOUS_AGENTS: "off" }).signin.anonymousAgents).toBe(false);
  });

  test("an invalid value: `serve` exits 2 with one line naming the variable", async () => {
    const r = await srv.cli(["serve", "--port", "0"], { CLANKER_ANONYMOUS_AGENTS: "maybe" });
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split("\n");
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain("CLANKER_ANONYMOUS_AGENTS");
  });
});
