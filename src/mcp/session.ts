// What one MCP session holds beyond tools: its log level and log notifications, its resource subscriptions
// (clanker://memory, fed by the event bus the SSE uses), resources/list_changed notifications, and completions that
// know the caller's workspace.
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import {
  CompleteRequestSchema,
  ErrorCode,
  LoggingLevelSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type LoggingLevel,
} from "@modelcontextprotocol/sdk/types.js";
import { rpcError } from "./result";
import { MEMORY_EVENT } from "../modules/memory/service";
import type { CallExtra, ToolContext } from "./server";
import { MEMORY_URI, TEMPLATES, visible } from "./resources";
import { completePromptArgument } from "./prompts";
import { parsePage } from "../lib/page-params";

const SEVERITY = new Map(LoggingLevelSchema.options.map((l, i) => [l, i]));
const MAX_COMPLETIONS = 100;
/** Changes of the resource list this close together make one notification (a busy workspace ends runs by the dozen). */
const LIST_CHANGED_MS = 250;

type NotifyExtra = CallExtra & { sendNotification?: (n: { method: "notifications/message"; params: { level: LoggingLevel; logger: string; data: unknown } }) => Promise<void> };
export type SessionLog = (level: LoggingLevel, data: unknown, extra?: NotifyExtra) => void;

/**
 * Per-session logging: logging/setLevel sets this session's threshold (info until a client sets one). With the
 * request's `extra`, a message rides on that request's stream (so a Streamable HTTP client hears it without a
 * standalone GET stream); without, it is a plain server notification.
 */
export function sessionLogging(server: McpServer): SessionLog {
  let threshold: LoggingLevel = "info";
  server.server.setRequestHandler(SetLevelRequestSchema, async (req) => {
    threshold = req.params.level;
    return {};
  });
  return (level, data, extra) => {
    if (SEVERITY.get(level)! < SEVERITY.get(threshold)!) return;
    const params = { level, logger: "clanker", data };
    const sent = extra?.sendNotification ? extra.sendNotification({ method: "notifications/message", params }) : server.server.sendLoggingMessage(params);
    void sent?.catch(() => {});
  };
}

/**
 * What a request is aborted with when its client withdrew it (notifications/cancelled), whatever reason the client
 * gave: the SDK aborts with that reason, or with none, and with none too when the connection closes, so a call could
 * not otherwise tell a withdrawal from a hang-up.
 */
class ClientCancellation {
  constructor(readonly reason: unknown) {}
}

/** Whether the call was withdrawn by its client (not merely cut off by a closed connection). */
export const cancelledByClient = (signal: AbortSignal): boolean => signal.aborted && signal.reason instanceof ClientCancellation;

type CancelNotification = { params: { requestId?: unknown; reason?: unknown } };

/** Subscriptions, completions and withdrawn calls told apart; call after every tool, resource and prompt is registered. */
export function installSessionFeatures(server: McpServer, tc: ToolContext, log: SessionLog): void {
  const { services, ctxOf } = tc;
  // The SDK's own handler of notifications/cancelled calls this method (test/mcp.test.ts notices should it stop).
  const protocol = server.server as unknown as { _oncancel(n: CancelNotification): Promise<void> };
  const oncancel = protocol._oncancel.bind(server.server);
  protocol._oncancel = (n) => oncancel({ ...n, params: { ...n.params, reason: new ClientCancellation(n.params.reason) } });
  const subscriptions = new Map<string, () => void>();

  server.server.setRequestHandler(SubscribeRequestSchema, async (req, extra) => {
    const { uri } = req.params;
    if (uri !== MEMORY_URI) throw rpcError(ErrorCode.InvalidParams, `Only ${MEMORY_URI} sends updates; other resources do not change once made`);
    // The caller's ctx first: nothing awaits between the check and the set below.
    const ctx = await ctxOf(extra);
    if (!subscriptions.has(uri)) {
      subscriptions.set(
        uri,
        services.bus.subscribe(ctx.workspaceId, (e) => {
          if (e.type !== MEMORY_EVENT) return;
          void server.server.sendResourceUpdated({ uri }).catch(() => {});
          log("debug", `${uri} changed (version ${(e.data as { version: number }).version})`);
        }),
      );
    }
    log("info", `subscribed to ${uri}`, extra);
    return {};
  });
  server.server.setRequestHandler(UnsubscribeRequestSchema, async (req, extra) => {
    subscriptions.get(req.params.uri)?.();
    subscriptions.delete(req.params.uri);
    log("info", `unsubscribed from ${req.params.uri}`, extra);
    return {};
  });
  const closed = server.server.onclose;
  server.server.onclose = () => {
    closed?.();
    for (const off of subscriptions.values()) off();
    subscriptions.clear();
  };

  // Our own handler rather than the SDK's: it sees the request (so artifact and workflow ids are the caller's
  // workspace's), and a prompt it does not know completes to nothing rather than failing.
  server.server.setRequestHandler(CompleteRequestSchema, async (req, extra) => {
    const { ref, argument } = req.params;
    const prefix = (list: string[]) => list.filter((v) => v.startsWith(argument.value));
    let values: string[] = [];
    if (ref.type === "ref/prompt") values = completePromptArgument(services, ref.name, argument.name, argument.value);
    else if (ref.uri === TEMPLATES.skill) values = prefix(services.marketplace.all().map((s) => s.slug));
    else if (ref.uri === TEMPLATES.workflow) values = prefix(await visible(async () => (await services.workflows.definitions(await ctxOf(extra))).data.map((d) => d.id)));
    else if (ref.uri === TEMPLATES.artifact) values = prefix(await visible(async () => (await services.artifacts.list(await ctxOf(extra), parsePage({ limit: 100 }, "artifact"))).rows.map((a) => a.id)));
    return { completion: { values: values.slice(0, MAX_COMPLETIONS), total: values.length, hasMore: values.length > MAX_COMPLETIONS } };
  });
}

/**
 * notifications/resources/list_changed, for the workspace the session acts in: the opener's from the start, then
 * whichever its calls act in (a key rebound elsewhere takes the session along). Returns the ctxOf that follows it.
 */
export function announceListChanges(server: McpServer, tc: ToolContext): ToolContext["ctxOf"] {
  let workspace: number | undefined;
  let off = () => {};
  let timer: ReturnType<typeof setTimeout> | undefined;
  const changed = () => {
    timer ??= setTimeout(() => {
      timer = undefined;
      if (server.isConnected()) void server.server.sendResourceListChanged().catch(() => {});
    }, LIST_CHANGED_MS);
  };
  const follow = (workspaceId: number) => {
    if (workspaceId === workspace) return;
    off();
    workspace = workspaceId;
    off = tc.services.listChanges.subscribe(workspaceId, changed);
  };
  if (tc.workspaceId !== undefined) follow(tc.workspaceId);
  const closed = server.server.onclose;
  server.server.onclose = () => {
    closed?.();
    off();
    clearTimeout(timer);
  };
  return async (extra) => {
    const ctx = await tc.ctxOf(extra);
    follow(ctx.workspaceId);
    return ctx;
  };
}
