// /mcp (Streamable HTTP), /mcp/sse + /mcp/messages (legacy SSE): authenticated like every API route.
import { t } from "elysia";
import type { Platform } from "../http/platform";
import { baseUrl } from "../http/origin";

const detail = { tags: ["MCP"], summary: "MCP Streamable HTTP" };

export const mcpRoutes = (app: Platform) =>
  app
    .post("/mcp", ({ ctx, deps, request, body }) => deps.mcp.streamable(ctx, request, body, baseUrl(deps.config, request)), { auth: true, detail })
    .get("/mcp", ({ ctx, deps, request }) => deps.mcp.streamable(ctx, request, undefined, baseUrl(deps.config, request)), { auth: true, detail })
    .delete("/mcp", ({ ctx, deps, request }) => deps.mcp.streamable(ctx, request, undefined, baseUrl(deps.config, request)), { auth: true, detail })
    // HEAD (run as this GET): the headers alone, not a session whose stream Elysia would read for its length.
    .get("/mcp/sse", ({ ctx, deps, request }) => (request.method === "HEAD" ? new Response(null, { headers: { "content-type": "text/event-stream", "cache-control": "no-store" } }) : deps.mcp.sseStream(ctx, request, baseUrl(deps.config, request))), {
      auth: true,
      detail: { tags: ["MCP"], summary: "MCP legacy SSE transport" },
    })
    .post("/mcp/messages", ({ ctx, deps, query, body }) => deps.mcp.sseMessage(ctx, query.sessionId ?? null, body), {
      auth: true,
      query: t.Object({ sessionId: t.Optional(t.String({ maxLength: 100 })) }),
      detail: { tags: ["MCP"], summary: "MCP legacy SSE message endpoint" },
    });
