// The tools/list answer exactly as the MCP SDK makes it from the tools' zod schemas. It depends on the code alone:
// every server registers the same tools with the same descriptions, whatever its transport, address or caller. So
// it is made once, at build time (tool-list.macro.ts runs this file), and servers answer with that: the SDK
// converting ~40 schemas on the first tools/list was ~25 ms of `clanker mcp`'s start.
import { lineLog } from "../lib/log";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { JSONRPCMessage, Tool } from "@modelcontextprotocol/sdk/types.js";
import type { Services } from "../services";
import { registerTools, type ToolContext } from "./server";

/** tools/list of a server whose tools are registered with this transport and address; no tool is called. */
export async function listTools(tc: Pick<ToolContext, "transport" | "baseUrl">): Promise<Tool[]> {
  const server = new McpServer({ name: "clanker", version: "1.0.0" });
  // Registering a tool reads neither the services nor a caller: its handler does, when called.
  const unused = () => Promise.reject(new Error("listing tools calls none"));
  registerTools(server, { ...tc, services: {} as Services, ctxOf: unused, once: unused, log: lineLog(() => {}) });
  return (await answerToolsList(server)).tools;
}

/** What the server answers to tools/list, as it answers it (an in-memory transport passes the object itself). */
export async function answerToolsList(server: McpServer): Promise<{ tools: Tool[] }> {
  const [ours, theirs] = InMemoryTransport.createLinkedPair();
  const answered = Promise.withResolvers<JSONRPCMessage>();
  theirs.onmessage = (m) => {
    if ("id" in m && m.id === 2) answered.resolve(m);
  };
  await server.connect(ours);
  await theirs.start();
  await theirs.send({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "clanker-build", version: "1" } } });
  await theirs.send({ jsonrpc: "2.0", method: "notifications/initialized" });
  await theirs.send({ jsonrpc: "2.0", id: 2, method: "tools/list" });
  const answer = await answered.promise;
  await server.close();
  if (!("result" in answer)) throw new Error(`tools/list failed: ${JSON.stringify(answer)}`);
  return answer.result as { tools: Tool[] };
}

// Run by tool-list.macro.ts: the answer on stdout, as JSON.
if (import.meta.main)
  listTools({ transport: "http", baseUrl: () => "" }).then(
    (tools) => process.stdout.write(JSON.stringify(tools)),
    (e: unknown) => {
      console.error((e as Error)?.stack ?? e);
      process.exit(1);
    },
  );
