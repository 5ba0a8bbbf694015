// Tool results: structured content (and its JSON as text for clients that only read text); a domain failure
// is a tool result with isError carrying the same type and code as the REST error.
import { ApiError } from "../lib/errors";
import { knownFailure } from "../http/errors";
import { McpError } from "@modelcontextprotocol/sdk/types.js";

export type ContentBlock =
  | { type: "text"; text: string }
  | { type: "resource"; resource: { uri: string; mimeType: string; text: string } | { uri: string; mimeType: string; blob: string } };

export type ToolResult = {
  content: ContentBlock[];
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
};

export function ok(value: object): ToolResult {
  return { content: [{ type: "text", text: JSON.stringify(value) }], structuredContent: value as Record<string, unknown> };
}

/** On a failed result whose error was no typed one (a bug): the error, for the server's log (see createMcpServer). */
export const UNEXPECTED = Symbol("unexpected");

export function failure(err: unknown): ToolResult & { [UNEXPECTED]?: unknown } {
  // The same typed answer REST gives for the same failure (a full disk is 503 STORE_UNAVAILABLE there and here).
  const known = err instanceof ApiError ? err : knownFailure(err);
  const body = (known ?? new ApiError("api_error", "Internal error: the server's log has it")).toBody();
  const result = { content: [{ type: "text" as const, text: JSON.stringify(body) }], structuredContent: body as unknown as Record<string, unknown>, isError: true };
  return known ? result : Object.assign(result, { [UNEXPECTED]: err });
}

/** Runs a service call as a tool: the value, or the typed failure. */
export async function tool(fn: () => object | Promise<object>): Promise<ToolResult> {
  try {
    return ok(await fn());
  } catch (e) {
    return failure(e);
  }
}

/** Like tool(), for a call that shapes its own result (its own text, extra content blocks). */
export async function toolResult(fn: () => ToolResult | Promise<ToolResult>): Promise<ToolResult> {
  try {
    return await fn();
  } catch (e) {
    return failure(e);
  }
}

/**
 * A JSON-RPC error (a protocol refusal, not a tool's), sent with its message as written: the SDK's McpError puts
 * "MCP error <code>: " into the message, and the client's McpError prefixes it again ("MCP error -32002: MCP error -32002: …").
 */
export function rpcError(code: number, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** Rethrows the SDK's own McpError (an unknown prompt, arguments its schema refuses) as rpcError, its message unprefixed. */
export function unprefixed(e: unknown): never {
  if (e instanceof McpError) throw rpcError(e.code, e.message.replace(/^MCP error -?\d+: /, ""));
  throw e;
}
