// The 8 connector tools: list, connect (token or OAuth URL), disconnect, status, sources, branches, content, and
// list-github-repos (list-sources for github). The same service verbs as /api/v1/connectors.
import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { ToolContext } from "../server";
import { tool } from "../result";
import { hints, objectOutput } from "../hints";

const connector = z.string().min(1).max(50).describe("The connector: 'github', 'local' or 'remote' (list-connectors names them)");
const source = z.string().min(1).max(2048).describe("A source as list-sources names it: 'owner/repo' for github, a root's name for local, the repository's URL for remote");
const paging = {
  limit: z.number().int().min(1).max(100).optional().describe("1–100, default 30"),
  cursor: z.string().max(200).optional().describe("next_cursor of the previous page"),
};

export function registerConnectorTools(server: McpServer, { services, ctxOf, baseUrl }: ToolContext): void {
  const svc = services.connectors;
  server.registerTool("list-connectors", { ...hints("List connectors", "read"), outputSchema: objectOutput, description: "List the connectors (sources skills can read): whether each is configured on this server and connected, and as which account" }, (extra) =>
    tool(async () => svc.list(await ctxOf(extra))),
  );
  server.registerTool(
    "connect-connector",
    {
      ...hints("Connect a connector", "set", true),
      outputSchema: objectOutput,
      description:
        "Connect a connector for your workspace (owners and admins). github: give a personal access token, or omit it to get an OAuth authorize `url` for the person to open in a browser (when the server has a GitHub OAuth app): after approving at GitHub they confirm on this server's page, and the connection exists once they do (check with get-connector-status). remote: give a git repository's `url` to add it as a source (fetched once now; its URL is the source's name).",
      inputSchema: {
        connector,
        token: z.string().min(1).max(1000).optional().describe("A personal access token (github); stored sealed, never shown again"),
        url: z.string().min(1).max(2048).optional().describe("remote: the git repository's URL (https://…, or file://… inside the server's local source roots)"),
      },
    },
    ({ connector, token, url }, extra) =>
      tool(async () => svc.connect(await ctxOf(extra), connector, { ...(token === undefined ? {} : { token }), ...(url === undefined ? {} : { url }) }, `${baseUrl()}/api/v1/connectors/${connector}/callback`)),
  );
  server.registerTool(
    "disconnect-connector",
    {
      ...hints("Disconnect a connector", "remove"),
      outputSchema: objectOutput,
      description: "Disconnect a connector and forget its token (owners and admins); for remote, give `source` to remove only that added repository",
      inputSchema: { connector, source: source.optional().describe("remote: the added repository (its URL) to remove; omitted: every one") },
    },
    ({ connector, source }, extra) => tool(async () => svc.disconnect(await ctxOf(extra), connector, source === undefined ? {} : { source })),
  );
  server.registerTool(
    "get-connector-status",
    { ...hints("Get a connector's status", "read"), outputSchema: objectOutput, description: "One connector's status: configured, connected, account", inputSchema: { connector } },
    ({ connector }, extra) => tool(async () => svc.status(await ctxOf(extra), connector)),
  );
  server.registerTool(
    "list-sources",
    { ...hints("List a connector's sources", "read", true), outputSchema: objectOutput, description: "List a connector's sources (github repositories, local roots, the remote repositories the workspace added), paged by cursor", inputSchema: { connector, ...paging } },
    ({ connector, limit, cursor }, extra) => tool(async () => svc.sources(await ctxOf(extra), connector, { limit, cursor })),
  );
  server.registerTool(
    "list-branches",
    { ...hints("List a source's branches", "read", true), outputSchema: objectOutput, description: "List a source's branches (a plain folder has none)", inputSchema: { connector, source } },
    ({ connector, source }, extra) => tool(async () => svc.branches(await ctxOf(extra), connector, source)),
  );
  server.registerTool(
    "get-source-content",
    {
      ...hints("Read a source file or folder", "read", true),
      outputSchema: objectOutput,
      description:
        "Read a file ({type:'file', path, ref, size, content}; binary files come base64 with encoding:'base64') or list a directory ({type:'dir', entries}) of a source at a ref. Files over the server's limit are refused (413).",
      inputSchema: {
        connector,
        source,
        path: z.string().max(4096).optional().describe("Path inside the source, relative to its root; empty or omitted: the root"),
        ref: z.string().max(255).optional().describe("Branch, tag or commit; omitted: the default branch (or a plain folder's working tree)"),
      },
    },
    ({ connector, source, path, ref }, extra) => tool(async () => svc.content(await ctxOf(extra), connector, source, { path, ref })),
  );
  server.registerTool(
    "list-github-repos",
    { ...hints("List GitHub repositories", "read", true), outputSchema: objectOutput, description: "List the connected GitHub account's repositories (list-sources for github)", inputSchema: paging },
    ({ limit, cursor }, extra) => tool(async () => svc.sources(await ctxOf(extra), "github", { limit, cursor })),
  );
}
