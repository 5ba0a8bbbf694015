// One data dir, one server: an OS-held lock on data/clanker.lock, plus data/clanker.pid naming its holder.
//
// The lock is an exclusive transaction on a tiny SQLite file, held for the server's lifetime. SQLite locks with
// POSIX fcntl locks, which the kernel drops when the process ends however it ends (SIGKILL, OOM, power loss of a
// container), so a crash never leaves a stale lock to guess about. The pid file is only a name tag: it is
// written after the lock is taken, gains the server's URL once it listens, and is read by a process that failed to
// take the lock (to name the holder) and by CLI verbs that point a person at the running server. CLI verbs and `clanker
// mcp` never take this lock; they work beside a running server through SQLite's own locking of clanker.db.
import { Database } from "bun:sqlite";
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number | null,
  ) {
    super(
      `the data dir ${dataDir} is in use by another clanker server${pid ? ` (PID ${pid})` : ""}; stop it first, or start this one with another --data / CLANKER_DATA_DIR`,
    );
  }
}

export interface DataDirLock {
  /** Records where the server listens, for `runningServerUrl`. */
  announce(url: string): void;
  release(): void;
}

// Held here as well as by the caller: a Database that is garbage-collected closes, and closing drops the lock.
const held = new Set<Database>();

/**
 * The pid file made anew (we hold the lock, so no other server writes it): a link left in its place was followed, and
 * the file it named overwritten with the pid and URL.
 */
function writePidFile(path: string, text: string): void {
  rmSync(path, { force: true });
  writeFileSync(path, text, { mode: 0o600, flag: "wx" });
}

/** `schema`: the last migration this server ships, in its pid file for a newer CLI to compare (see runningServer). */
export function lockDataDir(dataDir: string, schema = ""): DataDirLock {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lockPath = join(dataDir, "clanker.lock");
  const pidPath = join(dataDir, "clanker.pid");
  // Made 0600 before SQLite opens it, whatever the umask.
  closeSync(openSync(lockPath, "a", 0o600));
  const db = new Database(lockPath, { create: true });
  try {
    db.run("PRAGMA busy_timeout = 0");
    // No -journal file beside the lock: nothing is ever written in this transaction.
    db.run("PRAGMA journal_mode = MEMORY");
    db.run("BEGIN EXCLUSIVE");
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code === "SQLITE_BUSY") throw new DataDirInUseError(dataDir, holderPid(pidPath));
    throw e;
  }
  held.add(db);
  writePidFile(pidPath, `${process.pid}\n\n${schema}\n`);
  return {
    announce(url) {
      if (held.has(db)) writePidFile(pidPath, `${process.pid}\n${url}\n${schema}\n`);
    },
    release() {
      if (!held.delete(db)) return;
      rmSync(pidPath, { force: true });
      // Ending the transaction drops the lock; the lock file itself stays (deleting it would race a new holder).
      db.close();
    },
  };
}

/** The holder's PID. It writes the pid file just after taking the lock, so wait briefly for a live one. */
function holderPid(pidPath: string): number | null {
  const deadline = Date.now() + 1000;
  for (;;) {
    const pid = readPid(pidPath);
    if (pid !== null && pid !== process.pid && alive(pid)) return pid;
    if (Date.now() >= deadline) return null;
    Bun.sleepSync(25);
  }
}

/** The pid file: the holder's pid, its URL once it listens, the last migration it ships (absent before this was written). */
function readPidFile(path: string): { pid: number; url: string | null; schema: string | null } | null {
  try {
    const [first, second, third] = readFileSync(path, "utf8").split("\n");
    const pid = Number(first?.trim());
    return Number.isInteger(pid) && pid > 0 ? { pid, url: second?.trim() || null, schema: third?.trim() || null } : null;
  } catch {
    return null;
  }
}

function readPid(path: string): number | null {
  return readPidFile(path)?.pid ?? null;
}

/**
 * The server holding this data dir, when one is running (another process than this one): its pid, its URL once it
 * listens, and the last migration it ships (null: an older build, which did not say); null otherwise.
 */
export function runningServer(dataDir: string): { pid: number; url: string | null; schema: string | null } | null {
  const tag = readPidFile(join(dataDir, "clanker.pid"));
  return tag && tag.pid !== process.pid && holdsLock(tag.pid, dataDir) ? tag : null;
}

/** The URL of the server holding this data dir, when one is running and listening; null otherwise. */
export const runningServerUrl = (dataDir: string): string | null => runningServer(dataDir)?.url ?? null;

/**
 * Whether `pid` is the server holding the data dir's lock. A SIGKILL leaves the pid file, and its pid may since be
 * another process's (pid 1 in a container): on Linux the holder has clanker.lock open. Where /proc cannot tell (another
 * OS, another user's process), alive is all we know.
 */
function holdsLock(pid: number, dataDir: string): boolean {
  if (!alive(pid)) return false;
  try {
    const lock = realpathSync(join(dataDir, "clanker.lock"));
    const fds = `/proc/${pid}/fd`;
    return readdirSync(fds).some((fd) => {
      try {
        return readlinkSync(`${fds}/${fd}`) === lock;
      } catch {
        return false;
      }
    });
  } catch {
    return true;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to another user.
    return (e as { code?: string }).code === "EPERM";
  }
}
