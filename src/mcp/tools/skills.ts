// Skill tools: search-skills (the catalog), list-installed-skills, get-skill-details, install-skill,
// uninstall-skill, execute-skill (its result: the output text and status, not the chunk log).
import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { parseKeyPage } from "../../lib/page-params";
import { skillDetail } from "../../modules/marketplace/service";
import type { ToolContext } from "../server";
import { ok, tool, toolResult } from "../result";
import { envelope, pageArgs } from "./paging";
import { ENDED_STATUSES, waitForExecution } from "./wait";
import { cancelledByClient } from "../session";
import { ConflictError } from "../../lib/errors";
import { runConnectorJsonSchema } from "../../modules/executions/connector-schema.macro" with { type: "macro" };
import type { Connector } from "../../modules/executions/prompt";
import { executionOutput, hints, listOutput, objectOutput, output, skillEntry } from "../hints";
import { QUEUEING } from "../../modules/executions/service";

/** The REST body's `connector` schema (inlined at build time) for the tool's input (the SDK takes zod). */
const runConnectorZod = z.fromJSONSchema(runConnectorJsonSchema());

/** execute-skill waits this long by default: inside the 60 s an MCP client (the SDK's default) waits for an answer. */
const DEFAULT_WAIT_S = 50;

const slug = z.string().min(1).max(100).describe("Skill slug, e.g. summarize (search-skills lists them)");
export const idempotencyKey = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/)
  .optional()
  .describe("Any unique string (1–255 visible ASCII): a retry with the same key and arguments starts nothing new and answers as the first call did, as REST's idempotency-key header");

export function registerSkillTools(server: McpServer, tc: ToolContext): void {
  const { services, ctxOf } = tc;
  server.registerTool(
    "search-skills",
    {
      ...hints("Search the skill catalog", "read"),
      description:
        "Find skills this server can run: slug, name, one-line description and category of each catalog skill matching the query and category (all of them when both are omitted). Run one with execute-skill; get-skill-details gives its parameters.",
      inputSchema: {
        query: z.string().max(200).optional().describe("Words that must all appear in the slug, name or description, e.g. 'review code'"),
        category: z.string().max(50).optional().describe("Only skills of this category, e.g. development (the answer's categories names them all)"),
      },
      outputSchema: output({
        skills: z.array(skillEntry),
        total: z.number().int(),
        categories: z.array(z.object({ name: z.string(), count: z.number().int() })),
      }),
    },
    ({ query, category }) =>
      tool(async () => {
        // Compact: what an agent needs to choose a skill, not its license or source.
        const skills = services.marketplace.all({ q: query, category }).map((s) => ({ slug: s.slug, name: s.name, description: s.description, category: s.category }));
        return { skills, total: skills.length, categories: services.marketplace.categories().map((c) => ({ name: c.name, count: c.count })) };
      }),
  );
  server.registerTool(
    "list-installed-skills",
    { ...hints("List installed skills", "read"), description: "List the skills installed in your workspace", inputSchema: pageArgs, outputSchema: listOutput(skillEntry) },
    (args, extra) => tool(async () => envelope(await services.skills.listInstalled(await ctxOf(extra), parseKeyPage(args)))),
  );
  server.registerTool(
    "get-skill-details",
    {
      ...hints("Get a skill's details", "read"),
      description: "Get skill info by slug: description, category, parameters, instructions",
      inputSchema: { slug },
      outputSchema: output({ slug: z.string(), name: z.string(), description: z.string(), category: z.string(), parameters: z.array(z.object({}).passthrough()), instructions: z.string() }),
    },
    ({ slug }) => tool(async () => skillDetail(services.marketplace.get(slug))),
  );
  server.registerTool(
    "install-skill",
    { ...hints("Install a skill", "set"), description: "Install a skill from the marketplace into your workspace", inputSchema: { slug }, outputSchema: objectOutput },
    ({ slug }, extra) => tool(async () => services.skills.install(await ctxOf(extra), slug)),
  );
  server.registerTool(
    "uninstall-skill",
    { ...hints("Uninstall a skill", "remove"), description: "Remove an installed skill from your workspace", inputSchema: { slug }, outputSchema: objectOutput },
    ({ slug }, extra) => tool(async () => services.skills.uninstall(await ctxOf(extra), slug)),
  );
  server.registerTool(
    "execute-skill",
    {
      ...hints("Run a skill", "add", true),
      description:
        "Run a skill on the server's model. With wait (default true) it returns when the run ends — its output text and status — sending progress notifications as output streams. Give a connector to let the skill read code, e.g. code-review with {type:'github', fields:{repo:'owner/repo', ref:'main', paths:['src/']}} (connect the connector first).",
      inputSchema: {
        slug,
        input: z.string().min(1).describe("The prompt or instructions for the skill"),
        attachments: z
          .array(
            z.object({
              name: z.string().min(1).max(255).describe("File name, e.g. notes.md"),
              mediaType: z.string().min(3).max(100).describe("Media type, e.g. text/markdown or image/png"),
              content: z.string().optional().describe("The file's text (text files)"),
              data: z.string().optional().describe("The file's bytes, base64 (binary files)"),
            })
            // A field the run does not know is refused, as REST's schema refuses it, not dropped.
            .strict(),
          )
          .max(10)
          .optional()
          .describe("Files the skill reads with the input (at most 10)"),
        connector: runConnectorZod.optional().describe("A source the skill reads code from: {type, fields} (see list-connectors)"),
        callbackUrl: z.string().max(2048).optional().describe("An https URL that receives a signed webhook when the run ends"),
        wait: z.boolean().optional().describe("Wait for the run to end (default true); false answers at once with the executionId"),
        timeoutSeconds: z
          .number()
          .int()
          .min(1)
          .max(300)
          .optional()
          .describe(`How long to wait, default ${DEFAULT_WAIT_S} (inside MCP clients' usual 60 s request timeout); a run still going then answers status running and its executionId, to follow with get-execution-status. A call the client withdraws (its own timeout included) cancels the run, unless it has an idempotencyKey`),
        idempotencyKey,
      },
      outputSchema: executionOutput,
    },
    (args, extra) =>
      toolResult(async () => {
        const ctx = await ctxOf(extra);
        const { slug, input, attachments, connector, callbackUrl } = args;
        // A retry with the key gets the run the first call started (and waits for it), whatever wait says.
        const started = await tc.once(ctx, args.idempotencyKey, "execute-skill", { slug, input, attachments, connector, callbackUrl }, () =>
          services.executions.run(ctx, slug, { input, interface: "mcp", attachments, connector: connector as Connector | undefined, callbackUrl }), QUEUEING);
        if (args.wait === false) return ok(started);
        const run = await waitForExecution({ services, ctx, extra }, started.executionId, (args.timeoutSeconds ?? DEFAULT_WAIT_S) * 1000);
        // The client withdrew the call (notifications/cancelled: a person pressed stop, or its own timeout): the run it
        // asked for stops too, rather than spend credits on an answer nobody will get. Not a call with an
        // idempotencyKey (its caller means to ask again, and the retry joins the run), nor a closed connection: those
        // runs go on, to be found with list-executions.
        if (cancelledByClient(extra.signal) && args.idempotencyKey === undefined && !ENDED_STATUSES.has(run.status))
          await services.executions.cancel(ctx, run.executionId).catch((e: unknown) => {
            if (!(e instanceof ConflictError)) throw e; // it ended meanwhile
          });
        return executionResult(run);
      }),
  );
}

/** A run as a tool result: its output text then one status line; the same facts structured. */
export function executionResult(run: {
  executionId: string;
  status: string;
  skillSlug: string;
  output: string;
  artifactId: string | null;
  cost: number;
  executionTime: number | null;
  error: { code: string; message: string } | null;
  stopReason: string | null;
  connector: unknown;
}) {
  const compact = {
    executionId: run.executionId,
    status: run.status,
    skillSlug: run.skillSlug,
    output: run.output,
    artifactId: run.artifactId,
    cost: run.cost,
    executionTime: run.executionTime,
    stopReason: run.stopReason,
    error: run.error,
    // A run that read code: which source, and what the model was given of it.
    ...(run.connector ? { connector: run.connector } : {}),
  };
  // An answer that did not end on its own (cut off at the token limit, refused) says so: its text alone does not.
  const stopped = run.stopReason && run.stopReason !== "end_turn" && `stopped: ${run.stopReason === "max_tokens" ? "max_tokens (cut off at the token limit)" : run.stopReason}`;
  const line = [`status: ${run.status}`, run.executionId, run.artifactId && `artifact ${run.artifactId}`, stopped, run.error && `${run.error.code}: ${run.error.message}`]
    .filter(Boolean)
    .join(" · ");
  return {
    content: [{ type: "text" as const, text: run.output ? `${run.output}\n\n[${line}]` : `[${line}]` }],
    structuredContent: compact,
    // The skill did not do what was asked (the model failed, the run was interrupted): an error of the tool's work, as
    // MCP marks one, which an agent checking isError alone must not take for a result. Cancelled is what someone asked.
    ...(run.status === "failed" ? { isError: true } : {}),
  };
}
