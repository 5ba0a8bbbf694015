// What a workflow definition's templates read: an input field its schema can never carry is refused at save; a field
// of a skill step's (JSON) answer is read from it.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { cleanup, client, startServer, type TestServer } from "./helpers/server";
import { startFakeModel, type FakeModel } from "./helpers/fake-models";
import { runFinished } from "./helpers/api";

let srv: TestServer;
let fake: FakeModel;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  fake = startFakeModel("anthropic");
  srv = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", ANTHROPIC_API_KEY: "sk-ant-server-key-000000000000000", ANTHROPIC_BASE_URL: fake.url } });
  api = client(srv, { apiKey: await srv.createKey() });
});

afterAll(async () => {
  await srv.stop();
  cleanup(srv);
  fake.stop();
});

const skill = (id: string, input: string) => ({ id, kind: "skill", skill: "summarize", input });
const save = (id: string, input: unknown, steps: unknown[]) => api("POST", "/api/v1/workflows/definitions", { body: { id, name: id, ...(input ? { input } : {}), steps } });

test("a template reading an input field the schema never takes (additionalProperties: false) is refused at save, naming both", async () => {
  const closed = { required: ["topic"], properties: { topic: { type: "string" }, tone: { type: "string" } }, additionalProperties: false };
  const typo = await save("tpl-typo", closed, [skill("a", "About {{input.topic}}"), { id: "p", kind: "parallel", steps: [skill("b", "In a {{ input.tnoe }} tone")] }]);
  expect({ status: typo.status, code: typo.body.error?.code, param: typo.body.error?.param }).toEqual({ status: 400, code: "INVALID_PARAMETER", param: "steps.1.steps.0" });
  expect(typo.body.error.message).toBe("steps.1.steps.0: step 'b' uses {{input.tnoe}}, but the input schema takes no field 'tnoe' (additionalProperties is false; its fields: topic, tone)");
  // In an action's input and a branch's condition too, and a field of a field is judged by its first name.
  const action = await save("tpl-typo", closed, [{ id: "post", kind: "action", integration: "webhook", action: "post", input: { payload: { t: "{{input.topics.x}}" } } }]);
  expect({ status: action.status, param: action.body.error?.param }).toEqual({ status: 400, param: "steps.0" });
  const branch = await save("tpl-typo", closed, [{ id: "if", kind: "branch", condition: { value: "{{input.Topic}}", equals: "x" }, then: [skill("t", "x")] }]);
  expect(branch.body.error?.message).toContain("{{input.Topic}}");
  // Its own fields are fine, and so is any field of a schema that takes more than it lists.
  expect((await save("tpl-typo", closed, [skill("a", "{{input.topic}} {{input.tone}} {{input}}")])).status).toBe(200);
  expect((await save("tpl-open", { properties: { topic: { type: "string" } } }, [skill("a", "{{input.topic}} {{input.extra}}")])).status).toBe(200);
  expect((await save("tpl-none", undefined, [skill("a", "{{input.anything}}")])).status).toBe(200);
});

test("a field of a skill step's answer is read from the JSON it is, or from its ```json block; prose renders it as nothing", async () => {
  const judged = await save("tpl-judge", { required: ["prompt"], properties: { prompt: { type: "string" } } }, [
    skill("judge", "{{input.prompt}}"),
    {
      id: "if",
      kind: "branch",
      condition: { value: "{{steps.judge.output.approved}}", equals: true },
      then: [skill("yes", "YES score={{steps.judge.output.score}} why={{steps.judge.output.reason.short}} all={{steps.judge.output.reason}}")],
      else: [skill("no", "NO score={{steps.judge.output.score}}")],
    },
  ]);
  expect(judged.status).toBe(200);
  const run = async (prompt: string) => runFinished(api, (await api("POST", "/api/v1/workflows/tpl-judge/launch", { body: { inputData: { prompt } } })).body.runId);
  // Prose, then a fenced block: the branch reads `approved: true` from the block, the next step its other fields.
  const fenced = await run("Judge this [[json:fenced]]");
  expect(fenced.status).toBe("completed");
  expect(fenced.steps.if.output).toEqual({ taken: "then", value: "true" });
  expect(fenced.steps.yes.input).toBe('YES score=7 why=clear all={"short":"clear"}');
  // The whole answer JSON.
  const whole = await run("Judge this [[json:whole]]");
  expect(whole.steps.if.output).toEqual({ taken: "else", value: "false" });
  expect(whole.steps.no.input).toBe("NO score=3");
  // An answer that holds no JSON has no fields: they render as nothing, as before.
  const prose = await run("Judge this plainly");
  expect(prose.steps.if.output).toEqual({ taken: "else", value: "" });
  expect(prose.steps.no.input).toBe("NO score=");
}, 30_000);
