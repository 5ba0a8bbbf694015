// Fitting the ecosystem's conventions: ANTHROPIC_BASE_URL as either SDK writes it (with or without /v1, with a
// trailing slash), OPENAI_BASE_URL with or without /v1; and webhooks that a Standard Webhooks verifier (the
// `standardwebhooks` package) accepts as they are delivered.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Webhook } from "standardwebhooks";
import { startFakeModel, type FakeModel } from "./helpers/fake-models";
import { cleanup, client, startServer, uniqueEmail, type TestServer } from "./helpers/server";
import { finished } from "./helpers/api";
import { signStandard, standardSecret } from "../src/modules/webhooks/signing";

let fakeA: FakeModel;
let fakeO: FakeModel;
const servers: Record<string, TestServer> = {};
const keys: Record<string, string> = {};
let receiver: ReturnType<typeof Bun.serve>;
const deliveries: { headers: Record<string, string>; body: string }[] = [];

const SPELLINGS = {
  "ANTHROPIC_BASE_URL=<origin>/v1 (@ai-sdk/anthropic)": (a: string) => ({ ANTHROPIC_API_KEY: "sk-ant-compat-0123456789abcdef", ANTHROPIC_BASE_URL: `${a}/v1`, OPENAI_BASE_URL: "" }),
  "ANTHROPIC_BASE_URL=<origin>/ (Anthropic SDK, trailing slash)": (a: string) => ({ ANTHROPIC_API_KEY: "sk-ant-compat-0123456789abcdef", ANTHROPIC_BASE_URL: `${a}/`, OPENAI_BASE_URL: "" }),
  "OPENAI_BASE_URL=<origin> (no /v1)": (_a: string, o: string) => ({ ANTHROPIC_API_KEY: "", ANTHROPIC_BASE_URL: "", OPENAI_BASE_URL: o }),
  "OPENAI_BASE_URL=<origin>/v1/ (trailing slash)": (_a: string, o: string) => ({ ANTHROPIC_API_KEY: "", ANTHROPIC_BASE_URL: "", OPENAI_BASE_URL: `${o}/v1/` }),
} as const;
type Spelling = keyof typeof SPELLINGS;
const HOOKED: Spelling = "ANTHROPIC_BASE_URL=<origin>/v1 (@ai-sdk/anthropic)";

beforeAll(async () => {
  fakeA = startFakeModel("anthropic");
  fakeO = startFakeModel("openai");
  receiver = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      deliveries.push({ headers: Object.fromEntries(req.headers), body: await req.text() });
      return new Response("ok");
    },
  });
  const names = Object.keys(SPELLINGS) as Spelling[];
  const started = await Promise.all(names.map((n) => startServer({ env: { CLANKER_WORKERS: "1", ...SPELLINGS[n](fakeA.url, fakeO.url) } })));
  names.forEach((n, i) => (servers[n] = started[i]!));
  const made = await Promise.all(names.map((n) => servers[n]!.createKey({ email: uniqueEmail("compat") })));
  names.forEach((n, i) => (keys[n] = made[i]!));
}, 60_000);

afterAll(async () => {
  for (const s of Object.values(servers)) {
    await s.stop();
    cleanup(s);
  }
  receiver?.stop(true);
  fakeA?.stop();
  fakeO?.stop();
});

describe("model base URLs", () => {
  for (const name of Object.keys(SPELLINGS) as Spelling[]) {
    test(`${name}: a run reaches the model and completes`, async () => {
      const call = client(servers[name]!, { apiKey: keys[name]! });
      const r = await call("POST", "/api/v1/skills/summarize/run", { body: { input: `Summarize base URLs ${name}` } });
      expect({ status: r.status, text: r.text }).toMatchObject({ status: 200 });
      const done = await finished(call, r.body.executionId, 15_000);
      expect({ status: done.status, error: done.error }).toMatchObject({ status: "completed" });
      const fake = name.startsWith("ANTHROPIC") ? fakeA : fakeO;
      const seen = fake.requests.find((q) => JSON.stringify(q.body).includes(`Summarize base URLs ${name}`));
      expect(seen?.path).toBe(name.startsWith("ANTHROPIC") ? "/v1/messages" : "/v1/chat/completions");
    });
  }
});

describe("Standard Webhooks", () => {
  test("a real delivery verifies with standardwebhooks' Webhook.verify (standardSecret, and the secret itself once rotated)", async () => {
    const call = client(servers[HOOKED]!, { apiKey: keys[HOOKED]! });
    const before = (await call("GET", "/api/v1/webhooks/secret")).body;
    expect(before.standardSecret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);

    const run = async (marker: string) => {
      const r = await call("POST", "/api/v1/skills/summarize/run", { body: { input: `Summarize ${marker}`, callbackUrl: `http://127.0.0.1:${receiver.port}/hook` } });
      expect(r.status).toBe(200);
      await finished(call, r.body.executionId, 15_000);
      for (let i = 0; i < 400; i++) {
        const d = deliveries.find((x) => x.body.includes(r.body.executionId));
        if (d) return d;
        await Bun.sleep(25);
      }
      throw new Error("no delivery");
    };

    const d = await run("standard-1");
    expect(d.headers["webhook-id"]).toMatch(/^msg_\d+$/);
    expect(d.headers["webhook-timestamp"]).toMatch(/^\d+$/);
    expect(d.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const payload = new Webhook(before.standardSecret).verify(d.body, d.headers) as { executionId?: string };
    expect(payload.executionId).toBe(JSON.parse(d.body).executionId);
    // The verifier really checks: another body, or another secret, is refused.
    expect(() => new Webhook(before.standardSecret).verify(d.body.replace("completed", "failed"), d.headers)).toThrow();
    expect(() => new Webhook(`whsec_${Buffer.alloc(24, 7).toString("base64")}`).verify(d.body, d.headers)).toThrow();
    // The clanker-signature still comes alongside.
    expect(d.headers["clanker-signature"]).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);

    const rotated = (await call("POST", "/api/v1/webhooks/secret/rotate")).body;
    expect(rotated.standardSecret).toBe(rotated.secret);
    const d2 = await run("standard-2");
    expect((new Webhook(rotated.secret).verify(d2.body, d2.headers) as { executionId?: string }).executionId).toBe(JSON.parse(d2.body).executionId);
  });

  test("a secret minted before (base64url, with - and _) maps to the same key bytes in standard base64", () => {
    const old = "whsec_-_-_abcdefghijklmnopqrstuvwxyz012";
    const mapped = standardSecret(old);
    expect(mapped).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    const ts = Math.floor(Date.now() / 1000);
    const body = JSON.stringify({ executionId: "exec_1", status: "completed" });
    const headers = { "webhook-id": "msg_1", "webhook-timestamp": String(ts), "webhook-signature": signStandard(old, "msg_1", ts, body) };
    expect(new Webhook(mapped).verify(body, headers)).toEqual(JSON.parse(body));
  });
});
