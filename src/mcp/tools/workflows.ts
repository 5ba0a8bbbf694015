// Workflow tools: list-workflows (the definitions start-workflow takes), start-workflow, list-workflow-runs,
// get-workflow-run, cancel-workflow-run, resume-workflow-run, and list-integration-triggers.
import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { parsePage } from "../../lib/page-params";
import type { ToolContext } from "../server";
import { tool } from "../result";
import { envelope, pageArgs } from "./paging";
import { hints, listOutput, output } from "../hints";
import { idempotencyKey } from "./skills";

const runId = z.string().min(1).max(100).describe("Run id, e.g. run_3");
const workflowId = z.string().min(1).max(100).describe("A workflow definition's id, e.g. research-draft-approve (list-workflows names them)");
const runOutput = output({ id: z.string(), workflowId: z.string(), status: z.string(), steps: z.record(z.string(), z.unknown()).describe("Each step's state, by step id") });

export function registerWorkflowTools(server: McpServer, { services, ctxOf, once, baseUrl }: ToolContext): void {
  const wf = services.workflows;
  server.registerTool(
    "list-workflows",
    {
      ...hints("List workflow definitions", "read"),
      description: "List the workflows you can start (bundled and your workspace's own): id, name, description, the input they take, their steps' ids and kinds, and their triggers",
      outputSchema: output({
        workflows: z.array(
          z.object({ id: z.string(), name: z.string(), description: z.string().nullable(), source: z.string(), input: z.unknown(), steps: z.array(z.object({ id: z.string(), kind: z.string() })), triggers: z.array(z.string()) }).passthrough(),
        ),
      }),
    },
    (extra) =>
      tool(async () => ({
        workflows: (await wf.definitions(await ctxOf(extra))).data.map((d) => ({
          id: d.id,
          name: d.name,
          description: d.description ?? null,
          source: d.source,
          input: d.input ?? null,
          steps: d.steps.map((s) => ({ id: s.id, kind: s.kind })),
          triggers: (d.triggers ?? []).map((t) => ("cron" in t ? "cron" : "webhook" in t ? "webhook" : "github")),
        })),
      })),
  );
  server.registerTool(
    "start-workflow",
    {
      ...hints("Start a workflow", "add", true),
      description: "Run a workflow by ID. Returns a run ID for polling (get-workflow-run).",
      inputSchema: {
        workflowId,
        inputData: z.record(z.string(), z.unknown()).optional().describe("The workflow's input, as its `input` schema (list-workflows) describes"),
        callbackUrl: z.string().max(2048).optional().describe("An https URL that receives a signed webhook when the run ends"),
        idempotencyKey,
      },
      outputSchema: runOutput,
    },
    ({ workflowId, inputData, callbackUrl, idempotencyKey: key }, extra) =>
      tool(async () => {
        const ctx = await ctxOf(extra);
        return once(ctx, key, "start-workflow", { workflowId, inputData, callbackUrl }, () => wf.launch(ctx, workflowId, { inputData, callbackUrl }, "mcp"));
      }),
  );
  server.registerTool(
    "list-workflow-runs",
    {
      ...hints("List workflow runs", "read"),
      description: "List workflow run history, newest first",
      inputSchema: {
        ...pageArgs,
        workflowId: workflowId.optional().describe("Only runs of this workflow"),
        status: z.enum(["running", "suspended", "completed", "failed", "cancelled"]).optional().describe("Only runs in this state"),
      },
      outputSchema: listOutput(),
    },
    (a, extra) => tool(async () => envelope(await wf.runs(await ctxOf(extra), parsePage(a, "run"), { workflow: a.workflowId, status: a.status }))),
  );
  server.registerTool(
    "get-workflow-run",
    { ...hints("Get a workflow run", "read"), description: "Get a specific workflow run with every step's state", inputSchema: { runId }, outputSchema: runOutput },
    ({ runId }, extra) => tool(async () => wf.run(await ctxOf(extra), runId)),
  );
  server.registerTool(
    "cancel-workflow-run",
    { ...hints("Cancel a workflow run", "remove"), description: "Cancel a running workflow", inputSchema: { runId }, outputSchema: runOutput },
    ({ runId }, extra) => tool(async () => wf.cancel(await ctxOf(extra), runId)),
  );
  server.registerTool(
    "resume-workflow-run",
    {
      ...hints("Resume a workflow run", "add", true),
      description: "Resume a paused workflow at its suspended step, with data checked against that step's resume schema",
      inputSchema: {
        runId,
        step: z.string().max(100).optional().describe("The suspended step's id; omitted: the one suspended step"),
        resumeData: z.record(z.string(), z.unknown()).optional().describe("The data the step asks for, as its resumeSchema describes (e.g. {approved: true})"),
      },
      outputSchema: runOutput,
    },
    (a, extra) => tool(async () => wf.resume(await ctxOf(extra), a.runId, { step: a.step, resumeData: a.resumeData })),
  );
  server.registerTool(
    "list-integration-triggers",
    {
      ...hints("List workflow triggers", "read"),
      description:
        "List what can start this workspace's workflows: cron schedules, inbound webhooks and GitHub events, each with its workflow, kind, hook URL and settings (secrets: GET /api/v1/triggers/:id/secret)",
      inputSchema: pageArgs,
      outputSchema: listOutput(),
    },
    (a, extra) => tool(async () => envelope(await services.triggers.list(await ctxOf(extra), a, baseUrl()))),
  );
}
