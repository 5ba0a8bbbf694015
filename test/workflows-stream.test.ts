// POST /api/v1/workflows/:id/stream as an AI SDK client reads it (the SDK's own parsers): a stream opened again on a
// run under way, what the run's state parts weigh, a failed run's end, and what a resume through it takes.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { parseJsonEventStream, readUIMessageStream, uiMessageChunkSchema, type UIMessageChunk } from "ai";
import { cleanup, client, startServer, type TestServer } from "./helpers/server";
import { startFakeModel, type FakeModel } from "./helpers/fake-models";

let srv: TestServer;
let fake: FakeModel;
let key: string;
let api: ReturnType<typeof client>;

beforeAll(async () => {
  fake = startFakeModel("anthropic");
  srv = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", ANTHROPIC_API_KEY: "sk-ant-server-key-000000000000000", ANTHROPIC_BASE_URL: fake.url } });
  key = await srv.createKey();
  api = client(srv, { apiKey: key });
});

afterAll(async () => {
  await srv.stop();
  cleanup(srv);
  fake.stop();
});

const save = async (definition: unknown) => expect((await api("POST", "/api/v1/workflows/definitions", { body: definition })).status).toBe(200);

const stream = (workflowId: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${srv.url}/api/v1/workflows/${workflowId}/stream`, { method: "POST", headers: { "x-api-key": key, "content-type": "application/json", ...headers }, body: JSON.stringify(body) });

/** The stream's chunks as the AI SDK parses them (a chunk it would refuse fails the test). */
function chunksOf(res: Response): ReadableStream<UIMessageChunk> {
  return parseJsonEventStream({ stream: res.body!, schema: uiMessageChunkSchema }).pipeThrough(
    new TransformStream({
      transform(parsed, controller) {
        if (!parsed.success) throw parsed.error;
        controller.enqueue(parsed.value as UIMessageChunk);
      },
    }),
  );
}

async function allChunks(res: Response): Promise<UIMessageChunk[]> {
  const out: UIMessageChunk[] = [];
  for await (const c of chunksOf(res) as unknown as AsyncIterable<UIMessageChunk>) out.push(c);
  return out;
}

/** Chunks read already, as a stream again (for the SDK's reader). */
const streamOf = (chunks: UIMessageChunk[]) => new ReadableStream<UIMessageChunk>({ start: (c) => (chunks.forEach((x) => c.enqueue(x)), c.close()) });

test("a stream opened again on a step under way sends that step's text: what it wrote before, then the rest, once", async () => {
  await save({ id: "stream-attach", name: "attach", steps: [{ id: "slow", kind: "skill", skill: "summarize", input: "ATTACH-MARK [[slow:400]]" }] });
  const headers = { "idempotency-key": `attach-${process.pid}` };
  const first = await stream("stream-attach", { inputData: {} }, headers);
  const runId = first.headers.get("x-workflow-run-id")!;
  // Read until the model has written something, then go away (a page reloaded, a dropped connection).
  const reader = chunksOf(first).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done || value.type === "text-delta") break;
  }
  await reader.cancel();
  const again = await stream("stream-attach", { inputData: {} }, headers);
  expect({ run: again.headers.get("x-workflow-run-id"), replayed: again.headers.get("idempotency-replayed") }).toEqual({ run: runId, replayed: "true" });
  let last: any;
  for await (const message of readUIMessageStream({ stream: chunksOf(again) })) last = message;
  const texts = last.parts.filter((p: any) => p.type === "text");
  const run = (await api("GET", `/api/v1/workflows/runs/${runId}`)).body;
  expect(run.status).toBe("completed");
  // The whole answer, each block once: none lost before the attach, none sent twice across it.
  expect(texts.map((p: any) => p.text)).toEqual([run.steps.slow.output]);
  expect(run.steps.slow.output).toContain("ATTACH-MARK");
}, 30_000);

test("the run's state parts: the whole run first and last, its heads between, each step's output once", async () => {
  const steps = Array.from({ length: 8 }, (_, i) => ({ id: `s${i}`, kind: "skill", skill: "summarize", input: `HEADS-MARK step ${i}` }));
  await save({ id: "stream-heads", name: "heads", input: { properties: { big: { type: "string" } } }, steps });
  const big = "x".repeat(300_000);
  const chunks = await allChunks(await stream("stream-heads", { inputData: { big } }));
  const sent = chunks.reduce((n, c) => n + JSON.stringify(c).length, 0);
  // Every change sending the whole run again carried the 300 KB input 17 times.
  expect(sent).toBeLessThan(3 * big.length);
  const parts = chunks.filter((c: any) => c.type === "data-workflow") as any[];
  const run = (await api("GET", `/api/v1/workflows/runs/${parts[0].id}`)).body;
  expect(run.status).toBe("completed");
  expect(parts[0].data.input.big).toBe(big);
  expect(parts.at(-1).data).toEqual(run);
  for (const p of parts.slice(1, -1)) {
    expect(p.data.input).toBeUndefined();
    expect(p.data).toMatchObject({ runId: run.runId, status: "running" });
    for (const s of Object.values(p.data.steps) as any[]) expect(Object.keys(s).filter((k) => !["status", "kind", "executionId", "error"].includes(k))).toEqual([]);
  }
  // Each step's output once, in a part of its own that a client's message keeps (read by the SDK's own reader).
  const outputs = chunks.filter((c: any) => c.type === "data-workflow-step") as any[];
  expect(outputs.map((c) => c.data.stepId).toSorted()).toEqual(steps.map((s) => s.id).toSorted());
  for (const c of outputs) expect(c.data.output).toBe(run.steps[c.data.stepId].output);
  let last: any;
  for await (const message of readUIMessageStream({ stream: streamOf(chunks) })) last = message;
  expect(last.parts.filter((p: any) => p.type === "data-workflow-step").length).toBe(steps.length);
  expect(last.parts.find((p: any) => p.type === "data-workflow").data).toEqual(run);
}, 30_000);

test("a run that fails ends its stream with an error chunk (the run's message) before finish: the SDK's onError fires", async () => {
  await save({ id: "stream-fails", name: "fails", steps: [{ id: "broken", kind: "skill", skill: "summarize", input: "FAIL-MARK [[fail:401]]" }] });
  const res = await stream("stream-fails", {});
  const runId = res.headers.get("x-workflow-run-id")!;
  const chunks = await allChunks(res);
  const run = (await api("GET", `/api/v1/workflows/runs/${runId}`)).body;
  expect(run.status).toBe("failed");
  expect(chunks.slice(-3).map((c) => c.type)).toEqual(["data-workflow", "error", "finish"]);
  expect(chunks.at(-2)).toEqual({ type: "error", errorText: run.error.message });
  const errors: Error[] = [];
  for await (const _ of readUIMessageStream({ stream: streamOf(chunks), onError: (e) => errors.push(e as Error) }));
  expect(errors.map((e) => e.message)).toEqual([run.error.message]);
}, 30_000);

test("a resume through the stream refuses inputData (a resume takes no input), and resumes nothing", async () => {
  await save({ id: "stream-resume", name: "resume", steps: [{ id: "gate", kind: "approval", message: "Go?" }, { id: "after", kind: "skill", skill: "summarize", input: "RESUMED-MARK" }] });
  const res = await stream("stream-resume", {});
  const runId = res.headers.get("x-workflow-run-id")!;
  await allChunks(res);
  const refused = await stream("stream-resume", { runId, step: "gate", resumeData: {}, inputData: { topic: "x" } });
  expect({ status: refused.status, error: ((await refused.json()) as any).error }).toMatchObject({
    status: 400,
    error: { type: "invalid_request_error", code: "INVALID_PARAMETER", param: "inputData", message: expect.stringContaining("a resume takes no input") },
  });
  expect((await api("GET", `/api/v1/workflows/runs/${runId}`)).body.status).toBe("suspended");
  const resumed = await allChunks(await stream("stream-resume", { runId, step: "gate", resumeData: {} }));
  expect((resumed.filter((c) => c.type === "data-workflow").at(-1) as any).data.status).toBe("completed");
}, 30_000);
