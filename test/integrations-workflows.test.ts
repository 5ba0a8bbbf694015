// The workflow `action` step (issue 11): {integration, action, input} with its strings templated like skill
// steps, run against the fake Slack; checked when the definition is saved; an action's typed failure fails the
// step and the run with that code.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cleanup, client, startServer, type TestServer } from "./helpers/server";
import { runFinished } from "./helpers/api";
import { startFakeSlack, type FakeSlack } from "./helpers/fake-slack";
import { startFakeModel, type FakeModel } from "./helpers/fake-models";

let srv: TestServer;
let slack: FakeSlack;
let model: FakeModel;
let api: ReturnType<typeof client>;
const TOKEN = "xoxb-workflow-test-9d8c7b6a";

beforeAll(async () => {
  slack = startFakeSlack();
  slack.tokens.add(TOKEN);
  model = startFakeModel("anthropic");
  srv = await startServer({
    env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", CLANKER_SLACK_API_URL: slack.apiUrl, ANTHROPIC_API_KEY: "sk-ant-integ-wf-0000000000000000", ANTHROPIC_BASE_URL: model.url },
  });
  api = client(srv, { apiKey: await srv.createKey() });
  expect((await api("POST", "/api/v1/integrations/slack/connect", { body: { credentials: { token: TOKEN } } })).status).toBe(200);
}, 30_000);

afterAll(async () => {
  await srv?.stop();
  if (srv) cleanup(srv);
  slack?.stop();
  model?.stop();
});

describe("workflow action steps", () => {
  test("a skill step's output and the run's input, templated into an action step that posts to Slack", async () => {
    const def = {
      id: "summarize-and-post",
      name: "Summarize and post",
      input: { required: ["doc", "channel"], properties: { doc: { type: "string" }, channel: { type: "string" } } },
      steps: [
        { id: "sum", kind: "skill", skill: "summarize", input: "{{input.doc}}" },
        { id: "post", kind: "action", integration: "slack", action: "post_message", input: { channel: "{{input.channel}}", text: "Summary: {{steps.sum.output}}" } },
      ],
    };
    expect((await api("POST", "/api/v1/workflows/definitions", { body: def })).status).toBe(200);
    const launched = await api("POST", "/api/v1/workflows/summarize-and-post/launch", { body: { inputData: { doc: "Release notes for v2", channel: "#deploys" } } });
    expect(launched.status).toBe(200);
    const run = await runFinished(api, launched.body.runId);
    expect(run.status).toBe("completed");
    const posted = slack.messages.at(-1)!;
    expect(posted.channel).toBe("C003");
    expect(posted.text).toStartWith("Summary: Fake answer for: ");
    expect(posted.text).toContain("Release notes for v2");
    expect(run.steps.post).toMatchObject({ status: "completed", kind: "action", input: { channel: "#deploys", text: posted.text }, output: { ok: true, channel: "C003", ts: posted.ts } });
    // The action is the launcher's, as its launch is: audited as their key, under the launch's request id.
    const me = (await api("GET", "/api/v1/profile")).body;
    const audit = (await api("GET", "/api/v1/audit-logs?limit=50")).body.data as { action: string; resourceId: string; actor: unknown; requestId: string }[];
    const launch = audit.find((a) => a.action === "workflow.launch" && a.resourceId === launched.body.runId)!;
    const action = audit.find((a) => a.action === "integration.action" && a.requestId === launch.requestId)!;
    expect(action.actor).toEqual({ type: "apiKey", userId: me.id, apiKeyId: me.apiKeyId });
  });

  test("an action's typed failure fails the step and the run with that code", async () => {
    const def = {
      id: "post-nowhere",
      name: "Post nowhere",
      steps: [{ id: "post", kind: "action", integration: "slack", action: "post_message", input: { channel: "#nowhere", text: "hello" } }],
    };
    expect((await api("POST", "/api/v1/workflows/definitions", { body: def })).status).toBe(200);
    const run = await runFinished(api, (await api("POST", "/api/v1/workflows/post-nowhere/launch", { body: {} })).body.runId);
    expect(run.status).toBe("failed");
    expect(run.error.code).toBe("INTEGRATION_ERROR");
    expect(run.steps.post).toMatchObject({ status: "failed", error: { code: "INTEGRATION_ERROR" } });
    expect(run.steps.post.error.message).toContain("channel_not_found");
  });

  test("a run cancelled while its action posts: the step shows what the action did (the message went out), the run stays cancelled", async () => {
    const def = { id: "post-slowly", name: "Post slowly", steps: [{ id: "post", kind: "action", integration: "slack", action: "post_message", input: { channel: "#deploys", text: "slow [[slow:800]]" } }] };
    expect((await api("POST", "/api/v1/workflows/definitions", { body: def })).status).toBe(200);
    const sent = slack.messages.length;
    const { runId } = (await api("POST", "/api/v1/workflows/post-slowly/launch", { body: {} })).body;
    const deadline = Date.now() + 5_000;
    while (slack.messages.length === sent && Date.now() < deadline) await Bun.sleep(20);
    expect((await api("POST", `/api/v1/workflows/runs/${runId}/cancel`)).body.status).toBe("cancelled");
    let run: any;
    while (Date.now() < deadline + 2_000 && (run = (await api("GET", `/api/v1/workflows/runs/${runId}`)).body).steps.post.status === "cancelled") await Bun.sleep(50);
    expect({ run: run.status, step: run.steps.post.status, ts: run.steps.post.output?.ts }).toEqual({ run: "cancelled", step: "completed", ts: slack.messages.at(-1)!.ts });
  });

  test("values a template puts into a Slack message are escaped as Slack asks (a title '<!channel>' pings nobody); the template's own markup stays", async () => {
    const def = {
      id: "post-title",
      name: "Post a title",
      input: { required: ["title"], properties: { title: { type: "string" } } },
      steps: [
        { id: "framed", kind: "action", integration: "slack", action: "post_message", input: { channel: "#deploys", text: "<!here> New PR: {{input.title}}" } },
        { id: "bare", kind: "action", integration: "slack", action: "post_message", input: { channel: "#deploys", text: "{{input.title}}" } },
      ],
    };
    expect((await api("POST", "/api/v1/workflows/definitions", { body: def })).status).toBe(200);
    const title = "<!channel> Fix & ship <https://evil.example|click>";
    const run = await runFinished(api, (await api("POST", "/api/v1/workflows/post-title/launch", { body: { inputData: { title } } })).body.runId);
    expect(run.status).toBe("completed");
    const escaped = "&lt;!channel&gt; Fix &amp; ship &lt;https://evil.example|click&gt;";
    expect(slack.messages.slice(-2).map((m) => m.text)).toEqual([`<!here> New PR: ${escaped}`, escaped]);
  });

  test("a definition naming an unknown integration or action is refused when saved, naming the field", async () => {
    const step = (s: Record<string, unknown>) => ({ id: "bad", name: "Bad", steps: [{ id: "a", kind: "action", input: {}, ...s }] });
    const unknownIntegration = await api("POST", "/api/v1/workflows/definitions", { body: step({ integration: "fax", action: "send" }) });
    expect(unknownIntegration.status).toBe(400);
    expect(unknownIntegration.body.error.param).toBe("steps.0.integration");
    const unknownAction = await api("POST", "/api/v1/workflows/definitions", { body: step({ integration: "slack", action: "delete_channel" }) });
    expect(unknownAction.status).toBe(400);
    expect(unknownAction.body.error.param).toBe("steps.0.action");
    expect(unknownAction.body.error.message).toContain("post_message");
    const badInput = await api("POST", "/api/v1/workflows/definitions", { body: step({ integration: "slack", action: "post_message", input: "text" }) });
    expect(badInput.body.error.param).toBe("steps.0.input");
  });
});
