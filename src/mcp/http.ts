// MCP over HTTP: Streamable HTTP at /mcp (stateful sessions, each bound to the principal that opened it) and
// the legacy SSE transport at /mcp/sse + /mcp/messages, whose Node-style response is adapted to a web stream.
// A session remembers only who may use it: every request hands its own ctx (workspace, role) to the tools.
// The MCP SDK, zod and the tools are loaded on the first MCP request, not at start (cold start is measured).
import type { ServerResponse } from "node:http";
import type { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Ctx } from "../lib/context";
import { scopesOf } from "../lib/scopes";
import type { Services } from "../services";

let loaded: ReturnType<typeof loadSdk> | undefined;
/** What the sessions use of the SDK and of ./server, imported once, when the first MCP request arrives. */
function loadSdk() {
  return Promise.all([
    import("@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js"),
    import("@modelcontextprotocol/sdk/server/sse.js"),
    import("@modelcontextprotocol/sdk/types.js"),
    import("./server"),
    import("./event-store"),
  ]).then(([streamable, sse, types, server, events]) => ({
    WebStandardStreamableHTTPServerTransport: streamable.WebStandardStreamableHTTPServerTransport,
    SSEServerTransport: sse.SSEServerTransport,
    isInitializeRequest: types.isInitializeRequest,
    authInfoOf: server.authInfoOf,
    createMcpServer: server.createMcpServer,
    requestCtx: server.requestCtx,
    SessionEventStore: events.SessionEventStore,
  }));
}
const sdk = () => (loaded ??= loadSdk());

interface Session {
  principal: string;
  server: McpServer;
  lastSeen: number;
  streamable?: WebStandardStreamableHTTPServerTransport;
  sse?: SSEServerTransport;
}

const IDLE_MS = 30 * 60 * 1000;

const principalOf = (ctx: Ctx): string =>
  ctx.actor.kind === "apiKey" || ctx.actor.kind === "agent" ? `key:${ctx.actor.apiKeyId}` : `user:${ctx.actor.userId}:${ctx.workspaceId}`;

/** The request's ctx, as the tools read it (see requestCtx). */
const authOf = async (ctx: Ctx) => (await sdk()).authInfoOf(ctx, principalOf(ctx), scopesOf(ctx));

function jsonRpcError(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: "2.0", error: { code, message }, id: null }, { status });
}

export class McpSessions {
  private sessions = new Map<string, Session>();

  constructor(private services: Services) {}

  private find(id: string | null, ctx: Ctx): Session | null {
    const s = id ? this.sessions.get(id) : undefined;
    // Another principal's session id is as good as unknown.
    if (!s || s.principal !== principalOf(ctx)) return null;
    s.lastSeen = Date.now();
    return s;
  }

  /** Streamable HTTP: POST (messages), GET (server stream), DELETE (end session). */
  async streamable(ctx: Ctx, request: Request, body: unknown, baseUrl: string): Promise<Response> {
    const { isInitializeRequest, createMcpServer, requestCtx, WebStandardStreamableHTTPServerTransport, SessionEventStore } = await sdk();
    const id = request.headers.get("mcp-session-id");
    if (id) {
      const s = this.find(id, ctx);
      if (!s?.streamable) return jsonRpcError(404, -32001, "Session not found");
      return s.streamable.handleRequest(request, { parsedBody: body, authInfo: await authOf(ctx) });
    }
    if (request.method !== "POST" || !isInitializeRequest(body)) return jsonRpcError(400, -32000, "Bad Request: send initialize first, or an mcp-session-id header");
    const server = createMcpServer({ services: this.services, ctxOf: requestCtx, baseUrl, transport: "http" });
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      onsessioninitialized: (sid) => void this.sessions.set(sid, { principal: principalOf(ctx), server, streamable: transport, lastSeen: Date.now() }),
      onsessionclosed: (sid) => void this.sessions.delete(sid),
      keepAliveMs: 5_000,
      eventStore: new SessionEventStore(),
    });
    await server.connect(transport);
    return transport.handleRequest(request, { parsedBody: body, authInfo: await authOf(ctx) });
  }

  /** Legacy SSE: the event stream; its first event names the message endpoint with the session id. */
  async sseStream(ctx: Ctx, baseUrl: string): Promise<Response> {
    const { createMcpServer, requestCtx, SSEServerTransport } = await sdk();
    const server = createMcpServer({ services: this.services, ctxOf: requestCtx, baseUrl, transport: "http" });
    let transport!: SSEServerTransport;
    const stream = new ReadableStream<Uint8Array>({
      start: async (controller) => {
        transport = new SSEServerTransport("/mcp/messages", nodeResponse(controller));
        this.sessions.set(transport.sessionId, { principal: principalOf(ctx), server, sse: transport, lastSeen: Date.now() });
        await server.connect(transport);
        // Comments every 5 s keep the idle timeout away.
        heartbeat = setInterval(() => controller.enqueue(new TextEncoder().encode(": keep-alive\n\n")), 5_000);
      },
      cancel: () => onClose(),
    });
    let heartbeat: ReturnType<typeof setInterval> | undefined;
    let closed = false;
    const onClose = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      this.sessions.delete(transport.sessionId);
      void server.close();
    };
    return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
  }

  async sseMessage(ctx: Ctx, sessionId: string | null, body: unknown): Promise<Response> {
    const s = this.find(sessionId, ctx);
    if (!s?.sse) return jsonRpcError(404, -32001, "Session not found");
    await s.sse.handleMessage(body, { authInfo: await authOf(ctx) });
    return new Response("Accepted", { status: 202 });
  }

  /** Closes sessions idle for 30 minutes (run by the scheduler). */
  sweep(now = Date.now()): void {
    for (const [id, s] of this.sessions) {
      if (now - s.lastSeen < IDLE_MS) continue;
      this.sessions.delete(id);
      void s.server.close();
    }
  }

  closeAll(): void {
    for (const s of this.sessions.values()) void s.server.close();
    this.sessions.clear();
  }
}

/** Just enough of Node's ServerResponse for SSEServerTransport, writing into a web stream. */
function nodeResponse(controller: ReadableStreamDefaultController<Uint8Array>): ServerResponse {
  const enc = new TextEncoder();
  let ended = false;
  const res = {
    writeHead: () => res,
    flushHeaders: () => {},
    write: (chunk: string) => {
      if (!ended) controller.enqueue(enc.encode(chunk));
      return !ended;
    },
    end: () => {
      if (!ended) {
        ended = true;
        try {
          controller.close();
        } catch {}
      }
      return res;
    },
    // The transport listens for 'close'; our own cancel() closes the session instead.
    on: () => res,
  };
  return res as unknown as ServerResponse;
}
