// The data dir's database as `clanker backup` reads it: read-only, so a data dir on a read-only mount (a snapshot, a
// volume mounted :ro into a backup container) can be backed up. Opening it as the store does would make the folder
// (mkdir), require it writable, tighten modes and set WAL pragmas: all writes, all refused there.
import { Database, constants as SQLITE } from "bun:sqlite";
import { accessSync, constants, existsSync, mkdirSync, statSync } from "node:fs";
import { dirname } from "node:path";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { privateFile } from "../lib/private-files";
import { BackupError, type BackupSource } from "./backup";
import type { Db } from "./db";

/** VACUUM INTO a new 0600 file (VACUUM INTO accepts an empty one): a consistent copy, whatever writes meanwhile. */
export function vacuumCopy(sqlite: Database, file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  privateFile(file);
  sqlite.query("VACUUM INTO ?").run(file);
}

/** A path as an SQLite URI's path: `?`, `#` and `%` in a folder's name would otherwise end or escape it. */
const uriPath = (path: string) => `file:${path.split("/").map(encodeURIComponent).join("/")}`;

/** What says the main file was not written: a checkpoint (the only way a WAL writer changes it) changes its times or size. */
const fingerprint = (path: string) => {
  const st = statSync(path, { bigint: true });
  return `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
};

export const NEEDS_WRITABLE = "a backup needs the data dir writable (it reads the database through SQLite's WAL); copy it or mount it rw";

/**
 * Opens `path` read-only. Two cases, tried on a read-only bind mount:
 * - a `-wal` is there (a process has the database open, or one was killed): a plain read-only connection reads
 *   through it, beside a live writer too; with its `-shm` gone SQLite cannot, and `immutable` would read the main file
 *   without the WAL's commits (stale), so that case is refused with NEEDS_WRITABLE.
 * - no `-wal` (every connection closed cleanly): SQLite will not open a WAL database read-only without creating one,
 *   so it is opened `immutable` (no locks, no -shm). That is only safe while nothing writes: a process opening it
 *   meanwhile writes to a new -wal and leaves the main file as it was (the copy is the database as it was at the
 *   start) until a checkpoint, which the file's times show; the copy is then refused, to be run again.
 */
export function openBackupSource(path: string): BackupSource & { close(): void } {
  // Unreadable: EACCES naming the file (the CLI's pathProblem), not SQLite's "unable to open database file".
  accessSync(path, constants.R_OK);
  const wal = existsSync(`${path}-wal`);
  const before = wal ? null : fingerprint(path);
  const sqlite = new Database(wal ? uriPath(path) : `${uriPath(path)}?immutable=1`, SQLITE.SQLITE_OPEN_READONLY | SQLITE.SQLITE_OPEN_URI);
  try {
    // SQLite opens the WAL files at the first read: with a -wal and no -shm, on a read-only folder, it fails here.
    sqlite.query("SELECT count(*) FROM sqlite_master").get();
  } catch (e) {
    sqlite.close();
    if (wal && (e as { code?: unknown }).code === "SQLITE_CANTOPEN") throw new BackupError(NEEDS_WRITABLE);
    throw e;
  }
  return {
    dialect: "sqlite",
    db: drizzle(sqlite) as unknown as Db,
    async vacuumInto(file: string) {
      vacuumCopy(sqlite, file);
      if (before !== null && fingerprint(path) !== before)
        throw new BackupError(`${path} was written while it was copied (a server or a clanker command started on it): nothing written; run the backup again`);
    },
    close: () => sqlite.close(),
  };
}
