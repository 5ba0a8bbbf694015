// Artifacts: files a run produced, kept under the data dir; rows point at them.
import { and, eq } from "drizzle-orm";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Ctx } from "../../lib/context";
import { encodeId } from "../../lib/ids";
import { toIso } from "../../lib/clock";
import type { Store } from "../../store/db";
import { writeAudit } from "../../store/audit";
import { workspaceRow } from "../../store/lookup";
import { workspacePage, type PageParams } from "../../store/paginate";
import { artifacts } from "../../store/schema";

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

/**
 * Files a skill emits: fenced blocks whose info string names a file (```` ```html file=index.html ````
 * or ```` ```file:notes.txt ````). Names are reduced to a safe base name.
 */
export function emittedFiles(output: string): ArtifactFile[] {
  const files: ArtifactFile[] = [];
  const re = /^```[^\n`]*?\bfile[=:]\s*"?([^\s"`]+)"?[^\n]*\n([\s\S]*?)^```[ \t]*$/gm;
  for (const m of output.matchAll(re)) {
    const name = m[1]!.split(/[\\/]/).pop()!.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 100);
    if (!name || name.startsWith(".")) continue;
    files.push({ name, mediaType: mediaTypeOf(name), content: m[2]! });
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

export function createArtifactsService(store: Store, dataDir: string) {
  const db = store.db;
  const root = join(dataDir, "artifacts");
  const madeDirs = new Set<string>();
  const find = (ctx: Ctx, ref: string): Promise<ArtifactRow> => workspaceRow(db, artifacts, "artifact", "artifact", ctx.workspaceId, ref);

  return {
    /** Writes the files first (outside any tx); returns what to insert once the run's tx commits them. */
    writeFiles(workspaceId: number, executionId: number, files: ArtifactFile[]) {
      const dir = join(root, String(workspaceId));
      if (!madeDirs.has(dir)) {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        madeDirs.add(dir);
      }
      return files.map((f, i) => {
        const rel = join(String(workspaceId), `${executionId}-${i}-${f.name}`);
        const full = join(root, rel);
        writeFileSync(full, f.content, { mode: 0o600 });
        return { name: f.name, mediaType: f.mediaType, size: Buffer.byteLength(f.content), path: rel };
      });
    },

    /** Files written for a run that ended otherwise before its rows were inserted. */
    discard(written: { path: string }[]): void {
      for (const w of written) rmSync(join(root, w.path), { force: true });
    },

    /** Inside the run's completion tx. */
    async insert(workspaceId: number, executionId: number, skillSlug: string, written: { name: string; mediaType: string; size: number; path: string }[]): Promise<ArtifactRow[]> {
      if (!written.length) return [];
      const now = Date.now();
      const rows = await db
        .insert(artifacts)
        .values(written.map((w) => ({ workspaceId, executionId, skillSlug, ...w, createdAt: now })))
        .returning();
      // In the order written (the run's own output first): RETURNING promises no order.
      return rows.sort((a, b) => a.id - b.id);
    },

    async list(ctx: Ctx, p: PageParams) {
      const page = await workspacePage(db, artifacts, ctx.workspaceId, p);
      return { rows: page.rows.map(artifactView), hasMore: page.hasMore };
    },

    get: async (ctx: Ctx, ref: string) => artifactView(await find(ctx, ref)),

    /** The file to stream, with its name and type. */
    async file(ctx: Ctx, ref: string) {
      const row = await find(ctx, ref);
      return { path: join(root, row.path), name: row.name, mediaType: row.mediaType, size: row.size };
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
        // The file goes once the row's deletion is on disk (a rolled-back delete keeps a row with its file).
        store.afterCommit(() => rmSync(join(root, row.path), { force: true }));
      });
      return { id: view.id, deleted: true as const };
    },
  };
}

export type ArtifactsService = ReturnType<typeof createArtifactsService>;
