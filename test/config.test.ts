// Configuration defaults that depend on the machine, and empty values.
import { describe, expect, test } from "bun:test";
import { defaultReplicaRuns, defaultWorkers, loadConfig } from "../src/config";
import { resolve } from "node:path";
import { logMessages, startServer } from "./helpers/server";

describe("executor threads", () => {
  test("one fewer than the cores, at least one: the main thread keeps a core for requests", () => {
    expect([1, 2, 3, 4, 16].map((cores) => defaultWorkers(cores))).toEqual([1, 1, 2, 3, 15]);
  });

  test("CLANKER_WORKERS wins over the default; unset, the default follows this machine's cores", () => {
    expect(loadConfig({}, { CLANKER_WORKERS: "5" }).executor.workers).toBe(5);
    expect(loadConfig({}, {}).executor.workers).toBe(defaultWorkers(navigator.hardwareConcurrency));
  });

  test("a replica holds 32 runs per core it uses (its threads and the main one) unless CLANKER_REPLICA_RUNS says", () => {
    expect(loadConfig({}, { CLANKER_WORKERS: "1" }).executor.replicaRuns).toBe(64);
    expect(loadConfig({}, { CLANKER_WORKERS: "3" }).executor.replicaRuns).toBe(128);
    expect(loadConfig({}, {}).executor.replicaRuns).toBe(defaultReplicaRuns(defaultWorkers(navigator.hardwareConcurrency)));
    expect(loadConfig({}, { CLANKER_REPLICA_RUNS: "5", CLANKER_WORKERS: "3" }).executor.replicaRuns).toBe(5);
    expect(() => loadConfig({}, { CLANKER_REPLICA_RUNS: "0" })).toThrow(/CLANKER_REPLICA_RUNS/);
  });
});

test("the server says at start how many executor threads it runs", async () => {
  const server = await startServer({ env: { CLANKER_WORKERS: "" } });
  try {
    const n = defaultWorkers(navigator.hardwareConcurrency);
    expect(logMessages(server.logs())).toContain(`pid ${server.pid}, ${n} executor thread${n === 1 ? "" : "s"})`);
  } finally {
    await server.stop();
  }
});

describe("the data dir and port", () => {
  test("an empty CLANKER_DATA_DIR is unset (./data), never the current folder; an empty --data or --port is refused", () => {
    expect(loadConfig({}, { CLANKER_DATA_DIR: "" }).dataDir).toBe(resolve("data"));
    expect(loadConfig({}, { CLANKER_DATA_DIR: "" }).dataDir).not.toBe(process.cwd());
    expect(() => loadConfig({ data: "" }, {})).toThrow("--data needs a folder");
    expect(() => loadConfig({ port: "" }, {})).toThrow("--port needs a number");
    expect(loadConfig({}, { PORT: "" }).port).toBe(4377);
  });

  test("every variable the config reads, set to nothing, counts as unset (as the README says): HOST= and CLANKER_LOG= broke every command", async () => {
    const source = await Bun.file(resolve(import.meta.dir, "../src/config.ts")).text();
    const names = [...new Set([...source.matchAll(/env\.([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!))];
    expect(names).toContain("HOST");
    expect(names.length).toBeGreaterThan(30);
    const unset = JSON.stringify(loadConfig({}, {}));
    for (const name of names) {
      let loaded: string;
      try {
        loaded = JSON.stringify(loadConfig({}, { [name]: "" }));
      } catch (e) {
        loaded = `refused: ${(e as Error).message}`;
      }
      expect({ name, loaded }).toEqual({ name, loaded: unset });
    }
  });
});
