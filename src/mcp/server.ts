// createMcpServer: the MCP face of the services, one server per session; each call acts as the request that carried it.
// Tools, resources (subscribable memory), skill prompts, completions and per-session logging.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";
import { version } from "../../package.json";
import type { AuthInfo } from "@modelcontextprotocol/sdk/server/auth/types.js";
import type { Ctx } from "../lib/context";
import type { RunOptions } from "../http/idempotency";
import { AuthenticationError, invalidParameter } from "../lib/errors";
import type { Services } from "../services";
import { registerSkillTools } from "./tools/skills";
import { registerWorkspaceTools } from "./tools/workspace";
import { registerWorkflowTools } from "./tools/workflows";
import { registerIntegrationTools } from "./tools/integrations";
import { registerConnectorTools } from "./tools/connectors";
import { registerResources } from "./resources";
import { registerSkillPrompts } from "./prompts";
import { announceListChanges, installSessionFeatures, sessionLogging } from "./session";
import { ErrorCode, ListPromptsRequestSchema, McpError, ListToolsRequestSchema, type Tool } from "@modelcontextprotocol/sdk/types.js";
import { rpcError, UNEXPECTED, unprefixed } from "./result";
import type { Log } from "../lib/log";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import type { jsonSchemaValidator } from "@modelcontextprotocol/sdk/validation";

/** What a tool handler's `extra` carries that we read: the auth of the HTTP request that delivered the call. */
export interface CallExtra {
  authInfo?: AuthInfo;
}

export interface ToolContext {
  services: Services;
  /**
   * Where this server is reached, for the URLs a tool hands out (OAuth callbacks, hook URLs, downloads). Read per
   * call: over stdio it is the HTTP server holding the same data dir, which may start after this process.
   */
  baseUrl: () => string;
  /** stdio: no HTTP server may be running, so results carry no URLs to fetch (artifacts come inline). */
  transport: "http" | "stdio";
  /**
   * The caller's ctx for one call, read when the call arrives — never captured at `initialize` — so a key
   * rebound to another workspace, or a member demoted or removed, acts as it is now within an open session.
   */
  ctxOf: (extra: CallExtra) => Ctx | Promise<Ctx>;
  /** The workspace of the request that opened the session: it hears of resource list changes there from the start. */
  workspaceId?: number;
  /** A creating tool's call under the idempotency key it was given (see Idempotency.once). */
  once: <T>(ctx: Ctx, key: string | undefined, call: string, args: unknown, fn: () => Promise<T>, tx?: RunOptions) => Promise<T>;
  /** The server's log: a tool's failure that is a bug (not a typed error) is written there, as a route's is. */
  log: Log;
}

/** The ctx a transport hands to the tools with each HTTP request (see McpSessions). */
export function authInfoOf(ctx: Ctx, principal: string, scopes: readonly string[]): AuthInfo {
  return { token: "", clientId: principal, scopes: [...scopes], extra: { ctx } };
}

/** For HTTP transports: the ctx of the request that carried this call. */
export function requestCtx(extra: CallExtra): Ctx {
  const ctx = extra.authInfo?.extra?.ctx as Ctx | undefined;
  if (!ctx) throw new AuthenticationError("This call carried no credentials", "MISSING_CREDENTIALS");
  return ctx;
}

/**
 * tools/list and prompts/list answers, made once per process: the SDK turns every zod schema into JSON Schema on
 * each listing, yet the tools and the catalog's prompts are the same for every session. tools/list is the one made
 * at build time (./tool-list.ts), when it names exactly the tools this server registered (`registered`, filled as
 * they are); else the SDK makes it.
 */
const listings = new Map<string, Promise<unknown>>();

function cacheListings(server: McpServer, registered: readonly string[]): void {
  const set = server.server.setRequestHandler.bind(server.server);
  server.server.setRequestHandler = ((schema: typeof ListToolsRequestSchema, handler: (...a: unknown[]) => unknown) => {
    const method = schema === ListToolsRequestSchema ? "tools/list" : schema === (ListPromptsRequestSchema as unknown) ? "prompts/list" : null;
    if (!method) return set(schema, handler as never);
    return set(schema, ((...a: unknown[]) => {
      let answer = listings.get(method);
      if (!answer) {
        answer = Promise.resolve((method === "tools/list" && builtToolList(registered)) || handler(...a));
        listings.set(method, answer);
        answer.catch(() => listings.delete(method));
      }
      return answer;
    }) as never);
  }) as typeof server.server.setRequestHandler;
}

function builtToolList(registered: readonly string[]): { tools: Tool[] } | null {
  const { TOOL_LIST } = require("./built-tool-list") as typeof import("./built-tool-list");
  return TOOL_LIST.length === registered.length && TOOL_LIST.every((t, i) => t.name === registered[i]) ? { tools: TOOL_LIST } : null;
}

/**
 * The SDK checks elicitation answers with Ajv, and by default builds an Ajv instance with every string format for
 * each server it makes: on `clanker mcp`'s start and on every HTTP session. This server never elicits; the
 * instance is made the first time one is checked, once per process.
 */
let ajvValidator: AjvJsonSchemaValidator | undefined;
const lazyValidator: jsonSchemaValidator = { getValidator: (schema) => (ajvValidator ??= new AjvJsonSchemaValidator()).getValidator(schema) };

/** Each tool's input and output schemas, by name, as the first session made them (see registerTools). */
const toolSchemas = new Map<string, { inputSchema: unknown; outputSchema: unknown }>();

/** Every tool. What tools/list answers is made from these alone, at build time (./tool-list.ts). */
export function registerTools(server: McpServer, tc: ToolContext): void {
  const register = server.registerTool.bind(server);
  // An argument the tool does not take is refused, as REST refuses a body field its route does not take: dropped
  // silently, a misspelled precondition (ifMatch for ifMatchVersion) would let a write through unchecked. tools/list
  // says so too (additionalProperties: false). A tool that takes nothing takes no argument either: the SDK calls
  // a tool with an input schema with (args, extra), so its callback, written for (extra), gets extra.
  // The schemas are the same for every session (the code's own): the first session's are kept for every later one,
  // whose own are left to the collector (per session, they were a few hundred KB of every open session).
  server.registerTool = ((name: string, config: { inputSchema?: z.ZodRawShape; outputSchema?: unknown }, cb: (...a: unknown[]) => unknown) => {
    let schemas = toolSchemas.get(name);
    if (!schemas) toolSchemas.set(name, (schemas = { inputSchema: z.strictObject(config.inputSchema ?? {}), outputSchema: config.outputSchema }));
    return register(name, { ...config, ...schemas } as never, (config.inputSchema ? cb : (_args: unknown, extra: unknown) => cb(extra)) as never);
  }) as typeof server.registerTool;
  try {
    registerSkillTools(server, tc);
    registerWorkspaceTools(server, tc);
    registerWorkflowTools(server, tc);
    registerIntegrationTools(server, tc);
    registerConnectorTools(server, tc);
  } finally {
    server.registerTool = register;
  }
}

type Issue = { path: PropertyKey[]; message: string; code?: string; keys?: string[] };
type Checked = { shape?: Record<string, unknown>; safeParseAsync(v: unknown): Promise<{ success: true } | { success: false; error: { issues: Issue[] } }> };
type SdkInternals = {
  validateToolInput(tool: { inputSchema?: Checked }, args: unknown, name: string): Promise<unknown>;
  createToolError(message: string): unknown;
};
const TYPED = '{"error":';

/**
 * The SDK answers arguments that break a tool's schema with text alone ("MCP error -32602: Input validation error …"),
 * where every other refusal carries REST's typed error. The same check, failing as a REST schema refusal does:
 * invalid_request_error, INVALID_PARAMETER, the argument named as param. The SDK hands createToolError only a
 * message, so the typed error travels as its JSON text, which is also what a tool failure's text is (./result.ts).
 */
function typedInputErrors(server: McpServer): void {
  const sdk = server as unknown as SdkInternals;
  const validate = sdk.validateToolInput.bind(server);
  const plain = sdk.createToolError.bind(server);
  sdk.validateToolInput = async (tool, args, name) => {
    try {
      return await validate(tool, args, name);
    } catch (e) {
      const parsed = await tool.inputSchema?.safeParseAsync(args ?? {});
      const issue = parsed && !parsed.success ? parsed.error.issues[0] : undefined;
      if (!issue) throw e;
      if (issue.code === "unrecognized_keys" && issue.keys?.length) {
        const takes = Object.keys(tool.inputSchema?.shape ?? {});
        const param = [...issue.path.map(String), issue.keys[0]].join(".");
        throw new Error(JSON.stringify(invalidParameter(`Invalid argument ${param} for ${name}: not an argument of this tool (it takes ${takes.join(", ") || "none"})`, param).toBody()));
      }
      const param = issue.path.map(String).join(".") || "arguments";
      throw new Error(JSON.stringify(invalidParameter(`Invalid argument ${param} for ${name}: ${issue.message}`, param).toBody()));
    }
  };
  sdk.createToolError = (message) =>
    message.startsWith(TYPED) ? { content: [{ type: "text", text: message }], structuredContent: JSON.parse(message), isError: true } : plain(message);
}

export function createMcpServer(tc: ToolContext): McpServer {
  const server = new McpServer(
    { name: "clanker", version },
    {
      instructions:
        "Clanker: run AI skills, read their artifacts, and share a working memory with other agents. Tools act in the workspace your API key belongs to. Find skills with search-skills and workflows with list-workflows; every skill is also a prompt, its SKILL.md a resource (clanker://skills/{slug}).",
      capabilities: { logging: {}, completions: {}, resources: { subscribe: true, listChanged: true } },
      jsonSchemaValidator: lazyValidator,
    },
  );
  const registered: string[] = [];
  cacheListings(server, registered);
  typedInputErrors(server);
  const log = sessionLogging(server);
  // Every tool call is logged to the session that made it (logging/setLevel chooses how much it hears).
  const register = server.registerTool.bind(server);
  server.registerTool = ((name: string, config: never, cb: (...a: unknown[]) => unknown) => {
    registered.push(name);
    return register(name, config, (async (...a: unknown[]) => {
      const started = performance.now();
      const result = (await cb(...a)) as { isError?: boolean; [UNEXPECTED]?: unknown };
      const extra = a[a.length - 1] as Parameters<typeof log>[2];
      if (UNEXPECTED in result) tc.log.error(`MCP tool ${name} failed: ${(result[UNEXPECTED] as Error)?.stack ?? String(result[UNEXPECTED])}`);
      log(result.isError ? "warning" : "info", `${name}: ${result.isError ? "failed" : "done"} in ${Math.round(performance.now() - started)} ms`, extra);
      return result;
    }) as never);
  }) as typeof server.registerTool;
  const session = { ...tc, ctxOf: announceListChanges(server, tc) };
  registerTools(server, session);
  registerResources(server, session);
  registerSkillPrompts(server, session);
  installSessionFeatures(server, session, log);
  invalidParamsAsSuch(server, registered);
  return server;
}

type Handler = (request: unknown, extra: unknown) => Promise<unknown>;

/**
 * A URI no resource template matches: the MCP spec's "resource not found" (-32002), as a known template's unknown id
 * is, not the SDK's -32602 with "MCP error -32602: " in its message (the client prefixes it again).
 */
function unknownResource(e: unknown): never {
  const m = e instanceof McpError && e.code === ErrorCode.InvalidParams ? /^MCP error -32602: Resource (.*) not found$/s.exec(e.message) : null;
  if (!m) unprefixed(e);
  throw rpcError(-32002, `Resource ${m[1]} not found: this server's resources are clanker:// URIs (resources/templates/list names their shapes)`);
}

/**
 * An unknown prompt, or an argument a prompt does not take, is refused as a tool's is: the SDK dropped the argument
 * (a misspelt one went unsaid).
 */
function refuseUnknownPromptOrArgument(server: McpServer, request: unknown): void {
  const { name, arguments: given } = (request as { params?: { name?: unknown; arguments?: unknown } }).params ?? {};
  const prompts = (server as unknown as { _registeredPrompts: Record<string, { argsSchema?: { shape?: Record<string, unknown> } }> })._registeredPrompts;
  const prompt = typeof name === "string" ? prompts[name] : undefined;
  // Said as an unknown tool is: the SDK's "Prompt x not found" gave no way on.
  if (typeof name === "string" && !prompt) throw rpcError(ErrorCode.InvalidParams, `Unknown prompt: ${name} (prompts/list names the ${Object.keys(prompts).length} prompts of this server)`);
  if (!prompt || given === null || typeof given !== "object") return;
  const takes = Object.keys(prompt.argsSchema?.shape ?? {});
  const extra = Object.keys(given).find((k) => !takes.includes(k));
  if (extra !== undefined) throw rpcError(ErrorCode.InvalidParams, `Invalid argument ${extra} for prompt ${name as string}: not an argument of it (it takes ${takes.join(", ") || "none"})`);
}

/**
 * A request whose params break the method's schema (tools/call with arguments that are no object, logging/setLevel
 * with an unknown level) is JSON-RPC's -32602 Invalid params, naming the field. The SDK parses them in each handler
 * and let the schema library's error through as -32603 Internal error, its whole issue list as the message.
 */
function invalidParamsAsSuch(server: McpServer, tools: readonly string[]): void {
  const handlers = (server.server as unknown as { _requestHandlers: Map<string, Handler> })._requestHandlers;
  for (const [method, handle] of handlers)
    handlers.set(method, (request, extra) => {
      // An unknown tool is a protocol error in the MCP spec (-32602), not a tool's failure: the SDK answered a result
      // with isError and the untyped text "MCP error -32602: Tool x not found".
      const tool = method === "tools/call" ? (request as { params?: { name?: unknown } }).params?.name : undefined;
      if (typeof tool === "string" && !tools.includes(tool)) throw rpcError(ErrorCode.InvalidParams, `Unknown tool: ${tool} (tools/list names the ${tools.length} tools of this server)`);
      if (method === "prompts/get") refuseUnknownPromptOrArgument(server, request);
      try {
        // The SDK parses synchronously, before calling the handler, and every handler here is async (its failures reject):
        // a throw here is the request's. (Only the handlers registered by now are wrapped: call this last.)
        const answer = handle(request, extra);
        return method === "resources/read" ? answer.catch(unknownResource) : answer.catch(unprefixed);
      } catch (e) {
        const issue = (e as { issues?: { path: PropertyKey[]; message: string }[] }).issues?.[0];
        if (!issue) throw e;
        const field = issue.path.map(String).join(".") || "params";
        throw rpcError(ErrorCode.InvalidParams, `Invalid params for ${method}: ${field}: ${issue.message}`);
      }
    });
}
