// Artifacts: files a run produced, kept in the FileStore (the data dir, or the database under PostgreSQL); rows point at them.
import { and, eq, sql } from "drizzle-orm";
import { join } from "node:path";
import type { Ctx } from "../../lib/context";
import { ApiError, NotFoundError } from "../../lib/errors";
import { encodeId } from "../../lib/ids";
import { toIso } from "../../lib/clock";
import type { Store } from "../../store/db";
import { writeAudit } from "../../store/audit";
import { workspaceRow } from "../../store/lookup";
import { prepared } from "../../store/prepared";
import { workspacePage, type PageParams } from "../../store/paginate";
import { artifacts } from "../../store/schema";
import { createFileStore } from "../../store/files";
import { ARTIFACTS_DIR } from "../../store/data-dir";
import type { ListChanges } from "../events/list-changes";

type ArtifactRow = typeof artifacts.$inferSelect;

export interface ArtifactFile {
  name: string;
  mediaType: string;
  content: string;
}

const MEDIA_TYPES: Record<string, string> = {
  md: "text/markdown",
  markdown: "text/markdown",
  txt: "text/plain",
  json: "application/json",
  csv: "text/csv",
  html: "text/html",
  htm: "text/html",
  css: "text/css",
  js: "text/javascript",
  mjs: "text/javascript",
  ts: "text/typescript",
  tsx: "text/typescript",
  py: "text/x-python",
  sh: "text/x-shellscript",
  sql: "application/sql",
  svg: "image/svg+xml",
  xml: "application/xml",
  yaml: "application/yaml",
  yml: "application/yaml",
};

export const mediaTypeOf = (name: string): string => MEDIA_TYPES[name.split(".").pop()?.toLowerCase() ?? ""] ?? "text/plain";

const NAME_MAX = 100;

/**
 * A file name a run gave, as an artifact's name: its base name with letters and digits of any script kept
 * (résumé.md, 日本語.txt) and other characters `_`; past 100 characters the stem is cut, never the extension (its
 * type comes from it). Null when nothing but dots is left.
 */
export function artifactName(raw: string): string | null {
  const base = raw.split(/[\\/]/).pop()!.normalize("NFC").replace(/[^\p{L}\p{M}\p{N}._-]/gu, "_");
  return /^\.*$/.test(base) ? null : capped(base);
}

/** At most NAME_MAX characters, the stem cut and the extension kept. */
function capped(name: string): string {
  const chars = [...name];
  if (chars.length <= NAME_MAX) return name;
  const dot = chars.lastIndexOf(".");
  const ext = dot > 0 && chars.length - dot <= 16 ? chars.slice(dot) : [];
  return [...chars.slice(0, NAME_MAX - ext.length), ...ext].join("");
}

/**
 * The name in ASCII, for a file on disk and a header's plain `filename` (résumé.md → resume.md), capped again: one
 * letter can decompose into many (U+FDFA into 18), and a file name of more than 255 bytes cannot be written.
 */
export const asciiName = (name: string): string => capped(name.normalize("NFKD").replace(/\p{M}/gu, "").replace(/[^A-Za-z0-9._-]/g, "_"));

/**
 * The most files one run's output may name. Past it the rest stay in the output only: a run that named 2,000 made
 * 2,000 artifacts, and every listing of runs carries each run's artifact ids.
 */
export const MAX_RUN_FILES = 100;

/**
 * Files a skill emits: fenced blocks whose info string names a file (```` ```html file=index.html ````
 * or ```` ```file:notes.txt ````), named by artifactName; the first MAX_RUN_FILES of them.
 */
export function emittedFiles(output: string): ArtifactFile[] {
  const files: ArtifactFile[] = [];
  const re = /^```[^\n`]*?\bfile[=:]\s*"?([^\s"`]+)"?[^\n]*\n([\s\S]*?)^```[ \t]*$/gm;
  for (const m of output.matchAll(re)) {
    const name = artifactName(m[1]!);
    if (name) files.push({ name, mediaType: mediaTypeOf(name), content: m[2]! });
    if (files.length === MAX_RUN_FILES) break;
  }
  return files;
}

export function artifactView(a: ArtifactRow) {
  const id = encodeId("artifact", a.id);
  return {
    id,
    name: a.name,
    mediaType: a.mediaType,
    size: a.size,
    executionId: a.executionId === null ? null : encodeId("execution", a.executionId),
    skillSlug: a.skillSlug,
    downloadUrl: `/api/v1/artifacts/${id}/download`,
    createdAt: toIso(a.createdAt)!,
  };
}

/** What writeFiles hands the run's tx: the row's fields, and (PostgreSQL) the bytes insert() stores with it. */
export interface WrittenFile {
  name: string;
  mediaType: string;
  size: number;
  path: string;
  content?: string;
}

// Every completed run stores its output here.
const ph = sql.placeholder;
const insertArtifact = prepared((db) =>
  db
    .insert(artifacts)
    .values({
      workspaceId: ph("workspaceId"),
      executionId: ph("executionId"),
      skillSlug: ph("skillSlug"),
      name: ph("name"),
      mediaType: ph("mediaType"),
      size: ph("size"),
      path: ph("path"),
      createdAt: ph("now"),
    })
    .returning(),
);

/** A run's file `i` (0: its output, then the files its output named), under the artifacts folder. */
const runFilePath = (workspaceId: number, executionId: number, i: number, name: string) => `${workspaceId}/${executionId}-${i}-${asciiName(name)}`;

/** Whether a run's artifact is its output (file 0), not a file its output named. */
export const isRunOutput = (a: Pick<ArtifactRow, "workspaceId" | "executionId" | "path">): boolean =>
  a.executionId !== null &&
  // Or as versions before 2026-12 laid a run's files out: a folder per run (`1/27/0-summarize-output.md`).
  (a.path.startsWith(runFilePath(a.workspaceId, a.executionId, 0, "")) || a.path.startsWith(`${a.workspaceId}/${a.executionId}/0-`));

/** `lists`: told of artifacts made and deleted (MCP sessions announce resources/list_changed). */
export function createArtifactsService(store: Store, dataDir: string, lists?: ListChanges) {
  const db = store.db;
  const files = createFileStore(store, dataDir);
  const root = join(dataDir, ARTIFACTS_DIR);
  /** A row's path is relative to the artifacts folder; the FileStore's to the data dir. */
  const fileOf = (rel: string) => `${ARTIFACTS_DIR}/${rel}`;
  const find = (ctx: Ctx, ref: string): Promise<ArtifactRow> => workspaceRow(db, artifacts, "artifact", "artifact", ctx.workspaceId, ref);

  return {
    /**
     * On disk (SQLite) the files are written first, outside any tx, so no committed row lacks its file. In the
     * database they are rows themselves: insert() stores them in the run's own tx, all or nothing.
     */
    writeFiles(workspaceId: number, executionId: number, list: ArtifactFile[]): Promise<WrittenFile[]> {
      return Promise.all(
        list.map(async (f, i) => {
          // In ASCII on disk: a name of 100 characters in another script is more bytes than a file name may have.
          const rel = runFilePath(workspaceId, executionId, i, f.name);
          const w: WrittenFile = { name: f.name, mediaType: f.mediaType, size: Buffer.byteLength(f.content), path: rel };
          if (files.shared) w.content = f.content;
          else await files.put(fileOf(rel), f.content);
          return w;
        }),
      );
    },

    /** Files written for a run that ended otherwise before its rows were inserted. */
    discard(written: WrittenFile[]): void {
      if (files.shared) return; // never stored: insert() did not run
      for (const w of written) files.deleteSync(fileOf(w.path));
    },

    /** Inside the run's completion tx. */
    async insert(workspaceId: number, executionId: number, skillSlug: string, written: WrittenFile[]): Promise<ArtifactRow[]> {
      if (!written.length) return [];
      const now = Date.now();
      for (const w of written) if (w.content !== undefined) await files.put(fileOf(w.path), w.content);
      // One prepared insert per file (a run writes one or two), in the order written: the run's own output first.
      const rows: ArtifactRow[] = [];
      for (const w of written) rows.push(...(await insertArtifact(store, { workspaceId, executionId, skillSlug, name: w.name, mediaType: w.mediaType, size: w.size, path: w.path, now })));
      return rows;
    },

    async list(ctx: Ctx, p: PageParams) {
      const page = await workspacePage(db, artifacts, ctx.workspaceId, p);
      return { rows: page.rows.map(artifactView), hasMore: page.hasMore };
    },

    get: async (ctx: Ctx, ref: string) => artifactView(await find(ctx, ref)),

    /** The file's bytes with its name and type (404 when the row outlived its file); `path`: where it is on disk (SQLite). */
    async file(ctx: Ctx, ref: string) {
      const row = await find(ctx, ref);
      const bytes = await files.get(fileOf(row.path));
      // The row outlived its file (deleted by hand, a restore without it): said so, with what brings it back.
      if (!bytes)
        throw new ApiError("not_found_error", `The artifact ${encodeId("artifact", row.id)} is listed but its file is missing from the server's data (${row.path}): the server's operator can restore it from a backup, or delete the artifact`, { code: "ARTIFACT_FILE_MISSING" });
      // The tag is the content's: an artifact's file never changes, but one restored from another backup may differ.
      const etag = `"${Bun.hash(bytes).toString(36)}"`;
      return { bytes, path: join(root, row.path), name: row.name, mediaType: row.mediaType, size: bytes.length, etag };
    },

    forExecution(workspaceId: number, executionId: number): Promise<ArtifactRow[]> {
      return db
        .select()
        .from(artifacts)
        .where(and(eq(artifacts.workspaceId, workspaceId), eq(artifacts.executionId, executionId)))
        .orderBy(artifacts.id);
    },

    async remove(ctx: Ctx, ref: string) {
      const row = await find(ctx, ref);
      const view = artifactView(row);
      await store.tx(async () => {
        await db.delete(artifacts).where(eq(artifacts.id, row.id));
        await writeAudit(store, ctx, { action: "artifact.delete", resourceType: "artifact", resourceId: view.id, metadata: { name: row.name, size: row.size } });
        lists?.changed(ctx.workspaceId);
        // In the database the file is a row of this tx. On disk it goes once the row's deletion is committed (a
        // rolled-back delete keeps a row with its file).
        if (files.shared) await files.delete(fileOf(row.path));
        else store.afterCommit(() => files.deleteSync(fileOf(row.path)));
      });
      return { id: view.id, deleted: true as const };
    },
  };
}

export type ArtifactsService = ReturnType<typeof createArtifactsService>;
