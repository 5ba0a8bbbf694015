// tools/list is made at build time (src/mcp/tool-list.macro.ts) and every MCP server answers with that very list,
// not with one the SDK converts again from the tools' zod schemas (issue 14: ~25 ms of `clanker mcp`'s start).
import { expect, test } from "bun:test";
import { TOOL_LIST } from "../src/mcp/built-tool-list";
import { answerToolsList, listTools } from "../src/mcp/tool-list";
import { createMcpServer } from "../src/mcp/server";
import type { Services } from "../src/services";
import { lineLog } from "../src/lib/log";
import { SPEC_TOOL_NAMES } from "./helpers/mcp-tools";

test("the list made at build time is the SDK's own tools/list of every tool, whatever the transport and address", async () => {
  expect(TOOL_LIST.map((t) => t.name)).toEqual(expect.arrayContaining(SPEC_TOOL_NAMES));
  expect(TOOL_LIST.every((t) => t.inputSchema?.type === "object" && t.outputSchema?.type === "object")).toBe(true);
  for (const tc of [{ transport: "stdio", baseUrl: () => "http://127.0.0.1:9" }, { transport: "http", baseUrl: () => "" }] as const) expect(await listTools(tc)).toEqual(TOOL_LIST);
});

test("a server answers tools/list with that list itself (no conversion), session after session", async () => {
  // Registering reads the catalog (every skill is a prompt), nothing else; no tool is called.
  const services = { marketplace: { all: () => [] } } as unknown as Services;
  const server = () => createMcpServer({ services, log: lineLog(() => {}), baseUrl: () => "http://127.0.0.1:9", transport: "http", ctxOf: () => Promise.reject(new Error("no call")), once: () => Promise.reject(new Error("no call")) });
  for (let i = 0; i < 2; i++) expect((await answerToolsList(server())).tools).toBe(TOOL_LIST);
});
