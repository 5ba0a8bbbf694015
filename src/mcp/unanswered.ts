// The requests a session's client is still waiting on: at shutdown their answers leave before the session closes.
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

type Id = string | number;

const requestId = (m: JSONRPCMessage): Id | undefined => ("method" in m && "id" in m ? m.id : undefined);
const answerId = (m: JSONRPCMessage): Id | undefined => (("result" in m || "error" in m) && "id" in m ? (m.id as Id) : undefined);

export class Unanswered {
  private waiting = new Set<Id>();
  private idle: (() => void)[] = [];

  /**
   * Counts `transport`'s requests until their answers are handed to it. Called before server.connect(transport): the
   * SDK calls an onmessage it finds there before its own, and looks send() up at every answer.
   */
  watch(transport: Transport): void {
    const send = transport.send.bind(transport);
    transport.onmessage = (m) => {
      const id = requestId(m);
      if (id !== undefined) this.waiting.add(id);
      // A request its client withdrew gets no answer.
      else if ("method" in m && m.method === "notifications/cancelled") this.answered(m.params?.requestId as Id);
    };
    transport.send = async (m, opts) => {
      try {
        await send(m, opts);
      } finally {
        this.answered(answerId(m));
      }
    };
  }

  private answered(id: Id | undefined): void {
    if (id !== undefined && this.waiting.delete(id) && !this.waiting.size) for (const resolve of this.idle.splice(0)) resolve();
  }

  /** The requests still waiting for their answer. */
  ids(): Id[] {
    return [...this.waiting];
  }

  /** Resolves once every request received so far has its answer written into the session's stream. */
  none(): Promise<void> {
    return this.waiting.size ? new Promise((resolve) => this.idle.push(resolve)) : Promise.resolve();
  }
}
