// The files a server writes besides its rows (artifact bytes, imported skills, the mail outbox), by data-dir-relative
// path: plain owner-only files in the data dir on SQLite, rows of the `files` table on PostgreSQL, so every replica
// reads what any of them wrote.
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { eq, like, or } from "drizzle-orm";
import type { Store } from "./db";
import { files } from "./schema";

export interface FileStore {
  /** true: the bytes live in the database (every replica sees them); false: under the data dir. */
  readonly shared: boolean;
  /**
   * Writes (or replaces) the file at path, e.g. `artifacts/3/12-0-index.html`. `executable`: on disk 0700 rather
   * than 0600 (an imported skill's script keeps its owner's x bit); the database keeps no modes.
   */
  put(path: string, bytes: Buffer | string, opts?: PutOptions): Promise<void>;
  /** The file's bytes, or null if there is none. */
  get(path: string): Promise<Buffer | null>;
  /** Removes the file at path, or every file under it when path is a folder (`skills/digest`). No file: no error. */
  delete(path: string): Promise<void>;
  /** Every file whose path starts with prefix (`skills/`), sorted. */
  list(prefix: string): Promise<string[]>;
  /** Where a path lives, for a log line: the file on this machine's disk, or the database's row. */
  where(path: string): string;
}

export interface PutOptions {
  executable?: boolean;
}

/** The data dir's: the same operations, and a synchronous delete (for an after-commit hook, which cannot await). */
export interface DiskFileStore extends FileStore {
  readonly shared: false;
  deleteSync(path: string): void;
}

export interface DatabaseFileStore extends FileStore {
  readonly shared: true;
}

/** A path we store: relative, `/`-separated, no `..`, no empty segment (callers build them; this catches a slip). */
function checked(path: string): string {
  if (!path || path.startsWith("/") || path.split("/").some((s) => s === "" || s === "." || s === "..")) throw new Error(`not a data-dir-relative path: ${path}`);
  return path;
}

// Required by the first write, not imported: Bun compiles node:fs/promises when it is first loaded (~1 ms of serve's
// start, test/bench/cold-start.ts), and nothing before the first 200 writes a file. require() caches it.
const fsPromises = () => require("node:fs/promises") as typeof import("node:fs/promises");

/** On SQLite: today's plain files, 0700 folders and 0600 files under the data dir. */
export function dataDirFiles(dataDir: string): DiskFileStore {
  const full = (p: string) => join(dataDir, checked(p));
  const madeDirs = new Set<string>();
  const walk = (dir: string, out: string[]) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR") return;
      throw e;
    }
    for (const e of entries) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p, out);
      else if (e.isFile()) out.push(relative(dataDir, p).split(sep).join("/"));
    }
  };
  const deleteSync = (path: string) => rmSync(full(path), { recursive: true, force: true });
  return {
    shared: false,
    deleteSync,
    // Off the event loop (Bun's file threads): creating a file can wait on the filesystem (its journal, another
    // thread's fsync). A run's output written synchronously was 16 % of the main thread's samples under the
    // executions bench, where a lone process creates one in ~30 µs; every request waited behind it.
    async put(path, bytes, opts) {
      const file = full(path);
      const dir = dirname(file);
      const { mkdir, writeFile, rm } = fsPromises();
      // A write that fails part-way (a full disk) leaves no file behind: an empty one was left for nothing to refer
      // to (the row never committed), and backups copied it.
      const write = () =>
        writeFile(file, bytes, { mode: opts?.executable ? 0o700 : 0o600 }).catch(async (e: NodeJS.ErrnoException) => {
          if (e.code !== "ENOENT") await rm(file, { force: true }).catch(() => {});
          throw e;
        });
      if (madeDirs.has(dir)) {
        try {
          return await write();
        } catch (e) {
          // The folder went since it was made (delete() of a folder, an operator's cleanup): make it again.
          if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
        }
      }
      await mkdir(dir, { recursive: true, mode: 0o700 });
      madeDirs.add(dir);
      await write();
    },
    async get(path) {
      try {
        return readFileSync(full(path));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "EISDIR" || code === "ENOTDIR") return null;
        throw e;
      }
    },
    async delete(path) {
      deleteSync(path);
    },
    async list(prefix) {
      // Walk only the folder the prefix names (its part up to the last `/`), then filter on the rest.
      const base = prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "";
      const out: string[] = [];
      walk(base ? full(base) : dataDir, out);
      return out.filter((p) => p.startsWith(prefix)).sort();
    },
    where: (path) => full(path),
  };
}

/** `like` with the prefix's own % and _ taken literally (PostgreSQL's default escape is the backslash). */
const startsWith = (prefix: string) => like(files.path, `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);

/** On PostgreSQL: one row per file in `files`, joining the caller's store.tx when there is one. */
function databaseFiles(store: Store): DatabaseFileStore {
  const db = store.db;
  return {
    shared: true,
    async put(path, bytes) {
      const content = typeof bytes === "string" ? Buffer.from(bytes) : bytes;
      const row = { path: checked(path), content, size: content.length, createdAt: Date.now() };
      await db
        .insert(files)
        .values(row)
        .onConflictDoUpdate({ target: files.path, set: { content: row.content, size: row.size, createdAt: row.createdAt } });
    },
    async get(path) {
      const [row] = await db.select({ content: files.content }).from(files).where(eq(files.path, checked(path)));
      return row ? Buffer.from(row.content) : null;
    },
    async delete(path) {
      await db.delete(files).where(or(eq(files.path, checked(path)), startsWith(`${path}/`)));
    },
    async list(prefix) {
      const rows = await db.select({ path: files.path }).from(files).where(startsWith(prefix));
      // Sorted here, by code unit, as the disk listing is (the database's collation may differ).
      return rows.map((r) => r.path).sort();
    },
    where: (path) => `the database (files: ${path})`,
  };
}

/** The files of this store's deployment: the database's under PostgreSQL, else the data dir's. */
export function createFileStore(store: Store, dataDir: string): DiskFileStore | DatabaseFileStore {
  return store.dialect === "postgres" ? databaseFiles(store) : dataDirFiles(dataDir);
}
