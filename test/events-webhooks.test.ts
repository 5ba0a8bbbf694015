// Server-sent events and webhooks over real HTTP. SSE: GET /api/events streams execution-state events
// (queued, running, output blocks, completed) for the caller's workspace only, with id lines for
// Last-Event-ID resume and heartbeats; query and header auth. Webhooks: a receiver on 127.0.0.1 gets the
// spec's payload signed with the workspace's secret (clanker-signature: t=…,v1=HMAC-SHA256), failures
// notify too, retries back off until the receiver answers 2xx, the secret rotates, and unsafe targets
// are refused.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { EventSource } from "eventsource";
import { answerFor, startFakeModel, type FakeModel } from "./helpers/fake-models";
import { client, startServer, uniqueEmail, type TestServer } from "./helpers/server";
import { startReceiver, stopAll, waitUntil } from "./helpers/suite";
import { expectError, finished } from "./helpers/api";
import { querySql, runSql } from "./helpers/sql";

type Call = ReturnType<typeof client>;

let fake: FakeModel;
let srv: TestServer; // loopback, private callbacks allowed (the default there), fast webhook retries
let srvPriv: TestServer; // CLANKER_WEBHOOK_ALLOW_PRIVATE=false
const keys: Record<string, string> = {};
const calls: Record<string, Call> = {};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let seq = 0;
const marker = (tag: string) => `${tag}-${process.pid}-${++seq}`;

async function run(call: Call, body: Record<string, unknown>): Promise<string> {
  const r = await call("POST", "/api/v1/skills/summarize/run", { body });
  expect({ status: r.status, text: r.text }).toMatchObject({ status: 200 });
  return r.body.executionId;
}

// ---- SSE client (the eventsource package, as a browser would use it) ----

interface Received {
  id: string;
  data: any;
}

interface Sse {
  events: Received[];
  errors: number;
  close(): void;
  /** Resolves with the first received event matching `pred` (bounded). */
  waitFor(what: string, pred: (e: Received) => boolean, timeoutMs?: number): Promise<Received>;
}

async function openSse(url: string, headers: Record<string, string> = {}): Promise<Sse> {
  const events: Received[] = [];
  const es = new EventSource(url, { fetch: (input, init) => fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), ...headers } }) });
  const sse: Sse = {
    events,
    errors: 0,
    close: () => es.close(),
    waitFor: (what, pred, timeoutMs = 10_000) => waitUntil(what, () => events.find(pred), timeoutMs),
  };
  es.addEventListener("execution-state", (ev) => events.push({ id: (ev as MessageEvent).lastEventId, data: JSON.parse((ev as MessageEvent).data) }));
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`SSE ${url} did not open in 5 s`)), 5000);
    es.onopen = () => {
      clearTimeout(t);
      resolve();
    };
    es.onerror = () => sse.errors++;
  });
  return sse;
}

const sseUrl = (key?: string) => `${srv.url}/api/events?${key ? `apiKey=${encodeURIComponent(key)}&` : ""}sources=api`;
const numericIds = (evs: Received[]) => evs.map((e) => Number(e.id));

// ---- A raw reader of the stream (for heartbeats and the literal id: lines) ----

let raw: { text: string; heartbeat: Promise<number>; abort: AbortController; openedAt: number };

function startRaw(key: string) {
  const abort = new AbortController();
  const state = { text: "", heartbeat: undefined as unknown as Promise<number>, abort, openedAt: Date.now() };
  state.heartbeat = (async () => {
    const res = await fetch(sseUrl(key), { signal: abort.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error("the SSE stream ended");
      state.text += dec.decode(value, { stream: true });
      if (/^: heartbeat/m.test(state.text)) return Date.now() - state.openedAt;
    }
  })();
  state.heartbeat.catch(() => {});
  return state;
}

// ---- Webhook receiver on 127.0.0.1 ----

interface Delivery {
  path: string;
  headers: Record<string, string>;
  body: string;
  at: number;
  answered: number;
}

const deliveries: Delivery[] = [];
let hanging = true;
let releaseHang = () => {};
const hangReleased = new Promise<void>((r) => (releaseHang = r));
let receiver: ReturnType<typeof Bun.serve>;
let recvUrl: string;

function verify(d: Delivery, secret: string): boolean {
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(d.headers["clanker-signature"] ?? "");
  if (!m) return false;
  const expected = createHmac("sha256", secret).update(`${m[1]}.${d.body}`).digest("hex");
  return expected === m[2];
}

const deliveriesTo = (path: string) => deliveries.filter((d) => d.path === path);

async function secretOf(call: Call): Promise<string> {
  const r = await call("GET", "/api/v1/webhooks/secret");
  expect(r.status).toBe(200);
  expect(r.body.signatureHeader).toBe("clanker-signature");
  expect(typeof r.body.secret).toBe("string");
  expect(r.body.secret.length).toBeGreaterThanOrEqual(16);
  return r.body.secret;
}

beforeAll(async () => {
  fake = startFakeModel("anthropic");
  const flakyHits = new Map<string, number>();
  receiver = startReceiver(async (req) => {
    const path = new URL(req.url).pathname;
    const body = await req.text();
    let answered = 200;
    if (path.startsWith("/flaky/")) {
      const n = (flakyHits.get(path) ?? 0) + 1;
      flakyHits.set(path, n);
      if (n <= 2) answered = 500;
    }
    if (path.startsWith("/down/")) answered = 500;
    if (path.startsWith("/gone/")) answered = 410;
    if (path.startsWith("/slow/")) {
      deliveries.push({ path: `${path}#arrived`, headers: {}, body: "", at: Date.now(), answered: 0 });
      await sleep(2500);
    }
    // A receiver that never answers in time (a firewall dropping packets), until the test lets it go (410: stop).
    if (path.startsWith("/hang/")) {
      if (hanging) await Promise.race([sleep(12_000), hangReleased]);
      answered = 410;
    }
    deliveries.push({ path, headers: Object.fromEntries(req.headers), body, at: Date.now(), answered });
    return new Response(answered === 200 ? "ok" : "boom", { status: answered });
  });
  recvUrl = `http://127.0.0.1:${receiver.port}`;
  const env = {
    CLANKER_RATE_LIMIT_PER_MINUTE: "10000",
    CLANKER_WORKERS: "2",
    ANTHROPIC_API_KEY: "sk-ant-events-0123456789abcdefghijkl",
    ANTHROPIC_BASE_URL: fake.url,
    OPENAI_BASE_URL: "",
    CLANKER_WEBHOOK_RETRY_BASE_MS: "100",
  };
  [srv, srvPriv] = await Promise.all([startServer({ env }), startServer({ env: { ...env, CLANKER_WEBHOOK_ALLOW_PRIVATE: "false" } })]);
  const names = ["a", "b", "hdr", "resume", "hook", "race", "hang"];
  const made = await Promise.all([...names.map((n) => srv.createKey({ email: uniqueEmail(`ev-${n}`) })), srvPriv.createKey({ email: uniqueEmail("ev-priv") })]);
  names.forEach((n, i) => {
    keys[n] = made[i]!;
    calls[n] = client(srv, { apiKey: made[i]! });
  });
  calls.priv = client(srvPriv, { apiKey: made[names.length]! });
  // Opened now so that its first heartbeat (every 5 s) is due by the time the heartbeat test runs.
  raw = startRaw(keys.a!);
}, 30_000);

afterAll(async () => {
  raw?.abort.abort();
  await stopAll([srv, srvPriv, receiver, fake]);
});

describe("SSE: GET /api/events", () => {
  let execA: string;
  let evsA: Received[];

  test("a run yields execution-state events: queued, running, blocks adding up to the output, completed with cost and artifactId", async () => {
    const esA = await openSse(sseUrl(keys.a));
    const esB = await openSse(sseUrl(keys.b));
    try {
      const input = `Summarize on the stream ${marker("sse")}`;
      execA = await run(calls.a!, { input });
      await esA.waitFor("the completed event", (e) => e.data.executionId === execA && e.data.status === "completed");
      evsA = esA.events.filter((e) => e.data.executionId === execA);
      const statuses = evsA.map((e) => e.data.status);
      expect(statuses[0]).toBe("queued");
      expect(statuses).toContain("running");
      expect(statuses.indexOf("running")).toBeLessThan(statuses.indexOf("completed"));
      expect(statuses[statuses.length - 1]).toBe("completed");
      // Every event names the run's skill, the output-block events too (a client may follow several runs at once).
      expect(new Set(evsA.map((e) => e.data.skillSlug))).toEqual(new Set(["summarize"]));
      // Every event carries its own id: they strictly increase.
      const ids = numericIds(evsA);
      for (const id of ids) expect(Number.isSafeInteger(id) && id > 0).toBe(true);
      for (let i = 1; i < ids.length; i++) expect(ids[i]!).toBeGreaterThan(ids[i - 1]!);
      // Blocks add up to the output (as polled, and as the fake answered).
      const streamed = evsA.flatMap((e) => e.data.blocks ?? []);
      expect(streamed.length).toBeGreaterThan(0);
      const status = await finished(calls.a!, execA);
      expect(streamed.map((b: any) => b.content).join("")).toBe(status.outputBlocks.map((b: any) => b.content).join(""));
      expect(streamed.map((b: any) => b.content).join("")).toBe(answerFor(input).join(""));
      expect(streamed.map((b: any) => b.index)).toEqual(status.outputBlocks.map((b: any) => b.index));
      const done = evsA[evsA.length - 1]!.data;
      expect(done.cost).toBeGreaterThan(0);
      expect(done.cost).toBe(status.cost);
      expect(done.artifactId).toMatch(/^art_\d+$/);
      expect(done.artifactId).toBe(status.artifactId);

      // Workspace B's client saw none of it; once B runs something, B sees only its own.
      const execB = await run(calls.b!, { input: `Summarize elsewhere ${marker("sse-b")}` });
      await esB.waitFor("B's completed event", (e) => e.data.executionId === execB && e.data.status === "completed");
      expect(esB.events.some((e) => e.data.executionId === execA)).toBe(false);
      expect(esB.events.every((e) => e.data.executionId === execB)).toBe(true);
      expect(esA.events.some((e) => e.data.executionId === execB)).toBe(false);
    } finally {
      esA.close();
      esB.close();
    }
  });

  test("runs started together (settled in shared commits): two clients get the same events; each run's blocks add up and precede its completion", async () => {
    const es1 = await openSse(sseUrl(keys.a));
    const es2 = await openSse(sseUrl(keys.a));
    try {
      const inputs = Array.from({ length: 12 }, (_, i) => `Summarize together ${i} ${marker("burst")}`);
      const ids = await Promise.all(inputs.map((input) => run(calls.a!, { input })));
      for (const id of ids) await es2.waitFor(`${id} completed`, (e) => e.data.executionId === id && e.data.status === "completed");
      const mine = (es: Sse) => es.events.filter((e) => ids.includes(e.data.executionId));
      // The same frames, in the same order, reached both clients (one serialized frame is written to every client).
      expect(mine(es1).map((e) => [e.id, JSON.stringify(e.data)])).toEqual(mine(es2).map((e) => [e.id, JSON.stringify(e.data)]));
      for (const [i, id] of ids.entries()) {
        const evs = mine(es1).filter((e) => e.data.executionId === id);
        const statuses = evs.map((e) => e.data.status);
        expect(statuses[0]).toBe("queued");
        expect(statuses[statuses.length - 1]).toBe("completed");
        expect(statuses.filter((s: string) => s === "completed").length).toBe(1);
        const blocks = evs.flatMap((e) => e.data.blocks ?? []);
        expect(blocks.map((b: any) => b.index)).toEqual(blocks.map((_: unknown, j: number) => j + 1));
        expect(blocks.map((b: any) => b.content).join("")).toBe(answerFor(inputs[i]!).join(""));
        const status = await finished(calls.a!, id);
        expect(status.outputBlocks.map((b: any) => b.content).join("")).toBe(answerFor(inputs[i]!).join(""));
        expect(evs[evs.length - 1]!.data.artifactId).toBe(status.artifactId);
      }
    } finally {
      es1.close();
      es2.close();
    }
  });

  test("the raw stream has an id: line on every execution-state event", async () => {
    const lastId = evsA[evsA.length - 1]!.id;
    await waitUntil("the raw stream to see the completed event", () => raw.text.includes(`id: ${lastId}\n`));
    const frames = raw.text.split("\n\n").filter((f) => f.includes("event: execution-state"));
    expect(frames.length).toBeGreaterThanOrEqual(evsA.length);
    for (const f of frames) expect(f).toMatch(/^id: \d+$/m);
    const rawIds = frames.map((f) => Number(/^id: (\d+)$/m.exec(f)![1]));
    for (const e of evsA) expect(rawIds).toContain(Number(e.id));
  });

  test("header auth works too (x-api-key, no apiKey in the URL); no credentials → 401", async () => {
    const es = await openSse(sseUrl(), { "x-api-key": keys.hdr! });
    try {
      const id = await run(calls.hdr!, { input: `Summarize with a header ${marker("hdr")}` });
      const done = await es.waitFor("the completed event", (e) => e.data.executionId === id && e.data.status === "completed");
      expect(done.data.artifactId).toMatch(/^art_\d+$/);
      expect(es.events.filter((e) => e.data.executionId === id).some((e) => (e.data.blocks ?? []).length > 0)).toBe(true);
    } finally {
      es.close();
    }
    const anon = await fetch(sseUrl());
    expect(anon.status).toBe(401);
    // A browser's EventSource cannot send the headers: the refusal names the way it can.
    expect(((await anon.json()) as { error: { message: string } }).error.message).toContain("?apiKey=");
    const bad = await fetch(sseUrl("ck_not_a_real_key"));
    expect(bad.status).toBe(401);
    await bad.body?.cancel();
  });

  test("a sources filter that could match nothing, or a lastEventId that is no id, is a 400 naming it, not a silent stream", async () => {
    const get = async (query: string) => {
      const r = await fetch(`${srv.url}/api/events?${query}`, { headers: { "x-api-key": keys.hdr! } });
      const body = r.status === 200 ? (await r.body?.cancel(), null) : ((await r.json()) as { error: { type: string; param?: string } });
      return { query, status: r.status, type: body?.error.type, param: body?.error.param };
    };
    for (const [query, param] of [["sources=API", "sources"], ["sources=api,%20", null], ["lastEventId=zz", "lastEventId"], ["lastEventId=-1", "lastEventId"], ["lastEventId=1.5", "lastEventId"]] as const)
      expect(await get(query)).toEqual(param ? { query, status: 400, type: "invalid_request_error", param } : { query, status: 200, type: undefined, param: undefined });
    expect((await get("lastEventId=0&sources=api,mcp")).status).toBe(200);
  });

  test("one caller holds at most 32 streams: the 33rd is a 429 TOO_MANY_STREAMS; closing one makes room", async () => {
    const key = await srv.createKey({ email: uniqueEmail("ev-streams") });
    // Each answer is held, not only its AbortController: a Response the test let go of could be collected, and its
    // connection closed, freeing a slot in the middle of the count (a 33rd admitted on a loaded CI machine).
    const streams: { ac: AbortController; r: Response }[] = [];
    const open = async () => {
      const ac = new AbortController();
      const r = await fetch(sseUrl(key), { signal: ac.signal });
      if (r.status === 200) streams.push({ ac, r });
      return { status: r.status, body: r.status === 200 ? null : ((await r.json()) as { error: { code: string } }) };
    };
    try {
      for (let i = 0; i < 32; i++) expect((await open()).status).toBe(200);
      const refused = await open();
      expect(refused.status).toBe(429);
      expect(refused.body?.error.code).toBe("TOO_MANY_STREAMS");
      // Another caller is not counted against this one.
      const other = await fetch(sseUrl(keys.b));
      expect(other.status).toBe(200);
      await other.body?.cancel();
      streams.pop()!.ac.abort();
      await waitUntil("the closed stream's slot", async () => (await open()).status === 200);
    } finally {
      for (const { ac } of streams) ac.abort();
    }
  });

  test("HEAD is answered at once with the stream's headers and holds no slot: 40 of them leave room for a stream", async () => {
    const key = await srv.createKey({ email: uniqueEmail("ev-head") });
    for (let i = 0; i < 40; i++) {
      const r = await fetch(sseUrl(key), { method: "HEAD", signal: AbortSignal.timeout(3000) });
      expect([r.status, r.headers.get("content-type"), r.headers.get("cache-control"), await r.text()]).toEqual([200, "text/event-stream; charset=utf-8", "no-store", ""]);
    }
    const ac = new AbortController();
    const after = await fetch(sseUrl(key), { signal: ac.signal });
    expect(after.status).toBe(200);
    ac.abort();
  });

  test("a Last-Event-ID the log never reached (a client of the history before a restore) follows from now, not silence until the ids pass it", async () => {
    const resumed = await openSse(sseUrl(keys.resume), { "last-event-id": "999999999" });
    try {
      const id = await run(calls.resume!, { input: `Summarize after a restore ${marker("restored")}` });
      await resumed.waitFor("the new run's events", (e) => e.data.executionId === id && e.data.status === "completed");
    } finally {
      resumed.close();
    }
  });

  test("Last-Event-ID resumes with exactly the later events: no loss, no duplicates", async () => {
    const call = calls.resume!;
    // A reference client stays connected throughout and sees everything.
    const ref = await openSse(sseUrl(keys.resume));
    const first = await openSse(sseUrl(keys.resume));
    try {
      const e1 = await run(call, { input: `Summarize part one ${marker("res1")}` });
      await first.waitFor("run 1 completed", (e) => e.data.executionId === e1 && e.data.status === "completed");
      first.close();
      const early = first.events.find((e) => e.data.executionId === e1 && e.data.status === "running") ?? first.events[1]!;
      expect(early).toBeDefined();
      // While the client is away, another run happens.
      const e2 = await run(call, { input: `Summarize part two ${marker("res2")}` });
      const s2 = await finished(call, e2);
      expect(s2.status).toBe("completed");
      await ref.waitFor("run 2 completed", (e) => e.data.executionId === e2 && e.data.status === "completed");

      const resumed = await openSse(sseUrl(keys.resume), { "last-event-id": early.id });
      try {
        await resumed.waitFor("run 2 completed after resume", (e) => e.data.executionId === e2 && e.data.status === "completed");
        const expected = ref.events.filter((e) => Number(e.id) > Number(early.id));
        expect(numericIds(resumed.events)).toEqual(numericIds(expected));
        expect(resumed.events.map((e) => e.data)).toEqual(expected.map((e) => e.data));
        expect(new Set(numericIds(resumed.events)).size).toBe(resumed.events.length);
        expect(resumed.events.some((e) => Number(e.id) <= Number(early.id))).toBe(false);
        // Nothing of run 2 was lost: its blocks add up to its output.
        const blocks2 = resumed.events.filter((e) => e.data.executionId === e2).flatMap((e) => e.data.blocks ?? []);
        expect(blocks2.map((b: any) => b.content).join("")).toBe(s2.outputBlocks.map((b: any) => b.content).join(""));
        // And the events of run 1 after the early one are there too.
        expect(resumed.events.filter((e) => e.data.executionId === e1).map((e) => e.id)).toEqual(
          first.events.filter((e) => e.data.executionId === e1 && Number(e.id) > Number(early.id)).map((e) => e.id),
        );
      } finally {
        resumed.close();
      }
    } finally {
      ref.close();
      first.close();
    }
  });
});

describe("webhooks", () => {
  test("a completed run posts the spec's payload, signed with the workspace secret", async () => {
    const call = calls.hook!;
    const secret = await secretOf(call);
    expect(await secretOf(call)).toBe(secret); // stable until rotated
    const path = `/ok/${marker("hook")}`;
    const id = await run(call, { input: `Summarize and call back ${marker("hook-in")}`, callbackUrl: `${recvUrl}${path}` });
    const status = await finished(call, id);
    expect(status.status).toBe("completed");
    const d = await waitUntil("the webhook delivery", () => deliveriesTo(path)[0]);
    expect(d.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(d.body)).toEqual({
      event: "execution.completed",
      executionId: id,
      skillSlug: "summarize",
      status: "completed",
      artifactId: status.artifactId,
      cost: status.cost,
      executionTime: status.executionTime,
    });
    expect(status.artifactId).toMatch(/^art_\d+$/);
    expect(status.cost).toBeGreaterThan(0);
    const sig = d.headers["clanker-signature"]!;
    expect(sig).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    const t = Number(/^t=(\d+)/.exec(sig)![1]);
    expect(Math.abs(t - Date.now() / 1000)).toBeLessThan(300);
    expect(verify(d, secret)).toBe(true);
    expect(verify(d, `${secret}x`)).toBe(false);
    expect(verify({ ...d, body: d.body.replace('"completed"', '"failed"') }, secret)).toBe(false);
    expect(deliveriesTo(path).length).toBe(1);
  });

  test("a failed run sends execution.failed", async () => {
    const call = calls.hook!;
    const secret = await secretOf(call);
    const path = `/fail/${marker("hook-fail")}`;
    const id = await run(call, { input: `Summarize [[fail:500]] ${marker("hook-fail-in")}`, callbackUrl: `${recvUrl}${path}` });
    const status = await finished(call, id);
    expect(status.status).toBe("failed");
    const d = await waitUntil("the failure webhook", () => deliveriesTo(path)[0]);
    const payload = JSON.parse(d.body);
    expect(payload).toMatchObject({ event: "execution.failed", executionId: id, skillSlug: "summarize", status: "failed" });
    expect(verify(d, secret)).toBe(true);
  });

  test("a cancelled run sends execution.cancelled, once", async () => {
    const call = calls.hook!;
    const secret = await secretOf(call);
    const path = `/cancel/${marker("hook-cancel")}`;
    const es = await openSse(sseUrl(keys.hook));
    const id = await run(call, { input: `Summarize slowly [[slow]] ${marker("hook-cancel-in")}`, callbackUrl: `${recvUrl}${path}` });
    // Cancelled once the model has begun to answer (it has used tokens by then).
    await waitUntil("the run's first output", async () => ((await call("GET", `/api/v1/executions/${id}/status`)).body.outputBlocks?.length ?? 0) > 0);
    expect((await call("POST", `/api/v1/executions/${id}/cancel`)).status).toBe(200);
    // The SSE event says the run's end as every end does: the cost charged so far (0: the model is being stopped).
    try {
      const ended = await es.waitFor("the cancelled event", (e) => e.data.executionId === id && e.data.status === "cancelled");
      expect(ended.data).toMatchObject({ cost: 0, artifactId: null, error: { code: "CANCELLED" }, executionTime: expect.any(Number) });
    } finally {
      es.close();
    }
    const d = await waitUntil("the cancellation webhook", () => deliveriesTo(path)[0]);
    const payload = JSON.parse(d.body);
    expect(payload).toMatchObject({ event: "execution.cancelled", executionId: id, skillSlug: "summarize", status: "cancelled", artifactId: null, error: { code: "CANCELLED" } });
    expect(verify(d, secret)).toBe(true);
    // What the model used until the cancel is charged, and the callback says so (it said 0, charged moments later).
    const status = (await call("GET", `/api/v1/executions/${id}/status`)).body;
    expect(status.cost).toBeGreaterThan(0);
    expect(payload.cost).toBe(status.cost);
    await sleep(300);
    expect(deliveriesTo(path)).toHaveLength(1);
  });

  test("nothing follows a run's cancelled event: text its worker streamed before it heard of the cancel is not saved or sent as running", async () => {
    const call = calls.race!;
    const es = await openSse(sseUrl(keys.race));
    const ids: string[] = [];
    try {
      // The cancel commits while the worker is mid-stream (twelve chunks, one every 30 ms): what it sent meanwhile comes after.
      for (let pair = 0; pair < 4; pair++) {
        const two = await Promise.all([0, 1].map((i) => run(call, { input: `Summarize slowly [[slow:30]] [[names]] ${marker(`race-${pair}-${i}`)}` })));
        for (const id of two) await es.waitFor("the run's first block", (e) => e.data.executionId === id && e.data.blocks?.length > 0);
        await Promise.all(two.map(async (id) => expect((await call("POST", `/api/v1/executions/${id}/cancel`)).status).toBe(200)));
        ids.push(...two);
      }
      await sleep(400);
    } finally {
      es.close();
    }
    for (const id of ids) {
      const evs = es.events.filter((e) => e.data.executionId === id).map((e) => e.data.status);
      expect({ id, after: evs.slice(evs.indexOf("cancelled") + 1) }).toEqual({ id, after: [] });
      const s = (await call("GET", `/api/v1/executions/${id}/status`)).body;
      expect({ id, late: s.outputBlocks.filter((b: any) => b.createdAt > s.completedAt).length }).toEqual({ id, late: 0 });
    }
  });

  test("runs cancelled one after another each send their callback about 2 s after their cancel, not at the next 5 s round", async () => {
    const call = calls.hook!;
    const paths = [0, 1, 2].map((i) => `/cancel-each/${marker(`hook-cancel-each-${i}`)}`);
    const ids = await Promise.all(paths.map((path, i) => run(call, { input: `Summarize slowly [[slow]] ${marker(`hook-cancel-each-in-${i}`)}`, callbackUrl: `${recvUrl}${path}` })));
    for (const id of ids) await waitUntil("the run to start", async () => (await call("GET", `/api/v1/executions/${id}/status`)).body.status === "running");
    const cancelledAt: number[] = [];
    for (const id of ids) {
      expect((await call("POST", `/api/v1/executions/${id}/cancel`)).status).toBe(200);
      cancelledAt.push(Date.now());
      await sleep(200);
    }
    const arrived = await Promise.all(paths.map((path) => waitUntil("the cancellation webhook", () => deliveriesTo(path)[0], 10_000)));
    // Each is held ~2 s for its charge; the later two went out ~3 s after that before (the scheduler's round).
    expect(arrived.map((d, i) => d.at - cancelledAt[i]! < 3500)).toEqual([true, true, true]);
  }, 30_000);

  test("a cancelled run's callback goes about 2 s after its cancel while another callback is being retried, not at that retry's round", async () => {
    const call = calls.hook!;
    const path = `/cancel-beside-retry/${marker("hook-cancel-retry")}`;
    const id = await run(call, { input: `Summarize slowly [[slow]] ${marker("hook-cancel-retry-in")}`, callbackUrl: `${recvUrl}${path}` });
    await waitUntil("the run to start", async () => (await call("GET", `/api/v1/executions/${id}/status`)).body.status === "running");
    expect((await call("POST", `/api/v1/executions/${id}/cancel`)).status).toBe(200);
    const cancelledAt = Date.now();
    // Half a second later another run's callback fails and is retried (0.1, 0.3, 0.9, 2.7 s…): its timers took the
    // held callback's turn, which then went at the retry round after it (~4.5 s) or the 5 s scheduler.
    await sleep(500);
    await run(call, { input: `Summarize ${marker("hook-down-in")}`, callbackUrl: `${recvUrl}/down/${marker("hook-down")}` });
    const arrived = await waitUntil("the cancellation webhook", () => deliveriesTo(path)[0], 10_000);
    expect(arrived.at - cancelledAt).toBeLessThan(3500);
  }, 30_000);

  test("a workflow cancelled while a step runs says in its callback what the step cost (charged a moment after the cancel)", async () => {
    const call = calls.hook!;
    const secret = await secretOf(call);
    const path = `/wf-cancel/${marker("hook-wf-cancel")}`;
    const launched = await call("POST", "/api/v1/workflows/research-draft-approve/launch", { body: { inputData: { intent: `tides, slowly [[slow]] ${marker("hook-wf-cancel-in")}` }, callbackUrl: `${recvUrl}${path}` } });
    expect(launched.status).toBe(200);
    const runId: string = launched.body.runId;
    // Cancelled once the first step's model has begun to answer (it has used tokens by then).
    await waitUntil("the step's first output", async () => {
      const step = (await call("GET", `/api/v1/workflows/runs/${runId}`)).body.steps?.research;
      return step?.executionId && ((await call("GET", `/api/v1/executions/${step.executionId}/status`)).body.outputBlocks?.length ?? 0) > 0;
    });
    expect((await call("POST", `/api/v1/workflows/runs/${runId}/cancel`)).status).toBe(200);
    const d = await waitUntil("the workflow.cancelled webhook", () => deliveriesTo(path).find((x) => JSON.parse(x.body).event === "workflow.cancelled"), 15_000);
    expect(verify(d, secret)).toBe(true);
    const run = (await call("GET", `/api/v1/workflows/runs/${runId}`)).body;
    expect(run.cost).toBeGreaterThan(0);
    // It said 0: the step's charge came after the callback was queued.
    expect(JSON.parse(d.body)).toMatchObject({ event: "workflow.cancelled", runId, status: "cancelled", cost: run.cost });
  }, 30_000);

  test("a receiver that answers 500 twice then 200 gets the delivery on the 3rd attempt, with backoff", async () => {
    const call = calls.hook!;
    const secret = await secretOf(call);
    const path = `/flaky/${marker("hook-flaky")}`;
    const id = await run(call, { input: `Summarize despite errors ${marker("hook-flaky-in")}`, callbackUrl: `${recvUrl}${path}` });
    await finished(call, id);
    const ds = await waitUntil("three attempts", () => deliveriesTo(path).length >= 3 && deliveriesTo(path), 10_000);
    expect(ds.map((d) => d.answered)).toEqual([500, 500, 200]);
    for (const d of ds) {
      expect(d.body).toBe(ds[0]!.body);
      expect(verify(d, secret)).toBe(true);
    }
    expect(JSON.parse(ds[2]!.body)).toMatchObject({ event: "execution.completed", executionId: id });
    // Backoff: the gaps grow (base 100 ms, then ×3).
    expect(ds[1]!.at - ds[0]!.at).toBeGreaterThanOrEqual(80);
    expect(ds[2]!.at - ds[1]!.at).toBeGreaterThanOrEqual(250);
    // Delivered: no 4th attempt (it would be due ~900 ms later were it still pending).
    await sleep(1200);
    expect(deliveriesTo(path).length).toBe(3);
  });

  test("a receiver that answers 410 Gone is not tried again", async () => {
    const path = `/gone/${marker("hook-gone")}`;
    const id = await run(calls.hook!, { input: `Summarize for nobody ${marker("hook-gone-in")}`, callbackUrl: `${recvUrl}${path}` });
    await finished(calls.hook!, id);
    await waitUntil("the first attempt", () => deliveriesTo(path).length >= 1, 10_000);
    // Retries here come 100 ms, then 300 ms apart: a second attempt would have come by now.
    await sleep(1000);
    expect(deliveriesTo(path).length).toBe(1);
  });

  test("a receiver that hangs holds a few sends only: another workspace's callback goes at once; a backlog goes without waiting for rounds", async () => {
    // 200 callbacks due to a receiver that never answers in time, from one workspace, queued before the run below:
    // more than one read of the queue holds.
    const wsOf = async (call: Call) => Number(((await call("GET", "/api/v1/workspaces")).body.data[0].id as string).replace(/^\D+/, ""));
    const [hangWs, hookWs] = [await wsOf(calls.hang!), await wsOf(calls.hook!)];
    const rows = (ws: number, path: string, n: number) =>
      Array.from({ length: n }, (_, i) => `(${ws}, '${recvUrl}${path}${i}', 'execution.completed', '{}', 'pending', 0, 1, ${Date.now()})`).join(", ");
    const insert = (ws: number, path: string, n: number) =>
      runSql(srv, `INSERT INTO webhook_deliveries (workspace_id, url, event, payload, status, attempts, next_attempt_at, created_at) VALUES ${rows(ws, path, n)}`);
    const hangPath = `/hang/${marker("hang")}/`;
    await insert(hangWs, hangPath, 200);
    try {
      const path = `/ok/${marker("hook-beside-hang")}`;
      const id = await run(calls.hook!, { input: `Summarize beside a hung receiver ${marker("hook-hang-in")}`, callbackUrl: `${recvUrl}${path}` });
      await finished(calls.hook!, id);
      const ended = Date.now();
      await waitUntil("the callback beside the hung receiver", () => deliveriesTo(path).length >= 1, 9_000);
      expect(Date.now() - ended).toBeLessThan(3_000);
      expect(deliveries.filter((d) => d.path.startsWith(hangPath)).length).toBeLessThanOrEqual(4);
      // 40 due at once from one workspace to a receiver that answers: they go in turns of four, each turn at once.
      const okPath = `/ok/${marker("backlog")}/`;
      await insert(hookWs, okPath, 40);
      const queued = Date.now();
      await run(calls.hook!, { input: `Summarize to kick a round ${marker("hook-kick")}`, callbackUrl: `${recvUrl}/ok/${marker("kick")}` });
      await waitUntil("the backlog", () => deliveries.filter((d) => d.path.startsWith(okPath)).length >= 40, 9_000);
      expect(Date.now() - queued).toBeLessThan(4_000);
    } finally {
      hanging = false;
      releaseHang();
    }
  }, 30_000);

  test("a stop (SIGTERM) waits for a callback being sent: it is not cut off, to go again after the restart", async () => {
    const own = await startServer({ env: { ANTHROPIC_API_KEY: "sk-ant-events-0123456789abcdefghijkl", ANTHROPIC_BASE_URL: fake.url, OPENAI_BASE_URL: "", CLANKER_SHUTDOWN_GRACE_SECONDS: "10" } });
    try {
      const call = client(own, { apiKey: await own.createKey({ email: uniqueEmail("ev-stop") }) });
      const path = `/slow/${marker("hook-stop")}`;
      const id = await run(call, { input: `Summarize before a stop ${marker("hook-stop-in")}`, callbackUrl: `${recvUrl}${path}` });
      await finished(call, id);
      await waitUntil("the send to begin", () => deliveriesTo(`${path}#arrived`).length === 1, 10_000);
      expect(await own.stop()).toBe(0);
      expect(own.logs()).toContain("1 callback(s) being sent");
      expect(deliveriesTo(path).map((d) => d.answered)).toEqual([200]);
      expect(await querySql(own, "SELECT status FROM webhook_deliveries WHERE url = ?", `${recvUrl}${path}`)).toEqual([{ status: "delivered" }]);
    } finally {
      await stopAll([own]);
    }
  }, 30_000);

  test("rotating the secret changes the signing key", async () => {
    const call = calls.hook!;
    const old = await secretOf(call);
    const r = await call("POST", "/api/v1/webhooks/secret/rotate");
    expect(r.status).toBe(200);
    const fresh = r.body.secret;
    expect(typeof fresh).toBe("string");
    expect(fresh).not.toBe(old);
    expect(await secretOf(call)).toBe(fresh);
    const path = `/ok/${marker("hook-rot")}`;
    const id = await run(call, { input: `Summarize after rotation ${marker("hook-rot-in")}`, callbackUrl: `${recvUrl}${path}` });
    const d = await waitUntil("the webhook after rotation", () => deliveriesTo(path)[0]);
    expect(JSON.parse(d.body).executionId).toBe(id);
    expect(verify(d, fresh)).toBe(true);
    expect(verify(d, old)).toBe(false);
  });

  test("a rotation with overlap signs with both secrets until the old one ends; a rotation without it stops the old at once", async () => {
    const call = calls.hook!;
    const old = await secretOf(call);
    expectError(await call("POST", "/api/v1/webhooks/secret/rotate", { body: { previousSecretValidSeconds: 604_801 } }), 400, "invalid_request_error", undefined, "previousSecretValidSeconds");
    expect(await secretOf(call)).toBe(old);
    const r = await call("POST", "/api/v1/webhooks/secret/rotate", { body: { previousSecretValidSeconds: 3600 } });
    expect(r.status).toBe(200);
    const fresh = r.body.secret;
    const until = Date.parse(r.body.previousSecretExpiresAt);
    expect(Math.abs(until - (Date.now() + 3600_000))).toBeLessThan(60_000);
    expect((await call("GET", "/api/v1/webhooks/secret")).body).toMatchObject({ secret: fresh, previousSecretExpiresAt: r.body.previousSecretExpiresAt });
    const path = `/ok/${marker("hook-overlap")}`;
    await run(call, { input: `Summarize while rotating ${marker("hook-overlap-in")}`, callbackUrl: `${recvUrl}${path}` });
    const d = await waitUntil("the webhook in the overlap", () => deliveriesTo(path)[0]);
    // One v1 per secret, the new one first; a receiver holding either verifies.
    const [, t, ...v1] = /^t=(\d+),v1=([0-9a-f]{64}),v1=([0-9a-f]{64})$/.exec(d.headers["clanker-signature"] ?? "") ?? [];
    expect(v1).toEqual([fresh, old].map((k) => createHmac("sha256", k).update(`${t}.${d.body}`).digest("hex")));
    const std = (d.headers["webhook-signature"] ?? "").split(" ");
    expect(std).toHaveLength(2);
    const stdKey = (k: string) => Buffer.from(k.replace(/^whsec_/, ""), "base64");
    const signed = `${d.headers["webhook-id"]}.${d.headers["webhook-timestamp"]}.${d.body}`;
    expect(std).toEqual([fresh, old].map((k) => `v1,${createHmac("sha256", stdKey(k)).update(signed).digest("base64")}`));
    // Rotated again at once: the secret just replaced stops, the one before it is long gone.
    const again = await call("POST", "/api/v1/webhooks/secret/rotate");
    expect(again.body.previousSecretExpiresAt).toBeNull();
    // A workspace whose secret was never made keeps none: no overlap is said to last.
    const fresh2 = client(srv, { apiKey: await srv.createKey({ email: uniqueEmail("ev-rotate-first") }) });
    const first = await fresh2("POST", "/api/v1/webhooks/secret/rotate", { body: { previousSecretValidSeconds: 3600 } });
    expect(first.body.previousSecretExpiresAt).toBeNull();
    expect((await fresh2("GET", "/api/v1/webhooks/secret")).body.previousSecretExpiresAt).toBeNull();
    const path2 = `/ok/${marker("hook-overlap-2")}`;
    await run(call, { input: `Summarize after the overlap ${marker("hook-overlap-in-2")}`, callbackUrl: `${recvUrl}${path2}` });
    const d2 = await waitUntil("the webhook after the overlap", () => deliveriesTo(path2)[0]);
    expect(verify(d2, again.body.secret)).toBe(true);
  });

  test("callbackUrl to a cloud metadata address → 400 param callbackUrl, nothing queued", async () => {
    const call = calls.hook!;
    const before = (await call("GET", "/api/v1/executions?limit=1")).body.first_id;
    for (const url of ["http://169.254.169.254/latest", "http://metadata.google.internal/computeMetadata/v1/"]) {
      const r = await call("POST", "/api/v1/skills/summarize/run", { body: { input: "Summarize", callbackUrl: url } });
      expectError(r, 400, "invalid_request_error", undefined, "callbackUrl");
    }
    expectError(await call("POST", "/api/v1/skills/summarize/run", { body: { input: "Summarize", callbackUrl: "ftp://example.com/x" } }), 400, "invalid_request_error", undefined, "callbackUrl");
    expect((await call("GET", "/api/v1/executions?limit=1")).body.first_id).toBe(before);
  });

  test("with CLANKER_WEBHOOK_ALLOW_PRIVATE=false a loopback or private callbackUrl → 400", async () => {
    for (const url of [`${recvUrl}/ok/private`, "http://10.1.2.3/hook"]) {
      const r = await calls.priv!("POST", "/api/v1/skills/summarize/run", { body: { input: "Summarize", callbackUrl: url } });
      expectError(r, 400, "invalid_request_error", undefined, "callbackUrl");
    }
    expect((await calls.priv!("GET", "/api/v1/executions")).body.data).toEqual([]);
    expect(deliveriesTo("/ok/private")).toEqual([]);
  });
});

type Ended = { text: string; endedAfter: number | null };

/**
 * Reads a raw stream to its end (bounded): all it said, and when it ended (null: still open at the deadline). `live`
 * holds what it has said so far, as it goes.
 */
async function readToEnd(url: string, headers: Record<string, string>, deadlineMs: number, live: { text: string } = { text: "" }, stop?: AbortSignal): Promise<Ended> {
  const t0 = Date.now();
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), deadlineMs);
  stop?.addEventListener("abort", () => abort.abort());
  let text = "";
  try {
    const res = await fetch(url, { headers, signal: abort.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return { text, endedAfter: Date.now() - t0 };
      text += dec.decode(value, { stream: true });
      live.text = text;
    }
  } catch {
    return { text, endedAfter: null };
  } finally {
    clearTimeout(timer);
  }
}

describe("SSE: a stream's caller is asked again when access may have ended, and on every heartbeat", () => {
  test("a revoked key's stream and a rebound key's stream end at once with the typed error, not at the next beat; another stays open", async () => {
    const owner = calls.a!;
    const made = await owner("POST", "/api/v1/api-keys", { body: { name: "sse-revoked" } });
    const rebound = await owner("POST", "/api/v1/api-keys", { body: { name: "sse-rebound" } });
    const kept = await owner("POST", "/api/v1/api-keys", { body: { name: "sse-kept" } });
    const other = await owner("POST", "/api/v1/workspaces", { body: { name: "SSE elsewhere" } });
    expect([made.status, rebound.status, kept.status, other.status]).toEqual([200, 200, 200, 200]);
    const url = `${srv.url}/api/events`;
    // Revoked just after a heartbeat, so the next is ~5 s away: beats are one timer for every stream, at a phase of
    // its own, and one landing between the count below and the change would be counted against the change.
    const said = [made, rebound, kept].map(() => ({ text: "" }));
    const stopKept = new AbortController();
    const streams = [made, rebound, kept].map((k, i) => readToEnd(url, { "x-api-key": k.body.key }, 12_000, said[i], i === 2 ? stopKept.signal : undefined));
    // All three connected (the server's "connected" comment): a fixed pause could end before a loaded machine had
    // answered them, and a key revoked before its stream was admitted gets a 401, not a stream that ends.
    await waitUntil("all three streams connected", () => said.every((s) => s.text.includes(": connected")), 5_000);
    const beats = (text: string) => text.split(": heartbeat").length - 1;
    const beatsAtConnect = said.map((s) => beats(s.text));
    await waitUntil("a heartbeat on all three", () => said.every((s, i) => beats(s.text) > beatsAtConnect[i]!), 6_000);
    const beatsBefore = said.map((s) => beats(s.text));
    expect((await owner("POST", `/api/v1/api-keys/${made.body.id}/revoke`)).status).toBe(200);
    expect((await client(srv, { apiKey: rebound.body.key })("PUT", "/api/v1/workspaces/current", { body: { workspace: other.body.id } })).status).toBe(200);
    const [revoked, moved] = (await Promise.all(streams.slice(0, 2))) as [Ended, Ended];
    // The unaffected one is still open a while after the other two ended; then the reader gives up on it.
    await sleep(300);
    stopKept.abort();
    const still = (await streams[2]) as Ended;
    // Ended by the change itself: no heartbeat (whose recheck also ends a stream, up to 5 s later) came in between.
    expect([beats(revoked.text), beats(moved.text)]).toEqual(beatsBefore.slice(0, 2));
    expect(revoked.endedAfter).not.toBeNull();
    expect(revoked.text).toContain(`event: error\ndata: {"error":{"type":"authentication_error","message":"This API key has been revoked: use another, or make one (Settings → API keys, or clanker keys create)","code":"KEY_REVOKED"}}`);
    expect(moved.endedAfter).not.toBeNull();
    expect(moved.text).toMatch(/event: error\ndata: \{"error":\{"type":"permission_error","message":"[^"]+","code":"WORKSPACE_CHANGED"\}\}/);
    // The unaffected key heard heartbeats and was still open when the reader gave up.
    expect(still.endedAfter).toBeNull();
    expect(still.text).toContain(": heartbeat");
  }, 20_000);
});

describe("SSE heartbeats", () => {
  // Last, so the 5 s heartbeat of the stream opened in beforeAll is (nearly) due by now.
  test("heartbeats: a ': heartbeat' comment arrives within ~6 s of connecting", async () => {
    const after = await Promise.race([raw.heartbeat, sleep(7000 - (Date.now() - raw.openedAt)).then(() => -1)]);
    expect(after).toBeGreaterThan(0);
    expect(after).toBeLessThanOrEqual(6500);
  }, 10_000);
});
