// Skill tools: list-installed-skills, get-skill-details, install-skill, uninstall-skill, execute-skill.
import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { parseKeyPage } from "../../http/pagination";
import { skillDetail } from "../../modules/marketplace/service";
import type { ToolContext } from "../server";
import { tool } from "../result";
import { envelope, pageArgs } from "./paging";
import { waitForExecution } from "./wait";
import { runConnectorZod } from "../../modules/executions/connector-schema";
import type { Connector } from "../../modules/executions/prompt";

const slug = z.string().min(1).max(100).describe("Skill slug, e.g. summarize");

export function registerSkillTools(server: McpServer, tc: ToolContext): void {
  const { services, ctxOf } = tc;
  server.registerTool("list-installed-skills", { description: "List your installed skills", inputSchema: pageArgs }, (args, extra) =>
    tool(() => envelope(services.skills.listInstalled(ctxOf(extra), parseKeyPage(args)))),
  );
  server.registerTool("get-skill-details", { description: "Get skill info by slug: description, category, parameters, instructions", inputSchema: { slug } }, ({ slug }) =>
    tool(() => skillDetail(services.marketplace.get(slug))),
  );
  server.registerTool("install-skill", { description: "Install a skill from the marketplace", inputSchema: { slug } }, ({ slug }, extra) =>
    tool(() => services.skills.install(ctxOf(extra), slug)),
  );
  server.registerTool("uninstall-skill", { description: "Remove an installed skill", inputSchema: { slug } }, ({ slug }, extra) =>
    tool(() => services.skills.uninstall(ctxOf(extra), slug)),
  );
  server.registerTool(
    "execute-skill",
    {
      description:
        "Run a skill. With wait (default true) it returns when the run ends, sending progress notifications as output streams. Give a connector to let the skill read code, e.g. code-review with {type:'github', fields:{repo:'owner/repo', ref:'main', paths:['src/']}} (connect the connector first).",
      inputSchema: {
        slug,
        input: z.string().min(1).describe("The prompt or instructions for the skill"),
        attachments: z
          .array(z.object({ name: z.string().min(1).max(255), mediaType: z.string().min(3).max(100), content: z.string().optional(), data: z.string().optional() }))
          .max(10)
          .optional(),
        connector: runConnectorZod.optional(),
        callbackUrl: z.string().max(2048).optional(),
        wait: z.boolean().optional().describe("Wait for the run to end (default true)"),
        timeoutSeconds: z.number().int().min(1).max(300).optional().describe("How long to wait, default 120"),
      },
    },
    (args, extra) =>
      tool(async () => {
        const ctx = ctxOf(extra);
        const started = services.executions.run(ctx, args.slug, {
          input: args.input,
          interface: "mcp",
          attachments: args.attachments,
          connector: args.connector as Connector | undefined,
          callbackUrl: args.callbackUrl,
        });
        if (args.wait === false) return started;
        return waitForExecution({ services, ctx, extra }, started.executionId, (args.timeoutSeconds ?? 120) * 1000);
      }),
  );
}
