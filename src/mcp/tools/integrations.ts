// Integration tools: list-integrations, connect-integration, disconnect-integration, execute-integration-action.
import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { ToolContext } from "../server";
import { tool } from "../result";
import { hints, objectOutput } from "../hints";
import { idempotencyKey } from "./skills";

const integration = z.string().min(1).max(50).describe("Integration id: slack, github, email or webhook (see list-integrations)");

export function registerIntegrationTools(server: McpServer, { services, ctxOf, baseUrl, once }: ToolContext): void {
  const svc = services.integrations;
  server.registerTool(
    "list-integrations",
    { ...hints("List integrations", "read"), outputSchema: objectOutput, description: "List the integrations this server offers: for each, whether it is configured and connected in your workspace, and its actions with their input JSON Schemas" },
    (extra) => tool(async () => svc.list(await ctxOf(extra))),
  );
  server.registerTool(
    "connect-integration",
    {
      ...hints("Connect an integration", "set", true),
      outputSchema: objectOutput,
      description:
        "Connect an integration for your workspace (owners and admins). slack: credentials {token: 'xoxb-…'} (a bot token, checked with Slack), or no credentials to get an OAuth {url} for the person to open in a browser (they approve at Slack, then confirm on this server's page). webhook: {url}. email: nothing, or {allowRecipients: ['a@b.c', '@domain']} (owners only) to allow recipients outside the workspace. github uses the GitHub connector's token.",
      inputSchema: {
        integration,
        credentials: z.record(z.string(), z.unknown()).optional().describe("Provider-specific credentials or settings; see the description"),
      },
    },
    (a, extra) => tool(async () => svc.connect(await ctxOf(extra), a.integration, a.credentials, { baseUrl: baseUrl() })),
  );
  server.registerTool(
    "disconnect-integration",
    { ...hints("Disconnect an integration", "remove"), outputSchema: objectOutput, description: "Disconnect an integration and forget its credentials (owners and admins)", inputSchema: { integration } },
    (a, extra) => tool(async () => svc.disconnect(await ctxOf(extra), a.integration)),
  );
  server.registerTool(
    "execute-integration-action",
    {
      ...hints("Run an integration action", "add", true),
      outputSchema: objectOutput,
      description: "Run an action of a connected integration (e.g. slack post_message {channel, text}); input is checked against the action's schema from list-integrations",
      inputSchema: {
        integration,
        action: z.string().min(1).max(100).describe("Action name, e.g. post_message"),
        input: z.record(z.string(), z.unknown()).optional().describe("The action's input, as its inputSchema describes"),
        idempotencyKey,
      },
    },
    (a, extra) =>
      tool(async () => {
        const ctx = await ctxOf(extra);
        const input = a.input ?? {};
        // Acts outside the store (a post to Slack): see RunOptions.
        return once(ctx, a.idempotencyKey, "execute-integration-action", { integration: a.integration, action: a.action, input }, () => svc.execute(ctx, a.integration, a.action, input), { acts: true });
      }),
  );
}
