// MCP over HTTP: Streamable HTTP at /mcp (stateful sessions, each bound to the principal that opened it) and
// the legacy SSE transport at /mcp/sse + /mcp/messages, whose Node-style response is adapted to a web stream.
// A session remembers only who may use it: every request hands its own ctx (workspace, role) to the tools.
// The MCP SDK, zod and the tools are loaded on the first MCP request, not at start (cold start is measured).
import type { ServerResponse } from "node:http";
import type { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { ToolContext } from "./server";
import type { Ctx } from "../lib/context";
import type { Log } from "../lib/log";
import { scopesOf } from "../lib/scopes";
import type { Services } from "../services";
import type { Principal } from "../http/auth";
import { ApiError, ConflictError, OverloadedError, PermissionError } from "../lib/errors";
import { endExecutionWaits } from "./tools/wait";
import { Unanswered } from "./unanswered";

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
    JSONRPCMessageSchema: types.JSONRPCMessageSchema,
    authInfoOf: server.authInfoOf,
    createMcpServer: server.createMcpServer,
    requestCtx: server.requestCtx,
    SessionEventStore: events.SessionEventStore,
  }));
}
const sdk = () => (loaded ??= loadSdk());
const KEEP_ALIVE = new TextEncoder().encode(": keep-alive\n\n");
const OPENED = new TextEncoder().encode(": open\n\n");

interface Session {
  principal: string;
  /** The workspace it was opened in: its memory subscription follows that workspace's bus. */
  workspaceId: number;
  /** The request that opened it: its credential is asked again every RECHECK_MS (see recheckAll). */
  opener: Request;
  server: McpServer;
  lastSeen: number;
  /** When it opened; until its client's next request (`settled`) or STARTING_MS, it is starting: not ended for another. */
  openedAt: number;
  settled?: boolean;
  streamable?: WebStandardStreamableHTTPServerTransport;
  sse?: SSEServerTransport;
  unanswered: Unanswered;
}

const IDLE_MS = 30 * 60 * 1000;

/** Which of two sessions ends first to make room: one answering no call, then the least recently used. */
const leastUseful = (a: Session, b: Session): number => Number(a.unanswered.ids().length > 0) - Number(b.unanswered.ids().length > 0) || a.lastSeen - b.lastSeen;
const MADE_ROOM = new ConflictError("This MCP session was closed to make room for newer ones (a caller holds at most 16; close sessions you no longer use): initialize a new session; a run it started goes on (get-execution-status)", "SESSION_ENDED");
const workspaceChanged = () => new PermissionError("This credential now acts in another workspace: initialize a new session there", "WORKSPACE_CHANGED");
/**
 * A session holds a whole McpServer (every tool, a prompt per skill, its event replay), ~0.4 MB, for up to
 * IDLE_MS: without a bound one key opening sessions at its rate limit held gigabytes. Past a bound the least recently
 * used session ends; its client meets 404 and, as the MCP spec has clients do, initializes again.
 */
const MAX_SESSIONS_PER_PRINCIPAL = 16;
/**
 * A session its client has not used since its initialize (the answer, then `notifications/initialized`, are on their
 * way) is starting: ended for a newer one, its client's handshake failed. Past this, a client that never came back.
 */
const STARTING_MS = 10_000;
const MAX_SESSIONS = 500;
/** A session id this process does not hold: what the client can do about it (MCP clients initialize again on 404). */
const SESSION_NOT_FOUND =
  "Session not found: it ended (idle for 30 minutes, the server restarted, or too many sessions), or it lives on another replica (route MCP requests by mcp-session-id to one replica). Initialize a new session.";
/** As often as /api/events asks: a revoked key's open stream ends within this. */
const RECHECK_MS = 5_000;

/** Who a request's credential is now; throws (or rejects) when it no longer authenticates. */
export type Reauthenticate = (request: Request) => Principal | Promise<Principal>;

const principalOf = (ctx: Pick<Ctx, "actor" | "workspaceId">): string =>
  ctx.actor.kind === "apiKey" || ctx.actor.kind === "agent" ? `key:${ctx.actor.apiKeyId}` : `user:${ctx.actor.userId}:${ctx.workspaceId}`;

/** The request's ctx, as the tools read it (see requestCtx). */
const authOf = async (ctx: Ctx) => (await sdk()).authInfoOf(ctx, principalOf(ctx), scopesOf(ctx));

function jsonRpcError(status: number, code: number, message: string): Response {
  return Response.json({ jsonrpc: "2.0", error: { code, message }, id: null }, { status });
}

export class McpSessions {
  private sessions = new Map<string, Session>();
  /** Initializes under way, by principal: counted against its bound before their sessions exist. */
  private opening = new Map<string, number>();
  private rechecking: ReturnType<typeof setInterval> | null = null;

  constructor(
    private services: Services,
    private reauthenticate: Reauthenticate,
    private once: ToolContext["once"],
    private log: Log,
  ) {}

  /** Sessions open now (the metrics' gauge). */
  get size(): number {
    return this.sessions.size;
  }

  private starting(x: Session, now = Date.now()): boolean {
    return !x.settled && now - x.openedAt < STARTING_MS;
  }

  /**
   * Whether `principal` may open one more session: under its bound (initializes under way counted), or with a session
   * to end for it that is not starting. Otherwise a burst of initializes would end each other's sessions mid-handshake.
   */
  private roomFor(principal: string): boolean {
    let held = this.opening.get(principal) ?? 0;
    let endable = 0;
    for (const x of this.sessions.values())
      if (x.principal === principal) {
        held++;
        if (!this.starting(x)) endable++;
      }
    return held < MAX_SESSIONS_PER_PRINCIPAL || endable > held - MAX_SESSIONS_PER_PRINCIPAL;
  }

  /** Runs an initialize counted against the principal's bound; a 429 when it has none to spare (roomFor). */
  private async opened(principal: string, fn: () => Promise<Response>): Promise<Response> {
    if (!this.roomFor(principal)) {
      // When the oldest of them stops counting as starting (its retry may still find an initialize under way first).
      const now = Date.now();
      let oldest = now;
      for (const x of this.sessions.values()) if (x.principal === principal && this.starting(x, now)) oldest = Math.min(oldest, x.openedAt);
      const wait = Math.max(1, Math.ceil((oldest + STARTING_MS - now) / 1000));
      const res = jsonRpcError(429, -32000, `Too many MCP sessions: this key (or person) holds ${MAX_SESSIONS_PER_PRINCIPAL}, all still starting. Close one (DELETE /mcp), or retry in ${wait} s`);
      res.headers.set("retry-after", String(wait));
      return res;
    }
    this.opening.set(principal, (this.opening.get(principal) ?? 0) + 1);
    try {
      return await fn();
    } finally {
      const n = this.opening.get(principal)! - 1;
      if (n) this.opening.set(principal, n);
      else this.opening.delete(principal);
    }
  }

  private open(id: string, s: Session): void {
    this.sessions.set(id, s);
    // Never the one opening, and one starting only when no other may end instead: in a burst, sessions whose
    // initialize answers were still on their way met 404 at the client's next request (8 of 24). Starting ones end
    // only past roomFor's count (a legacy SSE session, which is not counted before it opens).
    const now = Date.now();
    const others = [...this.sessions].filter(([, x]) => x !== s && x.principal === s.principal);
    others.sort(([, a], [, b]) => Number(this.starting(a, now)) - Number(this.starting(b, now)) || leastUseful(a, b));
    for (const [gone] of others.slice(0, Math.max(0, others.length - (MAX_SESSIONS_PER_PRINCIPAL - 1)))) this.end(gone, MADE_ROOM);
    // Past the server's bound, the workspace holding the most sessions gives one up: a member opening sessions with
    // many keys ends their own workspace's, not another tenant's.
    while (this.sessions.size > MAX_SESSIONS) this.endOneOfBusiest(s);
    if (this.rechecking) return;
    this.rechecking = setInterval(() => this.recheck(), RECHECK_MS);
    this.rechecking.unref?.();
  }

  /** Ends the least recently used session (not `opening`) of the workspace that holds the most. */
  private endOneOfBusiest(opening: Session): void {
    const counts = new Map<number, number>();
    for (const x of this.sessions.values()) if (x !== opening) counts.set(x.workspaceId, (counts.get(x.workspaceId) ?? 0) + 1);
    const [busiest, n] = [...counts].reduce((a, b) => (b[1] > a[1] ? b : a));
    this.endBeyond(n - 1, (x) => x !== opening && x.workspaceId === busiest);
  }

  /** Ends the least recently used of the sessions `which` picks, until `cap` are left. */
  private endBeyond(cap: number, which: (s: Session) => boolean): void {
    const picked = [...this.sessions].filter(([, x]) => which(x));
    if (picked.length <= cap) return;
    picked.sort((a, b) => leastUseful(a[1], b[1]));
    for (const [id] of picked.slice(0, picked.length - cap)) this.end(id, MADE_ROOM);
  }

  /**
   * Ends a session: with `e`, each call it was still answering gets it (typed) as its answer first. Closed without
   * one, a call's stream ended with nothing but a keep-alive, and its agent waited out its own timeout for an answer.
   */
  private end(id: string, e?: ApiError): void {
    const s = this.sessions.get(id);
    if (!s) return;
    // Gone at once: a second recheck before the answers are written finds nothing to refuse (or answer twice).
    this.sessions.delete(id);
    const transport = (s.streamable ?? s.sse)!;
    const error = e?.toBody().error;
    // JSON-RPC's implementation-defined server error, carrying the REST error's type and code as tool errors do.
    const answers = error ? s.unanswered.ids().map((callId) => transport.send({ jsonrpc: "2.0", id: callId, error: { code: -32000, message: error.message, data: error } }).catch(() => {})) : [];
    void Promise.all(answers).finally(() => void s.server.close());
  }

  /**
   * Every session's credential, asked again (every RECHECK_MS, and at once when the authenticator says access may
   * have ended): a session whose key was revoked, whose sign-in ended, or whose key now acts in another workspace is
   * closed, and with it its open streams (which would otherwise go on carrying that workspace's notifications, kept
   * alive by keep-alives). Calls it was still answering get the refusal as their answer; its next request meets the
   * auth check.
   */
  recheck(): void {
    if (!this.sessions.size) {
      if (this.rechecking) clearInterval(this.rechecking);
      this.rechecking = null;
      return;
    }
    for (const [id, s] of this.sessions) {
      const still = (p: Principal) => {
        if (principalOf(p) !== s.principal || p.workspaceId !== s.workspaceId) this.end(id, workspaceChanged());
      };
      // A refusal ends it; the store failing to answer does not (asked again at the next round), as on /api/events.
      const refused = (e: unknown) => {
        if (e instanceof ApiError) this.end(id, e);
      };
      try {
        const p = this.reauthenticate(s.opener);
        if (p instanceof Promise) p.then(still, refused);
        else still(p);
      } catch (e) {
        refused(e);
      }
    }
  }

  private find(id: string | null, ctx: Ctx): Session | null {
    const s = id ? this.sessions.get(id) : undefined;
    // Another principal's session id is as good as unknown; so is one of a key now acting in another workspace (a
    // rebind): the session ends at once, not at the next recheck, and its client initializes one there.
    if (!s || s.principal !== principalOf(ctx)) return null;
    if (s.workspaceId !== ctx.workspaceId) {
      this.end(id!, workspaceChanged());
      return null;
    }
    s.lastSeen = Date.now();
    s.settled = true;
    return s;
  }

  /** Streamable HTTP: POST (messages), GET (server stream), DELETE (end session). */
  async streamable(ctx: Ctx, request: Request, body: unknown, baseUrl: string): Promise<Response> {
    const { isInitializeRequest } = await sdk();
    const id = request.headers.get("mcp-session-id");
    if (id) {
      const s = this.find(id, ctx);
      if (!s?.streamable) return jsonRpcError(404, -32001, SESSION_NOT_FOUND);
      const res = await s.streamable.handleRequest(request, { parsedBody: body, authInfo: await authOf(ctx) });
      return request.method === "GET" ? openedAtOnce(res) : res;
    }
    if (request.method !== "POST" || !isInitializeRequest(body)) return jsonRpcError(400, -32000, "Bad Request: send initialize first, or an mcp-session-id header");
    return this.opened(principalOf(ctx), () => this.initialize(ctx, request, body, baseUrl));
  }

  /** Streamable HTTP's initialize: a new session with its own McpServer. */
  private async initialize(ctx: Ctx, request: Request, body: unknown, baseUrl: string): Promise<Response> {
    const { createMcpServer, requestCtx, WebStandardStreamableHTTPServerTransport, SessionEventStore } = await sdk();
    const server = createMcpServer({ services: this.services, ctxOf: requestCtx, once: this.once, log: this.log, baseUrl: () => baseUrl, transport: "http", workspaceId: ctx.workspaceId });
    let opened = false;
    const unanswered = new Unanswered();
    const transport: WebStandardStreamableHTTPServerTransport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      onsessioninitialized: (sid: string) => {
        opened = true;
        this.open(sid, { principal: principalOf(ctx), workspaceId: ctx.workspaceId, opener: request, server, streamable: transport, unanswered, lastSeen: Date.now(), openedAt: Date.now() });
      },
      onsessionclosed: (sid) => void this.sessions.delete(sid),
      keepAliveMs: 5_000,
      eventStore: new SessionEventStore(),
    });
    unanswered.watch(transport);
    await server.connect(transport);
    try {
      return await transport.handleRequest(request, { parsedBody: body, authInfo: await authOf(ctx) });
    } finally {
      // An initialize the transport refused (a wrong Accept or content type) opened no session, so nothing would
      // ever close this server, and its subscriptions to the workspace's changes would hold it for good.
      if (!opened) void server.close();
    }
  }

  /** Legacy SSE: the event stream; its first event names the message endpoint with the session id. */
  async sseStream(ctx: Ctx, request: Request, baseUrl: string): Promise<Response> {
    const { createMcpServer, requestCtx, SSEServerTransport } = await sdk();
    const server = createMcpServer({ services: this.services, ctxOf: requestCtx, once: this.once, log: this.log, baseUrl: () => baseUrl, transport: "http", workspaceId: ctx.workspaceId });
    let transport!: SSEServerTransport;
    const stream = new ReadableStream<Uint8Array>({
      start: async (controller) => {
        transport = new SSEServerTransport("/mcp/messages", nodeResponse(controller));
        const unanswered = new Unanswered();
        unanswered.watch(transport);
        // A legacy SSE session is used at once (its stream is open): not starting.
        this.open(transport.sessionId, { principal: principalOf(ctx), workspaceId: ctx.workspaceId, opener: request, server, sse: transport, unanswered, lastSeen: Date.now(), openedAt: Date.now(), settled: true });
        await server.connect(transport);
        // Comments every 5 s keep the idle timeout away; once the session is closed (swept, or its credential gone)
        // the stream is too, and the beat stops.
        heartbeat = setInterval(() => {
          try {
            controller.enqueue(KEEP_ALIVE);
          } catch {
            onClose();
          }
        }, 5_000);
      },
      cancel: () => onClose(),
    });
    let heartbeat: ReturnType<typeof setInterval> | undefined;
    let closed = false;
    const onClose = () => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      this.end(transport.sessionId);
    };
    return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
  }

  async sseMessage(ctx: Ctx, sessionId: string | null, body: unknown): Promise<Response> {
    const s = this.find(sessionId, ctx);
    if (!s?.sse) return jsonRpcError(404, -32001, SESSION_NOT_FOUND);
    // As Streamable HTTP answers the same body; the SSE transport would throw it as a 500.
    if (!(await sdk()).JSONRPCMessageSchema.safeParse(body).success) return jsonRpcError(400, -32700, "Parse error: Invalid JSON-RPC message");
    await s.sse.handleMessage(body, { authInfo: await authOf(ctx) });
    return new Response("Accepted", { status: 202 });
  }

  /** Closes sessions idle for 30 minutes (run by the scheduler). */
  sweep(now = Date.now()): void {
    for (const [id, s] of this.sessions) if (now - s.lastSeen >= IDLE_MS) this.end(id);
  }

  /** At shutdown, once runs still going are back in the queue: their waits answer (queued, with the id), then every session ends. */
  async closeAll(until: number): Promise<void> {
    await endExecutionWaits();
    // Every answer due (those waits', and any other call still being answered, till `until`) is written into its
    // session's stream before the stream closes.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, until - Date.now()))));
    await Promise.race([Promise.all([...this.sessions.values()].map((s) => s.unanswered.none())), late]);
    clearTimeout(timer);
    for (const id of [...this.sessions.keys()]) this.end(id, new OverloadedError("The server is stopping: call again once it is back (a run this call started goes on there)", "SERVER_STOPPING"));
    if (this.rechecking) clearInterval(this.rechecking);
    this.rechecking = null;
  }
}

/**
 * The SDK's standalone GET stream writes nothing until its first keep-alive (5 s), and Bun sends a streamed
 * response's headers with its first bytes: a client waited 5 s to learn the stream was open. A comment first.
 */
function openedAtOnce(res: Response): Response {
  if (!res.body || !res.headers.get("content-type")?.startsWith("text/event-stream")) return res;
  const reader = res.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    start: (c) => c.enqueue(OPENED),
    async pull(c) {
      const { value, done } = await reader.read();
      if (done) c.close();
      else c.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return new Response(body, { status: res.status, headers: res.headers });
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
