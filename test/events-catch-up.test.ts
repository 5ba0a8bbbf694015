// GET /api/events resumed from far back (Last-Event-ID, a client away for hours): the backlog is handed over at the
// client's pace, in steps that let the server answer others between them. It was read and queued in one turn: a
// million events held every request ~1.5 s, and even a client reading as fast as it could was dropped after ~1 MiB
// (about 5,000 events), to re-read the rest of the log at each reconnect.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { client, startServer, uniqueEmail, type TestServer } from "./helpers/server";
import { runSql } from "./helpers/sql";
import { stopAll } from "./helpers/suite";
import { LogFollowers } from "../src/modules/events/follow";
import type { BusEvent } from "../src/modules/events/bus";

const BACKLOG = 30_000; // ~6 MB of frames: six times what a lagging live client may have queued before it is dropped

let srv: TestServer;
let key: string;

beforeAll(async () => {
  srv = await startServer();
  key = await srv.createKey({ email: uniqueEmail("catch-up") });
  const ws = Number(String((await client(srv, { apiKey: key })("GET", "/api/v1/workspaces/current")).body.id).replace(/^ws_/, ""));
  const data = JSON.stringify({ executionId: "exec_0", status: "running", note: "x".repeat(120) });
  await runSql(
    srv,
    `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${BACKLOG})
     INSERT INTO events (workspace_id, type, source, data, created_at) SELECT ?, 'execution.status', 'api', ?, ? FROM n`,
    ws,
    data,
    Date.now(),
  );
});
afterAll(() => stopAll([srv]));

/** Reads an SSE body as it comes, counting events and keeping their ids; `stop()` cancels it. */
function reader(res: Response) {
  const ids: number[] = [];
  let ended = false;
  const body = res.body!.getReader();
  const done = (async () => {
    const decoder = new TextDecoder();
    let text = "";
    for (;;) {
      const { value, done } = await body.read().catch(() => ({ value: undefined, done: true }));
      if (done) break;
      text += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = text.indexOf("\n\n")) >= 0) {
        const m = /^id: (\d+)$/m.exec(text.slice(0, end));
        if (m) ids.push(Number(m[1]));
        text = text.slice(end + 2);
      }
    }
    ended = true;
  })();
  return { ids, done, ended: () => ended, stop: () => body.cancel().catch(() => {}) };
}

test("a resume from far back gets the whole backlog in order, and the server answers others while it is sent", async () => {
  const res = await fetch(`${srv.url}/api/events`, { headers: { "x-api-key": key, "last-event-id": "1" } });
  expect(res.status).toBe(200);
  const events = reader(res);
  try {
    // Asked while the backlog is being handed over: answered before the last of it (it waited for all of it).
    const profile = await fetch(`${srv.url}/api/v1/profile`, { headers: { "x-api-key": key } });
    expect(profile.status).toBe(200);
    expect(events.ids.length).toBeLessThan(BACKLOG - 1);
    for (let i = 0; i < 600 && events.ids.length < BACKLOG - 1 && !events.ended(); i++) await Bun.sleep(50);
    // Every event after id 1, once each and in order; the stream still open (it was dropped at ~5,000).
    expect(events.ended()).toBe(false);
    expect(events.ids.length).toBe(BACKLOG - 1);
    expect(events.ids.every((id, i) => i === 0 || id > events.ids[i - 1]!)).toBe(true);
  } finally {
    await events.stop();
  }
});

test("a client that stops reading while it catches up holds nothing back: its catch-up waits, others are answered, and it goes when it hangs up", async () => {
  const ac = new AbortController();
  const res = await fetch(`${srv.url}/api/events`, { headers: { "x-api-key": key, "last-event-id": "1" }, signal: ac.signal });
  // The answer is held with its abort until the hang-up: a Response let go of is collected and its connection closed.
  const stalled = { ac, res };
  expect(res.status).toBe(200);
  // Never read: the server hands it a step, then waits for it.
  for (let i = 0; i < 5; i++) expect((await fetch(`${srv.url}/api/v1/profile`, { headers: { "x-api-key": key } })).status).toBe(200);
  stalled.ac.abort();
  // Its slot is given back (32 streams a caller): 32 more open and close.
  for (let i = 0; i < 33; i++) {
    const other = new AbortController();
    const r = await fetch(`${srv.url}/api/events`, { headers: { "x-api-key": key }, signal: other.signal });
    expect(r.status).toBe(200);
    other.abort();
    await Bun.sleep(5);
  }
});

test("a follower that finishes catching up while the group's read is on its way is served from where it got to, not from where that read started", async () => {
  // A log whose reads answer when told to, as a pool of connections can (PostgreSQL): the catching-up follower's
  // last read was answered from before 101 and 102 committed, and arrives while the group reads from 102 for the live one.
  const log: BusEvent[] = [];
  const ev = (id: number) => ({ id, workspaceId: 1, type: "t", source: "api", data: {}, createdAt: 0 }) as unknown as BusEvent;
  for (let i = 1; i <= 100; i++) log.push(ev(i));
  let cue = () => {};
  let answerCatchUp: (() => void) | null = null;
  let answerGroup: (() => void) | null = null;
  const f = new LogFollowers(
    {
      subscribe: (_ws, listener) => ((cue = () => listener(log.at(-1)!)), () => {}),
      lastId: async () => log.at(-1)!.id,
      since: async (_ws, after, limit = 1000) => {
        const rows = log.filter((e) => e.id > after).slice(0, limit);
        if (after === 95 && limit < 1000) return new Promise<BusEvent[]>((r) => (answerCatchUp = () => r(rows)));
        if (after === 102) return new Promise<BusEvent[]>((r) => (answerGroup = () => r(log.filter((e) => e.id > after).slice(0, limit))));
        return rows;
      },
    },
    { everyMs: 100_000 },
  );
  const live: number[] = [];
  const resumed: number[] = [];
  const a = f.follow(1, 0, (e) => live.push(e.id));
  await a.replayed;
  const b = f.follow(1, 95, (e) => resumed.push(e.id));
  try {
    await Bun.sleep(5);
    for (const id of [101, 102]) {
      log.push(ev(id));
      cue();
      await Bun.sleep(5);
    }
    log.push(ev(103));
    cue();
    await Bun.sleep(5);
    answerCatchUp!();
    await Bun.sleep(5);
    answerGroup!();
    await b.replayed;
    await Bun.sleep(20);
    expect(live).toEqual([101, 102, 103]);
    expect(resumed).toEqual([96, 97, 98, 99, 100, 101, 102, 103]);
  } finally {
    a.stop();
    b.stop();
  }
});
