// Messages between the main thread and the executor workers. Each postMessage carries an array of them, in order:
// what one side says in a turn goes in one post (turnBatcher).
import type { StopReason } from "./stop-reason";

export type ProviderSpec =
  | { kind: "anthropic"; apiKey: string; baseUrl: string | null; model: string; byok: boolean }
  | { kind: "openai-compatible"; apiKey: string | null; baseUrl: string; model: string; byok: boolean };

export type UserPart =
  | { type: "text"; text: string }
  | { type: "image"; image: string; mediaType: string }
  | { type: "file"; data: string; mediaType: string; filename: string };

/**
 * The most tokens one attachment may count for in a run's prompt, which its bytes do not bound: an image (Anthropic
 * counts up to ~1,600, OpenAI's high detail ~6,000) and a document (a PDF: up to 100 pages a request, each ~1,500–3,000
 * tokens of text and an image; 9 KB of text on 100 pages counted 150,000). A run's charge is bounded by them
 * (worker.ts), and its credit hold counts them (promptTokensGuess): held as it may be charged.
 */
export const ATTACHMENT_TOKENS_MOST = { image: 10_000, document: 500_000 } as const;

export interface Job {
  executionId: number;
  provider: ProviderSpec;
  system: string;
  user: UserPart[];
  maxOutputTokens: number;
  timeoutMs: number;
}

/** `collect`: a full garbage collection, asked for once the runner has been idle a moment (Runner.collectWhenIdle). */
export type ToWorker = { type: "run"; job: Job } | { type: "cancel"; executionId: number } | { type: "collect" };

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export type FromWorker =
  | { type: "ready" }
  | { type: "text"; executionId: number; text: string }
  | { type: "done"; executionId: number; usage: Usage; stopReason: StopReason }
  | { type: "failed"; executionId: number; code: string; message: string; usage: Usage }
  /** For the server's log, once per `once` (a provider's address) in the process's life. */
  | { type: "warn"; once: string; message: string };

/** What the pool hands on to the runner: a worker's messages but its warnings (the pool logs those). */
export type RunMessage = Exclude<FromWorker, { type: "warn" }>;

/**
 * A sender whose messages of one turn go out in one post, in order. A post wakes the other thread, and with more busy
 * threads than cores the kernel often hands the waking thread the poster's core mid-call: one post per run cost the
 * main thread ~70 µs per run (p99 0.8 ms, 9 ms at worst) when a dispatch launched its runs one by one.
 */
export function turnBatcher<M>(post: (batch: M[]) => void): (msg: M) => void {
  let outbox: M[] = [];
  return (msg) => {
    if (outbox.push(msg) > 1) return;
    queueMicrotask(() => {
      const batch = outbox;
      outbox = [];
      post(batch);
    });
  };
}

/** What a run that ran out of time is told (the worker's own timer, or the runner's backstop for a silent worker). */
export function timeoutMessage(timeoutMs: number): string {
  return `The run did not finish within its time limit (${Math.round(timeoutMs / 1000)} s): the server's operator can raise CLANKER_RUN_TIMEOUT_SECONDS`;
}
