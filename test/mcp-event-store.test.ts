// The replay memory of one MCP session (Streamable HTTP's Last-Event-ID): bounded in bytes as well as in count, so
// small calls whose answers are big (read-memory of a 1 MiB memory) cannot hold gigabytes per session.
import { expect, test } from "bun:test";
import { SessionEventStore } from "../src/mcp/event-store";

const MAX_EVENT_BYTES = 2 * 1024 * 1024;

const answer = (id: number, chars: number) => ({ jsonrpc: "2.0" as const, id, result: { content: [{ type: "text", text: "x".repeat(chars) }] } });

test("a session keeps at most MAX_EVENT_BYTES of answers for replay: the oldest go, the newest stay replayable", async () => {
  const store = new SessionEventStore();
  const ids: string[] = [];
  for (let i = 1; i <= 10; i++) ids.push(await store.storeEvent("s1", answer(i, 900 * 1024)));
  const replayed = async (after: string) => {
    const sent: number[] = [];
    await store.replayEventsAfter(after, { send: async (_id, m) => void sent.push((m as { id: number }).id) });
    return sent;
  };
  // ~9 MiB sent; two answers kept: the last answer replays after the one before it, the first ones are gone.
  expect(await replayed(ids[8]!)).toEqual([10]);
  expect(await store.getStreamIdForEventId(ids[0]!)).toBeUndefined();
  expect(await replayed(ids[0]!)).toEqual([]);
  const kept = (await Promise.all(ids.map((id) => store.getStreamIdForEventId(id)))).filter(Boolean).length;
  expect(kept * 900 * 1024).toBeLessThanOrEqual(MAX_EVENT_BYTES);
  expect(kept).toBeGreaterThanOrEqual(1);
  // Small answers are kept by the thousand, as before.
  const small = new SessionEventStore();
  const first = await small.storeEvent("s2", answer(0, 10));
  for (let i = 1; i <= 999; i++) await small.storeEvent("s2", answer(i, 10));
  expect((await (async () => { const sent: number[] = []; await small.replayEventsAfter(first, { send: async (_i, m) => void sent.push((m as { id: number }).id) }); return sent; })()).length).toBe(999);
});
