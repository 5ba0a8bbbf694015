// /api/v1/memory: read (with ETag), write (If-Match), atomic append.
import { t } from "elysia";
import type { Platform } from "../../http/platform";
import { idempotent } from "../../http/idempotent-route";
import { writeOnce } from "./service";
import { integer, isoDate } from "../../http/schemas";
import { etagOf, type MemoryDoc } from "./service";

const doc = t.Object({ content: t.String(), version: integer(), updatedAt: t.Nullable(isoDate) });

function withEtag(set: { headers: Record<string, string | number> }, d: MemoryDoc): MemoryDoc {
  set.headers.etag = etagOf(d.version);
  return d;
}

export const memoryRoutes = (app: Platform) =>
  app
    .get("/api/v1/memory", async ({ ctx, deps, set }) => withEtag(set, await deps.services.memory.read(ctx)), {
      auth: true,
      response: doc,
      detail: { tags: ["Memory"], summary: "Read the workspace's working memory" },
    })
    .put(
      "/api/v1/memory",
      async ({ ctx, deps, set, body, request }) =>
        withEtag(set, await deps.services.memory.write(ctx, { content: body.content, ifMatch: request.headers.get("if-match") })),
      {
        auth: true,
        body: t.Object({ content: t.String() }, { additionalProperties: false }),
        response: doc,
        detail: { tags: ["Memory"], summary: "Replace the working memory (send If-Match to detect concurrent writers)" },
      },
    )
    // A retried append must not append twice: it honours idempotency-key like the creations.
    .post(
      "/api/v1/memory/append",
      ({ ctx, deps, body, request, set }) =>
        idempotent({ ctx, deps, body, request, set }, async () => withEtag(set, await deps.services.memory.append(ctx, { content: body.content, ifMatch: request.headers.get("if-match") })), {
          tx: writeOnce(ctx, deps.services.memory.read),
          // A replay answers the document's ETag too: the client's next If-Match needs it.
          replayed: (now) => withEtag(set, now as MemoryDoc),
        }),
      {
        auth: true,
        body: t.Object({ content: t.String({ minLength: 1 }) }, { additionalProperties: false }),
        response: doc,
        detail: { tags: ["Memory"], summary: "Append a note after the '\\n\\n---\\n\\n' separator, atomically (with If-Match, only onto that version)" },
      },
    );
