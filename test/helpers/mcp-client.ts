// The official MCP SDK client over Streamable HTTP or legacy SSE, with any auth headers, and the tool-result
// checks the authorization tests share.
import { expect } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";

export type HttpKind = "streamable" | "sse";

export interface ToolResult {
  isError?: boolean;
  structuredContent?: any;
  content: { type: string; text?: string }[];
}

/** An HTTP transport to this server's /mcp (Streamable HTTP) or /mcp/sse (legacy SSE), sending `headers` on every request. */
export function httpTransport(baseUrl: string, kind: HttpKind, headers: Record<string, string>): StreamableHTTPClientTransport | SSEClientTransport {
  if (kind === "streamable") return new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), { requestInit: { headers } });
  return new SSEClientTransport(new URL(`${baseUrl}/mcp/sse`), {
    requestInit: { headers },
    // EventSource's own GET does not take requestInit: the credentials must ride on its fetch too.
    eventSourceInit: {
      fetch: (url, init) => {
        const h = new Headers(init?.headers);
        for (const [k, v] of Object.entries(headers)) h.set(k, v);
        return fetch(url, { ...init, headers: h });
      },
    },
  });
}

export async function connectMcp(baseUrl: string, kind: HttpKind, headers: Record<string, string>): Promise<Client> {
  const c = new Client({ name: `clanker-authz-test-${kind}`, version: "1.0.0" });
  await c.connect(httpTransport(baseUrl, kind, headers));
  return c;
}

export async function callTool(c: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolResult> {
  return (await c.callTool({ name, arguments: args }, undefined, { timeout: 20_000 })) as unknown as ToolResult;
}

/** A successful tool result's structured content. */
export async function toolOk(c: Client, name: string, args: Record<string, unknown> = {}): Promise<any> {
  const r = await callTool(c, name, args);
  expect({ name, isError: r.isError ?? false, text: r.content[0]?.text }).toMatchObject({ name, isError: false });
  return r.structuredContent;
}

/** A failed tool result's typed error. */
export async function toolError(c: Client, name: string, args: Record<string, unknown> = {}): Promise<{ type: string; code?: string; message: string }> {
  const r = await callTool(c, name, args);
  expect({ name, isError: r.isError, text: r.content[0]?.text }).toMatchObject({ name, isError: true });
  return r.structuredContent.error;
}
