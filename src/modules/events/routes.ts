// GET /api/events: the workspace's events as SSE, with id lines for Last-Event-ID resume and heartbeats.
import { t } from "elysia";
import type { Platform } from "../../http/platform";
import type { BusEvent } from "./bus";
import { INTERFACE_RE } from "../executions/service";
import type { Principal } from "../../http/auth";
import { ApiError, InvalidRequestError, PermissionError } from "../../lib/errors";
import type { Ctx } from "../../lib/context";

const HEARTBEAT_MS = 5_000; // well inside Bun's 10 s idle timeout
const MAX_BUFFERED = 1 << 20; // bytes: a client this far behind is dropped; it resumes with Last-Event-ID
const encoder = new TextEncoder();
const HELLO = encoder.encode(`retry: 2000\n: connected\n\n`);

// One event goes to every client of its workspace: its frame is serialized once and the same bytes written to all.
const frames = new WeakMap<BusEvent, Uint8Array>();
function frameOf(e: BusEvent): Uint8Array {
  let f = frames.get(e);
  if (!f) {
    f = encoder.encode(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify({ ...(e.data as object), source: e.source, createdAt: new Date(e.createdAt).toISOString() })}\n\n`);
    frames.set(e, f);
  }
  return f;
}

// One timer beats for every client (not one interval per connection); each beat also asks whether the client may
// still read the stream (see recheck).
const beating = new Map<ReadableStreamDefaultController<Uint8Array>, () => void>();
/** Every open stream's stop: what a shutdown ends them with (see endEventStreams). */
const open = new Set<() => void>();

/**
 * Streams one caller (a key, or a person's sessions) holds open at most: each holds a socket and a follower, and
 * without a bound one key opening streams at its rate limit ran the server out of file descriptors for everyone.
 */
const MAX_STREAMS_PER_CALLER = 32;
const streamsOf = new Map<string, number>();
const callerOf = (ctx: Ctx): string => ("apiKeyId" in ctx.actor ? `key:${ctx.actor.apiKeyId}` : `user:${ctx.actor.userId}`);

/**
 * Ends every open stream after what it holds (a shutdown, once the runs it waited for have committed their last
 * events): the client reads the run's end, then the end of the stream, instead of a connection cut mid-chunk.
 */
export function endEventStreams(): void {
  for (const stop of [...open]) stop();
}
let beat: ReturnType<typeof setInterval> | null = null;
function heartbeat(c: ReadableStreamDefaultController<Uint8Array>, onBeat: (() => void) | null): void {
  if (onBeat) beating.set(c, onBeat);
  else beating.delete(c);
  if (beating.size && !beat) {
    beat = setInterval(() => {
      const line = encoder.encode(`: heartbeat ${Date.now()}\n\n`);
      for (const [c, onBeat] of beating) {
        try {
          c.enqueue(line);
        } catch {
          beating.delete(c);
          continue;
        }
        onBeat();
      }
    }, HEARTBEAT_MS);
    beat.unref?.();
  } else if (!beating.size && beat) {
    clearInterval(beat);
    beat = null;
  }
}

/** The last event of a stream whose caller may no longer read it: the typed error, as a non-streaming answer has it. */
const errorFrame = (e: ApiError) => encoder.encode(`event: error\ndata: ${JSON.stringify(e.toBody())}\n\n`);

const STREAM_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store", "x-accel-buffering": "no" };

/** An event id as the stream writes them (digits), or null. */
const eventId = (v: string | null): number | null => (v !== null && /^\d{1,15}$/.test(v) ? Number(v) : null);

export const eventsRoutes = (app: Platform) =>
  app.get(
    "/api/events",
    ({ ctx, deps, request, query }) => {
      const bus = deps.services.bus;
      const sources = query.sources ? new Set(query.sources.split(",").map((s) => s.trim()).filter(Boolean)) : null;
      // A filter that could match nothing is a mistake to name, not a stream that stays silent (an interface is a
      // lowercase word: "api", "mcp", "workflow").
      for (const s of sources ?? []) if (!INTERFACE_RE.test(s)) throw new InvalidRequestError(`sources: '${s}' is not an interface; give lowercase words such as api,mcp,workflow`, "sources");
      // The header is the browser's, echoing an id: we sent; anything else in it is read as none.
      const header = eventId(request.headers.get("last-event-id"));
      if (header === null && query.lastEventId !== undefined && eventId(query.lastEventId) === null) throw new InvalidRequestError("lastEventId must be an event id (the id: of an event this stream sent)", "lastEventId");
      const resumeFrom = header ?? eventId(query.lastEventId ?? null) ?? 0;
      // Elysia answers HEAD by running this and reading the whole answer for its length: a stream never ends, so a HEAD
      // was never answered and held its slot (32 of them took a key's every stream until a restart).
      if (request.method === "HEAD") return new Response(null, { headers: STREAM_HEADERS });
      const caller = callerOf(ctx);
      const held = streamsOf.get(caller) ?? 0;
      if (held >= MAX_STREAMS_PER_CALLER)
        throw new ApiError("rate_limit_error", `This caller already has ${MAX_STREAMS_PER_CALLER} event streams open: close one (each tab or client needs only one)`, { code: "TOO_MANY_STREAMS", headers: { "retry-after": "5" } });
      streamsOf.set(caller, held + 1);
      let counted = true;
      const uncount = () => {
        if (!counted) return;
        counted = false;
        const n = (streamsOf.get(caller) ?? 1) - 1;
        if (n > 0) streamsOf.set(caller, n);
        else streamsOf.delete(caller);
      };
      let stop = () => {};
      /** A catch-up waiting for the client to take what it was handed (see pace). */
      let taken: (() => void) | null = null;
      const wake = () => {
        const resolve = taken;
        taken = null;
        resolve?.();
      };
      // Settled once the stream is placed in the log (or could not be): the answer waits for it, so a log that cannot be
      // read is a typed error, not a 200 that ends at once (and frees its slot before the client knows it is gone).
      let placed!: Promise<void>;
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          let closed = false;
          // Caught up: from here on a client that falls MAX_BUFFERED behind is dropped. Before, the backlog after
          // Last-Event-ID is handed over at the client's pace (a fast client resuming from far back was dropped every
          // ~5,000 events, each time having re-read the rest of the log).
          let live = false;
          const send = (e: BusEvent) => {
            if (closed) return;
            if (sources && !sources.has(e.source)) return;
            controller.enqueue(frameOf(e));
            if (live && (controller.desiredSize ?? 0) < -MAX_BUFFERED) stop();
          };
          // Once the client has taken what it holds, and a turn later: a pull can come in the same turn as the
          // write, and the server must also take in and answer other requests between the steps.
          const pace = () =>
            new Promise<void>((resolve) => {
              const next = () => void setImmediate(resolve);
              if (closed || (controller.desiredSize ?? 0) >= 0) next();
              else taken = next;
            });
          // In id order, none left out: after Last-Event-ID the log's backlog first, then what comes (./follow.ts).
          const following = bus.follow(ctx.workspaceId, Number.isSafeInteger(resumeFrom) && resumeFrom > 0 ? resumeFrom : 0, send, pace);
          let stopAsking = () => {};
          stop = () => {
            closed = true;
            wake();
            uncount();
            open.delete(stop);
            stopAsking();
            heartbeat(controller, null);
            following.stop();
            try {
              controller.close();
            } catch {}
          };
          // The caller was authenticated once, when it connected; the stream may stay open for days. It asks again
          // whenever a key, session or membership may have lost access (this server's own change, another replica's or
          // the CLI's), and at every heartbeat besides: a revoked key, a signed-out session, a member removed from the
          // workspace or a key rebound to another one stops hearing the workspace (the REST answer is a 401 or 404).
          const refuse = (e: unknown) => {
            if (closed) return;
            if (!(e instanceof ApiError)) return; // the store failed to answer: asked again on the next beat
            try {
              controller.enqueue(errorFrame(e));
            } catch {}
            stop();
          };
          const stillTheirs = (p: Principal) => {
            if (p.workspaceId !== ctx.workspaceId) refuse(new PermissionError("This credential now acts in another workspace: connect again to follow its events", "WORKSPACE_CHANGED"));
          };
          const recheck = () => {
            try {
              const p = deps.authenticator.fromRequest(request);
              if (p instanceof Promise) p.then(stillTheirs, refuse);
              else stillTheirs(p);
            } catch (e) {
              refuse(e);
            }
          };
          heartbeat(controller, recheck);
          stopAsking = deps.authenticator.onAccessEnded(recheck);
          open.add(stop);
          // The log could not be read: the stream ends and lets go (later, the client reconnects with Last-Event-ID).
          placed = following.placed.then(
            () => {
              // "connected" once nothing committed from here on can be left out: a client may act on it at once.
              if (!closed) controller.enqueue(HELLO);
              following.replayed.then(
                () => void (live = true),
                (e) => {
                  if (!closed) deps.log.warn(`an event stream ended: the log could not be read (${(e as Error)?.message ?? e}); its client resumes with Last-Event-ID`);
                  stop();
                },
              );
            },
            (e) => {
              stop();
              throw e;
            },
          );
        },
        // The client took all that was queued (the queue holds no bytes past its high-water mark of 0).
        pull() {
          wake();
        },
        cancel() {
          stop();
        },
        // Queued bytes, not chunks: what desiredSize counts, and so what MAX_BUFFERED bounds (by chunk count, a client
        // that stopped reading was dropped only after about a million events).
      }, { highWaterMark: 0, size: (chunk) => chunk?.byteLength ?? 0 });
      return placed.then(() => new Response(stream, { headers: STREAM_HEADERS }));
    },
    {
      auth: true,
      query: t.Object({
        apiKey: t.Optional(t.String({ description: "API key, for clients that cannot send headers (EventSource)" })),
        sources: t.Optional(t.String({ description: "Comma-separated interfaces to include, e.g. api" })),
        lastEventId: t.Optional(t.String({ description: "Resume after this event id (or send Last-Event-ID)" })),
      }),
      detail: { tags: ["Events"], summary: "Server-sent events: execution-state (status changes, output blocks, completion)" },
    },
  );
