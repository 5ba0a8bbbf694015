// Anthropic-compatible streams that send no token usage (some proxies and local servers): the AI SDK refuses a
// message_start or message_delta without `usage`, and the run failed. Filled in here, and marked, so the answer is
// read and the run is charged from an estimate (worker.ts, usageSoFar), as a run whose provider reported nothing.

/** Set on an event whose usage was filled in here: the raw chunk the worker reads keeps it (the SDK's schema drops it). */
export const NO_USAGE = "clanker_no_usage";

const EMPTY = { input_tokens: 0, output_tokens: 0 };

/** One SSE line: a message_start or message_delta event without usage gets EMPTY and the mark; any other is as sent. */
function filled(line: string): string {
  // Only those two events carry usage; every delta line passes on these two string tests.
  if (!line.startsWith("data:") || !(line.includes("message_start") || line.includes("message_delta"))) return line;
  let event: { type?: unknown; usage?: unknown; message?: { usage?: unknown } } & Record<string, unknown>;
  try {
    event = JSON.parse(line.slice(5));
  } catch {
    return line; // the SDK says what is wrong with it
  }
  if (event?.type === "message_start" && event.message && typeof event.message === "object" && event.message.usage == null) event.message.usage = EMPTY;
  else if (event?.type === "message_delta" && event.usage == null) event.usage = EMPTY;
  else return line;
  event[NO_USAGE] = true;
  return `data: ${JSON.stringify(event)}`;
}

/** The provider's fetch, its event streams passed through `filled` line by line. */
export function fillingUsage(fetchFn: typeof fetch): typeof fetch {
  return (async (input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> => {
    const res = await fetchFn(input, init);
    if (!res.body || !(res.headers.get("content-type") ?? "").includes("text/event-stream")) return res;
    let tail = "";
    const lines = new TransformStream<string, string>({
      transform(chunk, out) {
        const parts = (tail + chunk).split("\n");
        tail = parts.pop()!;
        if (parts.length) out.enqueue(`${parts.map(filled).join("\n")}\n`);
      },
      flush(out) {
        if (tail) out.enqueue(filled(tail));
      },
    });
    const headers = new Headers(res.headers);
    headers.delete("content-length"); // a filled event is longer
    return new Response(res.body.pipeThrough(new TextDecoderStream()).pipeThrough(lines).pipeThrough(new TextEncoderStream()), { status: res.status, statusText: res.statusText, headers });
  }) as typeof fetch;
}
