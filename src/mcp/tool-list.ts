// The MCP tool list exactly as a client sees it (tools/list over an in-memory transport), for documents that
// describe this server (/skill.md). Computed once per process: the tools do not change while it runs.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { Services } from "../services";
import { createMcpServer } from "./server";

export interface ListedTool {
  name: string;
  title?: string;
  description?: string;
  annotations?: { readOnlyHint?: boolean };
}

let listed: Promise<ListedTool[]> | undefined;

export function liveToolList(services: Services): Promise<ListedTool[]> {
  listed ??= (async () => {
    // tools/list never calls a tool, so no caller's ctx is ever read.
    const server = createMcpServer({ services, baseUrl: "", transport: "http", ctxOf: () => { throw new Error("tools/list reads no ctx"); } });
    const [a, b] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: "clanker-docs", version: "1.0.0" });
    await server.connect(a);
    await client.connect(b);
    try {
      return (await client.listTools()).tools;
    } finally {
      await client.close();
      await server.close();
    }
  })();
  return listed;
}
