// The WAL checkpointer's thread (see checkpointer.ts): its own connection to the database, copying committed WAL
// frames back into the database file when asked. A PASSIVE checkpoint never blocks the writer or the readers.
// Also, on a thread of its own, the start's check of the whole file (integrity.ts).
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
    } else if (msg.type === "check") {
      // A thread of its own, once per start (see integrity.ts): the whole file read off the event loop.
      const check = new Database(msg.path, { readonly: true });
      let problems: string[];
      try {
        problems = check.query<{ quick_check: string }, []>("PRAGMA quick_check(10)").all().map((r) => r.quick_check).filter((r) => r !== "ok");
      } catch (err) {
        // Damage the check cannot read past is its finding too ("database disk image is malformed").
        if (!/^SQLITE_(CORRUPT|NOTADB)/.test(String((err as { code?: unknown }).code))) throw err;
        problems = [(err as Error).message];
      } finally {
        check.close();
      }
      send({ type: "checked", problems });
    } else if (msg.type === "close") {
      db?.close();
      db = null;
      send({ type: "closed" });
    }
  } catch (err) {
    send({ type: "failed", message: (err as Error)?.message ?? String(err), fatal: msg.type === "open" });
  }
};
