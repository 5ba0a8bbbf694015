// Integrations (issue 11): slack (bot token), webhook and email over REST and MCP against a fake Slack Web API,
// a local webhook receiver and the SMTP sink, all on 127.0.0.1: connect/disconnect for owners and admins only,
// actions for members, input checked against each action's schema, provider failures typed, every action
// audited, workspaces isolated, unclaimed agents refused, and a disconnected token gone from every byte on disk.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { cleanup, client, startServer, uniqueEmail, type TestServer } from "./helpers/server";
import { storedBytes } from "./helpers/files";
import { expectError } from "./helpers/api";
import { startFakeSlack, type FakeSlack } from "./helpers/fake-slack";
import { startMailSink, type MailSink } from "./helpers/mail";
import { connectMcp, toolError, toolOk } from "./helpers/mcp-client";
import { joinTeam, makeTeam, type Team } from "./helpers/team";
import { retryAfterSeconds } from "../src/modules/integrations/errors";

type Call = ReturnType<typeof client>;

let srv: TestServer;
let slack: FakeSlack;
let sink: MailSink;
let receiver: ReturnType<typeof Bun.serve>;
const received: { headers: Headers; body: string; path: string }[] = [];
let receiverStatus = 200;
const clients: Client[] = [];

let teamFixture: Team;
let team: string;
let owner: Call;
let ownerSession: string;
const memberEmail = uniqueEmail("member");
let member: Call;
let memberSession: string;
let other: Call; // someone else's workspace

/** The newest message the SMTP sink received for `email` (invitations go there, not to the outbox). */
const sinkText = async (email: string) => (await sink.waitFor(email)).text;

const BOT_TOKEN = "xoxb-integ-test-4f9a1c2e7b3d";

async function audit(action: string): Promise<any[]> {
  const r = await owner("GET", `/api/v1/audit-logs?action=${action}&limit=100`);
  expect(r.status).toBe(200);
  return r.body.data;
}

beforeAll(async () => {
  slack = startFakeSlack({ pageSize: 2 });
  slack.tokens.add(BOT_TOKEN);
  sink = await startMailSink();
  receiver = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      received.push({ headers: req.headers, body: await req.text(), path: new URL(req.url).pathname });
      return new Response("ok", { status: receiverStatus, headers: receiverStatus === 429 ? { "retry-after": "7" } : {} });
    },
  });
  srv = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", CLANKER_SLACK_API_URL: slack.apiUrl, CLANKER_SMTP_URL: sink.url } });
  teamFixture = await makeTeam(srv);
  ({ id: team, ownerSession, owner } = teamFixture);
  // The member joins by invitation (mail to the SMTP sink), so their address is a verified one.
  memberSession = await joinTeam(teamFixture, memberEmail, "member", sinkText);
  member = client(srv, { session: memberSession, workspace: team });
  other = client(srv, { apiKey: await srv.createKey({ name: "other" }) });
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await srv?.stop();
  if (srv) cleanup(srv);
  slack?.stop();
  receiver?.stop(true);
  await sink?.close();
});

describe("REST: slack by bot token", () => {
  test("GET /api/v1/integrations lists slack, email, webhook and github with their actions' input schemas, none connected", async () => {
    const r = await owner("GET", "/api/v1/integrations");
    expect(r.status).toBe(200);
    const byId = Object.fromEntries(r.body.data.map((i: any) => [i.id, i]));
    expect(Object.keys(byId).sort()).toEqual(["email", "github", "slack", "webhook"]);
    expect(byId.slack).toMatchObject({ configured: true, connected: false, account: null });
    expect(byId.slack.actions.map((a: any) => a.name)).toEqual(["post_message", "list_channels"]);
    expect(byId.slack.actions[0].inputSchema).toMatchObject({ type: "object", required: ["channel", "text"] });
    expect(byId.email.actions[0]).toMatchObject({ name: "send_email", inputSchema: { required: ["to", "subject", "text"] } });
    expect(byId.webhook.actions[0].name).toBe("post");
  });

  test("a member may not connect or disconnect; nothing reaches Slack", async () => {
    const before = slack.calls.length;
    expectError(await member("POST", "/api/v1/integrations/slack/connect", { body: { credentials: { token: BOT_TOKEN } } }), 403, "permission_error", "ROLE_REQUIRED");
    expectError(await member("DELETE", "/api/v1/integrations/slack"), 403, "permission_error", "ROLE_REQUIRED");
    expect(slack.calls.length).toBe(before);
  });

  test("a token Slack refuses is INTEGRATION_AUTH_FAILED with Slack's reason, and nothing is saved", async () => {
    const r = await owner("POST", "/api/v1/integrations/slack/connect", { body: { credentials: { token: "xoxb-not-a-real-token" } } });
    expectError(r, 400, "invalid_request_error", "INTEGRATION_AUTH_FAILED");
    expect(r.body.error.message).toContain("invalid_auth");
    expect((await owner("GET", "/api/v1/integrations")).body.data.find((i: any) => i.id === "slack").connected).toBe(false);
  });

  test("connect without a token and without an OAuth app names credentials.token", async () => {
    expectError(await owner("POST", "/api/v1/integrations/slack/connect", { body: {} }), 400, "invalid_request_error", undefined, "credentials.token");
  });

  test("the owner connects with a bot token checked by auth.test; the answer names the Slack team", async () => {
    const r = await owner("POST", "/api/v1/integrations/slack/connect", { body: { credentials: { token: BOT_TOKEN } } });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ integration: "slack", connected: true, account: "Fake Team" });
    expect(slack.calls.at(-1)).toEqual({ method: "auth.test", token: BOT_TOKEN });
    expect(JSON.stringify((await owner("GET", "/api/v1/integrations")).body)).not.toContain(BOT_TOKEN);
    const [entry] = await audit("integration.connect");
    expect(entry).toMatchObject({ resourceId: "slack", metadata: { account: "Fake Team" } });
  });

  test("a member posts a message; Slack gets it with the bot token, and the action is audited with the member as actor", async () => {
    const r = await member("POST", "/api/v1/integrations/slack/actions/post_message", { body: { input: { channel: "#general", text: "Deploy done" } } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ ok: true, channel: "C001", ts: expect.any(String) });
    expect(slack.messages.at(-1)).toMatchObject({ channel: "C001", text: "Deploy done", token: BOT_TOKEN });
    const [entry] = await audit("integration.action");
    expect(entry).toMatchObject({ resourceType: "integration", resourceId: "slack", metadata: { action: "post_message", ok: true }, actor: { type: "user" } });
    expect(JSON.stringify(entry)).not.toContain("Deploy done");
  });

  test("a retry under the same idempotency-key posts once and answers the first answer (several at once too), a refusal (before sending, or Slack's) is tried again", async () => {
    const before = slack.messages.length;
    const send = (text: string, key: string) => member("POST", "/api/v1/integrations/slack/actions/post_message", { body: { input: { channel: "#general", text } }, headers: { "idempotency-key": key } });
    const key = `post-${process.pid}-${Date.now()}`;
    const first = await send("Once only", key);
    expect(first.status).toBe(200);
    const retries = await Promise.all([send("Once only", key), send("Once only", key), send("Once only", key)]);
    for (const r of retries) {
      // Each either replays the answer or, while the first is still being posted, is told to retry in a second.
      if (r.status === 200) expect({ replayed: r.headers.get("idempotency-replayed"), text: r.text }).toEqual({ replayed: "true", text: first.text });
      else expect(r.body.error.code).toBe("IDEMPOTENCY_IN_FLIGHT");
    }
    expect(slack.messages.length - before).toBe(1);
    expectError(await send("Another text", key), 400, "invalid_request_error", "IDEMPOTENCY_KEY_REUSED");
    // Refused before anything was sent (an input the action does not take): not kept, the retry is tried again.
    const invalidKey = `${key}-invalid`;
    const invalid = await member("POST", "/api/v1/integrations/slack/actions/post_message", { body: { input: { channel: "#general" } }, headers: { "idempotency-key": invalidKey } });
    expect(invalid.status).toBe(400);
    const fixed = await member("POST", "/api/v1/integrations/slack/actions/post_message", { body: { input: { channel: "#general" } }, headers: { "idempotency-key": invalidKey } });
    expect(fixed.headers.get("idempotency-replayed")).toBeNull();
    // Refused by Slack (it posted nothing): not kept either, the retry asks Slack again.
    const refusedKey = `${key}-refused`;
    const sent = slack.calls.length;
    const refused = await member("POST", "/api/v1/integrations/slack/actions/post_message", { body: { input: { channel: "#nowhere", text: "x" } }, headers: { "idempotency-key": refusedKey } });
    expect(refused.status).toBe(400);
    const again = await member("POST", "/api/v1/integrations/slack/actions/post_message", { body: { input: { channel: "#nowhere", text: "x" } }, headers: { "idempotency-key": refusedKey } });
    expect({ status: again.status, replayed: again.headers.get("idempotency-replayed") }).toEqual({ status: 400, replayed: null });
    expect(slack.calls.length - sent).toBe(2);
  });

  test("list_channels follows Slack's cursor through every page", async () => {
    const before = slack.calls.filter((c) => c.method === "conversations.list").length;
    const r = await member("POST", "/api/v1/integrations/slack/actions/list_channels", { body: { input: {} } });
    expect(r.status).toBe(200);
    expect(r.body.channels.map((c: any) => c.name)).toEqual(["general", "random", "deploys", "secret-plans", "alerts"]);
    expect(r.body.channels[3]).toMatchObject({ id: "C004", isPrivate: true, isMember: false });
    expect(slack.calls.filter((c) => c.method === "conversations.list").length - before).toBe(3);
  });

  test("input is checked against the action's schema: 400 naming the field, nothing sent", async () => {
    const before = slack.calls.length;
    const post = (input: unknown) => member("POST", "/api/v1/integrations/slack/actions/post_message", { body: { input } });
    expectError(await post({ channel: "C001" }), 400, "invalid_request_error", "INVALID_PARAMETER", "input.text");
    expectError(await post({ channel: 42, text: "x" }), 400, "invalid_request_error", "INVALID_PARAMETER", "input.channel");
    expectError(await post({ channel: "C001", text: "" }), 400, "invalid_request_error", "INVALID_PARAMETER", "input.text");
    expectError(await post({ channel: "C001", text: "x", blocks: [] }), 400, "invalid_request_error", "INVALID_PARAMETER", "input.blocks");
    expectError(await member("POST", "/api/v1/integrations/slack/actions/delete_everything", { body: { input: {} } }), 400, "invalid_request_error", "UNKNOWN_ACTION", "action");
    expectError(await member("POST", "/api/v1/integrations/carrier-pigeon/actions/send", { body: { input: {} } }), 404, "not_found_error");
    expect(slack.calls.length).toBe(before);
  });

  test("Slack's failures are typed: rate limit (429 + its retry-after), channel_not_found, a revoked token; each attempt audited", async () => {
    slack.rateLimitNext(1, 17);
    const limited = await member("POST", "/api/v1/integrations/slack/actions/post_message", { body: { input: { channel: "C001", text: "a" } } });
    expectError(limited, 429, "rate_limit_error", "INTEGRATION_RATE_LIMITED");
    expect(limited.headers.get("retry-after")).toBe("17");

    const missing = await member("POST", "/api/v1/integrations/slack/actions/post_message", { body: { input: { channel: "#nowhere", text: "a" } } });
    expectError(missing, 400, "invalid_request_error", "INTEGRATION_ERROR");
    expect(missing.body.error.message).toContain("channel_not_found");

    slack.tokens.delete(BOT_TOKEN);
    try {
      const revoked = await member("POST", "/api/v1/integrations/slack/actions/post_message", { body: { input: { channel: "C001", text: "a" } } });
      expectError(revoked, 400, "invalid_request_error", "INTEGRATION_AUTH_FAILED");
      expect(revoked.body.error.message).toContain("invalid_auth");
    } finally {
      slack.tokens.add(BOT_TOKEN);
    }
    const codes = (await audit("integration.action")).slice(0, 3).map((e) => e.metadata.code);
    expect(codes).toEqual(["INTEGRATION_AUTH_FAILED", "INTEGRATION_ERROR", "INTEGRATION_RATE_LIMITED"]);
  });

  test("another workspace sees slack unconnected and cannot use this one's connection", async () => {
    const list = await other("GET", "/api/v1/integrations");
    expect(list.body.data.find((i: any) => i.id === "slack")).toMatchObject({ connected: false, account: null });
    const before = slack.messages.length;
    expectError(await other("POST", "/api/v1/integrations/slack/actions/post_message", { body: { input: { channel: "C001", text: "hi" } } }), 400, "invalid_request_error", "INTEGRATION_NOT_CONNECTED");
    expect((await other("DELETE", "/api/v1/integrations/slack")).body).toMatchObject({ disconnected: false });
    expect((await owner("GET", "/api/v1/integrations")).body.data.find((i: any) => i.id === "slack").connected).toBe(true);
    expect(slack.messages.length).toBe(before);
  });
});

describe("REST: webhook", () => {
  test("a URL the SSRF rules refuse is a 400 naming credentials.url", async () => {
    for (const url of ["http://169.254.169.254/latest/meta-data", "ftp://example.com/x", "http://user:pw@127.0.0.1/x"])
      expectError(await owner("POST", "/api/v1/integrations/webhook/connect", { body: { credentials: { url } } }), 400, "invalid_request_error", undefined, "credentials.url");
  });

  test("posts are signed with the workspace's webhook secret under their own scheme (never a valid clanker-signature) and go only to the saved origin", async () => {
    const url = `http://127.0.0.1:${receiver.port}/hooks/t0ken-in-path`;
    const c = await owner("POST", "/api/v1/integrations/webhook/connect", { body: { credentials: { url } } });
    expect(c.body).toEqual({ integration: "webhook", connected: true, account: `127.0.0.1:${receiver.port}` });
    const r = await member("POST", "/api/v1/integrations/webhook/actions/post", { body: { input: { payload: { hello: "world", n: 1 } } } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ delivered: true, status: 200 });
    expect(r.text).not.toContain("t0ken-in-path");
    const got = received.at(-1)!;
    expect(got.path).toBe("/hooks/t0ken-in-path");
    expect(JSON.parse(got.body)).toEqual({ hello: "world", n: 1 });
    const { secret } = (await owner("GET", "/api/v1/webhooks/secret")).body;
    // A member chose this payload: it must not verify as one of our callbacks (e.g. a forged execution.completed).
    expect(got.headers.get("clanker-signature")).toBeNull();
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(got.headers.get("clanker-integration-signature") ?? "")!;
    expect(m).toBeTruthy();
    expect(m[2]).toBe(createHmac("sha256", secret).update(`${m[1]}.integration.${got.body}`).digest("hex"));
    expect(m[2]).not.toBe(createHmac("sha256", secret).update(`${m[1]}.${got.body}`).digest("hex"));

    const n = received.length;
    expectError(await member("POST", "/api/v1/integrations/webhook/actions/post", { body: { input: { url: "http://127.0.0.2:9/x", payload: {} } } }), 400, "invalid_request_error", undefined, "input.url");
    expect(received.length).toBe(n);
    const same = await member("POST", "/api/v1/integrations/webhook/actions/post", { body: { input: { url: `http://127.0.0.1:${receiver.port}/other`, payload: [1] } } });
    expect(same.status).toBe(200);
    expect(received.at(-1)!.path).toBe("/other");
  });

  test("a receiver's 500 is INTEGRATION_ERROR (503: worth retrying)", async () => {
    receiverStatus = 500;
    try {
      const r = await member("POST", "/api/v1/integrations/webhook/actions/post", { body: { input: { payload: {} } } });
      expectError(r, 503, "overloaded_error", "INTEGRATION_ERROR");
      expect(r.body.error.message).toContain("500");
    } finally {
      receiverStatus = 200;
    }
  });

  test("Retry-After in either of its forms (seconds, an HTTP date) becomes whole seconds, from 1 s to a day", () => {
    const now = Date.parse("Wed, 21 Oct 2026 07:27:50 GMT");
    expect(["7", " 12 ", "Wed, 21 Oct 2026 07:28:00 GMT", "Wed, 21 Oct 2026 07:27:00 GMT", "99999999999999999999999", "soon", null].map((h) => retryAfterSeconds(h, 30, now))).toEqual([7, 12, 10, 1, 86_400, 30, 30]);
  });

  test("a receiver's 429 is INTEGRATION_RATE_LIMITED with its retry-after, as Slack's is", async () => {
    receiverStatus = 429;
    try {
      const r = await member("POST", "/api/v1/integrations/webhook/actions/post", { body: { input: { payload: {} } } });
      expectError(r, 429, "rate_limit_error", "INTEGRATION_RATE_LIMITED");
      expect(r.headers.get("retry-after")).toBe("7");
    } finally {
      receiverStatus = 200;
    }
  });
});

describe("REST: github input", () => {
  test("a repo of dots or a number below 1 is refused by the action's schema before anything is sent", async () => {
    const comment = (input: unknown) => member("POST", "/api/v1/integrations/github/actions/comment", { body: { input } });
    // "../.." would make /repos/../../issues/1/comments resolve to another API path, with the workspace's token.
    for (const repo of ["../..", "octo/..", "./x", "octo"]) expectError(await comment({ repo, number: 1, body: "hi" }), 400, "invalid_request_error", undefined, "input.repo");
    expectError(await comment({ repo: "octo/hello", number: 0, body: "hi" }), 400, "invalid_request_error", undefined, "input.number");
    // A well-formed input gets past the schema to the next check: github is not connected in this workspace.
    expectError(await comment({ repo: "octo/hello.js", number: 1, body: "hi" }), 400, "invalid_request_error", "INTEGRATION_NOT_CONNECTED");
  });
});

describe("REST: email over SMTP", () => {
  test("only the owner, not an admin, may allow recipients outside the workspace", async () => {
    const adminEmail = uniqueEmail("admin");
    const session = await joinTeam(teamFixture, adminEmail, "admin", sinkText);
    const admin = client(srv, { session, workspace: team });
    expectError(await admin("POST", "/api/v1/integrations/email/connect", { body: { credentials: { allowRecipients: ["@evil.example"] } } }), 403, "permission_error", "ROLE_REQUIRED");
    expect((await admin("POST", "/api/v1/integrations/email/connect", { body: {} })).body).toMatchObject({ connected: true });
    expectError(await member("POST", "/api/v1/integrations/email/actions/send_email", { body: { input: { to: "x@evil.example", subject: "x", text: "y" } } }), 403, "permission_error", "EMAIL_RECIPIENT_NOT_ALLOWED");
  });

  test("sends to a verified member; refuses an outsider until the owner allows their domain", async () => {
    expectError(await member("POST", "/api/v1/integrations/email/connect", { body: {} }), 403, "permission_error", "ROLE_REQUIRED");
    expect((await owner("POST", "/api/v1/integrations/email/connect", { body: {} })).body).toEqual({ integration: "email", connected: true, account: null });
    const ok = await member("POST", "/api/v1/integrations/email/actions/send_email", { body: { input: { to: memberEmail, subject: "Build report", text: "All green" } } });
    expect(ok.status).toBe(200);
    const mail = await sink.waitFor(memberEmail, (m) => m.subject === "Build report");
    expect(mail.text).toBe("All green");

    const outsider = "someone@partner.example";
    const n = sink.messages.length;
    const refused = await member("POST", "/api/v1/integrations/email/actions/send_email", { body: { input: { to: outsider, subject: "x", text: "y" } } });
    expectError(refused, 403, "permission_error", "EMAIL_RECIPIENT_NOT_ALLOWED");
    expectError(await member("POST", "/api/v1/integrations/email/actions/send_email", { body: { input: { to: "not-an-address", subject: "x", text: "y" } } }), 400, "invalid_request_error", undefined, "input.to");
    expect(sink.messages.length).toBe(n);

    expectError(await owner("POST", "/api/v1/integrations/email/connect", { body: { credentials: { allowRecipients: ["nope"] } } }), 400, "invalid_request_error", undefined, "credentials.allowRecipients.0");
    // Internationalised domains, in either spelling, are domains like any other.
    expect((await owner("POST", "/api/v1/integrations/email/connect", { body: { credentials: { allowRecipients: ["@example.xn--p1ai", "@bücher.example", "ana@пример.рф"] } } })).status).toBe(200);
    expect((await owner("POST", "/api/v1/integrations/email/connect", { body: { credentials: { allowRecipients: ["@partner.example"] } } })).status).toBe(200);
    expect((await member("POST", "/api/v1/integrations/email/actions/send_email", { body: { input: { to: outsider, subject: "Hello partner", text: "y" } } })).status).toBe(200);
    await sink.waitFor(outsider, (m) => m.subject === "Hello partner");
    // Only a mailbox at that domain: not a display name, a list or a route that a relay would take elsewhere.
    const before = sink.messages.length;
    for (const to of ["<root>x@partner.example", "\"x@partner.example\" <root>", "x@evil.example, y@partner.example", "attacker%evil.example@partner.example", "evil.example!root@partner.example", "x@sub.partner.example"]) {
      const r = await member("POST", "/api/v1/integrations/email/actions/send_email", { body: { input: { to, subject: "x", text: "y" } } });
      expect([to, r.status, r.body.error?.param ?? r.body.error?.code]).toEqual([to, to === "x@sub.partner.example" ? 403 : 400, to === "x@sub.partner.example" ? "EMAIL_RECIPIENT_NOT_ALLOWED" : "input.to"]);
    }
    await Bun.sleep(200);
    expect(sink.messages.length).toBe(before);
    // A mailbox the mail server refuses (550) is the provider's refusal (400), not "unreachable, retry later" (503).
    const bounced = await member("POST", "/api/v1/integrations/email/actions/send_email", { body: { input: { to: "refused-x@partner.example", subject: "x", text: "y" } } });
    expectError(bounced, 400, "invalid_request_error", "INTEGRATION_ERROR");
    expect(bounced.body.error.message).toContain("refused the message (550)");
  });
});

describe("MCP (official SDK client)", () => {
  let ownerMcp: Client;
  let memberMcp: Client;

  beforeAll(async () => {
    ownerMcp = await connectMcp(srv.url, "streamable", { "x-auth-token": ownerSession, "x-workspace-id": team });
    memberMcp = await connectMcp(srv.url, "streamable", { "x-auth-token": memberSession, "x-workspace-id": team });
    clients.push(ownerMcp, memberMcp);
  });

  test("list-integrations answers what REST answers", async () => {
    const out = await toolOk(memberMcp, "list-integrations");
    expect(out).toEqual((await member("GET", "/api/v1/integrations")).body);
  });

  test("connect-integration: refused to a member, done by the owner (slack by token)", async () => {
    expect(await toolError(memberMcp, "connect-integration", { integration: "slack", credentials: { token: BOT_TOKEN } })).toMatchObject({ type: "permission_error", code: "ROLE_REQUIRED" });
    expect(await toolOk(ownerMcp, "connect-integration", { integration: "slack", credentials: { token: BOT_TOKEN } })).toEqual({ integration: "slack", connected: true, account: "Fake Team" });
  });

  test("execute-integration-action: a member posts; a bad input names the field", async () => {
    const out = await toolOk(memberMcp, "execute-integration-action", { integration: "slack", action: "post_message", input: { channel: "C002", text: "from MCP" } });
    expect(out).toMatchObject({ ok: true, channel: "C002" });
    expect(slack.messages.at(-1)).toMatchObject({ channel: "C002", text: "from MCP" });
    expect(await toolError(memberMcp, "execute-integration-action", { integration: "slack", action: "post_message", input: { channel: "C002" } })).toMatchObject({
      type: "invalid_request_error",
      param: "input.text",
    });
  });

  test("execute-integration-action with an idempotencyKey posts once however often it is retried; another input under it is refused naming the argument", async () => {
    const before = slack.messages.length;
    const args = { integration: "slack", action: "post_message", input: { channel: "C002", text: "retried" }, idempotencyKey: `mcp-post-${Date.now()}` };
    const first = await toolOk(memberMcp, "execute-integration-action", args);
    expect(await toolOk(memberMcp, "execute-integration-action", args)).toEqual(first);
    expect(slack.messages.length - before).toBe(1);
    expect(await toolError(memberMcp, "execute-integration-action", { ...args, input: { channel: "C002", text: "other" } })).toMatchObject({ code: "IDEMPOTENCY_KEY_REUSED", param: "idempotencyKey" });
  });

  test("disconnect-integration: refused to a member; the owner's forgets the token", async () => {
    expect(await toolError(memberMcp, "disconnect-integration", { integration: "webhook" })).toMatchObject({ code: "ROLE_REQUIRED" });
    expect(await toolOk(ownerMcp, "disconnect-integration", { integration: "webhook" })).toEqual({ integration: "webhook", connected: false, disconnected: true });
    expect(await toolError(memberMcp, "execute-integration-action", { integration: "webhook", action: "post", input: { payload: {} } })).toMatchObject({ code: "INTEGRATION_NOT_CONNECTED" });
  });
});

describe("unclaimed agent keys", () => {
  test("are refused every integration verb (SCOPE_REQUIRED), over REST and MCP", async () => {
    const reg = await client(srv)("POST", "/agent/auth", { body: { type: "anonymous" } });
    expect(reg.status).toBe(200);
    const agent = client(srv, { apiKey: reg.body.credential });
    expectError(await agent("GET", "/api/v1/integrations"), 403, "permission_error", "SCOPE_REQUIRED");
    expectError(await agent("POST", "/api/v1/integrations/webhook/connect", { body: { credentials: { url: "http://127.0.0.1:9/x" } } }), 403, "permission_error", "SCOPE_REQUIRED");
    expectError(await agent("POST", "/api/v1/integrations/slack/actions/list_channels", { body: { input: {} } }), 403, "permission_error", "SCOPE_REQUIRED");
    expectError(await agent("DELETE", "/api/v1/integrations/slack"), 403, "permission_error", "SCOPE_REQUIRED");
    const mcp = await connectMcp(srv.url, "streamable", { "x-api-key": reg.body.credential });
    clients.push(mcp);
    expect(await toolError(mcp, "list-integrations")).toMatchObject({ code: "SCOPE_REQUIRED" });
    expect(await toolError(mcp, "execute-integration-action", { integration: "slack", action: "list_channels", input: {} })).toMatchObject({ code: "SCOPE_REQUIRED" });
  });
});

describe("disconnect", () => {
  test("forgets the token: no plaintext token in any byte of the data dir, and actions are refused", async () => {
    // The token is sealed while connected, too.
    const scan = async () => {
      const needle = Buffer.from(BOT_TOKEN);
      return (await storedBytes(srv)).filter((f) => f.bytes.includes(needle)).map((f) => f.path);
    };
    expect(await scan()).toEqual([]);
    const r = await owner("DELETE", "/api/v1/integrations/slack");
    expect(r.body).toEqual({ integration: "slack", connected: false, disconnected: true });
    expect((await audit("integration.disconnect"))[0]).toMatchObject({ resourceId: "slack" });
    expectError(await member("POST", "/api/v1/integrations/slack/actions/list_channels", { body: { input: {} } }), 400, "invalid_request_error", "INTEGRATION_NOT_CONNECTED");
    // Checkpoint the WAL into the database so a deleted row's old page is looked at too.
    await srv.stop();
    expect(await scan()).toEqual([]);
    await srv.restart();
  }, 30_000);
});

test("a failure is marked as maybe acted only when the request went out unanswered (a timeout, a cut connection), not when nothing was reached or the provider refused", async () => {
  const { mayHaveActed, integrationError } = await import("../src/modules/integrations/errors");
  const acted = (cause: unknown) => (mayHaveActed(integrationError("Webhook", "x", true), cause) as { acted?: boolean }).acted === true;
  expect(acted(new DOMException("The operation timed out.", "TimeoutError"))).toBe(true);
  expect(acted(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }))).toBe(true);
  expect(acted({ code: "slack_webapi_request_error", original: Object.assign(new Error("t"), { code: "ETIMEDOUT" }) })).toBe(true);
  expect(acted(Object.assign(new Error("refused"), { code: "ECONNREFUSED" }))).toBe(false);
  expect(acted(Object.assign(new Error("no such host"), { code: "ENOTFOUND" }))).toBe(false);
  expect(acted(undefined)).toBe(false);
});
