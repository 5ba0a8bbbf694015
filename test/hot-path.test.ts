// What every request has built for it. Elysia reads the source of the app-wide hooks (the parse hook, the error
// hook…) to see which parts of a request they use, and builds those for every request: its reader took a name
// ending in "c" before a ")" in a call (`f(…, rpc)`) for the context `c` passed on, and "return c…" for the query
// read, and so parsed headers, query and cookies for every GET (20 % of its CPU, test/bench/ab.ts). Only what the
// hooks truly use may be in the app-wide inference.
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../src/config";
import { migrate, openStore } from "../src/store/db";
import { createApp, createDeps } from "../src/app";
import { testDialect } from "./helpers/server";

// The inference is the code's, whatever the store: measured once, on SQLite.
test.skipIf(testDialect() === "postgres")("the app-wide hooks need the route and the response's headers only: no headers, query, cookies or body parsed for every request", async () => {
  const dir = mkdtempSync(join(tmpdir(), "clanker-hot-path-"));
  const store = await openStore(join(dir, "clanker.db"));
  try {
    await migrate(store);
    const app = createApp(createDeps(loadConfig({}, { CLANKER_DATA_DIR: dir }), store, () => {}));
    expect((app as unknown as { inference: Record<string, boolean> }).inference).toEqual({ body: false, cookie: false, headers: false, query: false, set: true, server: false, url: false, route: true, path: false });
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
