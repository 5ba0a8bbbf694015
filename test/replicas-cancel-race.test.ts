// Two replicas on one PostgreSQL: cancels sent from both at once, swept across the moment each run of one workspace
// ends. A settle appended the run's last blocks (taking the workspace's events lock) and then updated its row; a cancel
// updated the row and then appended its event: PostgreSQL found the cycle after its deadlock_timeout (1 s), failed one
// side to run again, and the workspace's requests waited meanwhile. Now a settle locks its runs' rows first.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startFakeModel, type FakeModel } from "./helpers/fake-models";
import { storeCount } from "./helpers/metrics";
import { replicasAvailable, startReplicas, type Replicas } from "./helpers/replicas";
import { client, uniqueEmail, type TestServer } from "./helpers/server";
import { waitUntil } from "./helpers/suite";
import { querySql } from "./helpers/sql";

const ENDED = new Set(["completed", "failed", "cancelled"]);

describe.skipIf(!replicasAvailable)("a cancel racing its run's end (two replicas, one PostgreSQL)", () => {
  let fake: FakeModel;
  let reps: Replicas;
  let A: TestServer;
  let B: TestServer;

  beforeAll(async () => {
    fake = startFakeModel("anthropic");
    reps = await startReplicas(2, {
      CLANKER_RATE_LIMIT_PER_MINUTE: "100000",
      CLANKER_WORKERS: "1",
      ANTHROPIC_API_KEY: "sk-ant-race-0123456789abcdefghijklmn",
      ANTHROPIC_BASE_URL: fake.url,
      OPENAI_BASE_URL: "",
    });
    [A, B] = reps.servers as [TestServer, TestServer];
  }, 60_000);

  afterAll(async () => {
    await reps?.stop();
    fake?.stop();
  });

  test("deadlocks no transaction, and leaves each run as its cancel's answer said", async () => {
    const key = await A.createKey({ email: uniqueEmail("cancel-race") });
    const [a, b] = [client(A, { apiKey: key }), client(B, { apiKey: key })];
    const before = (await storeCount(A, "deadlocks")) + (await storeCount(B, "deadlocks"));
    const raced = await Promise.all(
      Array.from({ length: 32 }, async (_, i) => {
        await Bun.sleep(i * 150);
        const started = await (i % 2 ? b : a)("POST", "/api/v1/skills/summarize/run", { body: { input: `Summarize [[slow:30]] race ${i} ${process.pid}` } });
        expect(started.status).toBe(200);
        const id = started.body.executionId as string;
        // Four deltas 30 ms apart: the cancels sweep from before the run's end to after it.
        await Bun.sleep(60 + (i % 16) * 12);
        const answers = await Promise.all([a, b].map(async (call) => (await call("POST", `/api/v1/executions/${id}/cancel`)).status));
        return { id, cancelled: answers.includes(200) };
      }),
    );
    for (const { id } of raced) await waitUntil(`run ${id} to end`, async () => ENDED.has((await a("GET", `/api/v1/executions/${id}/status`)).body.status), 30_000);
    const ends = await Promise.all(raced.map(async ({ id, cancelled }) => ({ id, cancelled, status: (await a("GET", `/api/v1/executions/${id}/status`)).body.status })));
    expect(ends.filter((e) => e.status !== (e.cancelled ? "cancelled" : "completed"))).toEqual([]);
    expect((await storeCount(A, "deadlocks")) + (await storeCount(B, "deadlocks")) - before).toBe(0);
  }, 60_000);

  test("a cancel sent to the replica that is not running the run stops its model stream at once (over Redis), not at that replica's next flush", async () => {
    const key = await A.createKey({ email: uniqueEmail("cancel-remote") });
    const marker = `remote cancel ${process.pid} ${Date.now()}`;
    const started = await client(A, { apiKey: key })("POST", "/api/v1/skills/summarize/run", { body: { input: `Summarize [[slow:3000]] ${marker}` } });
    const id = started.body.executionId as string;
    await waitUntil("the run to stream", () => fake.requests.find((r) => JSON.stringify(r.body).includes(marker)), 15_000);
    const [row] = await querySql(A, "SELECT lease_owner FROM executions WHERE id = ?", Number(id.replace("exec_", "")));
    const holder = String(row!.lease_owner).split(":").at(-2) === String(A.pid) ? A : B;
    const other = holder === A ? B : A;
    const t0 = Date.now();
    expect((await client(other, { apiKey: key })("POST", `/api/v1/executions/${id}/cancel`)).status).toBe(200);
    await waitUntil("the model stream to be closed", () => fake.requests.find((r) => JSON.stringify(r.body).includes(marker) && r.aborted), 5_000);
    // The holder renews its lease (and reads the cancel) every third of CLANKER_LEASE_SECONDS (10 s here) and flushes
    // at its next delta (3 s): the stream closed well before either.
    expect(Date.now() - t0).toBeLessThan(2_000);
  }, 60_000);
});
