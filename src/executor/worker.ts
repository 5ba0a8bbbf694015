// Executor worker: runs model calls with streaming, batching deltas into blocks for the main thread.
import { streamText, APICallError, JSONParseError, RetryError, TypeValidationError, modelMessageSchema } from "ai";
import { createAnthropic } from "@ai-sdk/anthropic";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { ATTACHMENT_TOKENS_MOST, timeoutMessage, turnBatcher, type FromWorker, type Job, type ProviderSpec, type ToWorker, type Usage } from "./protocol";
import { lru } from "../lib/lru";
import { withoutKey } from "./key-scrub";
import { fillingUsage, NO_USAGE } from "./anthropic-usage";
import { stopReasonOf, type StopReason } from "./stop-reason";

declare const self: Worker;

const FLUSH_MS = 25;
const FLUSH_BYTES = 4096;
/**
 * A call the provider refuses for now (429, 529 overloaded, 5xx, before any output) is made again up to this many
 * times, after its retry-after or 2 s, then 4 s, as Anthropic's own SDK does; the run's timeout and a cancel still
 * end the wait. Overloaded answers are common enough that failing a run on the first one failed runs needlessly.
 */
const MODEL_RETRIES = 2;
const running = new Map<number, AbortController>();

const post = turnBatcher<FromWorker>((batch) => self.postMessage(batch));

type Model = ReturnType<typeof makeModel>;

/**
 * The model of every run so far, by what makes it (kind, key, base URL, model). Made once and used again: making the
 * AI SDK's provider and model for each run cost ~0.45 ms of CPU here, about what streaming a short answer costs.
 * Bounded, since BYOK keys come and go; a key no longer chosen is never asked for and ages out.
 */
const models = lru<string, Model>(32);

/**
 * streamText checks every call's messages against `z.array(modelMessageSchema)`, a schema it makes anew per call, and
 * zod (4.6) walks a new schema's whole tree on its first parse to learn whether it can recurse. The message schema
 * reaches JSON values through a z.lazy that only a parse resolves, and until one is resolved the walk's answer is
 * "unsure", which zod does not keep: every run walked the whole message schema again, ~250 µs of this thread's CPU
 * (a quarter of a short run's). Parsing one message whose providerOptions hold nested JSON resolves the lazy once;
 * from then on the walk stops at the message schema's cached answer.
 */
modelMessageSchema.safeParse({ role: "user", content: [{ type: "text", text: "", providerOptions: { x: { y: [{ z: null }] } } }], providerOptions: { x: { y: [{ z: null }] } } });

function modelFor(p: ProviderSpec): Model {
  const key = JSON.stringify([p.kind, p.apiKey, p.baseUrl, p.model]);
  let model = models.get(key);
  if (!model) models.set(key, (model = makeModel(p)));
  return model;
}

function makeModel(p: ProviderSpec) {
  if (p.kind === "anthropic") {
    return createAnthropic({ apiKey: p.apiKey, fetch: fillingUsage(withoutRedirects), ...(p.baseUrl ? { baseURL: `${p.baseUrl}/v1` } : {}) }).languageModel(p.model);
  }
  return createOpenAICompatible({ name: "openai-compatible", baseURL: p.baseUrl, apiKey: p.apiKey ?? undefined, includeUsage: true, fetch: withoutRedirects }).chatModel(p.model);
}

/** A provider's answer that sends the call to another origin (a 3xx): not followed, and what the operator can do. */
class ModelRedirected extends Error {
  constructor(status: number, where: string) {
    super(
      `The model provider answered ${status}, sending the call to ${where}: not followed, since the run's key would go with it. The server's operator can set ANTHROPIC_BASE_URL / OPENAI_BASE_URL to the address the provider answers at`,
    );
  }
}

/** Redirects followed on the provider's own origin (a proxy adding a trailing slash), as fetch would. */
const MAX_REDIRECTS = 5;

/**
 * The provider's own origin only. Bun's fetch follows redirects, and the AI SDK's requests carry the key (Anthropic's
 * x-api-key, a workspace's BYOK key) in headers fetch keeps for any origin: a provider (or whoever answers at its
 * address) redirecting to another host received them. A redirect on its own origin is followed (the same request,
 * body and all: the SDK's body is a string); one to another origin fails the run, naming it.
 */
const withoutRedirects = (async (input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> => {
  let url = new URL(input instanceof Request ? input.url : String(input));
  for (let hops = 0; ; hops++) {
    const res = await fetch(url, { ...init, redirect: "manual" });
    if (res.status < 300 || res.status >= 400 || !res.headers.has("location")) return res;
    void res.body?.cancel();
    const next = new URL(res.headers.get("location")!, url);
    if (next.origin !== url.origin || hops >= MAX_REDIRECTS) throw new ModelRedirected(res.status, next.origin !== url.origin ? next.origin : `${next.origin}, again (${MAX_REDIRECTS} redirects)`);
    url = next;
  }
}) as typeof fetch;

/** Bun's fetch ends some messages with advice for whoever wrote the call ("pass `verbose: true`…"), not for the caller. */
const callerPart = (message: string) => message.replace(/\s*For more information, pass `verbose: true`[^.]*\.?/, "");

/** Whose key a refusal was about, and who can do something about it. */
function whoseKey(p: ProviderSpec): string {
  // A workspace's own key is named by its last four, as its members see it listed; the server's is the operator's,
  // not for every member or agent that can run a skill to see any part of.
  const last4 = p.apiKey ? ` (…${p.apiKey.slice(-4)})` : "";
  if (p.byok) return `It refused the workspace's own key${last4} (BYOK, or the skill's bound key): replace it (PUT /api/v1/byok), or remove it to use the server's`;
  return `It refused the server's key: the server's operator can replace ${p.kind === "anthropic" ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY"}`;
}

/** A stream chunk whose only fault is a `type` (of the event, or of its delta) that the provider's client does not know. */
function ofUnknownKind(e: unknown): boolean {
  const issues = TypeValidationError.isInstance(e) ? (e.cause as { issues?: { note?: string; path?: unknown[] }[] } | undefined)?.issues : undefined;
  return !!issues?.length && issues.every((i) => i.note === "No matching discriminator" && i.path?.at(-1) === "type");
}

/** An answer its client could not read: not the provider's API (a proxy's page, another service) or a broken one. */
const unreadable = (e: unknown) => TypeValidationError.isInstance(e) || JSONParseError.isInstance(e);

function describe(failure: unknown, aborted: AbortSignal, timeoutMs: number, provider: ProviderSpec): { code: string; message: string } {
  // After the retries, the last refusal is what the provider said.
  const err = RetryError.isInstance(failure) ? failure.lastError : failure;
  if (aborted.aborted) {
    const reason = aborted.reason;
    if (reason === "cancel") return { code: "CANCELLED", message: "Cancelled" };
    return { code: "TIMEOUT", message: timeoutMessage(timeoutMs) };
  }
  if (APICallError.isInstance(err) && err.statusCode === undefined) {
    // No answer at all: the connection failed or dropped before the provider said anything.
    return { code: "MODEL_STREAM_ERROR", message: `The connection to the model provider failed: ${callerPart(err.message)}` };
  }
  if (unreadable(err) || (APICallError.isInstance(err) && unreadable(err.cause)))
    return {
      code: "MODEL_ERROR",
      message: "The model provider's answer is not in the shape its API defines (a field missing or of another type): the server's operator can check that ANTHROPIC_BASE_URL / OPENAI_BASE_URL point at the provider's API",
    };
  if (APICallError.isInstance(err) && err.statusCode! < 300)
    // The provider had begun to answer (200), and the answer broke off: as a connection dropped mid-stream.
    return { code: "MODEL_STREAM_ERROR", message: `The model provider's answer broke off: ${callerPart(err.message)}` };
  if (APICallError.isInstance(err)) {
    const status = err.statusCode ?? 0;
    const code = status === 401 || status === 403 ? "MODEL_AUTH_FAILED" : status === 429 ? "MODEL_RATE_LIMITED" : status >= 500 ? "MODEL_UNAVAILABLE" : "MODEL_ERROR";
    const advice = code === "MODEL_AUTH_FAILED" ? `. ${whoseKey(provider)}` : code === "MODEL_RATE_LIMITED" ? ". Its rate limit for this key: run it again later" : "";
    return { code, message: `Model provider answered ${status || "with an error"}: ${providerReason(err)}${advice}` };
  }
  if (err instanceof ModelRedirected || err instanceof AnswerTooLong) return { code: "MODEL_ERROR", message: err.message };
  const streamed = STREAM_ERROR_CODES[(err as { type?: string })?.type ?? ""];
  if (streamed) return { code: streamed, message: `Model provider reported ${(err as { type: string }).type}: ${(err as Error).message ?? ""}` };
  const e = err as Error;
  return { code: "MODEL_STREAM_ERROR", message: `The model stream failed: ${callerPart(e?.message ?? String(err))}` };
}

/**
 * An error the provider sends inside its stream (Anthropic's `event: error`, e.g. overloaded mid-answer) gets the code
 * the same condition gets as an HTTP status, so a client deciding whether to retry reads one code for one condition.
 */
const STREAM_ERROR_CODES: Record<string, string> = {
  overloaded_error: "MODEL_UNAVAILABLE",
  api_error: "MODEL_UNAVAILABLE",
  rate_limit_error: "MODEL_RATE_LIMITED",
  authentication_error: "MODEL_AUTH_FAILED",
  permission_error: "MODEL_AUTH_FAILED",
};

function providerReason(err: APICallError): string {
  try {
    const body = JSON.parse(err.responseBody ?? "");
    const msg = body?.error?.message ?? body?.message;
    if (typeof msg === "string") return msg;
  } catch {}
  return err.message;
}

interface AnthropicUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/**
 * The usage an Anthropic stream has reported so far (message_start, then message_delta). The AI SDK reports usage only
 * with its finish, which a cancelled, timed-out or broken stream never reaches; the provider bills those tokens all
 * the same, so the run records them. Counted as the SDK counts them: cache reads and writes are input. False: the
 * event carried no usage (anthropic-usage.ts filled it in).
 */
function reportedUsage(raw: unknown, usage: Usage, exact: Exact): boolean {
  const event = raw as { type?: string; message?: { usage?: AnthropicUsage }; usage?: AnthropicUsage; [NO_USAGE]?: true } | null;
  if (event?.[NO_USAGE]) return false;
  const u = event?.type === "message_start" ? event.message?.usage : event?.type === "message_delta" ? event.usage : undefined;
  if (typeof u?.input_tokens === "number") {
    usage.inputTokens = u.input_tokens + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);
    // A prompt is never 0 tokens: a proxy's placeholder 0 is no count (the prompt is estimated).
    exact.input = usage.inputTokens > 0;
  }
  if (typeof u?.output_tokens === "number") {
    usage.outputTokens = u.output_tokens;
    // message_start's output count is where the answer began (1); message_delta's is the answer's.
    if (event!.type === "message_delta") exact.output = true;
  }
  return true;
}

/** Which of a stream's final counts its provider gave (an Anthropic-compatible proxy may give one and not the other). */
type Exact = { input: boolean; output: boolean };

/** Characters a token, for what a provider never reported: English prose runs ~4 (a charge errs low, a hold high). */
const CHARS_PER_TOKEN = 4;

/**
 * What a run its provider never gave final usage for (cancelled, timed out, broken off, or a server that sends none)
 * used, as far as anyone can tell: what the provider reported so far, else estimated. Its output: at least the text
 * (and reasoning) it streamed. Its input: once the provider began to answer it had read the prompt's text
 * (OpenAI-compatible streams report nothing until their end; Anthropic's message_start has the exact count); images
 * and files are left out, since their tokens are not their bytes. Without this, a client could read most of an
 * answer and cancel before its end for nothing. A final count the provider did give (`exact`) is taken as it is.
 */
function usageSoFar(job: Job, reported: Usage, streamedChars: number, exact: Exact = { input: false, output: false }): Usage {
  const tokens = (chars: number) => Math.ceil(chars / CHARS_PER_TOKEN);
  let inputTokens = reported.inputTokens;
  if (!exact.input && inputTokens === 0 && streamedChars > 0) {
    let chars = job.system.length;
    for (const p of job.user) if (p.type === "text") chars += p.text.length;
    inputTokens = tokens(chars);
  }
  return { inputTokens, outputTokens: exact.output ? reported.outputTokens : Math.max(reported.outputTokens, tokens(streamedChars)) };
}

/**
 * The most characters a token holds, and so the most text an answer of maxOutputTokens can be: generous (tokenizers
 * have tokens of 64 dashes or spaces), and a bound all the same. A provider streaming more (20 MB reported as 4,000
 * tokens) is broken or hostile: its run wrote a 20 MB artifact and sent 21 MB to every stream following it.
 */
const MAX_CHARS_PER_TOKEN = 128;

/** An answer longer than its token limit allows: the run stops reading it. */
class AnswerTooLong extends Error {
  constructor(maxChars: number) {
    super(`The model provider streamed more text than its answer's token limit can hold (over ${maxChars} characters): the rest was not read. The server's operator can check ANTHROPIC_BASE_URL / OPENAI_BASE_URL`);
  }
}

/** A prompt's framing the provider counts beyond its own bytes. */
const PROMPT_FRAMING_TOKENS = 1_000;

/**
 * The counts a run is charged for, as far as its provider can have used them: whole and not below zero, the answer no
 * longer than the maxOutputTokens it was asked for, the input no more tokens than the prompt's text has UTF-8 bytes (a
 * token is at least a byte of text) and its attachments ATTACHMENT_TOKENS_MOST, with some framing besides. A provider,
 * or a proxy posing as one, reporting 1e12 tokens had the workspace charged 1.8e9 credits, no grant could fill the hole;
 * -5e6 published a negative cost; 0.5 stored a row every list of executions then failed on.
 */
function bounded(job: Job, usage: Usage): Usage {
  let most = Buffer.byteLength(job.system) + PROMPT_FRAMING_TOKENS;
  for (const p of job.user) most += p.type === "text" ? Buffer.byteLength(p.text) : p.type === "image" ? ATTACHMENT_TOKENS_MOST.image : ATTACHMENT_TOKENS_MOST.document;
  const count = (n: number, limit: number) => (Number.isFinite(n) && n > 0 ? Math.min(Math.ceil(n), limit) : 0);
  return { inputTokens: count(usage.inputTokens, most), outputTokens: count(usage.outputTokens, job.maxOutputTokens) };
}

async function run(job: Job): Promise<void> {
  const ac = new AbortController();
  running.set(job.executionId, ac);
  const timer = setTimeout(() => ac.abort("timeout"), job.timeoutMs);
  let buffer = "";
  let flushTimer: ReturnType<typeof setTimeout> | null = null;
  const flush = () => {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = null;
    if (buffer) post({ type: "text", executionId: job.executionId, text: buffer });
    buffer = "";
  };
  let usage: Usage = { inputTokens: 0, outputTokens: 0 };
  let streamedChars = 0;
  /** Whether the provider gave the run's final usage (its finish said how many tokens). */
  let reported = false;
  /** An Anthropic-compatible stream's event came without usage: the counts its finish gives are not the provider's. */
  let unreported = false;
  /** Those of its counts it did give (message_start's input, message_delta's output): taken as they are. */
  const exact: Exact = { input: false, output: false };
  let first = true;
  let ended = false;
  let stopReason: StopReason = "other";
  const maxChars = job.maxOutputTokens * MAX_CHARS_PER_TOKEN;
  try {
    const result = streamText({
      model: modelFor(job.provider),
      system: job.system,
      messages: [{ role: "user", content: job.user }],
      abortSignal: ac.signal,
      maxRetries: MODEL_RETRIES,
      maxOutputTokens: job.maxOutputTokens,
      includeRawChunks: job.provider.kind === "anthropic",
      // The error comes through the stream (below) and becomes the run's failure, logged by the runner as one line.
      // The SDK's default here prints the whole error object (request body included) to stderr, past the logger.
      onError: () => {},
    });
    for await (const part of result.fullStream) {
      if (part.type === "reasoning-delta" || part.type === "tool-input-delta") {
        // Text it wrote that is not the answer's (its reasoning, a tool call nobody asked for) is output all the same:
        // an answer that was only a tool call, from a server that reports no usage, cost nothing.
        streamedChars += part.type === "tool-input-delta" ? part.delta.length : part.text.length;
        if (streamedChars > maxChars) throw new AnswerTooLong(maxChars);
      } else if (part.type === "text-delta") {
        // Kept up to the bound (one delta may be megabytes), then the stream is let go.
        const room = maxChars - streamedChars;
        buffer += part.text.length > room ? part.text.slice(0, Math.max(0, room)) : part.text;
        streamedChars += part.text.length;
        if (streamedChars > maxChars) throw new AnswerTooLong(maxChars);
        // The first delta goes out at once (time to first block is what a user feels); later ones batch.
        if (first || buffer.length >= FLUSH_BYTES) flush();
        else flushTimer ??= setTimeout(flush, FLUSH_MS);
        first = false;
      } else if (part.type === "error") {
        // An event or delta of a kind this client does not know yet: skipped, as Anthropic asks of clients (it adds
        // new ones); every other error (the provider's own error event, a known event out of shape) ends the run.
        if (!ofUnknownKind(part.error)) throw part.error;
      } else if (part.type === "abort") {
        throw new Error("aborted");
      } else if (part.type === "raw") {
        if (!reportedUsage(part.rawValue, usage, exact)) unreported = true;
      } else if (part.type === "finish") {
        usage = { inputTokens: part.totalUsage.inputTokens ?? usage.inputTokens, outputTokens: part.totalUsage.outputTokens ?? usage.outputTokens };
        reported = !unreported && (part.totalUsage.inputTokens !== undefined || part.totalUsage.outputTokens !== undefined);
        // A provider says why its answer stopped. Without a reason its stream closed before the answer's end (a proxy
        // closing the connection cleanly looks just like this): the text so far is cut off, not an answer.
        ended = part.rawFinishReason !== undefined;
        stopReason = stopReasonOf(part.finishReason, part.rawFinishReason);
      }
    }
    if (!ended) throw new Error("the provider's stream closed before the answer was complete");
    flush();
    // A server that reports no usage (an OpenAI-compatible one ignoring include_usage, an Anthropic-compatible proxy):
    // the answer is not free for that. The operator hears of it once per provider address (the pool says it).
    if (!reported) {
      usage = usageSoFar(job, usage, streamedChars, exact);
      const url = job.provider.baseUrl ?? "https://api.anthropic.com";
      if (!exact.input || !exact.output) post({ type: "warn", once: url, message: `The model provider at ${url} sent no token usage: its runs are charged from an estimate (4 characters a token)` });
    }
    post({ type: "done", executionId: job.executionId, usage: bounded(job, usage), stopReason });
  } catch (err) {
    flush();
    const failure = describe(err, ac.signal, job.timeoutMs, job.provider);
    // Only a provider that said why its answer stopped, and how many tokens it took, has reported its final usage.
    if (!ended || !reported) usage = usageSoFar(job, usage, streamedChars);
    post({ type: "failed", executionId: job.executionId, usage: bounded(job, usage), code: failure.code, message: withoutKey(failure.message, job.provider.apiKey, job.provider.byok) });
  } finally {
    // A run that ended before its stream did (a failure of its own, an answer too long) stops the request: left
    // open, the provider went on generating (and billing) and the SDK buffering what nobody would read.
    if (!ac.signal.aborted) ac.abort("ended");
    clearTimeout(timer);
    running.delete(job.executionId);
  }
}

self.onmessage = (event: MessageEvent<ToWorker[]>) => {
  for (const msg of event.data) {
    if (msg.type === "run") void run(msg.job);
    else if (msg.type === "collect") Bun.gc(true);
    else if (msg.type === "cancel") running.get(msg.executionId)?.abort("cancel");
  }
};

post({ type: "ready" });
