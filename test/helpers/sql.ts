// Direct SQL against a running server's store, for states no API can reach (demotions, expiries, removals).
import { Database } from "bun:sqlite";
import { join } from "node:path";
import type { TestServer } from "./server";

/** Runs one statement on <dataDir>/clanker.db (waiting out the server's locks); returns the rows changed. */
export function runSql(srv: TestServer, statement: string, ...params: (string | number)[]): number {
  const db = new Database(join(srv.dataDir, "clanker.db"));
  try {
    db.run("PRAGMA busy_timeout = 5000");
    return db.query(statement).run(...params).changes;
  } finally {
    db.close();
  }
}
