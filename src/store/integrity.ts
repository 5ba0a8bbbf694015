// The serve's check of the whole database file, once per start, on a thread of its own. A page damaged by a bad
// disk sector or a torn copy can leave the file opening and answering: an index page gone made every valid API key
// "invalid", and nothing but `clanker doctor` said why. PRAGMA quick_check reads every page (seconds for a large
// file): too long for the start, which does not wait for it; a very large file is left to `clanker doctor`.
import { statSync } from "node:fs";
import { workerEntry } from "../lib/worker-entry";
import type { Log } from "../lib/log";
import type { FromCheckpointer, ToCheckpointer } from "./checkpointer";

/** What is wrong with the file at `path` (no problems: nothing), or why it could not be checked. */
function checkIntegrity(path: string): Promise<{ problems: string[] } | { failed: string }> {
  return new Promise((resolve) => {
    let worker: Worker;
    try {
      worker = new Worker(workerEntry("store/checkpoint-worker"));
    } catch (e) {
      return resolve({ failed: (e as Error).message });
    }
    const done = (outcome: { problems: string[] } | { failed: string }) => {
      worker.terminate();
      resolve(outcome);
    };
    worker.onmessage = (e: MessageEvent<FromCheckpointer>) => {
      if (e.data.type === "checked") done({ problems: e.data.problems });
      else if (e.data.type === "failed") done({ failed: e.data.message });
    };
    worker.onerror = (e) => done({ failed: e.message });
    // A stopping process does not wait for the check.
    worker.unref();
    worker.postMessage({ type: "check", path } satisfies ToCheckpointer);
  });
}

/**
 * Past this, the check is left to `clanker doctor`: its read holds one snapshot for the whole scan, and the WAL cannot
 * restart meanwhile, so a large file checked under load would hold the writes back again and again.
 */
const CHECKED_AT_START_BYTES = 512 * 1024 * 1024;

/** Logs what the check found: a damaged file (an error, with what to do), or that it could not check. */
export async function logIntegrity(path: string, log: Log): Promise<void> {
  const size = statSync(path, { throwIfNoEntry: false })?.size ?? 0;
  if (size > CHECKED_AT_START_BYTES) return log.info(`the database ${path} (${Math.round(size / 1048576)} MB) is not checked for damage at start: clanker doctor checks it`);
  const outcome = await checkIntegrity(path);
  if ("failed" in outcome) log.warn(`could not check the database ${path} for damage (${outcome.failed}); clanker doctor checks it`);
  else if (outcome.problems.length)
    log.error(
      `the database ${path} is damaged (${outcome.problems.join("; ").slice(0, 300)}): requests may fail or find nothing (valid keys answered as invalid). Stop the server and put the latest backup back (clanker restore --help); clanker doctor checks it`,
    );
}
