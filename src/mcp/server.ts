// createMcpServer: the MCP face of the services, one server per session, scoped to the caller's workspace.
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Ctx } from "../lib/context";
import type { Services } from "../services";
import { registerSkillTools } from "./tools/skills";
import { registerWorkspaceTools } from "./tools/workspace";
import { registerWorkflowTools } from "./tools/workflows";

export interface ToolContext {
  services: Services;
  ctx: Ctx;
  baseUrl: string;
}

export function createMcpServer(tc: ToolContext): McpServer {
  const server = new McpServer(
    { name: "clanker", version: "1.0.0" },
    { instructions: "Clanker: run AI skills, read their artifacts, and share a working memory with other agents. Tools act in the workspace your API key belongs to." },
  );
  registerSkillTools(server, tc);
  registerWorkspaceTools(server, tc);
  registerWorkflowTools(server, tc);
  return server;
}
