// POST /workflows/:id/stream: an AI SDK UI message stream (createUIMessageStream from `ai`: `start` … `finish`,
// `[DONE]`, keep-alive comments). Each skill step's model output arrives as text parts (id = step id); the run's
// state as `data-workflow` parts (the whole run first and last, its heads between), each step's output once as a
// `data-workflow-step` part.
import type { UIMessageStreamWriter } from "ai";
import type { Ctx } from "../../lib/context";
import type { Services } from "../../services";
import type { BusEvent } from "../events/bus";
import { stepHeads, WORKFLOW_EVENT } from "./engine";
import type { RunState } from "./run-state";

const ENDED = new Set(["suspended", "completed", "failed", "cancelled"]);
const KEEP_ALIVE_MS = 5_000; // well inside Bun's idle timeout
const SHUTDOWN_FLUSH_MS = 500;

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
  /** Each execution's last block written (its index): a block read from the store and heard live is sent once. */
  const sentBlock = new Map<string, number>();
  const open = new Set<string>();
  let finished = false;
  const finish = (reached: boolean) => {
    if (finished) return;
    finished = true;
    following.delete(onShutdown);
    unsubscribe();
    signal?.removeEventListener("abort", onAbort);
    if (reached) {
      for (const id of open) writer.write({ type: "text-end", id });
      writer.write({ type: "finish" });
    }
    done();
  };
  const onAbort = () => finish(false);
  // A shutdown ends the stream once what is queued has gone out (blocks heard, a state read under way: on PostgreSQL
  // the read takes a round trip, and the step's text heard meanwhile was dropped), for half a second at most.
  const onShutdown = () => {
    const cut = setTimeout(() => finish(false), SHUTDOWN_FLUSH_MS);
    later(() => {
      clearTimeout(cut);
      finish(false);
    });
  };
  following.add(onShutdown);
  // Every write waits its turn behind the store reads queued before it: the parts keep the events' order, and a
  // block heard live while the blocks written before the attach are read is sent after them.
  let queue: Promise<void> = Promise.resolve();
  const later = (task: () => Promise<void> | void) => {
    queue = queue.then(async () => {
      if (!finished) await task();
    }).catch((e) => {
      if (finished) return;
      writer.write({ type: "error", errorText: (e as Error).message });
      finish(false);
    });
  };
  const openText = (stepId: string) => {
    if (open.has(stepId)) return;
    open.add(stepId);
    writer.write({ type: "text-start", id: stepId });
  };
  const text = (stepId: string, executionId: string, blocks: { index: number; content: string }[], ended?: string) => {
    for (const b of blocks) {
      if (b.index <= (sentBlock.get(executionId) ?? 0)) continue;
      sentBlock.set(executionId, b.index);
      openText(stepId);
      writer.write({ type: "text-delta", id: stepId, delta: b.content });
    }
    if (ended && ["completed", "failed", "cancelled"].includes(ended) && open.delete(stepId)) writer.write({ type: "text-end", id: stepId });
  };
  let attached = false;
  /** The steps whose output this stream has sent (in the first part, or in a data-workflow-step part). */
  const told = new Set<string>();
  const state = () =>
    later(async () => {
      const view = await services.workflows.run(ctx, runId);
      if (finished) return;
      const ended = ENDED.has(view.status);
      // The whole run (as GET /runs/:id) first and last; in between, its heads, and each step's output once, as it
      // completes. The whole run at every change sent its input and every step's data again each time: a 40-step run
      // launched with a 1 MB input streamed 82 MB.
      if (attached && !ended) {
        const { input: _, ...heads } = view;
        writer.write({ type: "data-workflow", id: runId, data: { ...heads, steps: stepHeads(view.steps) } });
      } else writer.write({ type: "data-workflow", id: runId, data: view });
      for (const [stepId, s] of Object.entries(view.steps)) {
        if (s.status !== "completed" || told.has(stepId)) continue;
        told.add(stepId);
        // Its own part (its own id): a client's message keeps it when the next data-workflow part replaces the last.
        if (attached && !ended && s.output !== undefined) writer.write({ type: "data-workflow-step", id: `${runId}.${stepId}`, data: { runId, stepId, output: s.output } });
      }
      // As a chat's failed answer ends: useChat's onError fires, where a data part alone left it looking done.
      if (view.status === "failed") writer.write({ type: "error", errorText: view.error?.message ?? "The run failed" });
      if (ended) return finish(true);
      if (attached) return;
      attached = true;
      // Attaching to a run under way (a stream opened again, a launch replayed): its running steps' executions are
      // known from this read, not from a later event, and what they wrote before it is sent first; without that,
      // their text was dropped until the next step began.
      for (const [stepId, s] of Object.entries(view.steps)) {
        if (s.status !== "running" || !s.executionId) continue;
        stepOfExecution.set(s.executionId, stepId);
        const e = await services.executions.status(ctx, s.executionId);
        if (finished) return;
        openText(stepId);
        text(stepId, s.executionId, e.outputBlocks.filter((b) => b.type === "text"), e.status);
      }
    });
  const onEvent = (e: BusEvent) => {
    const d = e.data as { runId?: string; executionId?: string; status?: string; blocks?: { index: number; content: string }[]; steps?: RunState["steps"] };
    if (e.type === WORKFLOW_EVENT && d.runId === runId) {
      for (const [stepId, s] of Object.entries(d.steps ?? {})) if (s.executionId) stepOfExecution.set(s.executionId, stepId);
      state();
      return;
    }
    // A block heard before the first read maps its execution is in the store by then (it is sent once committed).
    const stepId = d.executionId ? stepOfExecution.get(d.executionId) : undefined;
    if (stepId) later(() => text(stepId, d.executionId!, d.blocks ?? [], d.status));
  };
  const unsubscribe = services.bus.subscribe(ctx.workspaceId, onEvent);
  signal?.addEventListener("abort", onAbort);
  writer.write({ type: "start", messageId: runId });
  state();
}
