// The executor pool and its real worker thread, against the fake model on 127.0.0.1: what one side says in a turn
// travels as one message, and must still arrive whole and in order.
import { afterAll, expect, test } from "bun:test";
import { ExecutorPool } from "../src/executor/pool";
import type { Job, RunMessage } from "../src/executor/protocol";
import { lineLog } from "../src/lib/log";
import { startFakeModel } from "./helpers/fake-models";

const fake = startFakeModel("openai");
const got: RunMessage[] = [];
let arrived: (() => void) | null = null;
const pool = new ExecutorPool(1, (m) => (got.push(m), arrived?.()), lineLog(() => {}));
afterAll(() => (pool.stop(), fake.stop()));

const job = (executionId: number, text: string): Job => ({
  executionId,
  provider: { kind: "openai-compatible", apiKey: "sk-test", baseUrl: `${fake.url}/v1`, model: "fake", byok: false },
  system: "You answer.",
  user: [{ type: "text", text }],
  maxOutputTokens: 256,
  timeoutMs: 30_000,
});

/** Resolves once every id has ended (done or failed); fails the test after 10 s. */
async function ended(ids: number[]): Promise<void> {
  const deadline = Date.now() + 10_000;
  const over = () => ids.every((id) => got.some((m) => (m.type === "done" || m.type === "failed") && m.executionId === id));
  while (!over()) {
    if (Date.now() > deadline) throw new Error(`runs ${ids} did not end: ${JSON.stringify(got)}`);
    await Promise.race([new Promise<void>((r) => (arrived = r)), Bun.sleep(100)]);
  }
}

test("runs launched in one turn all stream and end, each one's text before its end", async () => {
  const ids = [1, 2, 3, 4, 5];
  for (const id of ids) pool.run(job(id, `hello ${id}`));
  await ended(ids);
  for (const id of ids) {
    const mine = got.filter((m) => m.type !== "ready" && m.executionId === id);
    expect(mine.at(-1)!.type).toBe("done");
    expect(mine.slice(0, -1).every((m) => m.type === "text")).toBe(true);
    expect(mine.map((m) => (m.type === "text" ? m.text : "")).join("")).toContain(`hello ${id}`);
  }
});

test("a cancel sent in the same turn as its run reaches the worker after the run, and stops it (not the model's 2 s later)", async () => {
  pool.run(job(10, "[[slow:2000]] a long answer"));
  pool.run(job(11, "a short answer"));
  pool.cancel(10);
  await ended([10, 11]);
  const end10 = got.find((m) => m.type === "failed" && m.executionId === 10);
  expect(end10).toMatchObject({ type: "failed", code: "CANCELLED" });
  expect(got.some((m) => m.type === "done" && m.executionId === 11)).toBe(true);
});
