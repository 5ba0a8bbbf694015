// Why a completed run's answer ended, in the Messages API's words whatever the provider spoke: what a client reads to
// tell a whole answer from one cut off at its token limit (max_tokens), refused (refusal), or ended on a tool call
// nobody asked for (tool_use). The run is completed in each case: its text is what the model wrote.

export const STOP_REASONS = ["end_turn", "max_tokens", "stop_sequence", "tool_use", "refusal", "other"] as const;
export type StopReason = (typeof STOP_REASONS)[number];

/** The AI SDK's finish reason (the providers' mapped to one set) in the Messages API's words. */
const BY_FINISH: Record<string, StopReason> = { stop: "end_turn", length: "max_tokens", "content-filter": "refusal", "tool-calls": "tool_use" };

/** `finishReason` as the AI SDK gives it; `raw`, the provider's own word (Anthropic's stop_sequence is kept apart). */
export function stopReasonOf(finishReason: string | undefined, raw: string | undefined): StopReason {
  if (raw === "stop_sequence") return "stop_sequence";
  return (finishReason !== undefined && BY_FINISH[finishReason]) || "other";
}
