// Paid runs started together cannot spend past the balance: a running run holds back the most it can cost (its
// prompt, guessed, and the longest answer it may be given), and a run that would start on what such holds take
// waits, queued, until one ends. Real HTTP, against the fake Anthropic server; three runs may run at once.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { promptText, startFakeModel, type FakeModel } from "./helpers/fake-models";
import { client, startServer, uniqueEmail, type TestServer } from "./helpers/server";
import { stopAll, waitUntil } from "./helpers/suite";
import { promptTokensGuess } from "../src/modules/executions/prompt";
import { creditHold } from "../src/modules/executions/credit-hold";

const RUN = "/api/v1/skills/summarize/run";
let fake: FakeModel;
let roomy: TestServer; // 3 credits; with answers of at most 1,000 tokens a run holds 1.5–3 of them: two run at once
let broke: TestServer; // 0.00001 credits: less than one run costs

beforeAll(async () => {
  fake = startFakeModel("anthropic");
  const env = { ANTHROPIC_API_KEY: "sk-ant-holds-0123456789abcdefghijkl", ANTHROPIC_BASE_URL: fake.url, CLANKER_WORKSPACE_CONCURRENCY: "3", CLANKER_MAX_OUTPUT_TOKENS: "1000" };
  [roomy, broke] = await Promise.all([startServer({ env: { ...env, CLANKER_CREDIT_GRANT: "3" } }), startServer({ env: { ...env, CLANKER_CREDIT_GRANT: "0.00001" } })]);
});

afterAll(async () => {
  await stopAll([roomy, broke, fake]);
});

async function threeSlowRuns(call: ReturnType<typeof client>, tag: string): Promise<string[]> {
  const ids: string[] = [];
  // One after the other, so that they queue in this order.
  for (let i = 0; i < 3; i++) {
    const r = await call("POST", RUN, { body: { input: `Summarize slowly [[slow:150]] ${tag}-${i}` } });
    expect({ status: r.status, text: r.text }).toMatchObject({ status: 200 });
    ids.push(r.body.executionId);
  }
  return ids;
}

const status = async (call: ReturnType<typeof client>, id: string) => (await call("GET", `/api/v1/executions/${id}/status`)).body;
const ended = (s: { status: string }) => ["completed", "failed", "cancelled"].includes(s.status);

test("a run that would start on credits the running runs hold waits queued, and runs once one of them ends", async () => {
  const call = client(roomy, { apiKey: await roomy.createKey({ email: uniqueEmail("holds") }) });
  const tag = `holds-${process.pid}`;
  const [first, second, third] = await threeSlowRuns(call, tag);
  await waitUntil("the first two runs running", async () => (await status(call, first!)).status === "running" && (await status(call, second!)).status === "running", 10_000);
  // Two holds of 1.5 credits or more take the 3 there are: the third waits while both run.
  expect((await status(call, third!)).status).toBe("queued");
  expect(fake.requests.some((q) => promptText(q.body).includes(`${tag}-2`))).toBe(false);
  await waitUntil("the third run ended", async () => ended(await status(call, third!)), 20_000);
  for (const id of [first, second, third]) expect((await status(call, id!)).status).toBe("completed");
  const balance = (await call("GET", "/api/v1/billing/balance")).body.balance;
  const charged = (await call("GET", "/api/v1/billing/transactions?limit=100")).body.data.filter((t: { kind: string }) => t.kind === "charge");
  expect(charged.length).toBe(3);
  expect(balance).toBeCloseTo(3 + charged.reduce((sum: number, t: { amount: number }) => sum + t.amount, 0), 9);
}, 40_000);

test("runs started together do not overdraw: those waiting behind the first fail INSUFFICIENT_CREDITS once it has spent the credits, never sent to the model", async () => {
  const call = client(broke, { apiKey: await broke.createKey({ email: uniqueEmail("holds-broke") }) });
  const tag = `holds-broke-${process.pid}`;
  const [first, ...rest] = await threeSlowRuns(call, tag);
  await waitUntil("the first run ended", async () => ended(await status(call, first!)), 20_000);
  const spent = await status(call, first!);
  expect(spent).toMatchObject({ status: "completed" });
  for (const id of rest) {
    await waitUntil(`${id} ended`, async () => ended(await status(call, id)), 10_000);
    expect(await status(call, id)).toMatchObject({ status: "failed", cost: 0, error: { code: "INSUFFICIENT_CREDITS" } });
  }
  expect(fake.requests.filter((q) => promptText(q.body).includes(tag)).length).toBe(1);
  const charges = (await call("GET", "/api/v1/billing/transactions?limit=100")).body.data.filter((t: { kind: string }) => t.kind === "charge");
  expect(charges.map((t: { executionId: string }) => t.executionId)).toEqual([first]);
  expect((await call("GET", "/api/v1/billing/balance")).body.balance).toBeCloseTo(0.00001 - spent.cost, 9);
}, 40_000);

test("a prompt's guessed tokens err high in every script: Chinese by its bytes, not at 3 characters a token", () => {
  const skill = { name: "s", instructions: "" } as Parameters<typeof promptTokensGuess>[0];
  // ~1–1.5 tokens a character is what providers count for Chinese; 3 characters a token held a tenth of that.
  expect(promptTokensGuess(skill, "汉".repeat(100_000), [])).toBeGreaterThanOrEqual(150_000);
  // English prose stays at 3 characters a token (providers count ~4).
  const english = promptTokensGuess(skill, "word ".repeat(2_000), []) - promptTokensGuess(skill, "", []);
  expect(english).toBeGreaterThanOrEqual(3_333);
  expect(english).toBeLessThanOrEqual(3_334);
  // A document or image at the most it may be charged: a 9 KB PDF of 100 pages counts ~150,000 tokens, not its bytes.
  const pdf = promptTokensGuess(skill, "", [{ name: "a.pdf", mediaType: "application/pdf", data: "A".repeat(12_000) }]) - promptTokensGuess(skill, "", []);
  expect(pdf).toBe(500_000);
});

test("a run that reads code holds the source text it may be given too (CLANKER_RUN_SOURCE_BUDGET_BYTES at 3 bytes a token)", () => {
  const skill = { name: "s", instructions: "" } as Parameters<typeof promptTokensGuess>[0];
  // costMicro here is the tokens themselves: input ones, then output ones.
  const d = { billing: { costMicro: (input: number, output: number) => input * 1_000_000 + output }, config: { connectors: { runBudgetBytes: 300_000 }, models: { maxOutputTokens: 7 } } } as unknown as Parameters<typeof creditHold>[0];
  const plain = creditHold(d, skill, "review this", [], false);
  expect(creditHold(d, skill, "review this", [], true) - plain).toBe(100_000 * 1_000_000);
  expect(plain % 1_000_000).toBe(7);
});

test("with prices of 0 (a local model of the operator's own) runs need no credits: a workspace granted none runs", async () => {
  const free = await startServer({ env: { ANTHROPIC_API_KEY: "sk-ant-holds-0123456789abcdefghijkl", ANTHROPIC_BASE_URL: fake.url, CLANKER_CREDIT_GRANT: "0", CLANKER_PRICE_INPUT_PER_MTOK: "0", CLANKER_PRICE_OUTPUT_PER_MTOK: "0" } });
  try {
    const call = client(free, { apiKey: await free.createKey({ email: uniqueEmail("holds-free") }) });
    const r = await call("POST", RUN, { body: { input: `Summarize for free holds-free-${process.pid}` } });
    expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 200, code: undefined });
    const done = await waitUntil("the free run", async () => {
      const s = await status(call, r.body.executionId);
      return ended(s) && s;
    });
    expect({ status: done.status, cost: done.cost }).toEqual({ status: "completed", cost: 0 });
    expect((await call("GET", "/api/v1/billing/balance")).body.balance).toBe(0);
  } finally {
    await stopAll([free]);
  }
}, 30_000);
