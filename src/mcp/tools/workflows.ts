// Workflow tools: start-workflow, list-workflow-runs, get-workflow-run, cancel-workflow-run, resume-workflow-run,
// and list-integration-triggers (cron, webhook and github triggers of this workspace's workflows).
import { z } from "zod";
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { parsePage } from "../../http/pagination";
import type { ToolContext } from "../server";
import { tool } from "../result";
import { envelope, pageArgs } from "./paging";

const runId = z.string().min(1).max(100).describe("Run id, e.g. run_3");

export function registerWorkflowTools(server: McpServer, { services, ctxOf, baseUrl }: ToolContext): void {
  const wf = services.workflows;
  server.registerTool(
    "start-workflow",
    {
      description: "Run a workflow by ID. Returns a run ID for polling (get-workflow-run).",
      inputSchema: { workflowId: z.string().min(1).max(100), inputData: z.record(z.string(), z.unknown()).optional(), callbackUrl: z.string().max(2048).optional() },
    },
    (a, extra) => tool(() => wf.launch(ctxOf(extra), a.workflowId, { inputData: a.inputData, callbackUrl: a.callbackUrl })),
  );
  server.registerTool(
    "list-workflow-runs",
    {
      description: "List workflow run history",
      inputSchema: { ...pageArgs, workflowId: z.string().max(100).optional(), status: z.enum(["running", "suspended", "completed", "failed", "cancelled"]).optional() },
    },
    (a, extra) => tool(() => envelope(wf.runs(ctxOf(extra), parsePage(a, "run"), { workflow: a.workflowId, status: a.status }))),
  );
  server.registerTool("get-workflow-run", { description: "Get a specific workflow run with every step's state", inputSchema: { runId } }, ({ runId }, extra) => tool(() => wf.run(ctxOf(extra), runId)));
  server.registerTool("cancel-workflow-run", { description: "Cancel a running workflow", inputSchema: { runId } }, ({ runId }, extra) => tool(() => wf.cancel(ctxOf(extra), runId)));
  server.registerTool(
    "resume-workflow-run",
    {
      description: "Resume a paused workflow at its suspended step, with data checked against that step's resume schema",
      inputSchema: { runId, step: z.string().max(100).optional(), resumeData: z.record(z.string(), z.unknown()).optional() },
    },
    (a, extra) => tool(() => wf.resume(ctxOf(extra), a.runId, { step: a.step, resumeData: a.resumeData })),
  );
  server.registerTool(
    "list-integration-triggers",
    {
      description:
        "List what can start this workspace's workflows: cron schedules, inbound webhooks and GitHub events, each with its workflow, kind, hook URL and settings (secrets: GET /api/v1/triggers/:id/secret)",
      inputSchema: pageArgs,
    },
    (a, extra) => tool(() => envelope(services.triggers.list(ctxOf(extra), a, baseUrl))),
  );
}
