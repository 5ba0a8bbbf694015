// Artifact, execution, memory and billing tools.
import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { parsePage } from "../../lib/page-params";
import type { ToolContext } from "../server";
import { ok, tool, toolResult, type ToolResult } from "../result";
import { envelope, pageArgs } from "./paging";
import { artifactOutput, executionOutput, hints, listOutput, memoryOutput, output } from "../hints";
import { artifactUri, isTextMedia } from "../resources";
import { idempotencyKey } from "./skills";
import { writeOnce } from "../../modules/memory/service";

const id = (what: string, example: string) => z.string().min(1).max(100).describe(`${what} id, prefixed (${example}) or raw`);
const INLINE_LIMIT = 1024 * 1024;

export function registerWorkspaceTools(server: McpServer, { services, ctxOf, baseUrl, transport, once }: ToolContext): void {
  server.registerTool(
    "list-artifacts",
    { ...hints("List artifacts", "read"), description: "List the files your skill runs generated, newest first", inputSchema: pageArgs, outputSchema: listOutput() },
    (a, extra) => tool(async () => envelope(await services.artifacts.list(await ctxOf(extra), parsePage(a, "artifact")))),
  );
  server.registerTool(
    "get-artifact",
    { ...hints("Get an artifact", "read"), description: "Get an artifact's details: name, media type, size, the run that made it", inputSchema: { id: id("Artifact", "art_7") }, outputSchema: artifactOutput },
    ({ id }, extra) => tool(async () => services.artifacts.get(await ctxOf(extra), id)),
  );
  server.registerTool(
    "download-artifact",
    {
      ...hints("Download an artifact", "read"),
      description:
        "Get an artifact's content: text of at most 1 MiB comes inline (`content`); over HTTP a download URL too. Over stdio (no HTTP server needed) a binary artifact comes as an embedded resource (clanker://artifacts/{id}) instead of a URL.",
      inputSchema: { id: id("Artifact", "art_7") },
      outputSchema: output({ ...artifactOutput.shape, uri: z.string(), content: z.string().nullable() }),
    },
    ({ id }, extra) =>
      toolResult(async (): Promise<ToolResult> => {
        const ctx = await ctxOf(extra);
        const a = await services.artifacts.get(ctx, id);
        const f = await services.artifacts.file(ctx, id);
        const text = f.size <= INLINE_LIMIT && isTextMedia(f.mediaType) ? f.bytes.toString("utf8") : null;
        const uri = artifactUri(a.id);
        if (transport === "http") return ok({ ...a, downloadUrl: `${baseUrl()}${a.downloadUrl}`, uri, content: text });
        // stdio: no URL an agent could reach; the bytes ride along instead (up to the same limit).
        const { downloadUrl: _unreachable, ...meta } = a;
        const result = ok({ ...meta, uri, content: text });
        if (text === null && f.size <= INLINE_LIMIT) result.content.push({ type: "resource", resource: { uri, mimeType: f.mediaType, blob: f.bytes.toString("base64") } });
        return result;
      }),
  );
  server.registerTool(
    "delete-artifact",
    { ...hints("Delete an artifact", "remove"), description: "Delete an artifact and its file", inputSchema: { id: id("Artifact", "art_7") }, outputSchema: output({ id: z.string(), deleted: z.boolean() }) },
    ({ id }, extra) => tool(async () => services.artifacts.remove(await ctxOf(extra), id)),
  );

  server.registerTool(
    "list-executions",
    {
      ...hints("List executions", "read"),
      description: "List skill runs, newest first",
      inputSchema: {
        ...pageArgs,
        status: z.enum(["queued", "running", "completed", "failed", "cancelled"]).optional().describe("Only runs in this state"),
        skill: z.string().max(100).optional().describe("Only runs of this skill (its slug)"),
      },
      outputSchema: listOutput(),
    },
    (a, extra) => tool(async () => envelope(await services.executions.list(await ctxOf(extra), parsePage(a, "execution"), { status: a.status, skill: a.skill }))),
  );
  server.registerTool(
    "get-execution-status",
    {
      ...hints("Get an execution's status", "read"),
      description: "Poll a specific execution: status, output blocks (after blocksAfter), cost, executionTime",
      inputSchema: {
        id: id("Execution", "exec_42"),
        blocksAfter: z.number().int().min(0).optional().describe("Only output blocks after this index (the last index you have); default 0: all"),
      },
      outputSchema: output({ ...executionOutput.shape, outputBlocks: z.array(z.object({ index: z.number(), content: z.string() }).passthrough()) }),
    },
    ({ id, blocksAfter }, extra) => tool(async () => services.executions.status(await ctxOf(extra), id, blocksAfter ?? 0)),
  );
  server.registerTool(
    "cancel-execution",
    { ...hints("Cancel an execution", "remove"), description: "Cancel a queued or running execution", inputSchema: { id: id("Execution", "exec_42") }, outputSchema: executionOutput },
    ({ id }, extra) => tool(async () => services.executions.cancel(await ctxOf(extra), id)),
  );

  server.registerTool(
    "read-memory",
    { ...hints("Read the workspace memory", "read"), description: "Read the shared workspace memory document (also the resource clanker://memory)", outputSchema: memoryOutput },
    (extra) => tool(async () => services.memory.read(await ctxOf(extra))),
  );
  server.registerTool(
    "write-memory",
    {
      ...hints("Write the workspace memory", "rewrite"),
      description: "Overwrite or append to the workspace memory document. Append adds the note after '\\n\\n---\\n\\n' atomically, so concurrent agents lose nothing.",
      inputSchema: {
        content: z.string().describe("The whole document (overwrite) or the note to add (append)"),
        mode: z.enum(["overwrite", "append"]).optional().describe("Default append"),
        ifMatchVersion: z.number().int().min(0).optional().describe("Write (either mode) only if the document is still at this version; else a conflict naming the current one"),
        idempotencyKey,
      },
      outputSchema: memoryOutput,
    },
    ({ content, mode, ifMatchVersion, idempotencyKey: key }, extra) =>
      tool(async () => {
        const input = { content, ifMatch: ifMatchVersion === undefined ? null : `"v${ifMatchVersion}"` };
        const ctx = await ctxOf(extra);
        const how = mode ?? "append";
        // An append retried after a lost answer adds its note once, as REST's /memory/append with an idempotency-key.
        return once(ctx, key, "write-memory", { content, mode: how, ifMatchVersion }, () => (how === "append" ? services.memory.append(ctx, input) : services.memory.write(ctx, input)), writeOnce(ctx, services.memory.read));
      }),
  );

  server.registerTool(
    "get-credit-balance",
    {
      ...hints("Get the credit balance", "read"),
      description: "Check your workspace's credit balance and subscription tier",
      outputSchema: output({ balance: z.number(), subscription: z.object({}).passthrough() }),
    },
    (extra) =>
      tool(async () => {
        const ctx = await ctxOf(extra);
        return { ...(await services.billing.balance(ctx)), subscription: await services.billing.tier(ctx) };
      }),
  );
}
