// POST /workflows/:id/stream: an AI SDK UI message stream (SSE `data:` parts, `start` … `finish`, `[DONE]`).
// Each skill step's model output arrives as text parts (id = step id); the run's state as `data-workflow` parts.
import type { Ctx } from "../../lib/context";
import type { Services } from "../../services";
import type { BusEvent } from "../events/bus";
import { WORKFLOW_EVENT, type RunState } from "./engine";

const ENDED = new Set(["suspended", "completed", "failed", "cancelled"]);

export function workflowStream(services: Services, ctx: Ctx, run: { runId: string }): Response {
  const enc = new TextEncoder();
  let stop = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const part = (p: object) => controller.enqueue(enc.encode(`data: ${JSON.stringify(p)}\n\n`));
      const stepOfExecution = new Map<string, string>();
      const open = new Set<string>();
      const heartbeat = setInterval(() => controller.enqueue(enc.encode(`: heartbeat\n\n`)), 5_000);
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        for (const id of open) part({ type: "text-end", id });
        part({ type: "finish" });
        controller.enqueue(enc.encode("data: [DONE]\n\n"));
        stop();
        controller.close();
      };
      const onEvent = (e: BusEvent) => {
        const d = e.data as { runId?: string; executionId?: string; status?: string; blocks?: { content: string }[]; steps?: RunState["steps"] };
        if (e.type === WORKFLOW_EVENT && d.runId === run.runId) {
          for (const [stepId, s] of Object.entries(d.steps ?? {})) if (s.executionId) stepOfExecution.set(s.executionId, stepId);
          const view = services.workflows.run(ctx, run.runId);
          part({ type: "data-workflow", id: run.runId, data: view });
          if (ENDED.has(view.status)) finish();
          return;
        }
        const stepId = d.executionId ? stepOfExecution.get(d.executionId) : undefined;
        if (!stepId) return;
        for (const b of d.blocks ?? []) {
          if (!open.has(stepId)) {
            open.add(stepId);
            part({ type: "text-start", id: stepId });
          }
          part({ type: "text-delta", id: stepId, delta: b.content });
        }
        if (d.status && ["completed", "failed", "cancelled"].includes(d.status) && open.delete(stepId)) part({ type: "text-end", id: stepId });
      };
      const unsubscribe = services.bus.subscribe(ctx.workspaceId, onEvent);
      stop = () => {
        clearInterval(heartbeat);
        unsubscribe();
      };
      part({ type: "start", messageId: run.runId });
      const view = services.workflows.run(ctx, run.runId);
      part({ type: "data-workflow", id: run.runId, data: view });
      if (ENDED.has(view.status)) finish();
    },
    cancel() {
      stop();
    },
  });
  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      "x-vercel-ai-ui-message-stream": "v1",
      "x-workflow-run-id": run.runId,
    },
  });
}
