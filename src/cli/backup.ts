// `clanker backup PATH` (a restorable backup folder of a live data dir) and `clanker restore PATH --data DIR`.
import { dirname, join, resolve } from "node:path";
import type { Config } from "../config";
import { DB_FILE, noDataIn } from "../store/data-dir";
import { BACKUP_KEY_FILE, BackupError, diskFull, restoreBackup, writeBackup } from "../store/backup";
import { sweepPartialsOf } from "../store/backup-partials";
import { openBackupSource } from "../store/backup-source";
import { MasterKeyError } from "../lib/master-key-text";
import { usageError as refuse } from "./errors";
import { invocation } from "./next-steps";

/**
 * BackupError, a bad master key and a full disk are the user's to fix: one line, exit 2 (`full` says it for the disk
 * written to; both clean up after themselves). Anything else is a bug and propagates.
 */
async function guarded<T>(fn: () => T | Promise<T>, full: string): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof BackupError || e instanceof MasterKeyError) refuse(e.message);
    if (diskFull(e)) refuse(full);
    throw e;
  }
}

export async function runBackupCommand(config: Config, path: string): Promise<void> {
  // PostgreSQL has its own tool for a consistent copy: one line, before touching anything.
  // Artifacts, imported skills and the outbox are rows there too, so the dump is the whole backup, less the key.
  if (config.databaseUrl)
    refuse(
      `the database is PostgreSQL (DATABASE_URL), and clanker backup copies only the embedded SQLite store: run pg_dump --format=custom --file=clanker.dump "$DATABASE_URL" (restore with pg_restore --dbname "$DATABASE_URL" clanker.dump), and keep CLANKER_MASTER_KEY with it: the dump's secrets open only with that key`,
    );
  const target = resolve(path);
  const db = join(config.dataDir, DB_FILE);
  const none = noDataIn(config.dataDir);
  if (none) refuse(none);
  const m = await guarded(async () => {
    // Read-only: a backup writes nothing in the data dir, which may be on a read-only mount.
    const source = openBackupSource(db);
    try {
      return await writeBackup(source, config.dataDir, target);
    } finally {
      source.close();
    }
  }, `the disk holding ${dirname(target)} is full: nothing was written; free space there, or back up to another disk`);
  // What backups killed part-way left beside it (a database copy and the master key each): only scheduled backups
  // removed them, in their own folder.
  const swept = sweepPartialsOf(target, false);
  console.log(`Backup written to ${target} (database, ${m.files} artifact and skill files)${swept.length ? `; removed ${swept.length} unfinished backup folder(s) beside it` : ""}`);
  if (m.masterKey === "file") console.log(`SECRET: ${target}/${BACKUP_KEY_FILE} decrypts every stored secret and BYOK key; keep the backup private.`);
  if (m.masterKey === "env") console.log(`The master key is NOT in the backup (it is in CLANKER_MASTER_KEY): restore and serve with the same CLANKER_MASTER_KEY.`);
}

export async function runRestoreCommand(config: Config, path: string): Promise<void> {
  const source = resolve(path);
  const m = await guarded(() => restoreBackup(source, config.dataDir), `the disk holding ${config.dataDir} is full: nothing was restored; free space there, or restore into a folder on another disk`);
  console.log(`Restored ${source} (made ${m.createdAt}) into ${config.dataDir}`);
  // Still restorable, and SQLite's quick_check passed: but a change to its rows since would have gone unseen.
  if (!m.database) console.error(`clanker: warning: ${DB_FILE} was not checked against a SHA-256 (this backup was made before clanker recorded one): only SQLite's quick_check passed`);
  console.log(`Start it with: ${invocation().shell} serve --data ${config.dataDir}${m.masterKey === "env" ? " (with the same CLANKER_MASTER_KEY)" : ""}`);
}
