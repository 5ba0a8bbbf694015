// `clanker doctor`: is this replica's set-up whole? The database (reachable, migrated), Redis (if REDIS_URL), the
// master key (opens the check stored in the database) and the data dir (writable), one line each with what to do.
import { accessSync, constants, existsSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config";
import { DB_FILE, unfinishedRestore } from "../store/data-dir";
import { isPostgresUrl, openStore, type Store } from "../store/db";
import { findMasterKey, masterKeyCheck, missingKeyMessage, wrongKeyMessage } from "../store/master-key";
import { MasterKeyError } from "../lib/master-key-text";
import { NewerDatabaseError, refuseNewerSchema } from "../store/newer-schema";
import { redactUrl } from "../shared/redis";
import { randomBytes } from "../lib/crypto";
import { pathProblem } from "./errors";
import { staleBackups } from "../jobs/backups";

/** How long one check may take: a firewalled host must not hang the command. */
const CHECK_TIMEOUT_MS = 5000;
const SQLITE_FIX = "check the file is a clanker database; if it is damaged, stop the server and put the latest backup back (clanker restore --help)";

interface Check {
  name: string;
  /** "skip": not looked at, because what it depends on failed (that failure is the one to fix). */
  ok: boolean | "skip";
  /** What was found, and for a failure what to do about it. */
  detail: string;
}

function within<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${CHECK_TIMEOUT_MS / 1000} s`)), CHECK_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The tags recorded as applied, or null when no migration ever ran. */
async function appliedTags(store: Store): Promise<string[] | null> {
  if (store.sqlite) {
    const table = store.sqlite.query<{ n: number }, []>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '_migrations'").get();
    if (!table?.n) return null;
    return store.sqlite.query<{ tag: string }, []>("SELECT tag FROM _migrations").all().map((r) => r.tag);
  }
  const { PgStore } = await import("../store/pg-store");
  const sql = (store as InstanceType<typeof PgStore>).client;
  const [t] = await sql<{ name: string | null }[]>`SELECT to_regclass('_migrations')::text AS name`;
  if (!t?.name) return null;
  return (await sql<{ tag: string }[]>`SELECT tag FROM _migrations`).map((r) => r.tag);
}

async function checkDatabase(config: Config): Promise<{ check: Check; store: Store | null }> {
  const url = config.databaseUrl ?? undefined;
  const pg = isPostgresUrl(url);
  const where = pg ? redactUrl(url!) : join(config.dataDir, DB_FILE);
  if (!pg) {
    const dirProblem = dataDirProblem(config.dataDir);
    // A missing dir is a missing database (migrate makes both); anything else is the dir's problem.
    if (dirProblem && !dirProblem.missing) return { check: { name: "database", ok: false, detail: `not looked for: the data dir ${dirProblem.what} (see data dir below)` }, store: null };
    if (!existsSync(where)) return { check: { name: "database", ok: false, detail: `no database at ${where}: run clanker migrate (or start the server once), or pass the data dir with --data` }, store: null };
  }
  let store: Store;
  try {
    store = await within(openStore({ path: join(config.dataDir, DB_FILE), databaseUrl: url ?? null }), `database at ${where}`);
  } catch (e) {
    // A file this user may not write is the serve's refusal too (see the CLI's pathProblem), said the same way.
    const path = pathProblem(e);
    if (path) return { check: { name: "database", ok: false, detail: path }, store: null };
    // PostgreSQL's message already says what to check.
    const fix = pg ? "" : `: ${SQLITE_FIX}`;
    return { check: { name: "database", ok: false, detail: `cannot open ${where} (${(e as Error).message})${fix}` }, store: null };
  }
  try {
    const applied = await within(appliedTags(store), `database at ${where}`);
    const expected = pg ? (await import("../store/migrations-pg")).MIGRATIONS_PG : (await import("../store/migrations")).MIGRATIONS;
    try {
      refuseNewerSchema(applied ?? [], expected);
    } catch (e) {
      if (!(e instanceof NewerDatabaseError)) throw e;
      return { check: { name: "database", ok: false, detail: `${where}: ${e.message}` }, store };
    }
    const missing = expected.filter((m) => !applied?.includes(m.tag)).map((m) => m.tag);
    if (missing.length) return { check: { name: "database", ok: false, detail: `${where} is reachable but ${missing.length} migration(s) are not applied (${missing.join(", ")}): run clanker migrate` }, store };
    // A damaged file still opens and answers its migrations table; the server then fails requests with 500s.
    const damage = store.sqlite?.query<{ quick_check: string }, []>("PRAGMA quick_check").get()?.quick_check;
    if (damage !== undefined && damage !== "ok")
      return { check: { name: "database", ok: false, detail: `${where} is damaged (${damage.replace(/\s*\n\s*/g, "; ").slice(0, 200)}): stop the server and put the latest backup back (clanker restore --help)` }, store };
    return { check: { name: "database", ok: true, detail: `${where}: reachable, ${expected.length} migrations applied${damage === "ok" ? ", intact" : ""}` }, store };
  } catch (e) {
    await store.close().catch(() => {});
    const why = (e as Error).message;
    const fix = pg ? "check DATABASE_URL and that PostgreSQL is running" : SQLITE_FIX;
    return { check: { name: "database", ok: false, detail: `cannot read ${where} (${why}): ${fix}` }, store: null };
  }
}

async function checkRedis(config: Config): Promise<Check> {
  if (!config.redisUrl) return { name: "redis", ok: true, detail: "REDIS_URL not set: rate limits, in-flight locks and events stay in this process (one replica only)" };
  const { connectRedis } = await import("../shared/redis");
  try {
    const conn = await connectRedis(config.redisUrl, { connectTimeoutMs: 3000 });
    try {
      await within(conn.cmd.ping(), `Redis at ${redactUrl(config.redisUrl)}`);
    } finally {
      await conn.close();
    }
    return { name: "redis", ok: true, detail: `${redactUrl(config.redisUrl)}: reachable` };
  } catch (e) {
    return { name: "redis", ok: false, detail: (e as Error).message };
  }
}

async function checkMasterKey(config: Config, store: Store | null): Promise<Check> {
  const name = "master key";
  let found;
  try {
    found = findMasterKey(config.dataDir);
  } catch (e) {
    if (e instanceof MasterKeyError) return { name, ok: false, detail: e.message };
    throw e;
  }
  if (!store) return { name, ok: "skip", detail: `${found ? found.source : "none yet"}; not checked against the database, which is not usable (see above)` };
  if (!found) {
    // Any key: only whether a check is stored matters here.
    const stored = (await masterKeyCheck(store, randomBytes(32))) !== "new";
    return stored
      ? { name, ok: false, detail: missingKeyMessage(config.dataDir) }
      : { name, ok: true, detail: `none yet: the first start makes ${join(config.dataDir, "master.key")} (set CLANKER_MASTER_KEY instead to share one across replicas)` };
  }
  const state = await masterKeyCheck(store, found.key);
  if (state === "wrong") return { name, ok: false, detail: wrongKeyMessage(found.source) };
  return { name, ok: true, detail: state === "ok" ? `${found.source} opens the database's check` : `${found.source}; no check stored yet (the next start stores one)` };
}

/** Why the data dir cannot be looked into, with what to do, or null when it is a folder this user may enter. */
function dataDirProblem(dir: string): { what: string; fix: string; missing?: true } | null {
  try {
    if (!statSync(dir).isDirectory()) return { what: "is a file, not a folder", fix: "move the file away, or pass another folder with --data" };
    accessSync(dir, constants.R_OK | constants.X_OK);
    return null;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { missing: true, what: "does not exist", fix: "clanker migrate (or the first start) makes it, or pass another with --data" };
    if (code === "ENOTDIR") return { what: "is under a file, not a folder", fix: "pass another folder with --data" };
    if (code === "EACCES" || code === "EPERM") return { what: "cannot be read by this user", fix: "run as its owner, or fix its owner or mode (chown, chmod 700)" };
    return { what: `cannot be read (${code ?? (e as Error).message})`, fix: "check the path, or pass another with --data" };
  }
}

function checkDataDir(config: Config): Check {
  const dir = config.dataDir;
  const problem = dataDirProblem(dir);
  if (problem) return { name: "data dir", ok: false, detail: `${dir} ${problem.what}: ${problem.fix}` };
  const unfinished = unfinishedRestore(dir);
  if (unfinished) return { name: "data dir", ok: false, detail: unfinished };
  const probe = join(dir, `.doctor-${process.pid}-${Date.now()}`);
  try {
    writeFileSync(probe, "", { mode: 0o600 });
    rmSync(probe, { force: true });
    // What `serve` tightens at start may have been loosened since (a copy, a restore by hand, a chmod -R).
    const open = [dir, join(dir, "master.key"), join(dir, "clanker.db")].filter((p) => existsSync(p) && statSync(p).mode & 0o077);
    if (open.length)
      return { name: "data dir", ok: false, detail: `${open.join(", ")} can be read by other users of this machine (the master key decrypts every secret): chmod 700 ${dir} and chmod 600 the files in it (the next start does too)` };
    return { name: "data dir", ok: true, detail: `${dir}: writable, private to this user` };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // No owner or mode fixes a read-only mount: chown and chmod fail there too.
    if (code === "EROFS") return { name: "data dir", ok: false, detail: `${dir} is on a read-only file system: mount it read-write for serve and the commands that change data (clanker backup reads it as it is)` };
    return { name: "data dir", ok: false, detail: `${dir} is not writable by this user (${code ?? (e as Error).message}): fix its owner or mode (chown, chmod 700)` };
  }
}

/** Prints one line per check; returns the exit code (0 all well, 1 something to fix). */
export async function runDoctor(config: Config): Promise<number> {
  const { check: db, store } = await checkDatabase(config);
  const checks: Check[] = [db];
  try {
    checks.push(await checkRedis(config), await checkMasterKey(config, store), checkDataDir(config));
    if (config.backups.cron && !config.databaseUrl) {
      const stale = staleBackups(config);
      checks.push({ name: "backups", ok: !stale, detail: stale ?? `scheduled backups are written to ${config.backups.dir}` });
    }
  } finally {
    await store?.close().catch(() => {});
  }
  const width = Math.max(...checks.map((c) => c.name.length));
  for (const c of checks) console.log(`${c.ok === "skip" ? "--  " : c.ok ? "ok  " : "FAIL"}  ${c.name.padEnd(width)}  ${c.detail}`);
  const failed = checks.filter((c) => c.ok === false);
  console.log(failed.length ? `${failed.length} check(s) failed: ${failed.map((c) => c.name).join(", ")}` : "all checks passed");
  return failed.length ? 1 : 0;
}
