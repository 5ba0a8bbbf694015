// The core workflow path, end to end against the fake model: a definition with an approval step streams as an AI
// SDK UI message stream (read by the SDK's own reader), suspends, resumes, and completes with every output.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readUIMessageStream, type UIMessageChunk } from "ai";
import { cleanup, client, startServer, testDialect, type TestServer } from "./helpers/server";
import { querySql, runSql } from "./helpers/sql";
import { startFakeModel, type FakeModel } from "./helpers/fake-models";
import { metric } from "./helpers/metrics";

let srv: TestServer;
let fake: FakeModel;
let key: string;
let api: ReturnType<typeof client>;

const definition = {
  id: "core-three-steps",
  name: "Core three steps",
  input: { required: ["topic"], properties: { topic: { type: "string" } } },
  steps: [
    { id: "first", kind: "skill", skill: "summarize", input: "First about {{input.topic}} CORE-MARK-1" },
    { id: "approve", kind: "approval", message: "Approve: {{steps.first.output}}", resumeSchema: { required: ["approved"], properties: { approved: { type: "boolean" } } } },
    { id: "last", kind: "skill", skill: "summarize", input: "Last, approved={{steps.approve.output.approved}}" },
  ],
};

async function waitFor<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await Bun.sleep(50);
  }
}

/** SSE `data:` lines → UI message chunks, as a client transport would hand them to the AI SDK. */
function chunks(body: ReadableStream<Uint8Array>): ReadableStream<UIMessageChunk> {
  let buf = "";
  return body.pipeThrough(new TextDecoderStream() as unknown as ReadableWritablePair<string, Uint8Array>).pipeThrough(
    new TransformStream<string, UIMessageChunk>({
      transform(text, controller) {
        buf += text;
        let i;
        while ((i = buf.indexOf("\n\n")) !== -1) {
          const frame = buf.slice(0, i);
          buf = buf.slice(i + 2);
          for (const line of frame.split("\n")) if (line.startsWith("data: ") && line !== "data: [DONE]") controller.enqueue(JSON.parse(line.slice(6)));
        }
      },
    }),
  );
}

beforeAll(async () => {
  fake = startFakeModel("anthropic");
  // One-second crons, so a tick comes within a test.
  srv = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", ANTHROPIC_API_KEY: "sk-ant-server-key-000000000000000", ANTHROPIC_BASE_URL: fake.url, CLANKER_CRON_MIN_INTERVAL_SECONDS: "1" } });
  key = await srv.createKey();
  api = client(srv, { apiKey: key });
  expect((await api("POST", "/api/v1/workflows/definitions", { body: definition })).status).toBe(200);
});

afterAll(async () => {
  await srv.stop();
  cleanup(srv);
  fake.stop();
});

test("a step's execution is the launcher's: started by their key, audited as it under the launch's request id (a trigger's are nobody's: the cron test)", async () => {
  const me = (await api("GET", "/api/v1/profile")).body;
  const launch = await api("POST", "/api/v1/workflows/parallel-review/launch", { body: { inputData: { code: "let y = 2", doc: "ACTOR-DOC" } } });
  const done = await waitFor(() => api("GET", `/api/v1/workflows/runs/${launch.body.runId}`), (r) => r.body.status !== "running");
  expect(done.body.status).toBe("completed");
  const executionId = done.body.steps.review.executionId;
  expect((await api("GET", `/api/v1/executions/${executionId}/status`)).body.startedBy).toEqual({ userId: me.id, apiKeyId: me.apiKeyId });
  const audit = (await api("GET", "/api/v1/audit-logs?limit=100")).body.data as { action: string; resourceId: string; actor: unknown; requestId: string }[];
  const launched = audit.find((a) => a.action === "workflow.launch" && a.resourceId === launch.body.runId)!;
  const created = audit.find((a) => a.action === "execution.create" && a.resourceId === executionId)!;
  expect(created.actor).toEqual({ type: "apiKey", userId: me.id, apiKeyId: me.apiKeyId });
  expect(created.requestId).toBe(launched.requestId);
}, 30_000);

test("a bad definition is a 400 naming the step and field", async () => {
  const r = await api("POST", "/api/v1/workflows/definitions", { body: { ...definition, id: "bad-one", steps: [{ id: "x", kind: "skill", skill: "no-such-skill", input: "hi" }] } });
  expect(r.status).toBe(400);
  expect(r.body.error.param).toBe("steps.0.skill");
  expect(r.body.error.message).toContain("'x'");
  // A template that reads a step that does not exist, has not ended yet, or runs beside it, is refused at save.
  const refs = async (steps: unknown[]) => (await api("POST", "/api/v1/workflows/definitions", { body: { id: "bad-refs", name: "refs", steps } })).body.error;
  const skill = (id: string, input: string) => ({ id, kind: "skill", skill: "summarize", input });
  expect(await refs([skill("sum", "x"), skill("post", "Summary: {{steps.summ.output}}")])).toMatchObject({
    param: "steps.1",
    code: "INVALID_PARAMETER",
    message: "steps.1: step 'post' uses {{steps.summ…}}, but there is no step 'summ' before it (a step reads the steps that end before it starts)",
  });
  expect((await refs([skill("a", "{{steps.b.output}}"), skill("b", "x")]))?.param).toBe("steps.0");
  expect((await refs([{ id: "both", kind: "parallel", steps: [skill("l", "x"), skill("r", "{{steps.l.output}}")] }]))?.param).toBe("steps.0.steps.1");
  expect((await refs([skill("a", "x"), { id: "if", kind: "branch", condition: { value: "{{steps.a.output}}", contains: "y" }, then: [skill("t", "{{steps.later.output}}")] }, skill("later", "x")]))?.param).toBe("steps.1.then.0");
  // A template that reads neither input nor steps (a typo) would render as nothing: refused, as is a step field the
  // kind does not have, and a required input name outside the declared properties.
  expect(await refs([skill("a", "Topic: {{inptu.topic}}")])).toMatchObject({ param: "steps.0", message: expect.stringContaining("{{inptu.topic}}: a template reads {{input.<field>}}") });
  expect((await refs([{ id: "ok", kind: "approval", message: "Hi {{user.name}}" }]))?.param).toBe("steps.0");
  // {{steps}} alone would read a parallel sibling, which naming it is refused for.
  expect((await refs([{ id: "both", kind: "parallel", steps: [skill("l", "x"), skill("r", "All: {{steps}}")] }]))?.message).toContain("uses {{steps}}: a template reads");
  expect((await refs([{ id: "b", kind: "branch", condition: { value: "{{input.x}}", equals: { yes: true } }, then: [skill("t", "x")] }]))?.param).toBe("steps.0.condition.equals");
  expect((await refs([{ id: "b", kind: "branch", condition: { value: "{{input.x}}", contains: 5 }, then: [skill("t", "x")] }]))?.param).toBe("steps.0.condition.contains");
  expect(await refs([{ ...skill("a", "x"), retries: 3 }])).toMatchObject({ param: "steps.0.retries", message: expect.stringContaining("a skill step has no field 'retries'") });
  expect((await refs([{ id: "p", kind: "parallel", steps: [{ id: "w", kind: "approval", message: "m", resumeschema: {} }] }]))?.param).toBe("steps.0.steps.0.resumeschema");
  const req = await api("POST", "/api/v1/workflows/definitions", { body: { id: "bad-required", name: "r", input: { required: ["topc"], properties: { topic: { type: "string" } } }, steps: [skill("a", "{{input.topic}}")] } });
  expect({ status: req.status, param: req.body.error?.param }).toEqual({ status: 400, param: "input.required" });
  expect(req.body.error.message).toContain("names 'topc', which is not one of its properties (topic)");
  // What has ended may be read, from anywhere after it: a parallel step's branches once it is over, a branch's steps.
  const ok = await api("POST", "/api/v1/workflows/definitions", {
    body: { id: "good-refs", name: "refs", steps: [skill("a", "x"), { id: "both", kind: "parallel", steps: [skill("l", "{{steps.a.output}}"), skill("r", "y")] }, { id: "if", kind: "branch", condition: { value: "{{steps.l.output}}", contains: "y" }, then: [skill("t", "{{steps.r.output}} {{steps.if.output.taken}}")] }, skill("z", "{{steps.t.output}}")] },
  });
  expect(ok.status).toBe(200);
  expect((await api("DELETE", "/api/v1/workflows/definitions/good-refs")).status).toBe(200);
});

test("the stream is read by the AI SDK, suspends at the approval, and resumes to completion", async () => {
  const res = await fetch(`${srv.url}/api/v1/workflows/${definition.id}/stream`, {
    method: "POST",
    headers: { "x-api-key": key, "content-type": "application/json" },
    body: JSON.stringify({ inputData: { topic: "tides" } }),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("x-vercel-ai-ui-message-stream")).toBe("v1");
  const runId = res.headers.get("x-workflow-run-id")!;
  expect(runId).toMatch(/^run_\d+$/);
  let last: any;
  for await (const message of readUIMessageStream({ stream: chunks(res.body!) })) last = message;
  expect(last.id).toBe(runId);
  const text = last.parts.filter((p: any) => p.type === "text").map((p: any) => p.text).join("");
  expect(text).toContain("First about tides");
  const data = last.parts.filter((p: any) => p.type === "data-workflow").pop().data;
  expect(data.status).toBe("suspended");
  expect(data.steps.approve.suspend.message).toContain("Fake answer");

  // Bad resume data, and the wrong step, are typed errors.
  expect((await api("POST", `/api/v1/workflows/runs/${runId}/resume`, { body: { step: "approve", resumeData: { approved: "yes" } } })).body.error.param).toBe("resumeData.approved");
  expect((await api("POST", `/api/v1/workflows/runs/${runId}/resume`, { body: { step: "first", resumeData: {} } })).status).toBe(409);

  const resumed = await api("POST", `/api/v1/workflows/runs/${runId}/resume`, { body: { step: "approve", resumeData: { approved: true } } });
  expect(resumed.status).toBe(200);
  const done = await waitFor(() => api("GET", `/api/v1/workflows/runs/${runId}`), (r) => r.body.status !== "running");
  expect(done.body.status).toBe("completed");
  expect(done.body.steps.first.output).toContain("First about tides");
  expect(done.body.steps.approve.output).toEqual({ approved: true });
  expect(done.body.steps.last.output).toContain("approved=true");
  // Each skill step is a normal execution; the run costs what they cost.
  const execs = (await api("GET", "/api/v1/executions?limit=100")).body.data.filter((e: any) => e.interface === "workflow");
  const mine = execs.filter((e: any) => [done.body.steps.first.executionId, done.body.steps.last.executionId].includes(e.id));
  expect(mine.length).toBe(2);
  expect(done.body.cost).toBeCloseTo(mine.reduce((s: number, e: any) => s + e.cost, 0), 6);
  expect(fake.requests.filter((r) => JSON.stringify(r.body).includes("CORE-MARK-1")).length).toBe(1);
}, 30_000);

test("a stream launch retried under its idempotency-key starts nothing: it streams the first launch's run again", async () => {
  const stream = (body: unknown) =>
    fetch(`${srv.url}/api/v1/workflows/${definition.id}/stream`, {
      method: "POST",
      headers: { "x-api-key": key, "content-type": "application/json", "idempotency-key": `stream-retry-${process.pid}` },
      body: JSON.stringify(body),
    });
  const runsOf = async () => (await api("GET", `/api/v1/workflows/runs?limit=100&workflow=${definition.id}`)).body.data.length;
  const runsBefore = await runsOf();
  const first = await stream({ inputData: { topic: "retried streams" } });
  const runId = first.headers.get("x-workflow-run-id")!;
  let last: any;
  for await (const message of readUIMessageStream({ stream: chunks(first.body!) })) last = message;
  expect(last.parts.filter((p: any) => p.type === "data-workflow").pop().data.status).toBe("suspended");
  const again = await stream({ inputData: { topic: "retried streams" } });
  expect({ status: again.status, run: again.headers.get("x-workflow-run-id"), replayed: again.headers.get("idempotency-replayed") }).toEqual({ status: 200, run: runId, replayed: "true" });
  let replayed: any;
  for await (const message of readUIMessageStream({ stream: chunks(again.body!) })) replayed = message;
  expect(replayed.parts.filter((p: any) => p.type === "data-workflow").pop().data).toMatchObject({ runId, status: "suspended" });
  expect(await runsOf()).toBe(runsBefore + 1);
  // The same key with another body is refused, as on /launch.
  const other = await stream({ inputData: { topic: "another topic" } });
  expect({ status: other.status, code: ((await other.json()) as any).error.code }).toEqual({ status: 400, code: "IDEMPOTENCY_KEY_REUSED" });
  expect((await api("POST", `/api/v1/workflows/runs/${runId}/cancel`)).status).toBe(200);
}, 30_000);

test("SIGKILL during step 2: after a restart the run finishes without running step 1 again", async () => {
  await api("POST", "/api/v1/workflows/definitions", {
    body: {
      id: "core-durable",
      name: "durable",
      steps: [
        { id: "a", kind: "skill", skill: "summarize", input: "DURABLE-A-MARK" },
        { id: "b", kind: "skill", skill: "summarize", input: "DURABLE-B [[slow]] after {{steps.a.output}}" },
      ],
    },
  });
  const run = (await api("POST", "/api/v1/workflows/core-durable/launch", { body: { inputData: {} } })).body;
  expect(run.trigger).toBe("api");
  // Where a launch comes from is the API's or a page's to say, not a cron's or a hook's.
  const posing = await api("POST", "/api/v1/workflows/core-durable/launch", { body: { inputData: {}, interface: "cron" } });
  expect({ status: posing.status, param: posing.body.error?.param }).toEqual({ status: 400, param: "interface" });
  const mid = await waitFor(() => api("GET", `/api/v1/workflows/runs/${run.runId}`), (r) => r.body.steps.b?.status === "running");
  expect(mid.body.steps.b.status).toBe("running");
  await srv.kill("SIGKILL");
  await srv.restart();
  api = client(srv, { apiKey: key });
  const done = await waitFor(() => api("GET", `/api/v1/workflows/runs/${run.runId}`), (r) => r.body.status !== "running");
  expect(done.body.status).toBe("completed");
  const prompts = fake.requests.map((r) => JSON.stringify(r.body.messages));
  expect(prompts.filter((p) => p.includes("DURABLE-A-MARK") && !p.includes("DURABLE-B")).length).toBe(1);
  expect(done.body.steps.b.output).toContain("DURABLE-B");
}, 40_000);

test("a one-second cron trigger launches runs, and stops when its definition is deleted", async () => {
  await api("POST", "/api/v1/workflows/definitions", {
    body: { id: "core-tick", name: "tick", triggers: [{ cron: "* * * * * *", input: {} }], steps: [{ id: "a", kind: "skill", skill: "summarize", input: "tick" }] },
  });
  const runs = await waitFor(() => api("GET", "/api/v1/workflows/runs?workflow=core-tick"), (r) => r.body.data.length >= 2, 5_000);
  expect(runs.body.data.length).toBeGreaterThanOrEqual(2);
  expect(runs.body.data.every((r: any) => r.trigger === "cron")).toBe(true);
  // A trigger's run is nobody's: its steps' executions are the system's, not those of the key that saved the definition.
  const fired = await waitFor(() => api("GET", `/api/v1/workflows/runs/${runs.body.data.at(-1).id}`), (r) => !!r.body.steps.a?.executionId);
  expect((await api("GET", `/api/v1/executions/${fired.body.steps.a.executionId}/status`)).body.startedBy).toEqual({ userId: null, apiKeyId: null });
  // The trigger lists when it last fired: the newest of its runs (or a later one, a tick landing in between).
  const listed = (await api("GET", "/api/v1/triggers?limit=100")).body.data.find((t: any) => t.workflowId === "core-tick");
  expect(listed).toMatchObject({ id: "core-tick#0", kind: "cron" });
  const firedAt = Date.parse(listed.lastFiredAt);
  expect(firedAt).toBeGreaterThanOrEqual(Date.parse(runs.body.data[0].createdAt));
  expect(firedAt).toBeLessThanOrEqual(Date.now());
  // Once the DELETE is answered the schedule is stopped, and a tick already under way creates no run after it.
  expect((await api("DELETE", "/api/v1/workflows/definitions/core-tick")).status).toBe(200);
  const after = (await api("GET", "/api/v1/workflows/runs?workflow=core-tick&limit=100")).body.data.length;
  await Bun.sleep(2_100);
  expect((await api("GET", "/api/v1/workflows/runs?workflow=core-tick&limit=100")).body.data.length).toBe(after);
}, 20_000);

test("a cron tick whose last run is still running is skipped: runs slower than their schedule do not pile up", async () => {
  const runs = () => api("GET", "/api/v1/workflows/runs?workflow=core-slow-tick&limit=100");
  await api("POST", "/api/v1/workflows/definitions", {
    // Four deltas a second apart: each run takes 4 s, its schedule ticks every second.
    body: { id: "core-slow-tick", name: "slow tick", triggers: [{ cron: "* * * * * *", input: {} }], steps: [{ id: "a", kind: "skill", skill: "summarize", input: "slow tick [[slow:1000]]" }] },
  });
  try {
    await waitFor(runs, (r) => r.body.data.length >= 1, 5_000);
    await Bun.sleep(2_500); // two ticks, or three, while the first run goes on
    const during = (await runs()).body.data;
    expect(during.map((r: { status: string }) => r.status)).toEqual(["running"]);
  } finally {
    expect((await api("DELETE", "/api/v1/workflows/definitions/core-slow-tick")).status).toBe(200);
  }
}, 20_000);

test("deleting a definition fails its runs waiting on an approval (WORKFLOW_NOT_FOUND) at once, not when someone resumes one", async () => {
  const body = { ...definition, id: "core-deleted-waiting" };
  expect((await api("POST", "/api/v1/workflows/definitions", { body })).status).toBe(200);
  const { runId } = (await api("POST", "/api/v1/workflows/core-deleted-waiting/launch", { body: { inputData: { topic: "gone" } } })).body;
  const waiting = await waitFor(() => api("GET", `/api/v1/workflows/runs/${runId}`), (r) => r.body.status === "suspended");
  expect(waiting.body.suspendedStep).toBe("approve");
  expect((await api("DELETE", "/api/v1/workflows/definitions/core-deleted-waiting")).status).toBe(200);
  const run = (await api("GET", `/api/v1/workflows/runs/${runId}`)).body;
  expect({ status: run.status, code: run.error?.code, suspendedStep: run.suspendedStep, approve: run.steps.approve.status }).toEqual({ status: "failed", code: "WORKFLOW_NOT_FOUND", suspendedStep: null, approve: "cancelled" });
  const resumed = await api("POST", `/api/v1/workflows/runs/${runId}/resume`, { body: { step: "approve", resumeData: { approved: true } } });
  expect(resumed.status).toBe(409);
});

test("a cron launch the server refuses (no model) is a failed run with the refusal's code, not a line in the operator's log only", async () => {
  const bare = await startServer({ env: { ANTHROPIC_API_KEY: "", ANTHROPIC_BASE_URL: "", OPENAI_BASE_URL: "", CLANKER_CRON_MIN_INTERVAL_SECONDS: "1" } });
  try {
    const call = client(bare, { apiKey: await bare.createKey({ email: "cron-refused@example.com" }) });
    const body = { id: "refused-tick", name: "tick", triggers: [{ cron: "* * * * * *", input: {} }], steps: [{ id: "a", kind: "skill", skill: "summarize", input: "tick" }] };
    expect((await call("POST", "/api/v1/workflows/definitions", { body })).status).toBe(200);
    const runs = await waitFor(() => call("GET", "/api/v1/workflows/runs?workflow=refused-tick"), (r) => r.body.data.length >= 1, 5_000);
    expect(runs.body.data[0]).toMatchObject({ workflowId: "refused-tick", status: "failed", trigger: "cron", error: { code: "MODEL_NOT_CONFIGURED" } });
    expect(runs.body.data[0].cost).toBe(0);
    const audit = (await call("GET", "/api/v1/audit-logs?action=workflow.launch&limit=5")).body.data;
    expect(audit[0]).toMatchObject({ resourceId: runs.body.data[0].id, metadata: { trigger: "cron", refused: "MODEL_NOT_CONFIGURED" } });
    // The ticks after it are refused alike: one run for the streak, not one a second.
    await Bun.sleep(2_500);
    expect((await call("GET", "/api/v1/workflows/runs?workflow=refused-tick")).body.data.map((r: any) => r.id)).toEqual([runs.body.data[0].id]);
  } finally {
    await bare.stop();
  }
  // Started again without the test's 1 s minimum (the default 60 s): the stored one-second cron is not scheduled.
  const again = await startServer({ dataDir: bare.dataDir, env: { ANTHROPIC_API_KEY: "", ANTHROPIC_BASE_URL: "", OPENAI_BASE_URL: "" } });
  try {
    const deadline = Date.now() + 5_000;
    while (!again.logs().includes("not scheduled") && Date.now() < deadline) await Bun.sleep(50);
    expect(again.logs()).toMatch(/cron trigger refused-tick#0 of workspace \d+ fires every 1 s at times, more often than CLANKER_CRON_MIN_INTERVAL_SECONDS \(60\) allows: not scheduled/);
    // The API says so too, to whoever looks (a member has no log): not enabled, and why.
    const call = client(again, { apiKey: await again.createKey({ email: "cron-refused@example.com" }) });
    const listed = (await call("GET", "/api/v1/triggers?limit=100")).body.data.find((t: any) => t.id === "refused-tick#0");
    expect(listed).toMatchObject({ kind: "cron", enabled: false, settings: { notScheduled: expect.stringContaining("more often than this server's CLANKER_CRON_MIN_INTERVAL_SECONDS (60) allows") } });
  } finally {
    await again.stop();
    cleanup(again);
  }
}, 30_000);

test("a definition takes at most 20 cron triggers (each is judged at every save, schedule and list)", async () => {
  const crons = (n: number) => Array.from({ length: n }, (_, i) => ({ cron: `${i} 9 * * *`, input: {} }));
  const body = (n: number) => ({ id: "core-many-crons", name: "many", triggers: crons(n), steps: [{ id: "a", kind: "skill", skill: "summarize", input: "x" }] });
  const many = await api("POST", "/api/v1/workflows/definitions", { body: body(21) });
  expect({ status: many.status, param: many.body.error?.param, message: many.body.error?.message }).toEqual({ status: 400, param: "triggers", message: "triggers: at most 20 cron triggers per workflow" });
  expect((await api("POST", "/api/v1/workflows/definitions", { body: body(20) })).status).toBe(200);
  expect((await api("GET", "/api/v1/triggers?limit=100")).body.data.filter((t: any) => t.workflowId === "core-many-crons").length).toBe(20);
  expect((await api("DELETE", "/api/v1/workflows/definitions/core-many-crons")).status).toBe(200);
});

test("a cron trigger with enabled: false is kept, listed as disabled and never fires; a cron's unknown field or an input its workflow refuses is a 400 at save", async () => {
  const off = await api("POST", "/api/v1/workflows/definitions", {
    body: { id: "core-off", name: "off", triggers: [{ cron: "* * * * * *", input: {}, enabled: false }], steps: [{ id: "a", kind: "skill", skill: "summarize", input: "off" }] },
  });
  expect(off.status).toBe(200);
  const listed = (await api("GET", "/api/v1/triggers?limit=100")).body.data.find((t: any) => t.workflowId === "core-off");
  expect(listed).toMatchObject({ kind: "cron", enabled: false, lastFiredAt: null });
  await Bun.sleep(2_100);
  expect((await api("GET", "/api/v1/workflows/runs?workflow=core-off")).body.data).toEqual([]);
  expect((await api("DELETE", "/api/v1/workflows/definitions/core-off")).status).toBe(200);

  const save = (trigger: Record<string, unknown>) =>
    api("POST", "/api/v1/workflows/definitions", {
      body: { id: "core-bad-cron", name: "bad", input: { type: "object", required: ["topic"], properties: { topic: { type: "string" } } }, triggers: [trigger], steps: [{ id: "a", kind: "skill", skill: "summarize", input: "{{input.topic}}" }] },
    });
  const typo = await save({ cron: "0 9 * * *", timezon: "Europe/Paris", input: { topic: "x" } });
  expect({ status: typo.status, param: typo.body.error?.param }).toEqual({ status: 400, param: "triggers.0.timezon" });
  const missing = await save({ cron: "0 9 * * *" });
  expect({ status: missing.status, param: missing.body.error?.param }).toEqual({ status: 400, param: "triggers.0.input.topic" });
  const zone = await save({ cron: "0 9 * * *", timezone: "Mars/Base", input: { topic: "x" } });
  expect({ status: zone.status, param: zone.body.error?.param, code: zone.body.error?.code }).toEqual({ status: 400, param: "triggers.0.timezone", code: "INVALID_PARAMETER" });
  expect(zone.body.error.message).toContain('is not a time zone this server knows: "Mars/Base"');
  const flag = await save({ cron: "0 9 * * *", input: { topic: "x" }, enabled: "no" });
  expect({ status: flag.status, param: flag.body.error?.param }).toEqual({ status: 400, param: "triggers.0.enabled" });
  expect((await save({ cron: "0 9 * * *", input: { topic: "x" }, enabled: true })).status).toBe(200);
  expect((await api("DELETE", "/api/v1/workflows/definitions/core-bad-cron")).status).toBe(200);
}, 20_000);

test("a cron whose zone croner cannot run (stored before zones were checked) is logged and skipped; the others still fire", async () => {
  const paris = { id: "core-zone", name: "zone", triggers: [{ cron: "0 9 * * *", timezone: "Europe/Paris", input: {} }], steps: [{ id: "a", kind: "skill", skill: "summarize", input: "zone" }] };
  expect((await api("POST", "/api/v1/workflows/definitions", { body: paris })).status).toBe(200);
  const cast = testDialect() === "postgres" ? ["definition::text", "::json"] : ["definition", ""];
  expect(await runSql(srv, `UPDATE workflow_definitions SET definition = replace(${cast[0]}, 'Europe/Paris', 'Mars/Base')${cast[1]} WHERE key = 'core-zone'`)).toBe(1);
  const tick = { id: "core-after-bad", name: "tick", triggers: [{ cron: "* * * * * *", input: {} }], steps: [{ id: "a", kind: "skill", skill: "summarize", input: "tick" }] };
  expect((await api("POST", "/api/v1/workflows/definitions", { body: tick })).status).toBe(200);
  const runs = await waitFor(() => api("GET", "/api/v1/workflows/runs?workflow=core-after-bad"), (r) => r.body.data.length >= 1, 5_000);
  expect(runs.body.data.length).toBeGreaterThanOrEqual(1);
  expect(srv.logs()).toMatch(/cron trigger core-zone#0 of workspace \d+ cannot be scheduled \(.*\): save its definition again with a valid cron and timezone/);
  for (const id of ["core-after-bad", "core-zone"]) expect((await api("DELETE", `/api/v1/workflows/definitions/${id}`)).status).toBe(200);
}, 20_000);

test("a suspended run resumes through /stream and through the MCP tool, and webhooks report each state, a cancel included", async () => {
  const hooks: string[] = [];
  const payloads: any[] = [];
  const receiver = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: async (req) => {
      const body = (await req.json()) as { event: string };
      hooks.push(body.event);
      payloads.push(body);
      return new Response("ok");
    },
  });
  try {
    const callbackUrl = `http://127.0.0.1:${receiver.port}/hook`;
    const launch = async () => {
      const run = (await api("POST", `/api/v1/workflows/${definition.id}/launch`, { body: { inputData: { topic: "waves" }, callbackUrl } })).body;
      await waitFor(() => api("GET", `/api/v1/workflows/runs/${run.runId}`), (r) => r.body.status === "suspended");
      return run.runId as string;
    };
    // Through the stream.
    const viaStream = await launch();
    const res = await fetch(`${srv.url}/api/v1/workflows/${definition.id}/stream`, {
      method: "POST",
      headers: { "x-api-key": key, "content-type": "application/json" },
      body: JSON.stringify({ runId: viaStream, step: "approve", resumeData: { approved: false } }),
    });
    let last: any;
    for await (const m of readUIMessageStream({ stream: chunks(res.body!) })) last = m;
    expect(last.parts.filter((p: any) => p.type === "data-workflow").pop().data.status).toBe("completed");
    // Through MCP.
    const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
    const { StreamableHTTPClientTransport } = await import("@modelcontextprotocol/sdk/client/streamableHttp.js");
    const mcp = new Client({ name: "wf", version: "1" });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), { requestInit: { headers: { "x-api-key": key } } }));
    const viaMcp = await launch();
    const r = await mcp.callTool({ name: "resume-workflow-run", arguments: { runId: viaMcp, step: "approve", resumeData: { approved: true } } });
    expect(r.isError).toBeFalsy();
    const done = await waitFor(() => api("GET", `/api/v1/workflows/runs/${viaMcp}`), (x) => x.body.status !== "running");
    expect(done.body.status).toBe("completed");
    expect(((await mcp.callTool({ name: "get-workflow-run", arguments: { runId: viaMcp } })).structuredContent as any).status).toBe("completed");
    await mcp.close();
    // Cancelled while suspended: the receiver hears that it ended too.
    const cancelled = await launch();
    expect((await api("POST", `/api/v1/workflows/runs/${cancelled}/cancel`)).status).toBe(200);
    const seen = await waitFor(async () => hooks.slice(), (h) => h.filter((e) => e === "workflow.completed").length >= 2 && h.includes("workflow.cancelled"), 10_000);
    expect(seen.filter((e) => e === "workflow.suspended").length).toBeGreaterThanOrEqual(3);
    expect(seen.filter((e) => e === "workflow.completed").length).toBe(2);
    expect(seen.filter((e) => e === "workflow.cancelled").length).toBe(1);
    // The step it waited at ends with it: not left "suspended", nor named as where the run waits.
    const ended = (await api("GET", `/api/v1/workflows/runs/${cancelled}`)).body;
    expect(ended).toMatchObject({ status: "cancelled", suspendedStep: null, steps: { approve: { status: "cancelled" } } });
    // Only a failed run's callback carries an error.
    expect(payloads.filter((p) => "error" in p)).toEqual([]);
  } finally {
    receiver.stop(true);
  }
}, 30_000);

test("cancelled while a step runs: the step and its execution end cancelled; a failed run's callback says why", async () => {
  const payloads: any[] = [];
  const receiver = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: async (req) => (payloads.push(await req.json()), new Response("ok")) });
  try {
    const callbackUrl = `http://127.0.0.1:${receiver.port}/hook`;
    const def = { id: "core-steps-end", name: "steps end", input: { type: "object", properties: { x: { type: "string" } } }, steps: [{ id: "a", kind: "skill", skill: "summarize", input: "{{input.x}}" }, { id: "b", kind: "skill", skill: "summarize", input: "after {{steps.a.output}}" }] };
    expect((await api("POST", "/api/v1/workflows/definitions", { body: def })).status).toBe(200);
    const slow = (await api("POST", `/api/v1/workflows/${def.id}/launch`, { body: { inputData: { x: "go [[slow:400]]" } } })).body;
    const running = await waitFor(() => api("GET", `/api/v1/workflows/runs/${slow.runId}`), (r) => r.body.steps?.a?.status === "running" && !!r.body.steps.a.executionId);
    expect((await api("POST", `/api/v1/workflows/runs/${slow.runId}/cancel`)).status).toBe(200);
    const ended = (await api("GET", `/api/v1/workflows/runs/${slow.runId}`)).body;
    expect(ended).toMatchObject({ status: "cancelled", steps: { a: { status: "cancelled", executionId: running.body.steps.a.executionId } } });
    expect(ended.steps.b?.status ?? "pending").toBe("pending");
    const exec = await waitFor(() => api("GET", `/api/v1/executions/${running.body.steps.a.executionId}/status`), (r) => r.body.status !== "running");
    expect(exec.body.status).toBe("cancelled");

    const failing = (await api("POST", `/api/v1/workflows/${def.id}/launch`, { body: { inputData: { x: "boom [[fail:500]]" }, callbackUrl } })).body;
    const failed = await waitFor(() => api("GET", `/api/v1/workflows/runs/${failing.runId}`), (r) => r.body.status === "failed");
    const hook = (await waitFor(async () => payloads.slice(), (p) => p.some((x) => x.event === "workflow.failed"), 10_000)).find((x) => x.event === "workflow.failed");
    expect(hook).toMatchObject({ runId: failing.runId, status: "failed", error: failed.body.error });
    expect(hook.error.code).toEqual(expect.any(String));
  } finally {
    receiver.stop(true);
  }
}, 30_000);

test("approvals waiting side by side (a parallel step) resume in any order; a run that does not wait says so", async () => {
  const def = {
    id: "core-two-approvals",
    name: "two approvals",
    steps: [
      { id: "both", kind: "parallel", steps: [{ id: "ap1", kind: "approval", message: "one" }, { id: "ap2", kind: "approval", message: "two" }] },
      { id: "after", kind: "skill", skill: "summarize", input: "after {{steps.ap1.output.x}} {{steps.ap2.output.x}}" },
    ],
  };
  expect((await api("POST", "/api/v1/workflows/definitions", { body: def })).status).toBe(200);
  const run = (await api("POST", `/api/v1/workflows/${def.id}/launch`, { body: { inputData: {} } })).body;
  const waiting = await waitFor(() => api("GET", `/api/v1/workflows/runs/${run.runId}`), (r) => r.body.steps?.ap1?.status === "suspended" && r.body.steps?.ap2?.status === "suspended" && r.body.status === "suspended");
  // The run names one of them (whichever suspended first: the branches run at once); both wait.
  const named: string = waiting.body.suspendedStep;
  const other = named === "ap1" ? "ap2" : "ap1";
  expect(["ap1", "ap2"]).toContain(named);
  const nope = await api("POST", `/api/v1/workflows/runs/${run.runId}/resume`, { body: { step: "after", resumeData: {} } });
  expect({ status: nope.status, code: nope.body.error?.code }).toEqual({ status: 409, code: "RUN_NOT_SUSPENDED" });
  expect(nope.body.error.message).toMatch(new RegExp(`^Run ${run.runId} is suspended at '(ap1' and 'ap2|ap2' and 'ap1)', not at 'after'$`));
  // The one not named first: the run then waits on at the named one.
  expect((await api("POST", `/api/v1/workflows/runs/${run.runId}/resume`, { body: { step: other, resumeData: { x: "two" } } })).status).toBe(200);
  const still = await waitFor(() => api("GET", `/api/v1/workflows/runs/${run.runId}`), (r) => r.body.status === "suspended");
  expect(still.body).toMatchObject({ suspendedStep: named, steps: { [named]: { status: "suspended" }, [other]: { status: "completed", output: { x: "two" } } } });
  expect((await api("POST", `/api/v1/workflows/runs/${run.runId}/resume`, { body: { step: named, resumeData: { x: "one" } } })).status).toBe(200);
  const done = await waitFor(() => api("GET", `/api/v1/workflows/runs/${run.runId}`), (r) => r.body.status === "completed" || r.body.status === "failed");
  expect(done.body.status).toBe("completed");
  const again = await api("POST", `/api/v1/workflows/runs/${run.runId}/resume`, { body: { step: "ap1", resumeData: {} } });
  expect({ status: again.status, message: again.body.error?.message }).toEqual({ status: 409, message: `Run ${run.runId} is completed: only a suspended run can be resumed` });
  expect((await api("DELETE", `/api/v1/workflows/definitions/${def.id}`)).status).toBe(200);
}, 20_000);

test("the bundled parallel workflow runs both branches, then merges them; an ended run cannot be cancelled", async () => {
  const run = (await api("POST", "/api/v1/workflows/parallel-review/launch", { body: { inputData: { code: "let x = 1", doc: "PARALLEL-DOC" } } })).body;
  const done = await waitFor(() => api("GET", `/api/v1/workflows/runs/${run.runId}`), (r) => r.body.status !== "running");
  expect(done.body.status).toBe("completed");
  for (const s of ["both", "review", "summary", "report"]) expect(done.body.steps[s].status).toBe("completed");
  expect(done.body.steps.report.input).toContain(done.body.steps.review.output);
  expect(done.body.steps.report.input).toContain(done.body.steps.summary.output);
  const cancel = await api("POST", `/api/v1/workflows/runs/${run.runId}/cancel`);
  expect(cancel.status).toBe(409);
  expect(cancel.body.error.code).toBe("RUN_NOT_ACTIVE");
  expect((await api("POST", "/api/v1/workflows/parallel-review/launch", { body: { inputData: { code: "x" } } })).body.error.param).toBe("inputData.doc");
}, 30_000);

test("field schemas are checked when saved: one Ajv refuses or a pattern that can backtrack super-linearly is a 400 naming it", async () => {
  const withInput = (id: string, props: Record<string, unknown>) => ({ id, name: id, input: { properties: props }, steps: [{ id: "s", kind: "skill", skill: "summarize", input: "{{input.x}}" }] });
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ x: { $ref: "#/definitions/nope" } }, "input.properties.x", /not a valid JSON Schema/],
    [{ x: { type: "string", minLength: "abc" } }, "input.properties.x", /not a valid JSON Schema/],
    [{ x: { type: "string", pattern: "[" } }, "input.properties.x", /not a valid JSON Schema/],
    [{ x: { enum: 5 } }, "input.properties.x", /not a valid JSON Schema/],
    [{ x: { type: "string", pattern: "^(a+)+$" } }, "input.properties.x.pattern", /exponential time/],
    [{ x: { type: "array", items: { type: "string", pattern: "(\\w*)*z" } } }, "input.properties.x.items.pattern", /exponential time/],
    [{ x: { type: "object", patternProperties: { "^(\\d+)+$": { type: "string" } } } }, "input.properties.x.patternProperties.^(\\d+)+$", /exponential time/],
    [{ x: { type: "object", patternProperties: { "^(a|a)*$": { type: "string" } } } }, "input.properties.x.patternProperties.^(a|a)*$", /repeats an alternation/],
    [{ x: { type: "string", pattern: "^.*a.*b$" } }, "input.properties.x.pattern", /polynomial time/],
    [{ x: { type: "string", pattern: "^(?:a{1,100}){1,100}$" } }, "input.properties.x.pattern", /exponential time/],
    [{ x: { type: "string", pattern: "^([a-z]{1,20}\\s?){1,50}$" } }, "input.properties.x.pattern", /exponential time/],
    [{ x: { type: "object", properties: { default: { type: "string", pattern: "(a+)+$" } } } }, "input.properties.x.properties.default.pattern", /exponential time/],
  ];
  for (const [props, param, message] of cases) {
    const r = await api("POST", "/api/v1/workflows/definitions", { body: withInput("core-bad-schema", props) });
    expect({ props, status: r.status, code: r.body.error?.code, param: r.body.error?.param }).toEqual({ props, status: 400, code: "INVALID_PARAMETER", param });
    expect(r.body.error.message).toMatch(message);
  }
  // A nested approval's resumeSchema too, and a cron trigger's input is refused in words, not a 500.
  const nested = {
    id: "core-bad-resume",
    name: "bad resume",
    steps: [{ id: "p", kind: "parallel", steps: [{ id: "a", kind: "approval", message: "ok?", resumeSchema: { properties: { y: { enum: 5 } } } }] }],
  };
  const r = await api("POST", "/api/v1/workflows/definitions", { body: nested });
  expect({ status: r.status, param: r.body.error?.param }).toEqual({ status: 400, param: "steps.0.steps.0.resumeSchema.properties.y" });
  const cron = await api("POST", "/api/v1/workflows/definitions", { body: { ...withInput("core-bad-cron", { x: { type: "string", minLength: "abc" } }), triggers: [{ cron: "0 9 * * 1", input: { x: "a" } }] } });
  expect({ status: cron.status, param: cron.body.error?.param }).toEqual({ status: 400, param: "input.properties.x" });
  // A definition stored before these checks (written here by hand) is refused at launch in words, not run or a 500.
  const stored = withInput("core-stored-costly", { x: { type: "string" } });
  expect((await api("POST", "/api/v1/workflows/definitions", { body: stored })).status).toBe(200);
  const cast = testDialect() === "postgres" ? ["definition::text", "::json"] : ["definition", ""];
  expect(await runSql(srv, `UPDATE workflow_definitions SET definition = replace(${cast[0]}, '"type":"string"', '"type":"string","pattern":"^(a+)+$"')${cast[1]} WHERE key = 'core-stored-costly'`)).toBe(1);
  const costly = await api("POST", "/api/v1/workflows/core-stored-costly/launch", { body: { inputData: { x: `${"a".repeat(24)}!` } } });
  expect({ status: costly.status, code: costly.body.error?.code, param: costly.body.error?.param }).toEqual({ status: 400, code: "INVALID_WORKFLOW_SCHEMA", param: "inputData" });
  expect(costly.body.error.message).toContain("its properties.x.pattern: the pattern");
  expect((await api("DELETE", "/api/v1/workflows/definitions/core-stored-costly")).status).toBe(200);
  expect((await api("GET", "/api/v1/workflows/definitions/core-bad-schema")).status).toBe(404);
  // A safe pattern, an enum and bounds save, and a launch is checked against them.
  const good = withInput("core-good-schema", { x: { type: "string", pattern: "^[a-z]+(-[a-z]+)*$", maxLength: 20 }, mode: { enum: ["fast", "slow"] }, tags: { type: "array", uniqueItems: true, maxItems: 50 } });
  expect((await api("POST", "/api/v1/workflows/definitions", { body: good })).status).toBe(200);
  const launch = await api("POST", "/api/v1/workflows/core-good-schema/launch", { body: { inputData: { x: "Not Lower" } } });
  expect({ status: launch.status, param: launch.body.error?.param }).toEqual({ status: 400, param: "inputData.x" });
  const mode = await api("POST", "/api/v1/workflows/core-good-schema/launch", { body: { inputData: { x: "ok", mode: "medium" } } });
  expect({ status: mode.status, param: mode.body.error?.param }).toEqual({ status: 400, param: "inputData.mode" });
  expect((await api("DELETE", "/api/v1/workflows/definitions/core-good-schema")).status).toBe(200);
});

test("uniqueItems is checked in one pass (each item's canonical JSON): 2 MB of arrays differing only in their first number are distinct, and equal items are found whatever their keys' order", async () => {
  const def = { id: "core-unique", name: "unique", input: { properties: { xs: { type: "array", uniqueItems: true } } }, steps: [{ id: "gate", kind: "approval", message: "ok?" }] };
  expect((await api("POST", "/api/v1/workflows/definitions", { body: def })).status).toBe(200);
  // Ajv's own check compared every pair: ~1 s of the event loop for this one launch (measured by hand; no clock here).
  const distinct = Array.from({ length: 1000 }, (_, i) => [i, ...Array(1000).fill(7)]);
  const ok = await api("POST", "/api/v1/workflows/core-unique/launch", { body: { inputData: { xs: distinct } } });
  expect(ok.status).toBe(200);
  const dup = await api("POST", "/api/v1/workflows/core-unique/launch", { body: { inputData: { xs: [{ a: 1, b: [1, { c: 2, d: 3 }] }, "a", { b: [1, { d: 3, c: 2 }], a: 1 }] } } });
  expect({ status: dup.status, param: dup.body.error?.param, message: dup.body.error?.message }).toEqual({
    status: 400,
    param: "inputData.xs",
    message: "inputData.xs: must NOT have duplicate items (items ## 0 and 2 are identical)",
  });
  const different = await api("POST", "/api/v1/workflows/core-unique/launch", { body: { inputData: { xs: [1, "1", [1], { "1": 1 }, null, true, 1.5, { a: 1 }, { a: "1" }] } } });
  expect(different.status).toBe(200);
  await api("POST", `/api/v1/workflows/runs/${ok.body.runId}/cancel`);
  await api("POST", `/api/v1/workflows/runs/${different.body.runId}/cancel`);
  expect((await api("DELETE", "/api/v1/workflows/definitions/core-unique")).status).toBe(200);
});

test("a run follows the exact definition it was launched from: a DELETE or PUT mid-run fails it at once (its running step's execution cancelled, no further step run or charged); a PUT that leaves its steps as they were leaves it going", async () => {
  const steps = (mark: string) => [
    { id: "one", kind: "skill", skill: "summarize", input: `one [[slow:200]] ${mark}` },
    { id: "two", kind: "skill", skill: "summarize", input: `two ${mark}` },
    { id: "three", kind: "skill", skill: "summarize", input: `three ${mark}` },
  ];
  const v1 = { id: "core-follows", name: "follows", steps: steps("V1") };
  const launchAndWait = async () => {
    const run = (await api("POST", "/api/v1/workflows/core-follows/launch", { body: {} })).body;
    await waitFor(() => api("GET", `/api/v1/workflows/runs/${run.runId}`), (r) => r.body.steps?.one?.status === "running");
    return run.runId as string;
  };
  const settled = async (runId: string) => {
    const run = (await api("GET", `/api/v1/workflows/runs/${runId}`)).body;
    const one = (await api("GET", `/api/v1/executions/${run.steps.one.executionId}/status`)).body;
    await waitFor(() => api("GET", `/api/v1/executions/${run.steps.one.executionId}/status`), (r) => ["completed", "failed", "cancelled"].includes(r.body.status));
    await Bun.sleep(1_500); // a step the run went on to would have started by now
    return { run: (await api("GET", `/api/v1/workflows/runs/${runId}`)).body, one };
  };
  expect((await api("POST", "/api/v1/workflows/definitions", { body: v1 })).status).toBe(200);

  // Replaced mid-run: the run stops; its first step's execution is cancelled, and no step of either version follows.
  let runId = await launchAndWait();
  expect((await api("PUT", "/api/v1/workflows/definitions/core-follows", { body: { ...v1, steps: steps("V2") } })).status).toBe(200);
  let { run } = await settled(runId);
  expect({ status: run.status, code: run.error?.code, steps: Object.keys(run.steps) }).toEqual({ status: "failed", code: "WORKFLOW_CHANGED", steps: ["one"] });
  expect((await api("GET", `/api/v1/executions/${run.steps.one.executionId}/status`)).body.status).toBe("cancelled");
  expect(fake.requests.filter((r) => JSON.stringify(r.body).includes("two V")).length).toBe(0);

  // Waiting on an approval when replaced: failed at once, not resumable into the new version's steps.
  const gated = { id: "core-follows", name: "follows", steps: [{ id: "gate", kind: "approval", message: "go?" }, ...steps("V3").slice(1)] };
  expect((await api("PUT", "/api/v1/workflows/definitions/core-follows", { body: gated })).status).toBe(200);
  const waiting = (await api("POST", "/api/v1/workflows/core-follows/launch", { body: {} })).body.runId;
  await waitFor(() => api("GET", `/api/v1/workflows/runs/${waiting}`), (r) => r.body.status === "suspended");
  // The same steps saved again change nothing, with a new name and description: the run still waits.
  expect((await api("PUT", "/api/v1/workflows/definitions/core-follows", { body: { ...gated, name: "follows, renamed", description: "typo fixed" } })).status).toBe(200);
  expect((await api("GET", `/api/v1/workflows/runs/${waiting}`)).body.status).toBe("suspended");
  expect((await api("PUT", "/api/v1/workflows/definitions/core-follows", { body: { ...gated, steps: [{ id: "other", kind: "approval", message: "new" }] } })).status).toBe(200);
  const replaced = (await api("GET", `/api/v1/workflows/runs/${waiting}`)).body;
  expect({ status: replaced.status, code: replaced.error?.code, gate: replaced.steps.gate.status }).toEqual({ status: "failed", code: "WORKFLOW_CHANGED", gate: "cancelled" });
  expect((await api("POST", `/api/v1/workflows/runs/${waiting}/resume`, { body: { step: "gate", resumeData: {} } })).body.error?.code).toBe("RUN_NOT_SUSPENDED");

  // Deleted mid-run: the same, as WORKFLOW_NOT_FOUND.
  expect((await api("PUT", "/api/v1/workflows/definitions/core-follows", { body: v1 })).status).toBe(200);
  runId = await launchAndWait();
  expect((await api("DELETE", "/api/v1/workflows/definitions/core-follows")).status).toBe(200);
  ({ run } = await settled(runId));
  expect({ status: run.status, code: run.error?.code, steps: Object.keys(run.steps) }).toEqual({ status: "failed", code: "WORKFLOW_NOT_FOUND", steps: ["one"] });
  expect(fake.requests.filter((r) => JSON.stringify(r.body).includes("two V")).length).toBe(0);
});

test("launches racing a DELETE or a PUT of their definition: every execution a step queued belongs to a run that shows it, and none ran on after its run ended", async () => {
  const mark = `RACE-${Date.now()}`;
  const def = (v: string) => ({ id: "core-race", name: "race", steps: [{ id: "one", kind: "skill", skill: "summarize", input: `${mark} ${v} [[slow:100]]` }] });
  for (const [v, change] of [
    ["v1", () => api("DELETE", "/api/v1/workflows/definitions/core-race")],
    ["v2", () => api("PUT", "/api/v1/workflows/definitions/core-race", { body: def("v2-new") })],
  ] as const) {
    expect((await api("POST", "/api/v1/workflows/definitions", { body: def(v) })).status).toBe(200);
    // A burst of launches (as of a hook's deliveries) with the change among them: the runs still checking their first
    // step when it commits are the ones whose executions were queued after their run had failed.
    const launches = Array.from({ length: 8 }, () => api("POST", "/api/v1/workflows/core-race/launch", { body: {} }));
    await Bun.sleep(5);
    expect((await change()).status).toBe(200);
    const runIds = (await Promise.all(launches)).flatMap((r) => (r.status === 200 ? [r.body.runId as string] : []));
    const runs = await Promise.all(runIds.map((id) => waitFor(() => api("GET", `/api/v1/workflows/runs/${id}`), (r) => ["completed", "failed", "cancelled"].includes(r.body.status))));
    const linked = new Set(runs.flatMap((r) => (r.body.steps.one?.executionId ? [r.body.steps.one.executionId as string] : [])));
    const queued = (await api("GET", "/api/v1/executions?limit=100")).body.data.filter((e: { input: string }) => e.input.startsWith(`${mark} ${v} `));
    expect(queued.filter((e: { id: string }) => !linked.has(e.id)).map((e: { id: string }) => e.id)).toEqual([]);
    // Those that did start were stopped with their run (cancelled), or had finished before it failed.
    for (const r of runs) if (r.body.status === "failed" && r.body.steps.one) expect(["cancelled", "completed"]).toContain(r.body.steps.one.status);
  }
  await api("DELETE", "/api/v1/workflows/definitions/core-race");
}, 30_000);

test("a run follows the definition it was launched from: the workspace's copy of a bundled id deleted, its run fails rather than go on with the bundled steps", async () => {
  const own = {
    id: "research-draft-approve",
    name: "my own research",
    steps: [
      { id: "gate", kind: "approval", message: "go?" },
      { id: "mine", kind: "skill", skill: "summarize", input: "OWN-COPY-STEP" },
    ],
  };
  expect((await api("POST", "/api/v1/workflows/definitions", { body: own })).status).toBe(200);
  const run = (await api("POST", "/api/v1/workflows/research-draft-approve/launch", { body: { inputData: { intent: "x" } } })).body;
  await waitFor(() => api("GET", `/api/v1/workflows/runs/${run.runId}`), (r) => r.body.status === "suspended");
  const before = (await api("GET", "/api/v1/executions?limit=100")).body.data.length;
  expect((await api("DELETE", "/api/v1/workflows/definitions/research-draft-approve")).status).toBe(200);
  // It failed with the delete (its own definition is gone; the bundled one of that id is not its), and stays failed.
  const ended = (await api("GET", `/api/v1/workflows/runs/${run.runId}`)).body;
  expect({ status: ended.status, code: ended.error?.code, steps: Object.keys(ended.steps) }).toEqual({ status: "failed", code: "WORKFLOW_NOT_FOUND", steps: ["gate"] });
  expect((await api("POST", `/api/v1/workflows/runs/${run.runId}/resume`, { body: { step: "gate", resumeData: {} } })).status).toBe(409);
  expect((await api("GET", "/api/v1/executions?limit=100")).body.data.length).toBe(before);
  // The bundled definition is the id's again: a new launch runs its steps.
  const bundled = (await api("POST", "/api/v1/workflows/research-draft-approve/launch", { body: { inputData: { intent: "x" } } })).body;
  const going = await waitFor(() => api("GET", `/api/v1/workflows/runs/${bundled.runId}`), (r) => Object.keys(r.body.steps ?? {}).length > 0);
  expect(Object.keys(going.body.steps)).not.toContain("gate");
  await api("POST", `/api/v1/workflows/runs/${bundled.runId}/cancel`);
}, 30_000);

test("a failed run leaves no step running or waiting: the parallel or branch step holding the failure failed, an approval beside it cancelled", async () => {
  const def = {
    id: "core-fail-states",
    name: "fail states",
    input: { properties: { x: { type: "string" } } },
    steps: [
      { id: "p", kind: "parallel", steps: [{ id: "A", kind: "approval", message: "wait" }, { id: "X", kind: "skill", skill: "summarize", input: "{{input.x}}" }] },
    ],
  };
  const branchy = {
    id: "core-fail-branch",
    name: "fail in branch",
    input: { properties: { x: { type: "string" } } },
    steps: [{ id: "br", kind: "branch", condition: { value: "{{input.x}}", contains: "boom" }, then: [{ id: "Y", kind: "skill", skill: "summarize", input: "{{input.x}}" }] }],
  };
  for (const d of [def, branchy]) expect((await api("POST", "/api/v1/workflows/definitions", { body: d })).status).toBe(200);
  const a = (await api("POST", `/api/v1/workflows/${def.id}/launch`, { body: { inputData: { x: "boom [[fail:500]]" } } })).body;
  const b = (await api("POST", `/api/v1/workflows/${branchy.id}/launch`, { body: { inputData: { x: "boom [[fail:500]]" } } })).body;
  const endedA = await waitFor(() => api("GET", `/api/v1/workflows/runs/${a.runId}`), (r) => r.body.status === "failed");
  const endedB = await waitFor(() => api("GET", `/api/v1/workflows/runs/${b.runId}`), (r) => r.body.status === "failed");
  const statuses = (steps: Record<string, { status: string }>) => Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, v.status]));
  expect(statuses(endedA.body.steps)).toEqual({ p: "failed", A: "cancelled", X: "failed" });
  expect(statuses(endedB.body.steps)).toEqual({ br: "failed", Y: "failed" });
  for (const d of [def, branchy]) await api("DELETE", `/api/v1/workflows/definitions/${d.id}`);
}, 30_000);

test("a parallel branch that fails fails the run at once: a sibling's execution in flight is cancelled, a sibling's later steps never start, the step's error names it once", async () => {
  const def = {
    id: "core-fail-fast",
    name: "fail fast",
    input: { properties: { x: { type: "string" } } },
    steps: [
      {
        id: "p",
        kind: "parallel",
        steps: [
          { id: "X", kind: "skill", skill: "summarize", input: "{{input.x}} [[fail:500]]" },
          { id: "S", kind: "skill", skill: "summarize", input: "slow one [[slow:1500]]" },
          { id: "B", kind: "branch", condition: { value: "{{input.x}}", contains: "go" }, then: [{ id: "S2", kind: "skill", skill: "summarize", input: "slow two [[slow:1500]]" }, { id: "T", kind: "skill", skill: "summarize", input: "after" }] },
        ],
      },
    ],
  };
  expect((await api("POST", "/api/v1/workflows/definitions", { body: def })).status).toBe(200);
  const started = Date.now();
  const run = (await api("POST", `/api/v1/workflows/${def.id}/launch`, { body: { inputData: { x: "go" } } })).body;
  const ended = await waitFor(() => api("GET", `/api/v1/workflows/runs/${run.runId}`), (r) => r.body.status === "failed");
  // The slow siblings would take 6 s each (four deltas 1.5 s apart); the run ends with X's failure.
  expect(Date.now() - started).toBeLessThan(5_000);
  const steps = ended.body.steps as Record<string, { status: string; executionId?: string; error?: { message: string } }>;
  expect(Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, v.status]))).toEqual({ p: "failed", X: "failed", S: "cancelled", B: "failed", S2: "cancelled" });
  expect(ended.body.error.message.match(/Step 'X'/g)).toHaveLength(1);
  for (const id of ["S", "S2"]) {
    const e = await waitFor(() => api("GET", `/api/v1/executions/${steps[id]!.executionId}/status`), (r) => r.body.status !== "running");
    expect({ id, status: e.body.status }).toEqual({ id, status: "cancelled" });
  }
  // T never starts, even once S2's wait has ended.
  await Bun.sleep(500);
  expect((await api("GET", `/api/v1/workflows/runs/${run.runId}`)).body.steps.T).toBeUndefined();
  await api("DELETE", `/api/v1/workflows/definitions/${def.id}`);
}, 30_000);

test("what cannot be changed says why: PUT or DELETE of a bundled workflow is 409 WORKFLOW_BUNDLED, a cron trigger's secret 400, a bad status filter lists the statuses", async () => {
  for (const [method, body] of [["DELETE", undefined], ["PUT", { id: "pr-review", name: "x", steps: [{ id: "s", kind: "skill", skill: "summarize", input: "x" }] }]] as const) {
    const r = await api(method, "/api/v1/workflows/definitions/pr-review", body ? { body } : {});
    expect({ method, status: r.status, code: r.body.error?.code }).toEqual({ method, status: 409, code: "WORKFLOW_BUNDLED" });
    expect(r.body.error.message).toContain("POST a definition with this id");
  }
  expect((await api("DELETE", "/api/v1/workflows/definitions/no-such-flow")).status).toBe(404);
  const cronDef = { id: "core-cron-secret", name: "cron", steps: [{ id: "s", kind: "skill", skill: "summarize", input: "x" }], triggers: [{ cron: "0 9 * * 1", enabled: false }] };
  expect((await api("POST", "/api/v1/workflows/definitions", { body: cronDef })).status).toBe(200);
  expect((await api("GET", "/api/v1/triggers/core-cron-secret%230")).status).toBe(200);
  for (const path of ["/api/v1/triggers/core-cron-secret%230/secret", "/api/v1/triggers/core-cron-secret%230/rotate"]) {
    const r = await api(path.endsWith("rotate") ? "POST" : "GET", path);
    expect({ path, status: r.status, code: r.body.error?.code }).toEqual({ path, status: 400, code: "TRIGGER_HAS_NO_SECRET" });
  }
  expect((await api("GET", "/api/v1/triggers/core-cron-secret%239/secret")).status).toBe(404);
  await api("DELETE", `/api/v1/workflows/definitions/${cronDef.id}`);
  for (const path of ["/api/v1/workflows/runs?status=bogus", "/api/v1/executions?status=bogus"]) {
    const r = await api("GET", path);
    expect({ path, status: r.status, param: r.body.error?.param }).toEqual({ path, status: 400, param: "status" });
    expect(r.body.error.message).toContain('"completed"');
  }
});

test("skill steps queued beside sibling steps and cancels writing the same run take their locks in one order: no deadlock on PostgreSQL", async () => {
  const branch = (i: number) => ({ id: `b${i}`, kind: "branch", condition: { value: "x", equals: "x" }, then: [{ id: `t${i}`, kind: "skill", skill: "summarize", input: `branch ${i}` }] });
  const def = { id: "core-lock-order", name: "lock order", steps: [{ id: "p", kind: "parallel", steps: [{ id: "s1", kind: "skill", skill: "summarize", input: "one" }, { id: "s2", kind: "skill", skill: "summarize", input: "two" }, branch(1), branch(2), branch(3)] }] };
  expect((await api("POST", "/api/v1/workflows/definitions", { body: def })).status).toBe(200);
  const before = (await metric(srv.url, "clanker_store_deadlocks_total")) ?? 0;
  const runIds: string[] = [];
  for (let i = 0; i < 8; i++) runIds.push((await api("POST", "/api/v1/workflows/core-lock-order/launch", { body: {} })).body.runId);
  // Half are cancelled while their steps queue (a cancel writes the run, then its event).
  await Promise.all(runIds.filter((_, i) => i % 2).map((id) => api("POST", `/api/v1/workflows/runs/${id}/cancel`)));
  // And a change of the definition fails several live runs in one transaction while their steps are queueing.
  const failed: string[] = [];
  for (let i = 0; i < 6; i++) failed.push((await api("POST", "/api/v1/workflows/core-lock-order/launch", { body: {} })).body.runId);
  const put = await api("PUT", "/api/v1/workflows/definitions/core-lock-order", { body: { ...def, steps: def.steps.slice(0, 1).map((p) => ({ ...p, steps: p.steps.slice(0, 2) })) } });
  expect({ status: put.status, error: put.body.error }).toEqual({ status: 200, error: undefined });
  for (const id of [...runIds, ...failed]) await waitFor(() => api("GET", `/api/v1/workflows/runs/${id}`), (r) => ["completed", "failed", "cancelled"].includes(r.body.status), 20_000);
  // Each deadlock PostgreSQL broke cost a second with a pooled connection held (the runs still end: it is retried).
  expect((await metric(srv.url, "clanker_store_deadlocks_total")) ?? 0).toBe(before);
  await api("DELETE", "/api/v1/workflows/definitions/core-lock-order");
}, 40_000);

test("a definition's fields are checked as every body's are: one not taken is named (not dropped), the name is one line of plain text; one read back saves as it is", async () => {
  const base = { id: "core-fields", name: "fields", steps: [{ id: "s", kind: "skill", skill: "summarize", input: "x" }] };
  const param = async (body: unknown) => (await api("POST", "/api/v1/workflows/definitions", { body })).body.error?.param;
  expect(await param({ ...base, trigers: [{ cron: "0 9 * * *" }] })).toBe("trigers");
  expect(await param(JSON.parse(`{"__proto__": {"x": 1}, ${JSON.stringify(base).slice(1)}`))).toBe("__proto__");
  for (const name of ["two\nlines", "bell\u0007", "\u202Eevil", "n".repeat(101)]) expect(await param({ ...base, name })).toBe("name");
  expect(await param({ ...base, description: "d".repeat(2001) })).toBe("description");
  expect((await api("POST", "/api/v1/workflows/definitions", { body: base })).status).toBe(200);
  const read = (await api("GET", "/api/v1/workflows/definitions?limit=100")).body.data.find((d: { id: string }) => d.id === "core-fields");
  expect(read.source).toBe("workspace");
  expect((await api("PUT", "/api/v1/workflows/definitions/core-fields", { body: read })).status).toBe(200);
  await api("DELETE", "/api/v1/workflows/definitions/core-fields");
});

test("a template reads the fields the input has, never what every object inherits ({{input.__proto__}}, {{input.constructor}} render empty)", async () => {
  const def = { id: "core-own-fields", name: "own", input: { properties: { a: { type: "string" } } }, steps: [{ id: "s", kind: "skill", skill: "summarize", input: "proto [{{input.__proto__}}] [{{input.constructor}}] [{{input.toString}}] [{{input.a}}]" }] };
  expect((await api("POST", "/api/v1/workflows/definitions", { body: def })).status).toBe(200);
  const { runId } = (await api("POST", "/api/v1/workflows/core-own-fields/launch", { body: { inputData: { a: "1" } } })).body;
  const run = await waitFor(() => api("GET", `/api/v1/workflows/runs/${runId}`), (r) => r.body.steps?.s?.input !== undefined);
  expect(run.body.steps.s.input).toBe("proto [] [] [] [1]");
  await api("POST", `/api/v1/workflows/runs/${runId}/cancel`);
  await api("DELETE", "/api/v1/workflows/definitions/core-own-fields");
});

test("bounds: a definition has at most 200 steps, and a step's templates render to at most 1 MiB (TEMPLATE_TOO_LARGE)", async () => {
  const many = Array.from({ length: 201 }, (_, i) => ({ id: `a${i}`, kind: "approval", message: "ok?" }));
  const big = await api("POST", "/api/v1/workflows/definitions", { body: { id: "core-many-steps", name: "many", steps: [many[0], { id: "p", kind: "parallel", steps: many.slice(1) }] } });
  expect({ status: big.status, param: big.body.error?.param }).toEqual({ status: 400, param: "steps" });
  expect(big.body.error.message).toContain("has 202 steps, nested ones included; a definition may have at most 200");
  const def = {
    id: "core-amplify",
    name: "amplify",
    input: { properties: { x: { type: "string" }, o: { type: "object" } } },
    steps: [
      {
        id: "p",
        kind: "parallel",
        steps: [
          { id: "w", kind: "approval", message: "beside" },
          { id: "gate", kind: "branch", condition: { value: "{{input.x}}", contains: "small" }, then: [{ id: "ask", kind: "approval", message: "{{input.x}} ".repeat(300) }] },
        ],
      },
    ],
  };
  expect((await api("POST", "/api/v1/workflows/definitions", { body: def })).status).toBe(200);
  const small = (await api("POST", `/api/v1/workflows/${def.id}/launch`, { body: { inputData: { x: "small" } } })).body;
  const waiting = await waitFor(() => api("GET", `/api/v1/workflows/runs/${small.runId}`), (r) => r.body.status === "suspended" && r.body.steps?.ask?.status === "suspended");
  expect(waiting.body.steps.ask.status).toBe("suspended");
  await api("POST", `/api/v1/workflows/runs/${small.runId}/cancel`);
  // 300 copies of a 10 KB value: 3 MB of message from a 3 KB definition.
  const amplified = (await api("POST", `/api/v1/workflows/${def.id}/launch`, { body: { inputData: { x: `small ${"y".repeat(10_000)}` } } })).body;
  const failed = await waitFor(() => api("GET", `/api/v1/workflows/runs/${amplified.runId}`), (r) => r.body.status !== "running");
  expect({ status: failed.body.status, code: failed.body.error?.code }).toEqual({ status: "failed", code: "TEMPLATE_TOO_LARGE" });
  expect(failed.text.length).toBeLessThan(100_000);
  // The step that rendered too much is named (once: the run's message names it, the step's is its own), and fails;
  // nothing is left running or waiting beside it.
  expect(failed.body.steps.ask.error.message).toStartWith("its templates render to more than 1048576 characters");
  expect(failed.body.error.message).toStartWith("Step 'ask' failed: its templates render");
  const statuses = Object.fromEntries(Object.entries(failed.body.steps as Record<string, { status: string }>).map(([k, v]) => [k, v.status]));
  // The approval beside it: cancelled if it was waiting already, else never begun (the failure ended the run first).
  const { w, ...others } = statuses;
  expect(others).toEqual({ p: "failed", gate: "failed", ask: "failed" });
  expect([undefined, "cancelled"]).toContain(w);
  expect((await api("DELETE", `/api/v1/workflows/definitions/${def.id}`)).status).toBe(200);
}, 30_000);

test("a run's workflow-state events say each step's status, not its data: a 100 KB input quoted by 10 steps is not logged again at every step", async () => {
  const steps = Array.from({ length: 10 }, (_, i) => ({ id: `b${i}`, kind: "branch", condition: { value: "{{input.doc}}", equals: "never" }, then: [{ id: `n${i}`, kind: "approval", message: "never" }] }));
  const def = { id: "core-quoted", name: "quoted", input: { properties: { doc: { type: "string" } } }, steps };
  expect((await api("POST", "/api/v1/workflows/definitions", { body: def })).status).toBe(200);
  const run = (await api("POST", `/api/v1/workflows/${def.id}/launch`, { body: { inputData: { doc: "x".repeat(100_000) } } })).body;
  const done = await waitFor(() => api("GET", `/api/v1/workflows/runs/${run.runId}`), (r) => r.body.status !== "running");
  expect(done.body.status).toBe("completed");
  const events = await querySql(srv, "SELECT data FROM events WHERE type = 'workflow-state' AND CAST(data AS TEXT) LIKE ? ORDER BY id", `%"${run.runId}"%`);
  expect(events.length).toBeGreaterThanOrEqual(10);
  // Each names every step's status (and the run's); none carries the 100 KB: it was ~20 MB for this run.
  const last = JSON.parse(String(events.at(-1)!.data));
  expect(last.steps.b9).toEqual({ status: "completed", kind: "branch" });
  expect(events.reduce((n, e) => n + String(e.data).length, 0)).toBeLessThan(100_000);
  expect((await api("DELETE", `/api/v1/workflows/definitions/${def.id}`)).status).toBe(200);
}, 30_000);

test("steps saved again with their keys in another order (jq -S on a definition read back) are the same steps: runs in flight go on", async () => {
  const step = { id: "ok", kind: "approval", message: "go?", resumeSchema: { type: "object", properties: { b: { type: "string" }, a: { type: "string" } } } };
  const def = { id: "core-reordered", name: "reordered", steps: [step] };
  expect((await api("POST", "/api/v1/workflows/definitions", { body: def })).status).toBe(200);
  const run = (await api("POST", `/api/v1/workflows/${def.id}/launch`, { body: { inputData: {} } })).body;
  await waitFor(() => api("GET", `/api/v1/workflows/runs/${run.runId}`), (r) => r.body.status === "suspended");
  // Every object's keys reversed, as a sorting tool would write them.
  const reversed = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(reversed) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversed(x)])) : v;
  expect((await api("PUT", `/api/v1/workflows/definitions/${def.id}`, { body: { ...def, steps: reversed(def.steps) } })).status).toBe(200);
  const after = await api("GET", `/api/v1/workflows/runs/${run.runId}`);
  expect(after.body.status).toBe("suspended");
  expect((await api("POST", `/api/v1/workflows/runs/${run.runId}/resume`, { body: { step: "ok", resumeData: { a: "x" } } })).status).toBe(200);
  const done = await waitFor(() => api("GET", `/api/v1/workflows/runs/${run.runId}`), (r) => r.body.status !== "running" && r.body.status !== "suspended");
  expect(done.body.status).toBe("completed");
  expect((await api("DELETE", `/api/v1/workflows/definitions/${def.id}`)).status).toBe(200);
}, 30_000);

test("a workspace's definitions are bounded: one over 256 KiB of JSON is a 400, a 501st a 409; nothing is saved", async () => {
  const big = { id: "core-too-big", name: "big", description: "x".repeat(300 * 1024), steps: [{ id: "a", kind: "skill", skill: "summarize", input: "x" }] };
  const refused = await api("POST", "/api/v1/workflows/definitions", { body: big });
  expect({ status: refused.status, code: refused.body.error?.code }).toEqual({ status: 400, code: "DEFINITION_TOO_LARGE" });
  expect((await api("GET", "/api/v1/workflows/definitions/core-too-big")).status).toBe(404);
  // Five hundred of the workspace's own, written straight into the store (five hundred saves would take a while).
  const json = testDialect() === "postgres" ? "::json" : "";
  const ws = Number((await api("GET", "/api/v1/workspaces/current")).body.id.replace("ws_", ""));
  const filled = await runSql(
    srv,
    `INSERT INTO workflow_definitions (workspace_id, key, definition, created_at, updated_at)
     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
     SELECT ${ws}, 'core-filler-' || i, '{"id":"filler","name":"filler","steps":[{"id":"a","kind":"skill","skill":"summarize","input":"x"}]}'${json}, 0, 0 FROM n`,
  );
  expect(filled).toBe(500);
  try {
    const one = { id: "core-one-more", name: "one more", steps: [{ id: "a", kind: "skill", skill: "summarize", input: "x" }] };
    const over = await api("POST", "/api/v1/workflows/definitions", { body: one });
    expect({ status: over.status, code: over.body.error?.code }).toEqual({ status: 409, code: "WORKFLOW_LIMIT" });
    expect((await api("GET", "/api/v1/workflows/definitions/core-one-more")).status).toBe(404);
  } finally {
    expect(await runSql(srv, "DELETE FROM workflow_definitions WHERE key LIKE 'core-filler-%'")).toBe(500);
  }
});

test("an input schema's top level: additionalProperties false refuses a field it does not list; a keyword it would not act on is refused at save", async () => {
  const steps = [{ id: "s", kind: "skill", skill: "summarize", input: "{{input.topic}}" }];
  const schema = { $schema: "https://json-schema.org/draft/2020-12/schema", type: "object", title: "Closed", additionalProperties: false, properties: { topic: { type: "string" } } };
  const closed = { id: "core-closed-input", name: "closed", input: schema, steps };
  expect((await api("POST", "/api/v1/workflows/definitions", { body: closed })).status).toBe(200);
  const extra = await api("POST", "/api/v1/workflows/core-closed-input/launch", { body: { inputData: { topic: "t", tpoic: "typo" } } });
  expect({ status: extra.status, param: extra.body.error?.param }).toEqual({ status: 400, param: "inputData.tpoic" });
  expect((await api("GET", "/api/v1/workflows/runs?limit=100")).body.data.some((r: any) => r.workflowId === "core-closed-input")).toBe(false);
  // Saved and never acted on, these let anything through: refused, naming the keyword.
  for (const [input, param] of [
    [{ patternProperties: { "^x": { type: "string" } }, properties: { topic: { type: "string" } } }, "input.patternProperties"],
    [{ additionalProperties: { type: "string" } }, "input.additionalProperties"],
    [{ type: "array" }, "input.type"],
  ] as const) {
    const r = await api("POST", "/api/v1/workflows/definitions", { body: { id: "core-open-input", name: "open", input, steps } });
    expect({ status: r.status, param: r.body.error?.param }).toEqual({ status: 400, param });
  }
  expect((await api("DELETE", "/api/v1/workflows/definitions/core-closed-input")).status).toBe(200);
});
