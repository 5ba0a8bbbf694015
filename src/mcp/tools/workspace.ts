// Artifact, execution, memory and billing tools.
import { z } from "zod";
import { readFileSync } from "node:fs";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { parsePage } from "../../http/pagination";
import type { ToolContext } from "../server";
import { tool } from "../result";
import { envelope, pageArgs } from "./paging";

const id = (what: string) => z.string().min(1).max(100).describe(`${what} id, prefixed or raw`);
const INLINE_LIMIT = 1024 * 1024;

export function registerWorkspaceTools(server: McpServer, { services, ctxOf, baseUrl }: ToolContext): void {
  server.registerTool("list-artifacts", { description: "List your generated artifacts", inputSchema: pageArgs }, (a, extra) =>
    tool(() => envelope(services.artifacts.list(ctxOf(extra), parsePage(a, "artifact")))),
  );
  server.registerTool("get-artifact", { description: "Get artifact details", inputSchema: { id: id("Artifact") } }, ({ id }, extra) => tool(() => services.artifacts.get(ctxOf(extra), id)));
  server.registerTool(
    "download-artifact",
    { description: "Get an artifact's download URL (and its text, when it is text of at most 1 MiB)", inputSchema: { id: id("Artifact") } },
    ({ id }, extra) =>
      tool(() => {
        const ctx = ctxOf(extra);
        const a = services.artifacts.get(ctx, id);
        const f = services.artifacts.file(ctx, id);
        const text = f.size <= INLINE_LIMIT && /^(text\/|application\/(json|xml|yaml|sql)|image\/svg)/.test(f.mediaType) ? readFileSync(f.path, "utf8") : null;
        return { ...a, downloadUrl: `${baseUrl}${a.downloadUrl}`, content: text };
      }),
  );
  server.registerTool("delete-artifact", { description: "Delete an artifact", inputSchema: { id: id("Artifact") } }, ({ id }, extra) => tool(() => services.artifacts.remove(ctxOf(extra), id)));

  server.registerTool(
    "list-executions",
    {
      description: "List execution history",
      inputSchema: { ...pageArgs, status: z.enum(["queued", "running", "completed", "failed", "cancelled"]).optional(), skill: z.string().max(100).optional() },
    },
    (a, extra) => tool(() => envelope(services.executions.list(ctxOf(extra), parsePage(a, "execution"), { status: a.status, skill: a.skill }))),
  );
  server.registerTool(
    "get-execution-status",
    { description: "Poll a specific execution: status, output blocks, cost, executionTime", inputSchema: { id: id("Execution"), blocksAfter: z.number().int().min(0).optional() } },
    ({ id, blocksAfter }, extra) => tool(() => services.executions.status(ctxOf(extra), id, blocksAfter ?? 0)),
  );
  server.registerTool("cancel-execution", { description: "Cancel a running execution", inputSchema: { id: id("Execution") } }, ({ id }, extra) => tool(() => services.executions.cancel(ctxOf(extra), id)));

  server.registerTool("read-memory", { description: "Read the shared workspace memory document" }, (extra) => tool(() => services.memory.read(ctxOf(extra))));
  server.registerTool(
    "write-memory",
    {
      description: "Overwrite or append to the workspace memory document. Append adds the note after '\\n\\n---\\n\\n' atomically, so concurrent agents lose nothing.",
      inputSchema: {
        content: z.string().describe("The whole document (overwrite) or the note to add (append)"),
        mode: z.enum(["overwrite", "append"]).optional().describe("Default append"),
        ifMatchVersion: z.number().int().min(0).optional().describe("Overwrite only if the document is still at this version"),
      },
    },
    ({ content, mode, ifMatchVersion }, extra) =>
      tool(() =>
        (mode ?? "append") === "append"
          ? services.memory.append(ctxOf(extra), { content })
          : services.memory.write(ctxOf(extra), { content, ifMatch: ifMatchVersion === undefined ? null : `"v${ifMatchVersion}"` }),
      ),
  );

  server.registerTool("get-credit-balance", { description: "Check your credit balance and subscription tier" }, (extra) =>
    tool(() => {
      const ctx = ctxOf(extra);
      return { ...services.billing.balance(ctx), subscription: services.billing.tier(ctx) };
    }),
  );
}
