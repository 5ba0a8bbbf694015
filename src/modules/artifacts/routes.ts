// /api/v1/artifacts: list, get, download (from the FileStore: the data dir, or the database under PostgreSQL), delete.
import { t } from "elysia";
import type { Platform } from "../../http/platform";
import { listEnvelope, listSchema, pageQuery, parsePage } from "../../http/pagination";
import { idParam, integer, isoDate, noBody } from "../../http/schemas";
import { asciiName } from "./service";
import { fileAnswer } from "../../http/file-answer";

const artifact = t.Object({
  id: t.String(),
  name: t.String(),
  mediaType: t.String(),
  size: integer(),
  executionId: t.Nullable(t.String()),
  skillSlug: t.Nullable(t.String()),
  downloadUrl: t.String(),
  createdAt: isoDate,
});

export const artifactsRoutes = (app: Platform) =>
  app
    .get(
      "/api/v1/artifacts",
      async ({ ctx, deps, query }) => listEnvelope(await deps.services.artifacts.list(ctx, parsePage(query, "artifact"))),
      { auth: true, query: t.Object(pageQuery), response: listSchema(artifact), detail: { tags: ["Artifacts"], summary: "List artifacts" } },
    )
    .get("/api/v1/artifacts/:id", ({ ctx, deps, params }) => deps.services.artifacts.get(ctx, params.id), {
      auth: true,
      params: idParam,
      response: artifact,
      detail: { tags: ["Artifacts"], summary: "Get an artifact" },
    })
    .get(
      "/api/v1/artifacts/:id/download",
      async ({ ctx, deps, params, query, request, set }) => {
        const f = await deps.services.artifacts.file(ctx, params.id);
        set.headers["content-type"] = f.mediaType.startsWith("text/") ? `${f.mediaType}; charset=utf-8` : f.mediaType;
        // Run-produced bytes are what their media type says, never sniffed into something a browser would run.
        set.headers["x-content-type-options"] = "nosniff";
        // RFC 6266: a plain ASCII filename for old clients, and the name itself in filename* (a header is Latin-1).
        const name = `filename="${asciiName(f.name)}"; filename*=UTF-8''${encodeURIComponent(f.name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`;
        if (query.inline === "1") {
          // The web app's preview frame: shown in place, but run-produced content, so the answer itself is a
          // sandbox (opaque origin, no scripts, no forms) that only this origin may frame, whoever opens it.
          set.headers["content-disposition"] = `inline; ${name}`;
          set.headers["content-security-policy"] = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'";
          set.headers["x-frame-options"] = "SAMEORIGIN";
        } else set.headers["content-disposition"] = `attachment; ${name}`;
        return fileAnswer(request, f.bytes, f.etag, {});
      },
      {
        auth: true,
        params: idParam,
        query: t.Object({ inline: t.Optional(t.Literal("1", { description: "1: shown in place (sandboxed), not as an attachment" })) }),
        detail: {
          tags: ["Artifacts"],
          summary: "Download an artifact's file",
          description: "Carries an ETag (If-None-Match: 304) and answers one byte range (Range: bytes=…, If-Range: 206, or 416 past the end); several ranges get the whole file.",
        },
      },
    )
    .delete("/api/v1/artifacts/:id", ({ ctx, deps, params }) => deps.services.artifacts.remove(ctx, params.id), {
      body: noBody,
      auth: true,
      params: idParam,
      response: t.Object({ id: t.String(), deleted: t.Boolean() }),
      detail: { tags: ["Artifacts"], summary: "Delete an artifact and its file" },
    });
