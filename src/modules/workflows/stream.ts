// POST /workflows/:id/stream: an AI SDK UI message stream (createUIMessageStream from `ai`: `start` … `finish`,
// `[DONE]`, keep-alive comments). Each skill step's model output arrives as text parts (id = step id); the run's
// state as `data-workflow` parts.
import type { UIMessageStreamWriter } from "ai";
import type { Ctx } from "../../lib/context";
import type { Services } from "../../services";
import type { BusEvent } from "../events/bus";
import { WORKFLOW_EVENT } from "./engine";
import type { RunState } from "./run-state";

const ENDED = new Set(["suspended", "completed", "failed", "cancelled"]);
const KEEP_ALIVE_MS = 5_000; // well inside Bun's idle timeout

/** Every open stream's end: a shutdown ends them (the run goes on at the next start; a client streams it again). */
const following = new Set<() => void>();
export function endWorkflowStreams(): void {
  for (const end of [...following]) end();
}

export function workflowStream(services: Services, ctx: Ctx, run: { runId: string }, signal?: AbortSignal): Response {
  // The AI SDK is loaded (require) by the first stream, not at start: serving other requests does not need it.
  const { createUIMessageStream, createUIMessageStreamResponse } = require("./ui-message-stream") as typeof import("./ui-message-stream");
  const stream = createUIMessageStream({
    // Resolves when the run ends or suspends (the stream then finishes), or when the client goes away.
    execute: ({ writer }) => new Promise<void>((done) => follow(services, ctx, run.runId, writer, done, signal)),
  });
  return createUIMessageStreamResponse({ stream, keepAliveMs: KEEP_ALIVE_MS, headers: { "content-type": "text/event-stream; charset=utf-8", "x-workflow-run-id": run.runId } });
}

function follow(services: Services, ctx: Ctx, runId: string, writer: UIMessageStreamWriter, done: () => void, signal?: AbortSignal): void {
  const stepOfExecution = new Map<string, string>();
  const open = new Set<string>();
  let finished = false;
  const finish = (reached: boolean) => {
    if (finished) return;
    finished = true;
    following.delete(onAbort);
    unsubscribe();
    signal?.removeEventListener("abort", onAbort);
    if (reached) {
      for (const id of open) writer.write({ type: "text-end", id });
      writer.write({ type: "finish" });
    }
    done();
  };
  const onAbort = () => finish(false);
  following.add(onAbort);
  // Each state read awaits the store: later ones queue behind earlier ones, so the parts keep the events' order.
  let reads: Promise<void> = Promise.resolve();
  const state = () => {
    reads = reads.then(async () => {
      if (finished) return;
      const view = await services.workflows.run(ctx, runId);
      if (finished) return;
      writer.write({ type: "data-workflow", id: runId, data: view });
      if (ENDED.has(view.status)) finish(true);
    }).catch((e) => {
      if (finished) return;
      writer.write({ type: "error", errorText: (e as Error).message });
      finish(false);
    });
  };
  const onEvent = (e: BusEvent) => {
    const d = e.data as { runId?: string; executionId?: string; status?: string; blocks?: { content: string }[]; steps?: RunState["steps"] };
    if (e.type === WORKFLOW_EVENT && d.runId === runId) {
      for (const [stepId, s] of Object.entries(d.steps ?? {})) if (s.executionId) stepOfExecution.set(s.executionId, stepId);
      state();
      return;
    }
    const stepId = d.executionId ? stepOfExecution.get(d.executionId) : undefined;
    if (!stepId) return;
    for (const b of d.blocks ?? []) {
      if (!open.has(stepId)) {
        open.add(stepId);
        writer.write({ type: "text-start", id: stepId });
      }
      writer.write({ type: "text-delta", id: stepId, delta: b.content });
    }
    if (d.status && ["completed", "failed", "cancelled"].includes(d.status) && open.delete(stepId)) writer.write({ type: "text-end", id: stepId });
  };
  const unsubscribe = services.bus.subscribe(ctx.workspaceId, onEvent);
  signal?.addEventListener("abort", onAbort);
  writer.write({ type: "start", messageId: runId });
  state();
}
