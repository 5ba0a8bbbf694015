// Issue 11 end to end: the bundled `pr-review` workflow saved into a workspace, launched by a signed GitHub
// `pull_request` event, reads the PR's code at its head commit (fake GitHub), reviews it (fake model), comments on
// the PR and posts to Slack (fake Slack); a webhook-triggered workflow posting to Slack; bad signatures launch
// nothing; skill steps' connectors checked at save time and rendered at run time; execute-skill's connector over MCP.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes, randomUUID } from "node:crypto";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { cleanup, client, startServer, type TestServer } from "./helpers/server";
import { clankerSig, fire, githubSig } from "./helpers/hooks";
import { runFinished } from "./helpers/api";
import { startFakeGithub, type FakeGithub } from "./helpers/fake-github";
import { startFakeSlack, type FakeSlack } from "./helpers/fake-slack";
import { promptText, startFakeModel, type FakeModel } from "./helpers/fake-models";
import { callTool, connectMcp, toolError, toolOk } from "./helpers/mcp-client";

type Call = ReturnType<typeof client>;
const GH_TOKEN = `ghp_${randomBytes(18).toString("hex")}`;
const SLACK_TOKEN = `xoxb-e2e-${randomBytes(8).toString("hex")}`;
const HEAD_SHA = "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c";
let gh: FakeGithub;
let slack: FakeSlack;
let model: FakeModel;
let srv: TestServer;
let api: Call;
let apiKey: string;
const clients: Client[] = [];

const runCount = async () => (await api("GET", "/api/v1/workflows/runs?limit=100")).body.data.length as number;

async function hookOf(workflowId: string): Promise<{ id: string; hookUrl: string; secret: string }> {
  const list = await api("GET", "/api/v1/triggers?limit=100");
  expect(list.status).toBe(200);
  const t = list.body.data.find((x: any) => x.workflowId === workflowId && x.hookUrl);
  expect(t).toBeDefined();
  const s = await api("GET", `/api/v1/triggers/${t.id}/secret`);
  expect(s.status).toBe(200);
  return { id: t.id, hookUrl: s.body.hookUrl, secret: s.body.secret };
}

/** The one model request whose prompt carries `marker`. */
function promptWith(marker: string): string {
  const hits = model.requests.map((r) => promptText(r.body)).filter((p) => p.includes(marker));
  expect(hits.length).toBe(1);
  return hits[0]!;
}

const prEvent = (number: number, title: string) => ({
  action: "opened",
  number,
  pull_request: {
    number,
    title,
    body: "Adds a cart total. PR-BODY-MARKER",
    html_url: `https://github.example/octo/shop/pull/${number}`,
    state: "open",
    draft: false,
    user: { login: "alice" },
    head: { ref: "feature/total", sha: HEAD_SHA },
    base: { ref: "main", sha: "0000000000000000000000000000000000000001" },
  },
  repository: { full_name: "octo/shop", name: "shop", owner: { login: "octo" } },
  sender: { login: "alice" },
});

beforeAll(async () => {
  model = startFakeModel("anthropic");
  gh = startFakeGithub({
    tokens: { [GH_TOKEN]: "octo-bot" },
    repos: {
      "octo/shop": {
        branches: { main: { "README.md": "# Shop MAIN-README\n", "src/cart.ts": "export const MAIN_ONLY_MARKER = 0;\n" } },
        // The PR's head commit: what the review must read.
        commits: { [HEAD_SHA]: { "README.md": "# Shop HEAD-README\n", "src/cart.ts": "export const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0); // HEAD_CART_MARKER\n" } },
        pulls: [7, 8],
      },
    },
  });
  slack = startFakeSlack();
  slack.tokens.add(SLACK_TOKEN);
  // The channel the bundled example posts to (a person edits it to theirs after saving; here it exists).
  slack.channels.push({ id: "C0CR", name: "code-review", is_private: false, is_member: true });
  srv = await startServer({
    env: {
      CLANKER_RATE_LIMIT_PER_MINUTE: "10000",
      CLANKER_PUBLIC_RATE_LIMIT_PER_MINUTE: "10000",
      ANTHROPIC_API_KEY: "sk-ant-e2e-000000000000000000000000",
      ANTHROPIC_BASE_URL: model.url,
      CLANKER_GITHUB_API_URL: gh.url,
      CLANKER_SLACK_API_URL: slack.apiUrl,
    },
  });
  apiKey = await srv.createKey();
  api = client(srv, { apiKey });
  expect((await api("POST", "/api/v1/connectors/github/connect", { body: { token: GH_TOKEN } })).body).toMatchObject({ connected: true, account: "octo-bot" });
  expect((await api("POST", "/api/v1/integrations/github/connect", { body: {} })).status).toBe(200);
  expect((await api("POST", "/api/v1/integrations/slack/connect", { body: { credentials: { token: SLACK_TOKEN } } })).status).toBe(200);
}, 30_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await srv?.stop();
  if (srv) cleanup(srv);
  gh?.stop();
  slack?.stop();
  model?.stop();
});

describe("the bundled pr-review workflow", () => {
  test("saved into the workspace, a signed pull_request event reviews the PR's head, comments on the PR and posts to Slack", async () => {
    const defs = await api("GET", "/api/v1/workflows/definitions");
    const bundled = defs.body.data.find((d: any) => d.id === "pr-review");
    expect(bundled).toMatchObject({ source: "bundled", triggers: [{ github: { events: ["pull_request"] } }] });
    const { source: _source, ...definition } = bundled;
    const saved = await api("POST", "/api/v1/workflows/definitions", { body: definition });
    expect(saved.status).toBe(200);
    expect(saved.body.source).toBe("workspace");

    const hook = await hookOf("pr-review");
    const body = JSON.stringify(prEvent(7, "Cart total PRTITLE-7"));
    const fired = await fire(hook.hookUrl, body, { "x-github-event": "pull_request", "x-github-delivery": randomUUID(), "x-hub-signature-256": githubSig(hook.secret, body) });
    expect(fired.status).toBe(202);
    const runId = fired.body.runId as string;
    expect({ ...fired.body, runId: /^run_\d+$/.test(runId) }).toMatchObject({ received: true, workflowId: "pr-review", runId: true });

    const run = await runFinished(api, runId, 20_000);
    expect({ status: run.status, error: run.error }).toEqual({ status: "completed", error: null });
    expect(run.trigger).toBe("github");

    // The model read the repository at the PR's head commit, not at main.
    const prompt = promptWith("PRTITLE-7");
    expect(prompt).toContain("HEAD_CART_MARKER");
    expect(prompt).toContain("HEAD-README");
    expect(prompt).toContain("PR-BODY-MARKER");
    expect(prompt).not.toContain("MAIN_ONLY_MARKER");
    expect(prompt).not.toContain(GH_TOKEN);
    expect(run.steps.review).toMatchObject({ status: "completed", connector: { type: "github", fields: { repo: "octo/shop", ref: HEAD_SHA, paths: ["/"] } } });
    const execution = await api("GET", `/api/v1/executions/${run.steps.review.executionId}/status`);
    expect(execution.body.connector.context.included.map((f: any) => f.path)).toEqual(["README.md", "src/cart.ts"]);

    // The review went onto the right PR, as the connector's account.
    const review = run.steps.review.output as string;
    expect(review).toContain("PRTITLE-7");
    const comments = gh.comments.filter((c) => c.repo === "octo/shop");
    expect(comments.length).toBe(1);
    expect(comments[0]).toMatchObject({ number: 7, login: "octo-bot" });
    expect(comments[0]!.body).toBe(`## Clanker code review\n\n${review}`);
    expect(run.steps.comment).toMatchObject({ status: "completed", input: { repo: "octo/shop", number: 7 } });

    // And Slack heard about it.
    const note = slack.messages.filter((m) => m.channel === "C0CR");
    expect(note.length).toBe(1);
    expect(note[0]!.text).toContain("octo/shop#7");
    expect(note[0]!.text).toContain("https://github.example/octo/shop/pull/7");
    expect(run.steps.notify).toMatchObject({ status: "completed", output: { ok: true, channel: "C0CR" } });
  }, 30_000);

  test("a GitHub event with a bad signature is refused (401) and launches nothing", async () => {
    const hook = await hookOf("pr-review");
    const runs = await runCount();
    const [models, comments, messages] = [model.requests.length, gh.comments.length, slack.messages.length];
    const body = JSON.stringify(prEvent(8, "Forged PRTITLE-8"));
    const forged = await fire(hook.hookUrl, body, { "x-github-event": "pull_request", "x-github-delivery": randomUUID(), "x-hub-signature-256": githubSig("not-the-secret", body) });
    expect({ status: forged.status, type: forged.body?.error?.type }).toEqual({ status: 401, type: "authentication_error" });
    // Signed right, but not these bytes.
    const tampered = await fire(hook.hookUrl, body.replace("Forged", "Tamper"), { "x-github-event": "pull_request", "x-hub-signature-256": githubSig(hook.secret, body) });
    expect(tampered.status).toBe(401);
    await Bun.sleep(200);
    expect(await runCount()).toBe(runs);
    expect([model.requests.length, gh.comments.length, slack.messages.length]).toEqual([models, comments, messages]);
  });
});

describe("a webhook-triggered workflow", () => {
  test("a signed inbound webhook launches it and its action step posts the body's fields to Slack; a bad signature launches nothing", async () => {
    const def = {
      id: "deploy-notice",
      name: "Deploy notice",
      input: { required: ["service", "version"], properties: { service: { type: "string" }, version: { type: "string" } } },
      steps: [{ id: "post", kind: "action", integration: "slack", action: "post_message", input: { channel: "#deploys", text: "Deployed {{input.service}} {{input.version}}" } }],
      triggers: [{ webhook: {} }],
    };
    expect((await api("POST", "/api/v1/workflows/definitions", { body: def })).status).toBe(200);
    const hook = await hookOf("deploy-notice");
    const body = JSON.stringify({ service: "billing", version: "v9.4.1" });

    const runs = await runCount();
    const before = slack.messages.length;
    const bad = await fire(hook.hookUrl, body, { "clanker-signature": clankerSig(randomBytes(16).toString("hex"), body) });
    expect({ status: bad.status, type: bad.body?.error?.type }).toEqual({ status: 401, type: "authentication_error" });
    const unsigned = await fire(hook.hookUrl, body, {});
    expect(unsigned.status).toBe(401);
    expect(await runCount()).toBe(runs);
    expect(slack.messages.length).toBe(before);

    const fired = await fire(hook.hookUrl, body, { "clanker-signature": clankerSig(hook.secret, body) });
    expect(fired.status).toBe(202);
    const run = await runFinished(api, fired.body.runId, 20_000);
    expect({ status: run.status, trigger: run.trigger, input: run.input }).toEqual({ status: "completed", trigger: "webhook", input: { service: "billing", version: "v9.4.1" } });
    expect(await runCount()).toBe(runs + 1);
    const posted = slack.messages.slice(before);
    expect(posted.map((m) => ({ channel: m.channel, text: m.text }))).toEqual([{ channel: "C003", text: "Deployed billing v9.4.1" }]);
  }, 30_000);
});

describe("a workflow triggered by issues that opens issues", () => {
  test("the issue it opens starts no workflow, so it cannot trigger itself; a person's issue does, even one pasting a made-up mark", async () => {
    const def = {
      id: "issue-follow-up",
      name: "Issue follow-up",
      steps: [{ id: "open", kind: "action", integration: "github", action: "create_issue", input: { repo: "octo/shop", title: "Follow-up to #{{input.issue.number}}", body: "Seen: {{input.issue.title}}" } }],
      triggers: [{ github: { events: ["issues"], repo: "octo/shop" } }],
    };
    expect((await api("POST", "/api/v1/workflows/definitions", { body: def })).status).toBe(200);
    const hook = await hookOf("issue-follow-up");
    // GitHub delivers the issues the workflow opens to the same hook, as a repository webhook does.
    gh.hooks.push({ repo: "octo/shop", url: hook.hookUrl, secret: hook.secret });
    const runs = await runCount();
    const forged = "<!-- clanker: opened by a workflow (0123456789abcdef0123456789abcdef) -->";
    const body = JSON.stringify({ action: "opened", issue: { number: 41, title: "Crash on save", body: `Steps… ${forged}` }, repository: { full_name: "octo/shop" }, sender: { login: "alice" } });
    const fired = await fire(hook.hookUrl, body, { "x-github-event": "issues", "x-github-delivery": randomUUID(), "x-hub-signature-256": githubSig(hook.secret, body) });
    expect(fired.body.runId).toMatch(/^run_\d+$/);
    const run = await runFinished(api, fired.body.runId, 20_000);
    expect(run.status).toBe("completed");

    const deadline = Date.now() + 10_000;
    while (gh.deliveries.length === 0 && Date.now() < deadline) await Bun.sleep(25);
    expect(gh.deliveries).toEqual([{ number: 1, status: 202, body: { received: true, event: "issues", ignored: "this issue was opened by a workflow's action: an issue a workflow opens starts no workflow, so none can trigger itself" } }]);
    const opened = gh.issues.filter((i) => i.repo === "octo/shop");
    expect(opened.map((i) => i.title)).toEqual(["Follow-up to #41"]);
    expect(opened[0]!.body).toMatch(/^Seen: Crash on save\n\n<!-- clanker: opened by a workflow \([0-9a-f]{32}\) -->$/);
    expect(await runCount()).toBe(runs + 1);
    gh.hooks.length = 0;
    // The genuine mark copied onto another issue, or into another repository's, hides neither from triage.
    const genuine = /<!-- clanker: [^>]+ -->/.exec(opened[0]!.body)![0];
    const copied = JSON.stringify({ action: "opened", issue: { number: 50, title: "Another issue", body: `Hide me ${genuine}` }, repository: { full_name: "octo/shop" }, sender: { login: "mallory" } });
    const hidden = await fire(hook.hookUrl, copied, { "x-github-event": "issues", "x-github-delivery": randomUUID(), "x-hub-signature-256": githubSig(hook.secret, copied) });
    expect(hidden.body.runId).toMatch(/^run_\d+$/);
  }, 30_000);
});

describe("skill steps that read a source", () => {
  const withConnector = (connector: unknown) => ({
    id: "read-src",
    name: "Read a source",
    input: { properties: { repo: { type: "string" } } },
    steps: [{ id: "look", kind: "skill", skill: "code-review", input: "Look LOOK-{{input.repo}}", connector }],
  });

  test("a step's connector is checked when the definition is saved, naming the field; templated fields wait for the run", async () => {
    const refused = async (connector: unknown, param: string) => {
      const r = await api("POST", "/api/v1/workflows/definitions", { body: withConnector(connector) });
      expect({ status: r.status, type: r.body?.error?.type, param: r.body?.error?.param }).toEqual({ status: 400, type: "invalid_request_error", param });
    };
    await refused("github", "steps.0.connector");
    await refused({ type: "svn", fields: {} }, "steps.0.connector.type");
    await refused({ type: "github" }, "steps.0.connector.fields");
    await refused({ type: "github", fields: { repo: "not a repo" } }, "steps.0.connector.fields.repo");
    await refused({ type: "github", fields: { repo: "{{input.repo}}", paths: "src/" } }, "steps.0.connector.fields.paths");
    await refused({ type: "local", fields: { ref: "main" } }, "steps.0.connector.fields.source");
    await refused({ type: "github", fields: { repo: "octo/shop" }, token: "x" }, "steps.0.connector.token");
    const ok = await api("POST", "/api/v1/workflows/definitions", { body: withConnector({ type: "github", fields: { repo: "{{input.repo}}", ref: "main", paths: ["{{input.repo}}"] } }) });
    expect(ok.status).toBe(200);
    expect(ok.body.steps[0].connector).toEqual({ type: "github", fields: { repo: "{{input.repo}}", ref: "main", paths: ["{{input.repo}}"] } });
  });

  test("a connector that renders to something a run refuses fails the step with the run's reason, and starts no execution", async () => {
    const executions = (await api("GET", "/api/v1/executions?limit=100")).body.data.length;
    const launched = await api("POST", "/api/v1/workflows/read-src/launch", { body: { inputData: { repo: "no slash here" } } });
    expect(launched.status).toBe(200);
    const run = await runFinished(api, launched.body.runId, 20_000);
    expect(run.status).toBe("failed");
    expect(run.steps.look).toMatchObject({ status: "failed", connector: { type: "github", fields: { repo: "no slash here" } } });
    expect(run.steps.look.error.message).toContain("owner/repo");
    expect((await api("GET", "/api/v1/executions?limit=100")).body.data.length).toBe(executions);
  });
});

describe("execute-skill over MCP", () => {
  test("takes a connector like the REST run does: code-review reads the repository; its input schema describes the connector", async () => {
    const mcp = await connectMcp(srv.url, "streamable", { "x-api-key": apiKey });
    clients.push(mcp);
    const tools = await mcp.listTools();
    const schema = tools.tools.find((t) => t.name === "execute-skill")!.inputSchema as any;
    const c = schema.properties.connector;
    expect(c.required).toEqual(["type", "fields"]);
    expect(c.properties.type.anyOf.map((x: any) => x.const)).toEqual(["github", "local", "remote"]);
    expect(Object.keys(c.properties.fields.properties)).toEqual(["repo", "source", "ref", "paths"]);
    for (const k of ["repo", "source", "ref", "paths"]) expect(c.properties.fields.properties[k].description).toBeTruthy();

    const done = await toolOk(mcp, "execute-skill", { slug: "code-review", input: "Review MCP-REVIEW-1", connector: { type: "github", fields: { repo: "octo/shop", ref: "main", paths: ["src/"] } }, timeoutSeconds: 60 });
    expect(done.status).toBe("completed");
    const prompt = promptWith("MCP-REVIEW-1");
    expect(prompt).toContain("MAIN_ONLY_MARKER");
    expect(prompt).toContain("MAIN-README");
    expect(done.connector).toMatchObject({ type: "github", fields: { repo: "octo/shop", ref: "main" }, context: { included: [{ path: "README.md" }, { path: "src/cart.ts" }] } });

    const bad = await toolError(mcp, "execute-skill", { slug: "code-review", input: "Review MCP-REVIEW-2", connector: { type: "github", fields: { repo: "nope" } } });
    expect(bad).toMatchObject({ type: "invalid_request_error", param: "connector.fields.repo" });
    const wrongType = await callTool(mcp, "execute-skill", { slug: "code-review", input: "Review MCP-REVIEW-3", connector: { type: "svn", fields: {} } });
    expect(wrongType.isError).toBe(true);
    expect(model.requests.some((r) => promptText(r.body).includes("MCP-REVIEW-2") || promptText(r.body).includes("MCP-REVIEW-3"))).toBe(false);
  }, 60_000);
});

describe("the github integration and its connector", () => {
  test("is listed as connected only while the github connector is (it acts with its token)", async () => {
    const github = async () => (await api("GET", "/api/v1/integrations")).body.data.find((i: any) => i.id === "github");
    expect(await github()).toMatchObject({ connected: true, account: "octo-bot" });
    expect((await api("DELETE", "/api/v1/connectors/github")).status).toBe(200);
    expect(await github()).toMatchObject({ connected: false, account: null, connectedAt: null });
    expect((await api("POST", "/api/v1/connectors/github/connect", { body: { token: GH_TOKEN } })).body).toMatchObject({ connected: true });
    expect(await github()).toMatchObject({ connected: true, account: "octo-bot" });
  });
});
