// Scheduled backups (CLANKER_BACKUP_CRON): a restorable backup folder each time, keeping the newest CLANKER_BACKUP_KEEP.
import { accessSync, constants, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config";
import { diskFull, writeBackup } from "../store/backup";
import { SCHEDULED_PARTIAL, sweepPartials } from "../store/backup-partials";
import type { Store } from "../store/db";
import type { Job } from "./scheduler";
import { Cron } from "croner";
import type { Log } from "../lib/log";

const NAME = /^clanker-backup-\d{8}T\d{9}Z$/;
const HOUR = 3600_000;
/** Scheduled backups of this process being written now (croner may start one while the last still runs). */
let writing = 0;
/** This process's scheduled backups, for /metrics: a failing one was in the log only, found at restore time. */
export const backupOutcomes = { lastSuccessAt: 0, failures: 0 };

/**
 * `serve`, before it starts: with CLANKER_BACKUP_CRON, the backup folder must be one this process can make and write,
 * or every scheduled backup would fail in the log only. Returns why not, or null.
 */
export function unusableBackupDir(config: Config): string | null {
  if (!config.backups.cron || config.databaseUrl) return null;
  const { dir } = config.backups;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.W_OK);
    return null;
  } catch (e) {
    return `CLANKER_BACKUP_DIR ${dir} cannot hold the scheduled backups (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): give a folder this user can create and write, or unset CLANKER_BACKUP_CRON`;
  }
}

/** clanker-backup-20250101T030000000Z: sorts by time, and names nothing but finished backups. */
export const backupName = (now: Date) => `clanker-backup-${now.toISOString().replace(/[-:.]/g, "")}`;

/** Makes one backup in config.backups.dir, then removes all but the newest `keep`; returns the new folder. */
export async function runScheduledBackup(config: Config, store: Store, log: Log): Promise<string> {
  const { dir, keep } = config.backups;
  const target = join(dir, backupName(new Date()));
  // VACUUM INTO runs on the server's own connection: consistent, and it blocks requests for as long as the copy takes.
  writing++;
  let m;
  try {
    m = await writeBackup(store, config.dataDir, target);
  } catch (e) {
    // SQLite says "database or disk is full" of the copy it writes there: not the live database.
    backupOutcomes.failures++;
    if (diskFull(e)) {
      const kept = readdirSync(dir).filter((n) => NAME.test(n)).length;
      throw new Error(`${dir} (CLANKER_BACKUP_DIR) is full: no backup was written (${kept ? `the ${kept} there stay` : "and there is none there yet"}); free space there or point CLANKER_BACKUP_DIR at a larger disk`);
    }
    throw e;
  } finally {
    writing--;
  }
  backupOutcomes.lastSuccessAt = Date.now();
  const names = readdirSync(dir);
  const all = names.filter((n) => NAME.test(n)).sort();
  const old = all.slice(0, Math.max(0, all.length - keep));
  for (const name of old) rmSync(join(dir, name), { recursive: true, force: true });
  // With the partial folders of backups killed before they finished (a database copy each), never of one still going.
  old.push(...sweepPartials(dir, names, writing > 0, SCHEDULED_PARTIAL));
  log(`backup written to ${target} (${m.files} files${m.masterKey === "env" ? "; master key not included: it is in CLANKER_MASTER_KEY" : ""}${old.length ? `; removed ${old.length} older` : ""})`);
  return target;
}

/** The job for server.ts's list: none unless CLANKER_BACKUP_CRON is set. */
export function backupJobs(config: Config, store: Store, log: Log): Job[] {
  if (!config.backups.cron) return [];
  if (store.dialect === "postgres") {
    log.warn("CLANKER_BACKUP_CRON is ignored: the database is PostgreSQL (DATABASE_URL); back it up with pg_dump");
    return [];
  }
  return [{ name: "backup", pattern: config.backups.cron, run: () => runScheduledBackup(config, store, log) }];
}

/**
 * `doctor`, with CLANKER_BACKUP_CRON: why the newest scheduled backup is older than three of its intervals (two and at
 * most an hour for a long one), or none is there once one was due; null when they are being written.
 */
export function staleBackups(config: Config, now = Date.now()): string | null {
  const { cron, dir } = config.backups;
  if (!cron || config.databaseUrl) return null;
  // The longest gap between two of its next runs: a weekday schedule's is Friday to Monday, `0 3,4 * * *`'s 23 h.
  const runs = new Cron(cron, { paused: true }).nextRuns(16).map((d) => d.getTime());
  const interval = runs.length > 1 ? Math.max(...runs.slice(1).map((t, i) => t - runs[i]!)) : 24 * HOUR;
  let names: string[] = [];
  let since = now;
  try {
    names = readdirSync(dir).filter((n) => NAME.test(n)).sort();
    // With none yet, the folder's own time (serve makes it at start): a schedule just set is not due yet.
    since = statSync(dir).mtimeMs;
  } catch {}
  const newest = names.at(-1);
  const at = newest ? Date.parse(newest.replace(/^clanker-backup-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z$/, "$1-$2-$3T$4:$5:$6.$7Z")) : since;
  if (now - at <= 2 * interval + Math.min(interval, HOUR)) return null;
  const found = newest ? `the newest, ${newest}, is from ${new Date(at).toISOString()}` : `there is none since ${new Date(at).toISOString()}`;
  return `scheduled backups (CLANKER_BACKUP_CRON "${cron}") are not being written to ${dir}: ${found}; the server's log says why ("job backup failed")`;
}
