// Owner-only files and folders: the data dir holds memory, run inputs and outputs, emails, IPs and keys.
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** The umask the CLI runs under: whatever the shell's umask, nothing it creates is readable by group or others. */
export const PRIVATE_UMASK = 0o077;

/** Paths we could not chmod (owned by another user, e.g. a volume made by root): the caller may warn. */
export const notTightened: string[] = [];

/** Clears group/other bits; the owner's bits (an imported skill's executable script) stay as they are. */
function tighten(path: string, mode: number): void {
  if (!(mode & 0o077)) return;
  try {
    chmodSync(path, mode & 0o700);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EPERM") throw e;
    notTightened.push(path);
  }
}

/** mkdir -p with 0700, and tightens the folder itself if it already existed with looser bits. */
export function privateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: 0o700 });
  // The folder a link names (chmod follows it too): a link's own mode is always 0777.
  tighten(path, statSync(path).mode & 0o777);
}

/** Creates an empty 0600 file if none exists (so SQLite's -wal/-shm, which copy the db file's mode, are 0600 too). */
export function privateFile(path: string): void {
  if (!existsSync(path)) return closeSync(openSync(path, "a", 0o600));
  const st = lstatSync(path);
  // A link's own mode reads 0777: chmod would change the file it names, which is not ours to change.
  if (!st.isSymbolicLink()) tighten(path, st.mode & 0o777);
}

/** Clears group/other bits on a file or a whole tree (symlinks are neither followed nor changed); returns the files seen. */
export function tightenTree(path: string): number {
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw e;
  }
  if (st.isSymbolicLink()) return 0;
  tighten(path, st.mode & 0o777);
  if (!st.isDirectory()) return 1;
  let files = 0;
  for (const name of readdirSync(path)) files += tightenTree(join(path, name));
  return files;
}
