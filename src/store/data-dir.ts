// What lives in a data dir, by name, and making it owner-only (0700 folders, 0600 files) at start-up.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { notTightened, privateDir, tightenTree } from "../lib/private-files";

export const DB_FILE = "clanker.db";
export const MASTER_KEY_FILE = "master.key";
export const ARTIFACTS_DIR = "artifacts";
export const IMPORTED_SKILLS_DIR = "skills";
export const OUTBOX_DIR = "outbox";
export const BACKUPS_DIR = "backups";

/** A restore writes this first and removes it last: a data dir that still holds it was restored part-way only. */
export const RESTORING_FILE = ".restore-unfinished";

/** Why dataDir must not be used as it is (a restore cut short: served, it would start empty beside the files), or null. */
export function unfinishedRestore(dataDir: string): string | null {
  if (!existsSync(join(dataDir, RESTORING_FILE))) return null;
  return `${dataDir} holds a restore that did not finish (it was stopped part-way): run the same clanker restore again, which starts it over`;
}

/** Whether dataDir holds a database (SQLite's file; a folder without one is a new store once a command opens it). */
export const hasDatabase = (dataDir: string): boolean => existsSync(join(dataDir, DB_FILE));

/** Why a command that works on existing data finds none in dataDir (a restore cut short, a folder it may not read, nothing there), or null. */
export function noDataIn(dataDir: string): string | null {
  const unfinished = unfinishedRestore(dataDir);
  if (unfinished) return unfinished;
  try {
    statSync(join(dataDir, DB_FILE));
    return null;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EACCES") return `permission denied reading ${dataDir}: run as the user who owns it, or pass another --data`;
    return `there is no clanker data in ${dataDir}: check --data or CLANKER_DATA_DIR (clanker serve or clanker keys create makes it)`;
  }
}

/** Everything in a data dir this server wrote (and so may tighten); anything else a user put there is left alone. */
const OWN_ENTRIES = [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`, MASTER_KEY_FILE, ARTIFACTS_DIR, IMPORTED_SKILLS_DIR, OUTBOX_DIR, BACKUPS_DIR];

/**
 * Creates the data dir 0700, or tightens one an older version left 0755 with 0644 files: only then (the folder
 * itself is loose) are our own entries walked, so a start over a big artifacts tree costs nothing once it is private.
 * Returns what could not be tightened (not ours to chmod).
 */
export function prepareDataDir(dataDir: string): string[] {
  // stat, not lstat: a data dir linked from elsewhere is judged by the folder the link names (a link's own mode is 0777).
  const loose = existsSync(dataDir) && (statSync(dataDir).mode & 0o077) !== 0;
  privateDir(dataDir);
  const entries = loose ? OWN_ENTRIES : [DB_FILE, `${DB_FILE}-wal`, `${DB_FILE}-shm`, MASTER_KEY_FILE];
  for (const name of entries) tightenTree(join(dataDir, name));
  return notTightened;
}
