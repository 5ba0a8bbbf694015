// Per-session memory of the messages sent on Streamable HTTP streams, so a client that reconnects with
// Last-Event-ID gets what it missed. Bounded in count and in bytes: the oldest events go first.
import type { EventStore } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

const MAX_EVENTS = 1000;
/**
 * By count alone, a session kept its last 1,000 answers however big: 150-byte calls reading a 1 MiB memory held
 * ~2 GB per session. An answer bigger than this is sent, not kept for a replay.
 */
const MAX_EVENT_BYTES = 2 * 1024 * 1024;

export class SessionEventStore implements EventStore {
  private events: { id: string; streamId: string; message: JSONRPCMessage; bytes: number }[] = [];
  private bytes = 0;
  private seq = 0;

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const id = `${streamId}_${++this.seq}`;
    // UTF-16 code units, an upper bound of what the string holds in memory per character stored as Latin-1.
    const bytes = JSON.stringify(message).length;
    this.events.push({ id, streamId, message, bytes });
    this.bytes += bytes;
    while (this.events.length > MAX_EVENTS || this.bytes > MAX_EVENT_BYTES) this.bytes -= this.events.shift()!.bytes;
    return id;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return this.events.find((e) => e.id === eventId)?.streamId;
  }

  async replayEventsAfter(lastEventId: string, { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> }): Promise<string> {
    const at = this.events.findIndex((e) => e.id === lastEventId);
    if (at === -1) return "";
    const streamId = this.events[at]!.streamId;
    for (const e of this.events.slice(at + 1)) if (e.streamId === streamId) await send(e.id, e.message);
    return streamId;
  }
}
