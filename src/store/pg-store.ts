// PostgreSQL store: not built yet in this step (the async interface lands on SQLite first).
import type { Store } from "./db";

export async function openPgStore(_url: string): Promise<Store> {
  throw new Error("DATABASE_URL=postgres://… is not supported by this build yet");
}
