// Protocol-faithful fakes of the model APIs, on 127.0.0.1 over real HTTP, so our real AI SDK client code runs:
// Anthropic Messages (POST /v1/messages, SSE stream) and OpenAI-compatible (POST /v1/chat/completions, SSE).
// The prompt steers each answer: [[fail:500]] / [[fail:401]] / [[fail:429]] answer that status (with retry-after: 0),
// [[fail-once:529]] only the first request with that prompt;
// [[drop]] breaks the stream after two deltas, [[eof]] closes it cleanly there (no stop reason, no message_stop),
// [[stream-error:TYPE]] sends Anthropic's in-stream error event of that type there;
// [[slow]] waits 150 ms before each delta (for cancel), [[slow:N]] N ms;
// [[no-usage]] sends no usage: (OpenAI flavour) no usage chunk, as a server that ignores include_usage; (Anthropic
// flavour) no `usage` in message_start nor message_delta, as some proxies and local servers; [[delta-usage-only]]
// (Anthropic flavour) none in message_start, the answer's in message_delta, as other proxies; [[start-usage-only]] the
// reverse (with [[usage:0,N]]: a placeholder 0 in message_start, nothing after);
// [[stop:WORD]] ends the answer with that stop_reason (Anthropic) or finish_reason (OpenAI): max_tokens, length, refusal…;
// [[tool-only]] (OpenAI flavour) answers with one tool call (4 KB of arguments) and no text, finish_reason tool_calls;
// [[echo-key]] answers 400 with a message that repeats the key the request carried, [[masked-key]] 401 naming it masked
// (and [[litellm-key]], [[cut-key]] as LiteLLM and other proxies do);
// [[redirect:PORT]] answers 307 to the same path on that port of 127.0.0.1, [[redirect:self]] 308 to its own path once;
// [[bulk:N]] adds N characters of text in 16 KB deltas (more than any token count could hold, from a broken provider);
// [[usage:IN,OUT]] reports those token counts (any number JSON can carry: 1e12, -5, 0.5), as a broken or hostile provider;
// [[future]] (Anthropic flavour) sends an event and a delta of types Anthropic has not defined (yet) after two deltas;
// [[json:fenced]] adds a fenced ```json block {approved: true, score: 7, reason: {short}}, [[json:whole]] answers only {approved: false, score: 3};
// [[file]] adds a fenced file block, [[code]] a fenced Python file, [[xss]] the Markdown of MARKDOWN_ATTACK;
// otherwise the answer is a few deltas echoing the input.

export interface RecordedRequest {
  path: string;
  headers: Record<string, string>;
  body: any;
  /** Whether the client went away before the stream finished. */
  aborted: boolean;
  finished: boolean;
}

export interface FakeModel {
  url: string;
  requests: RecordedRequest[];
  /** Resolves when a request's stream ended early because the client closed it. */
  waitForAbort(timeoutMs?: number): Promise<RecordedRequest>;
  stop(): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The user's text in either wire format (string content, or content parts with a text field). */
export function promptText(body: any): string {
  const parts: string[] = [];
  for (const m of body.messages ?? []) {
    if (m.role === "system") continue;
    if (typeof m.content === "string") parts.push(m.content);
    else for (const c of m.content ?? []) if (typeof c.text === "string") parts.push(c.text);
  }
  return parts.join("\n");
}

export function answerFor(prompt: string): string[] {
  const userLine = prompt.split("\n").find((l) => l.trim()) ?? "";
  // A judge's answer as JSON: all of it, or in a fenced block after its prose.
  if (prompt.includes("[[json:whole]]")) return ['{"approved": ', 'false, "score": 3}'];
  const chunks = ["Fake answer ", "for: ", userLine.slice(0, 60).replace(/\[\[[a-z:0-9]+\]\]/g, "").trim(), "\n\nDone."];
  if (prompt.includes("[[json:fenced]]")) chunks.push('\n\n```json\n{"approved": true, "score": 7, "reason": {"short": "clear"}}\n```\n');
  if (prompt.includes("[[file]]")) chunks.push("\n\n```html file=index.html\n<h1>Hello</h1>\n```\n");
  if (prompt.includes("[[code]]")) chunks.push("\n\n```python file=hello.py\nimport sys\n\nprint('<b>hi</b>')\n```\n");
  if (prompt.includes("[[xss]]")) chunks.push(MARKDOWN_ATTACK);
  if (prompt.includes("[[names]]")) for (const name of ODD_FILE_NAMES) chunks.push(`\n\n\`\`\`text file=${name}\n${name}\n\`\`\`\n`);
  const bulk = /\[\[bulk:(\d+)\]\]/.exec(prompt);
  if (bulk) for (let left = Number(bulk[1]); left > 0; left -= 16_384) chunks.push("lorem ipsum ".repeat(1366).slice(0, Math.min(left, 16_384)));
  return chunks;
}

/** File names a model may give its fenced blocks: other scripts, a long one, a dotfile, a path, only dots. */
export const ODD_FILE_NAMES = ["résumé.md", "日本語.txt", `report-${"b".repeat(120)}.md`, ".env", "../../etc/passwd", "..", "a b.txt", `${"\uFDFA".repeat(100)}.txt`];

/** Markdown that tries to run script in whoever renders it: a script tag, an image handler, javascript: links. */
export const MARKDOWN_ATTACK = [
  "\n\n## Rendered heading\n\n**bold** and a [safe link](https://example.com/page).\n\n",
  "<script>alert('script tag')</script>\n\n",
  "<img src=x onerror=\"alert('img onerror')\">\n\n",
  "[click me](javascript:alert(1)) and ![tracker](https://example.com/pixel.png)\n\n",
  "<a href=\"javascript:alert('html link')\" onclick=\"alert('onclick')\">html link</a>\n\n",
  "<p style=\"color:red\" id=\"delete\" onmouseover=\"alert('hover')\">styled</p>\n",
].join("");

type Flavor = "anthropic" | "openai";

export function startFakeModel(flavor: Flavor): FakeModel {
  const requests: RecordedRequest[] = [];
  const abortWaiters: ((r: RecordedRequest) => void)[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 60,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      const expected = flavor === "anthropic" ? "/v1/messages" : "/v1/chat/completions";
      if (req.method !== "POST" || path !== expected) return new Response("not found", { status: 404 });
      const body = await req.json();
      const rec: RecordedRequest = { path, headers: Object.fromEntries(req.headers), body, aborted: false, finished: false };
      requests.push(rec);
      const prompt = promptText(body);
      // As some OpenAI-compatible proxies answer a refused key: repeating it.
      if (prompt.includes("[[echo-key]]")) {
        const key = req.headers.get("x-api-key") ?? req.headers.get("authorization")?.replace(/^Bearer /, "") ?? "";
        return Response.json({ error: { type: "invalid_request_error", message: `invalid api key: ${key}` } }, { status: 400 });
      }
      // OpenAI's 401 names the key refused masked: its first and last characters.
      if (prompt.includes("[[masked-key]]")) {
        const key = req.headers.get("x-api-key") ?? req.headers.get("authorization")?.replace(/^Bearer /, "") ?? "";
        return Response.json({ error: { type: "invalid_request_error", message: `Incorrect API key provided: ${key.slice(0, 8)}***********${key.slice(-4)}.` } }, { status: 401 });
      }
      // LiteLLM's 401 for a key it does not know: its last four behind "sk-...", and its SHA-256.
      if (prompt.includes("[[litellm-key]]")) {
        const key = req.headers.get("x-api-key") ?? req.headers.get("authorization")?.replace(/^Bearer /, "") ?? "";
        const hash = new Bun.CryptoHasher("sha256").update(key).digest("hex");
        return Response.json({ error: { message: `Authentication Error, Invalid proxy server token passed. Received API Key = sk-...${key.slice(-4)}, Key Hash (Token) =${hash}. Unable to find token in cache or \`LiteLLM_VerificationTokenTable\``, type: "auth_error" } }, { status: 401 });
      }
      // A proxy that repeats the key cut short, and masked with dots as some do.
      if (prompt.includes("[[cut-key]]")) {
        const key = req.headers.get("x-api-key") ?? req.headers.get("authorization")?.replace(/^Bearer /, "") ?? "";
        return Response.json({ error: { type: "invalid_request_error", message: `unknown key ${key.slice(0, -3)} (${key.slice(0, 14)}...${key.slice(-4)})` } }, { status: 401 });
      }
      const fail = /\[\[fail:(\d{3})\]\]/.exec(prompt);
      if (fail) return errorResponse(flavor, Number(fail[1]));
      // Sent on to another address (another port on 127.0.0.1), as a moved or hostile endpoint would; or once to
      // another URL of its own (a proxy normalising the path), with a relative location.
      const moved = /\[\[redirect:(\d+)\]\]/.exec(prompt);
      if (moved) return new Response(null, { status: 307, headers: { location: `http://127.0.0.1:${moved[1]}${path}` } });
      if (prompt.includes("[[redirect:self]]") && !new URL(req.url).searchParams.has("moved")) return new Response(null, { status: 308, headers: { location: `${path}?moved=1` } });
      // The first request with this prompt fails, a retry of it answers.
      const once = /\[\[fail-once:(\d{3})\]\]/.exec(prompt);
      if (once && requests.filter((r) => promptText(r.body) === prompt).length === 1) return errorResponse(flavor, Number(once[1]));
      const chunks = answerFor(prompt);
      const drop = prompt.includes("[[drop]]");
      const eof = prompt.includes("[[eof]]");
      const streamError = /\[\[stream-error:(\w+)\]\]/.exec(prompt)?.[1];
      const future = flavor === "anthropic" && prompt.includes("[[future]]");
      const slow = /\[\[slow(?::(\d+))?\]\]/.exec(prompt);
      const delay = slow ? Number(slow[1] ?? 150) : 0;
      const enc = new TextEncoder();
      const stream = new ReadableStream<Uint8Array>({
        async start(controller) {
          const write = (s: string) => controller.enqueue(enc.encode(s));
          try {
            const said = /\[\[usage:([^,\]]+),([^\]]+)\]\]/.exec(prompt);
            const usage = said ? { input: Number(said[1]), output: Number(said[2]) } : undefined;
            const withUsage = !prompt.includes("[[no-usage]]");
            const stop = /\[\[stop:(\w+)\]\]/.exec(prompt)?.[1];
            const events =
              flavor === "anthropic" ? anthropicEvents(chunks, usage, withUsage, !prompt.includes("[[delta-usage-only]]"), stop, !prompt.includes("[[start-usage-only]]")) : openaiEvents(chunks, withUsage, usage, prompt.includes("[[tool-only]]"), stop);
            let deltas = 0;
            for (const e of events) {
              if (rec.aborted) return;
              if (e.isDelta) {
                deltas++;
                if (drop && deltas > 2) {
                  controller.error(new Error("dropped"));
                  return;
                }
                if (eof && deltas > 2) {
                  controller.close();
                  return;
                }
                if (streamError && deltas > 2) {
                  write(`event: error\ndata: ${JSON.stringify({ type: "error", error: { type: streamError, message: "Overloaded" } })}\n\n`);
                  controller.close();
                  return;
                }
                if (future && deltas === 3) {
                  write(`event: future_event\ndata: ${JSON.stringify({ type: "future_event", detail: { x: 1 } })}\n\n`);
                  write(`event: content_block_delta\ndata: ${JSON.stringify({ type: "content_block_delta", index: 0, delta: { type: "future_delta", x: 1 } })}\n\n`);
                }
                if (delay) await sleep(delay);
                if (rec.aborted) return;
              }
              write(e.text);
            }
            rec.finished = true;
            controller.close();
          } catch {
            rec.aborted = true;
          }
        },
        cancel() {
          rec.aborted = true;
          abortWaiters.splice(0).forEach((w) => w(rec));
        },
      });
      return new Response(stream, { headers: { "content-type": "text/event-stream", "cache-control": "no-cache" } });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    waitForAbort(timeoutMs = 5000) {
      const done = requests.find((r) => r.aborted);
      if (done) return Promise.resolve(done);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error("the client never closed a stream")), timeoutMs);
        abortWaiters.push((r) => {
          clearTimeout(t);
          resolve(r);
        });
      });
    },
    stop: () => server.stop(true),
  };
}

function errorResponse(flavor: Flavor, status: number): Response {
  const kind = status === 401 ? "authentication_error" : status === 429 ? "rate_limit_error" : "api_error";
  const message = status === 401 ? "invalid x-api-key" : status === 429 ? "Number of request tokens has exceeded your rate limit" : "Internal server error";
  const body = flavor === "anthropic" ? { type: "error", error: { type: kind, message } } : { error: { message, type: kind, code: String(status) } };
  // Retry at once: a client that retries (ours does, twice) does not wait out a backoff in the tests.
  return Response.json(body, { status, headers: { "retry-after": "0" } });
}

interface Ev {
  text: string;
  isDelta: boolean;
}

type Said = { input: number; output: number };

function anthropicEvents(chunks: string[], said?: Said, withUsage = true, usageAtStart = true, stop = "end_turn", usageAtEnd = true): Ev[] {
  const ev = (type: string, data: object, isDelta = false): Ev => ({ text: `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`, isDelta });
  const outputTokens = said?.output ?? chunks.join("").split(/\s+/).length;
  const usage = (u: object) => (withUsage ? { usage: u } : {});
  const startUsage = usageAtStart ? usage({ input_tokens: said?.input ?? 42, output_tokens: 1 }) : {};
  return [
    ev("message_start", {
      message: { id: "msg_fake", type: "message", role: "assistant", model: "claude-fake", content: [], stop_reason: null, stop_sequence: null, ...startUsage },
    }),
    ev("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
    ev("ping", {}),
    ...chunks.map((c) => ev("content_block_delta", { index: 0, delta: { type: "text_delta", text: c } }, true)),
    ev("content_block_stop", { index: 0 }),
    ev("message_delta", { delta: { stop_reason: stop, stop_sequence: null }, ...(usageAtEnd ? usage({ output_tokens: outputTokens }) : {}) }),
    ev("message_stop", {}),
  ];
}

function openaiEvents(chunks: string[], withUsage: boolean, said?: Said, toolOnly = false, stop?: string): Ev[] {
  const base = { id: "chatcmpl-fake", object: "chat.completion.chunk", created: Math.floor(Date.now() / 1000), model: "fake-model" };
  const data = (o: object, isDelta = false): Ev => ({ text: `data: ${JSON.stringify({ ...base, ...o })}\n\n`, isDelta });
  const completion = said?.output ?? chunks.join("").split(/\s+/).length;
  // A tool call's arguments in 1 KB pieces, as OpenAI streams them: the first delta names the call.
  const args = JSON.stringify({ query: "x".repeat(4000) });
  const tool = [0, 1024, 2048, 3072].map((at, i) =>
    data({ choices: [{ index: 0, delta: { tool_calls: [{ index: 0, ...(i === 0 ? { id: "call_fake", type: "function" } : {}), function: { ...(i === 0 ? { name: "lookup" } : {}), arguments: args.slice(at, i === 3 ? undefined : at + 1024) } }] }, finish_reason: null }] }, true),
  );
  return [
    data({ choices: [{ index: 0, delta: { role: "assistant", content: toolOnly ? null : "" }, finish_reason: null }] }),
    ...(toolOnly ? tool : chunks.map((c) => data({ choices: [{ index: 0, delta: { content: c }, finish_reason: null }] }, true))),
    data({ choices: [{ index: 0, delta: {}, finish_reason: stop ?? (toolOnly ? "tool_calls" : "stop") }] }),
    ...(withUsage ? [data({ choices: [], usage: { prompt_tokens: said?.input ?? 30, completion_tokens: completion, total_tokens: (said?.input ?? 30) + completion } })] : []),
    { text: "data: [DONE]\n\n", isDelta: false },
  ];
}
