// With REDIS_URL, an idempotency-key's in-flight slot lives in Redis and outlives a process killed mid-request.
// The server that takes the data dir over frees its predecessor's slots before it listens, so a client retrying at
// once after the restart (the first thing a client whose connection was reset does) is served, never told
// IDEMPOTENCY_IN_FLIGHT; a slot another live replica holds is left alone. Runs on the replica stack only.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import IORedis from "ioredis";
import { cleanup, client, startServer, uniqueEmail, type TestServer } from "./helpers/server";

const REDIS_URL = process.env.CLANKER_TEST_REDIS_URL;

let srv: TestServer;
let redis: IORedis;
let call: ReturnType<typeof client>;
/** The slot of (this key's person, this workspace, idempotency-key `key`), as the server names it. */
let slotOf: (key: string) => string;

beforeAll(async () => {
  if (!REDIS_URL) return;
  srv = await startServer();
  call = client(srv, { apiKey: await srv.createKey({ email: uniqueEmail("inflight") }) });
  const me = (await call("GET", "/api/v1/profile")).body;
  const ws = Number(me.workspaceId.replace("ws_", ""));
  const user = Number(me.id.replace("usr_", ""));
  slotOf = (key) => `${ws}:user:${user} ${key}`;
  redis = new IORedis(REDIS_URL, { keyPrefix: srv.env.CLANKER_REDIS_PREFIX });
}, 30_000);

afterAll(async () => {
  redis?.disconnect();
  await srv?.stop().catch(() => {});
  if (srv) cleanup(srv);
});

describe.skipIf(!REDIS_URL)("idempotency slots a SIGKILLed server held in Redis", () => {
  test("its successor frees them before its first request; another replica's slot stays held", async () => {
    const dead = readFileSync(join(srv.dataDir, "replica-id"), "utf8").trim();
    await srv.kill("SIGKILL");
    // What the killed process held at that moment: two requests in flight (its slots, recorded under its id) and
    // one held by a live replica elsewhere. Ten minutes each: only a release can free them within this test.
    const held = { mine1: "ik-dead-1", mine2: "ik-dead-2", other: "ik-other" };
    for (const key of [held.mine1, held.mine2]) {
      await redis.set(`inflight:${slotOf(key)}`, `${dead} token-${key}`, "PX", 600_000);
      await redis.sadd(`inflight-owner:${dead}`, slotOf(key));
    }
    await redis.set(`inflight:${slotOf(held.other)}`, "other-host:1:ab token", "PX", 600_000);

    await srv.restart();
    const post = (key: string) => call("POST", "/api/v1/workspaces", { body: { name: `after restart ${key}` }, headers: { "idempotency-key": key } });
    // The first request after the restart, with no pause: the slots were freed before the server listened.
    const [first, second, other] = await Promise.all([post(held.mine1), post(held.mine2), post(held.other)]);
    expect({ status: first.status, text: first.text }).toMatchObject({ status: 200 });
    expect(second.status).toBe(200);
    expect({ status: other.status, code: other.body.error?.code }).toEqual({ status: 409, code: "IDEMPOTENCY_IN_FLIGHT" });
    expect(await redis.exists(`inflight-owner:${dead}`)).toBe(0);
    // The new server answered and let go of its own slots; the replay is the first answer.
    expect(await redis.exists(`inflight:${slotOf(held.mine1)}`)).toBe(0);
    const replay = await post(held.mine1);
    expect({ status: replay.status, text: replay.text, replayed: replay.headers.get("idempotency-replayed") }).toEqual({ status: 200, text: first.text, replayed: "true" });
  }, 30_000);
});
