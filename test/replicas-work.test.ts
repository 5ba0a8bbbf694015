// Work is claimed, not owned (issue 15): two replicas on one PostgreSQL database take queued runs from the same
// queue without running any twice, hold the per-workspace limit together, take back a run whose replica was
// SIGKILLed once its lease runs out, and send a run's callback once. Each replica talks to its own fake model, so
// the fakes' request logs say which replica ran what.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { promptText, startFakeModel, type FakeModel } from "./helpers/fake-models";
import { replicasAvailable, startReplicas, type Replicas } from "./helpers/replicas";
import { client, uniqueEmail, type TestServer } from "./helpers/server";
import { storeCount } from "./helpers/metrics";
import { startReceiver, waitUntil } from "./helpers/suite";

type Call = ReturnType<typeof client>;
const LEASE_SECONDS = 3;
let seq = 0;
const marker = (tag: string) => `${tag}-${process.pid}-${++seq}-x`;
const ENDED = new Set(["completed", "failed", "cancelled"]);

/** A replica's model: the fake's Anthropic endpoint, and no OpenAI-compatible one. */
const modelEnv = (fake: FakeModel) => ({ ANTHROPIC_API_KEY: "sk-ant-claims-0123456789abcdefghijkl", ANTHROPIC_BASE_URL: fake.url, OPENAI_BASE_URL: "" });

async function run(call: Call, body: Record<string, unknown>): Promise<string> {
  const r = await call("POST", "/api/v1/skills/summarize/run", { body });
  expect({ status: r.status, text: r.text }).toMatchObject({ status: 200 });
  return r.body.executionId;
}

const statusOf = async (call: Call, id: string) => (await call("GET", `/api/v1/executions/${id}/status`)).body;

describe.skipIf(!replicasAvailable)("work is claimed, not owned (two replicas, one PostgreSQL)", () => {
  let fakeA: FakeModel;
  let fakeB: FakeModel;
  let reps: Replicas;
  let A: TestServer;
  let B: TestServer;

  /** How many model requests carried this marker, at each replica's fake. */
  const seen = (m: string) => {
    const count = (f: FakeModel) => f.requests.filter((r) => promptText(r.body).includes(m)).length;
    return { a: count(fakeA), b: count(fakeB) };
  };

  /** A new workspace (its own key) and a client for it on each replica. */
  async function workspace(tag: string): Promise<{ a: Call; b: Call }> {
    const key = await A.createKey({ email: uniqueEmail(tag) });
    return { a: client(A, { apiKey: key }), b: client(B, { apiKey: key }) };
  }


  const retries = (srv: TestServer) => storeCount(srv, "retries");

  beforeAll(async () => {
    fakeA = startFakeModel("anthropic");
    fakeB = startFakeModel("anthropic");
    reps = await startReplicas(1, {
      CLANKER_RATE_LIMIT_PER_MINUTE: "100000",
      // Room for 16 runs per replica (see the 200-runs test).
      CLANKER_REPLICA_RUNS: "16",
      CLANKER_WORKERS: "1",
      CLANKER_WORKSPACE_CONCURRENCY: "1",
      CLANKER_LEASE_SECONDS: String(LEASE_SECONDS),
      ...modelEnv(fakeA),
    });
    A = reps.servers[0]!;
    B = await reps.add({ ANTHROPIC_BASE_URL: fakeB.url });
  }, 60_000);

  afterAll(async () => {
    await reps?.stop();
    fakeA?.stop();
    fakeB?.stop();
  });

  test("200 runs queued through both replicas each run exactly once, and both replicas run some", async () => {
    // Twenty workspaces at one run at a time each: the limit, not the machine, paces the queue. A replica holds at
    // most 16 runs (CLANKER_REPLICA_RUNS), so while all twenty have runs waiting, the other replica must run some of them.
    // Which replica runs a workspace's next run is otherwise a race: the one whose pass comes first after a slot
    // frees takes it (its own run at once, another's once it waited a poll), so with no more workspaces than one
    // replica holds, one replica could run every run (CI saw 0 of 200 on A once; runs here gave 4 to 196).
    const spaces = await Promise.all(Array.from({ length: 20 }, (_, i) => workspace(`claims-200-${i}`)));
    const jobs = Array.from({ length: 200 }, (_, i) => ({ i, input: `Summarize ${marker("many")}` }));
    const ids: { call: Call; id: string; input: string }[] = [];
    for (let at = 0; at < jobs.length; at += 25) {
      const batch = jobs.slice(at, at + 25);
      ids.push(
        ...(await Promise.all(
          batch.map(async ({ i, input }) => {
            const ws = spaces[i % spaces.length]!;
            const call = i % 2 ? ws.b : ws.a;
            return { call, id: await run(call, { input }), input };
          }),
        )),
      );
    }
    for (const { call, id } of ids) await waitUntil(`run ${id} to end`, async () => ENDED.has((await statusOf(call, id)).status), 60_000);
    const states = await Promise.all(ids.map(async ({ call, id }) => (await statusOf(call, id)).status));
    expect(states.filter((s) => s !== "completed")).toEqual([]);
    const counts = ids.map(({ input }) => seen(input.split(" ")[1]!));
    expect(counts.filter((c) => c.a + c.b !== 1)).toEqual([]);
    const byA = counts.filter((c) => c.a === 1).length;
    expect(byA).toBeGreaterThan(0);
    expect(200 - byA).toBeGreaterThan(0);
  }, 120_000);

  test("the per-workspace limit holds across replicas: never two runs of one workspace running at once", async () => {
    const ws = await workspace("claims-limit");
    // Four deltas 120 ms apart: each run is running for about half a second.
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => run(i % 2 ? ws.b : ws.a, { input: `Summarize slowly [[slow:120]] ${marker("limit")}` })));
    let most = 0;
    let samples = 0;
    await waitUntil(
      "every limited run to end",
      async () => {
        const r = await (samples++ % 2 ? ws.b : ws.a)("GET", "/api/v1/executions?limit=100");
        const statuses = (r.body.data as { status: string }[]).map((e) => e.status);
        most = Math.max(most, statuses.filter((s) => s === "running").length);
        return statuses.length === ids.length && statuses.every((s) => ENDED.has(s));
      },
      30_000,
    );
    expect(samples).toBeGreaterThan(10);
    expect(most).toBe(1);
    const final = await Promise.all(ids.map(async (id) => (await statusOf(ws.a, id)).status));
    expect(final).toEqual(Array(6).fill("completed"));
  }, 40_000);

  test("queueing runs while others of the workspace start and settle, on both replicas, retries no transaction", async () => {
    // Each POST /run reads the workspace's credit (which each settling run writes) and inserts next to the runs each
    // settle and dispatch read: SERIALIZABLE, those formed read/write cycles and PostgreSQL failed one side to run again.
    const ws = await workspace("claims-retries");
    const before = (await retries(A)) + (await retries(B));
    const ids: { call: Call; id: string }[] = [];
    // Waves: the workspace runs one at a time, so each wave is queued while the runs before it start and settle.
    for (let wave = 0; wave < 4; wave++) {
      ids.push(
        ...(await Promise.all(
          Array.from({ length: 10 }, async (_, i) => {
            const call = i % 2 ? ws.b : ws.a;
            return { call, id: await run(call, { input: `Summarize ${marker("retries")}` }) };
          }),
        )),
      );
    }
    for (const { call, id } of ids) await waitUntil(`run ${id} to end`, async () => ENDED.has((await statusOf(call, id)).status), 60_000);
    const states = await Promise.all(ids.map(async ({ call, id }) => (await statusOf(call, id)).status));
    expect(states.filter((s) => s !== "completed")).toEqual([]);
    expect((await retries(A)) + (await retries(B)) - before).toBe(0);
    // The first wave opened the workspace's credit account ten times at once: one opened it, with one grant.
    const kinds = ((await ws.a("GET", "/api/v1/billing/transactions?limit=100")).body.data as { kind: string }[]).map((t) => t.kind);
    expect(kinds.filter((k) => k === "grant")).toEqual(["grant"]);
    expect(kinds.filter((k) => k === "charge")).toHaveLength(40);
  }, 90_000);

  test("a run's callback is received once with both replicas up, even when the receiver is slower than a delivery tick", async () => {
    const ws = await workspace("claims-hook");
    const got: string[] = [];
    // Holds each request longer than the 5 s delivery tick every replica runs: a replica that did not see the
    // other's claim would send the still-pending delivery again meanwhile.
    const receiver = startReceiver(async (req) => {
      got.push(await req.text());
      await Bun.sleep(5_500);
      return new Response("ok");
    });
    try {
      const id = await run(ws.a, { input: `Summarize and call back ${marker("hook")}`, callbackUrl: `http://127.0.0.1:${receiver.port}/hook` });
      await waitUntil("the callback", () => got.length > 0, 15_000);
      expect(JSON.parse(got[0]!)).toMatchObject({ event: "execution.completed", executionId: id });
      // Past the receiver's answer and two more ticks of both replicas.
      await Bun.sleep(11_000);
      expect(got.length).toBe(1);
    } finally {
      receiver.stop(true);
    }
  }, 40_000);

  test("SIGKILL of the replica running a run: the other takes it back after the lease and completes it", async () => {
    const ws = await workspace("claims-kill");
    const m = marker("kill");
    const id = await run(ws.a, { input: `Summarize slowly [[slow:500]] ${m}` });
    // Mid-stream on whichever replica claimed it (A, most likely: it was kicked by the POST).
    const s = await waitUntil("the run to stream", async () => {
      const st = await statusOf(ws.a, id);
      return st.status === "running" && st.outputBlocks.length > 0 && st;
    });
    expect(s.status).toBe("running");
    const first = seen(m);
    expect(first.a + first.b).toBe(1);
    const [killed, survivor] = first.a ? [A, B] : [B, A];
    const onSurvivor = first.a ? ws.b : ws.a;
    await killed.kill("SIGKILL");
    const killedAt = Date.now();
    const done = await waitUntil(
      "the survivor to complete the run",
      async () => {
        const st = await statusOf(onSurvivor, id);
        return ENDED.has(st.status) && st;
      },
      30_000,
    );
    expect(done.status).toBe("completed");
    // Taken back only once the lease had run out, and run once more, on the survivor.
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual((LEASE_SECONDS - 1) * 1000);
    expect(seen(m)).toEqual({ a: 1, b: 1 });
    expect(survivor.logs()).toContain("back to queued");
    const running = await onSurvivor("GET", "/api/v1/executions?status=running&limit=100");
    expect(running.body.data).toEqual([]);
    await killed.restart();
  }, 60_000);

  test("SIGKILL of the replica driving a workflow run: the other adopts the run once its lease runs out and finishes it", async () => {
    const ws = await workspace("claims-wf");
    const m = marker("wf");
    const def = {
      id: `claims-wf-${process.pid}`,
      name: "claims",
      steps: [
        { id: "one", kind: "skill", skill: "summarize", input: `WF-ONE [[slow:400]] ${m}` },
        { id: "two", kind: "skill", skill: "summarize", input: `WF-TWO ${m} after {{steps.one.output}}` },
      ],
    };
    expect((await ws.a("POST", "/api/v1/workflows/definitions", { body: def })).status).toBe(200);
    // Launched on A: A drives it.
    const run = (await ws.a("POST", `/api/v1/workflows/${def.id}/launch`, { body: { inputData: {} } })).body;
    await waitUntil("step one to run", async () => (await ws.b("GET", `/api/v1/workflows/runs/${run.runId}`)).body.steps?.one?.status === "running");
    await A.kill("SIGKILL");
    const done = await waitUntil(
      "the workflow run to end on B",
      async () => {
        const r = await ws.b("GET", `/api/v1/workflows/runs/${run.runId}`);
        return ["completed", "failed", "cancelled"].includes(r.body.status) && r.body;
      },
      40_000,
    );
    expect(done.status).toBe("completed");
    expect(done.steps.two.status).toBe("completed");
    expect(B.logs()).not.toContain(`workflow run`);
  }, 60_000);
});

describe.skipIf(!replicasAvailable)("a replica holds CLANKER_REPLICA_RUNS runs at once", () => {
  let fake: FakeModel;
  let reps: Replicas;

  beforeAll(async () => {
    fake = startFakeModel("anthropic");
    reps = await startReplicas(1, {
      CLANKER_RATE_LIMIT_PER_MINUTE: "100000",
      CLANKER_REPLICA_RUNS: "2",
      CLANKER_WORKERS: "1",
      CLANKER_WORKSPACE_CONCURRENCY: "50",
      ...modelEnv(fake),
    });
  }, 60_000);

  afterAll(async () => {
    await reps?.stop();
    fake?.stop();
  });

  test("six slow runs queued at once: never more than two running, the rest wait queued, all six complete", async () => {
    const server = reps.servers[0]!;
    const call = client(server, { apiKey: await server.createKey({ email: uniqueEmail("replica-runs") }) });
    // [[slow:100]]: the fake model waits 100 ms before each delta, so each run lasts a few hundred ms.
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => run(call, { input: `Summarize [[slow:100]] ${marker(`cap-${i}`)}` })));
    let most = 0;
    let queuedSeen = false;
    // Bounded: 30 s of polling at most.
    for (const end = Date.now() + 30_000; Date.now() < end; ) {
      const states = await Promise.all(ids.map(async (id) => (await statusOf(call, id)).status as string));
      most = Math.max(most, states.filter((s) => s === "running").length);
      if (states.includes("queued")) queuedSeen = true;
      if (states.every((s) => ENDED.has(s))) {
        expect(states).toEqual(Array(6).fill("completed"));
        break;
      }
      await Bun.sleep(20);
    }
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(2);
    expect(queuedSeen).toBe(true);
  }, 60_000);
});
