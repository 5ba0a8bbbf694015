// Backups a restore can use (a folder: db copy, master key, artifact files, imported skills, manifest) and the
// restore itself. A folder rather than one archive: the db copy opens with any SQLite tool, artifacts stay plain
// files, and the secret master key is a file of its own that can be kept apart from the rest.
import { Database } from "bun:sqlite";
import { hmacSha256, randomBytes } from "../lib/crypto";
import { closeSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { privateDir, tightenTree } from "../lib/private-files";
import { ARTIFACTS_DIR, DB_FILE, IMPORTED_SKILLS_DIR, MASTER_KEY_FILE, RESTORING_FILE } from "./data-dir";
import type { Store } from "./db";
import { masterKeyCheck as masterKeyStateOf, missingKeyMessage, wrongKeyMessage } from "./master-key";
import { MIGRATIONS } from "./migrations";
import { NewerDatabaseError, refuseNewerSchema } from "./newer-schema";
import { decodeMasterKey } from "../lib/master-key-text";
import { partialPath } from "./backup-partials";

export const MANIFEST_FILE = "clanker-backup.json";
/** Named so that nobody mistakes it for something harmless to share. */
export const BACKUP_KEY_FILE = "SECRET-master.key";
/** Folders copied as they are, under the same names, in the data dir and in a backup. */
const TREES = [ARTIFACTS_DIR, IMPORTED_SKILLS_DIR];

export type MasterKeySource = "file" | "env" | "none";

export interface Manifest {
  format: "clanker-backup";
  version: 1;
  createdAt: string;
  /** Where the key that seals secrets and BYOK keys is: in this backup, in CLANKER_MASTER_KEY, or never made. */
  masterKey: MasterKeySource;
  /** HMAC of a constant under the key: tells a restore whether the key it is given is the right one. */
  masterKeyCheck: string | null;
  files: number;
  /**
   * Every copied file (artifacts, imported skills) by its path in the backup: its size and SHA-256, checked by a
   * restore, so a file lost or cut short since is refused rather than served as a 404 or as the wrong bytes.
   * Absent in backups made before it; their restore checks the count.
   */
  contents?: Record<string, FileEntry>;
  /**
   * clanker.db's size and SHA-256, checked by a restore before its quick_check: a database changed since (rows edited
   * with any SQLite tool) passes that check. Absent in backups made before it; their restore says it was not checked.
   */
  database?: FileEntry;
}

interface FileEntry {
  bytes: number;
  sha256: string;
}

/** A write refused for want of space: the file system's (ENOSPC) or SQLite's (SQLITE_FULL). */
export const diskFull = (e: unknown): boolean => {
  const code = (e as { code?: unknown })?.code;
  return code === "ENOSPC" || (typeof code === "string" && code.startsWith("SQLITE_FULL"));
};

/** A refusal a person can act on: the CLI prints the message alone and exits 2. */
export class BackupError extends Error {}

/** What a backup reads: the server's own store (scheduled backups), or the CLI's read-only connection (./backup-source). */
export type BackupSource = Pick<Store, "dialect" | "db"> & { vacuumInto(file: string): Promise<void> };

type Env = Record<string, string | undefined>;

const keyCheck = (key: Buffer) => hmacSha256(key).update("clanker-backup-key-check").digest("hex").slice(0, 32);

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Links followed (an artifacts folder linked to another disk is backed up as its files, not as the link). */
function copyTree(from: string, to: string): number {
  if (!existsSync(from)) return 0;
  cpSync(from, to, { recursive: true, dereference: true });
  return tightenTree(to);
}

/** Every path under `root`/`tree` that is not a folder, by its path from `root`, and whether it is a regular file. */
function entriesOf(root: string, tree: string): { rel: string; file: boolean }[] {
  const out: { rel: string; file: boolean }[] = [];
  const walk = (rel: string) => {
    const st = lstatSync(join(root, rel), { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory() && !st.isSymbolicLink()) for (const name of readdirSync(join(root, rel)).sort()) walk(join(rel, name));
    else out.push({ rel, file: st.isFile() });
  };
  walk(tree);
  return out;
}

/** Read a MiB at a time: a database (hashed too) may be larger than the memory to spare. */
function sha256Of(path: string): string {
  const hasher = new Bun.CryptoHasher("sha256");
  const chunk = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(path, "r");
  try {
    for (let n; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0; ) hasher.update(chunk.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return hasher.digest("hex");
}

/** The regular files under `root`/`tree`, by their path from `root`, with their sizes and hashes. */
function describeTree(root: string, tree: string, out: NonNullable<Manifest["contents"]>): void {
  for (const { rel, file } of entriesOf(root, tree)) if (file) out[rel] = { bytes: lstatSync(join(root, rel)).size, sha256: sha256Of(join(root, rel)) };
}

/** A manifest's entry as writeBackup writes one: a path inside a copied tree, its size and SHA-256. */
const ENTRY_PATH = new RegExp(`^(?:${TREES.join("|")})/(?!(?:.*/)?\\.\\.?(?:/|$))[^\\0]+$`);
const isEntry = (want: unknown): want is FileEntry => {
  const w = want as { bytes?: unknown; sha256?: unknown } | null;
  return Number.isSafeInteger(w?.bytes) && (w!.bytes as number) >= 0 && typeof w?.sha256 === "string" && /^[0-9a-f]{64}$/.test(w.sha256);
};
const listed = (rel: string, want: unknown): boolean => ENTRY_PATH.test(rel) && isEntry(want);

const damaged = (what: string) => new BackupError(`${what}: this backup is not whole and cannot be restored as it was made; restore another backup (the newest one whose files are all there)`);

/** Refuses a file that is not the one the manifest lists: missing, another size, or other bytes. */
function checkFile(path: string, want: FileEntry): void {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st?.isFile()) throw damaged(`${path} is missing`);
  if (st.size !== want.bytes) throw damaged(`${path} has ${st.size} bytes, not the ${want.bytes} it was backed up with`);
  if (sha256Of(path) !== want.sha256) throw damaged(`${path} is not the file it was backed up as (its SHA-256 differs)`);
}

/**
 * Refuses a backup whose files are not all there as it was made (a restore must serve the same data), or that holds
 * what it did not list (a link, say, that a restore would follow out of the backup).
 */
function checkContents(source: string, m: Manifest): void {
  const present = TREES.flatMap((tree) => entriesOf(source, tree));
  const link = present.find((e) => !e.file);
  if (link) throw damaged(`${join(source, link.rel)} is not a file (a link?), and a backup holds files only`);
  if (m.contents === undefined) {
    if (present.length < m.files) throw damaged(`${m.files - present.length} of its ${m.files} files are missing`);
    return;
  }
  const contents = m.contents as unknown;
  if (contents === null || typeof contents !== "object" || Array.isArray(contents)) throw damaged(`its ${MANIFEST_FILE} lists no files as clanker backup writes them`);
  for (const [rel, want] of Object.entries(contents)) if (!listed(rel, want)) throw damaged(`its ${MANIFEST_FILE} lists ${JSON.stringify(rel.slice(0, 200))} otherwise than clanker backup writes an entry`);
  const unlisted = present.find((e) => !(e.rel in (contents as object)));
  if (unlisted) throw damaged(`${join(source, unlisted.rel)} is not among the files its ${MANIFEST_FILE} lists`);
  for (const [rel, want] of Object.entries(m.contents)) checkFile(join(source, rel), want);
}

function readme(m: Manifest): string {
  const key =
    m.masterKey === "file"
      ? `${BACKUP_KEY_FILE} is SECRET: it decrypts every secret and BYOK key in ${DB_FILE}. Keep this backup as private as\nthose keys (or store that one file apart, e.g. in a password manager, and put it back before a restore).`
      : m.masterKey === "env"
        ? `The master key is NOT in this backup: the server took it from CLANKER_MASTER_KEY.\nRestore (and serve) with the same CLANKER_MASTER_KEY, or stored secrets and BYOK keys cannot be decrypted.`
        : `No master key had been made yet, so nothing in ${DB_FILE} is sealed with one.`;
  return `Clanker backup, ${m.createdAt}.\n\n${key}\n\nRestore into a new, empty data dir:\n  clanker restore ${"<this folder>"} --data <DIR>\n  clanker serve --data <DIR>\n`;
}

/**
 * Writes a backup folder at `target` (which must not exist) from a live data dir: a consistent db copy first
 * (VACUUM INTO), then the files its rows point at (an artifact is written before its row commits, so every row in
 * the copy finds its file). Built beside the target and renamed into place, so a half-written backup never looks
 * like a finished one.
 */
export async function writeBackup(store: Store | BackupSource, dataDir: string, target: string, env: Env = process.env): Promise<Manifest> {
  // PostgreSQL has its own tool for a consistent copy; this folder format is the embedded SQLite file's.
  if (store.dialect === "postgres") throw new BackupError("the database is PostgreSQL (DATABASE_URL): back it up with pg_dump; clanker backup copies the embedded SQLite store");
  if (exists(target)) throw new BackupError(`${target} already exists; back up to a new path`);
  // The parent is the user's (their home, /tmp, a mount): created 0700 if missing, never chmod-ed.
  mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
  // The key the backup names (and carries, when it is the data dir's file) must open the secrets in the database: a
  // backup made with another key would restore into a server that refuses to start, and the secrets be lost with
  // the original data dir.
  let masterKey: MasterKeySource = "none";
  let key: Buffer | null = null;
  let keyText: string | null = null;
  const keyFile = join(dataDir, MASTER_KEY_FILE);
  if (env.CLANKER_MASTER_KEY) {
    masterKey = "env";
    key = decodeMasterKey(env.CLANKER_MASTER_KEY, "CLANKER_MASTER_KEY");
  } else if (existsSync(keyFile)) {
    masterKey = "file";
    keyText = readFileSync(keyFile, "utf8");
    key = decodeMasterKey(keyText, keyFile);
  }
  // No key here, but the database holds secrets sealed with one (a server run with CLANKER_MASTER_KEY, the backup
  // taken from a shell without it): a backup saying "nothing is sealed" would restore into a server that cannot start.
  if (!key && (await masterKeyStateOf(store, randomBytes(32))) !== "new") throw new BackupError(`nothing written: ${missingKeyMessage(dataDir)}`);
  if (key && (await masterKeyStateOf(store, key)) === "wrong")
    throw new BackupError(`nothing written: ${wrongKeyMessage(masterKey === "env" ? "CLANKER_MASTER_KEY" : keyFile)}${masterKey === "env" && existsSync(keyFile) ? ` (or unset it: the data dir's ${MASTER_KEY_FILE} is used then)` : ""}`);
  const masterKeyCheck = key ? keyCheck(key) : null;
  const partial = partialPath(target);
  try {
    privateDir(partial);
  } catch (e) {
    // Named as the folder the person asked for: the partial one beside it is ours.
    throw Object.assign(e as Error, { path: target });
  }
  try {
    // SQLite past the dialect check above: the SqliteStore, or the CLI's read-only connection.
    await (store as BackupSource).vacuumInto(join(partial, DB_FILE));
    const database = { bytes: statSync(join(partial, DB_FILE)).size, sha256: sha256Of(join(partial, DB_FILE)) };
    if (keyText !== null) writeFileSync(join(partial, BACKUP_KEY_FILE), keyText, { mode: 0o600, flag: "wx" });
    const contents: NonNullable<Manifest["contents"]> = {};
    for (const tree of TREES) {
      copyTree(join(dataDir, tree), join(partial, tree));
      describeTree(partial, tree, contents);
    }
    const manifest: Manifest = { format: "clanker-backup", version: 1, createdAt: new Date().toISOString(), masterKey, masterKeyCheck, files: Object.keys(contents).length, contents, database };
    writeFileSync(join(partial, "README.txt"), readme(manifest), { mode: 0o600 });
    writeFileSync(join(partial, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + "\n", { mode: 0o600 });
    if (exists(target)) throw new BackupError(`${target} already exists; back up to a new path`);
    renameSync(partial, target);
    return manifest;
  } catch (e) {
    rmSync(partial, { recursive: true, force: true });
    throw e;
  }
}

export function readManifest(source: string): Manifest {
  const file = join(source, MANIFEST_FILE);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Read, not looked for: existsSync is false for a folder this user may not enter (a backup made by root, 0700),
    // which then read as "no backup here".
    if (code === "EACCES" || code === "EPERM")
      throw new BackupError(`cannot read ${file}: permission denied: run the restore as the backup's owner, or chown the backup folder to this user`);
    if (!existsSync(source)) throw new BackupError(`${source} does not exist: give the folder \`clanker backup\` wrote`);
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") throw new BackupError(`${source} is not a clanker backup (no ${MANIFEST_FILE})`);
    throw e;
  }
  let m: Manifest;
  try {
    m = JSON.parse(text);
  } catch {
    throw new BackupError(`${file} is not valid JSON`);
  }
  if (m?.format === "clanker-backup" && typeof m.version === "number" && m.version > 1)
    throw new BackupError(`this backup comes from a newer clanker (backup format ${m.version}; this one reads format 1): restore it with that version`);
  if (m?.format !== "clanker-backup" || m.version !== 1) throw new BackupError(`${file} is not a version 1 clanker backup`);
  return m;
}

/** Checks that the key a restored server will use is the one the backup's secrets were sealed with. */
function checkKey(source: string, m: Manifest, env: Env): void {
  const fromEnv = env.CLANKER_MASTER_KEY;
  let envCheck: string | null = null;
  if (fromEnv) {
    try {
      envCheck = keyCheck(decodeMasterKey(fromEnv, "CLANKER_MASTER_KEY"));
    } catch (e) {
      throw new BackupError((e as Error).message);
    }
  }
  if (m.masterKey === "env") {
    if (!fromEnv) throw new BackupError(`this backup's master key is not in it: set the CLANKER_MASTER_KEY it was made with`);
    if (envCheck !== m.masterKeyCheck) throw new BackupError(`CLANKER_MASTER_KEY is not the key this backup's secrets were sealed with`);
  }
  if (m.masterKey === "file") {
    if (!existsSync(join(source, BACKUP_KEY_FILE))) throw new BackupError(`${join(source, BACKUP_KEY_FILE)} is missing: put the backup's master key back first`);
    const raw = readFileSync(join(source, BACKUP_KEY_FILE), "utf8");
    if (keyCheck(decodeMasterKey(raw, BACKUP_KEY_FILE)) !== m.masterKeyCheck) throw new BackupError(`${BACKUP_KEY_FILE} is not the key this backup was made with`);
    if (fromEnv && envCheck !== m.masterKeyCheck)
      throw new BackupError(`CLANKER_MASTER_KEY is set to another key than this backup's ${BACKUP_KEY_FILE}; unset it to use the restored key`);
  }
}

/**
 * Restores a backup folder into `dataDir`, which must be new or empty (a server's data dir never is). The db is
 * copied last under a temporary name and renamed, so a data dir without clanker.db was never restored.
 */
/**
 * The restored database's runs are held by no process: their holders (the backed-up server, a `clanker mcp`) ran on
 * the old data dir. Left named, the restored server took them for another live process's while a process of that
 * pid lived (the old server, still running on this host; pid 1 in a container of the same hostname) and never ran
 * or ended them; released, its start settles them as after any stop.
 */
function releaseClaims(file: string): void {
  const db = new Database(file);
  try {
    for (const table of ["executions", "workflow_runs"]) db.run(`UPDATE ${table} SET lease_owner = NULL, lease_expires_at = NULL WHERE lease_owner IS NOT NULL`);
  } finally {
    db.close();
  }
}

/**
 * A file given as the backup: before backups were folders, `clanker backup PATH` wrote the database alone (no key, no
 * artifact files), which restore refused only as "no manifest.json". Says how to use it.
 */
function refuseFile(source: string, dataDir: string): void {
  if (!existsSync(source) || !statSync(source).isFile()) return;
  const head = Buffer.alloc(16);
  const fd = openSync(source, "r");
  try {
    readSync(fd, head, 0, 16, 0);
  } finally {
    closeSync(fd);
  }
  if (head.toString("latin1") !== "SQLite format 3\0") throw new BackupError(`${source} is a file, not a clanker backup: give the folder \`clanker backup\` wrote`);
  throw new BackupError(
    `${source} is a database alone, as \`clanker backup\` wrote before backups were folders, which restore does not read: copy it into a new data dir as ${DB_FILE} (mkdir -p ${dataDir} && cp ${source} ${join(dataDir, DB_FILE)}), with the ${MASTER_KEY_FILE} of the data dir it came from beside it (or the CLANKER_MASTER_KEY it ran with), then run clanker serve --data ${dataDir}`,
  );
}

export function restoreBackup(source: string, dataDir: string, env: Env = process.env): Manifest {
  refuseFile(source, dataDir);
  const m = readManifest(source);
  checkKey(source, m, env);
  checkContents(source, m);
  const db = join(source, DB_FILE);
  if (!existsSync(db)) throw new BackupError(`${db} is missing`);
  if (m.database !== undefined) {
    if (!isEntry(m.database)) throw damaged(`its ${MANIFEST_FILE} lists ${DB_FILE} otherwise than clanker backup writes an entry`);
    checkFile(db, m.database);
  }
  const copy = new Database(db, { readonly: true });
  try {
    const check = copy.query<{ quick_check: string }, []>("PRAGMA quick_check").get()?.quick_check;
    if (check !== "ok") throw new BackupError(`${db} is damaged (${check})`);
    // A newer version's backup: this one would restore it, then refuse to serve it.
    refuseNewerSchema(copy.query<{ tag: string }, []>("SELECT tag FROM _migrations").all().map((r) => r.tag), MIGRATIONS);
  } catch (e) {
    if (e instanceof NewerDatabaseError) throw new BackupError(`this backup comes from a newer clanker: ${e.message.replace(/^the database was migrated/, "its database was migrated")}`);
    throw e instanceof BackupError ? e : new BackupError(`${db} is not a readable SQLite database (${(e as Error).message})`);
  } finally {
    copy.close();
  }
  if (exists(dataDir)) {
    // Followed if a symlink: a data dir often lives on another disk, linked from where the service expects it.
    const target = statSync(dataDir, { throwIfNoEntry: false });
    if (!target?.isDirectory()) throw new BackupError(`${dataDir} is not a directory${target ? "" : " (a link to nothing)"}`);
    const entries = readdirSync(dataDir);
    // A restore stopped part-way is started over; anything else there is someone's data.
    if (entries.includes(RESTORING_FILE)) for (const name of entries) rmSync(join(dataDir, name), { recursive: true, force: true });
    else if (entries.length > 0) throw new BackupError(`${dataDir} is not empty (is a server running on it?); restore into a new or empty directory`);
    // Into the folder itself: the tightening below walks no symlink.
    dataDir = realpathSync(dataDir);
  }
  privateDir(dataDir);
  // Until the database is in place: a restore killed before then leaves a folder no command will serve as it is.
  writeFileSync(join(dataDir, RESTORING_FILE), "");
  try {
    if (m.masterKey === "file") copyFileSync(join(source, BACKUP_KEY_FILE), join(dataDir, MASTER_KEY_FILE));
    for (const tree of TREES) copyTree(join(source, tree), join(dataDir, tree));
    const tmp = join(dataDir, `${DB_FILE}.restoring`);
    copyFileSync(db, tmp);
    releaseClaims(tmp);
    tightenTree(dataDir);
    renameSync(tmp, join(dataDir, DB_FILE));
    rmSync(join(dataDir, RESTORING_FILE));
  } catch (e) {
    for (const name of readdirSync(dataDir)) rmSync(join(dataDir, name), { recursive: true, force: true });
    throw e;
  }
  return m;
}
