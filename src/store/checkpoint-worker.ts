// The WAL checkpointer's thread (see checkpointer.ts): its own connection to the database, copying committed WAL
// frames back into the database file when asked. A PASSIVE checkpoint never blocks the writer or the readers.
import { Database } from "bun:sqlite";
import type { FromCheckpointer, ToCheckpointer } from "./checkpointer";

declare const self: Worker;

let db: Database | null = null;
const send = (msg: FromCheckpointer) => self.postMessage(msg);

self.onmessage = (e: MessageEvent<ToCheckpointer>) => {
  const msg = e.data;
  try {
    if (msg.type === "open") {
      db = new Database(msg.path, { readwrite: true, create: false });
      // Another checkpoint (the writer's backstop, a backup) holds the lock: skip this round rather than wait.
      db.run("PRAGMA busy_timeout = 0");
      send({ type: "ready" });
    } else if (msg.type === "checkpoint") {
      const r = db!.query<{ log: number; checkpointed: number }, []>("PRAGMA wal_checkpoint(PASSIVE)").get()!;
      send({ type: "checkpointed", frames: r.log, copied: r.checkpointed });
    } else if (msg.type === "close") {
      db?.close();
      db = null;
      send({ type: "closed" });
    }
  } catch (err) {
    send({ type: "failed", message: (err as Error)?.message ?? String(err), fatal: msg.type === "open" });
  }
};
