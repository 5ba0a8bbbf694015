// The Redis connections behind REDIS_URL: one for commands, one for SUBSCRIBE; ioredis is loaded only here, lazily.
import type Redis from "ioredis";
import { Failure } from "../cli/errors";
import { ApiError } from "../lib/errors";

/** Redis cannot be reached now, and what it holds for every replica (`what`) cannot be guessed at: retry shortly. */
export const sharedStateUnavailable = (what: string): ApiError =>
  new ApiError("overloaded_error", `This server cannot reach Redis, where replicas hold ${what}; retry in a few seconds`, { code: "SHARED_STATE_UNAVAILABLE", headers: { "retry-after": "5" } });

export interface RedisConnections {
  /** Commands. Its keys carry `prefix` (ioredis keyPrefix); pub/sub channel names do not, so fan-out adds it itself. */
  cmd: Redis;
  /** A connection in subscriber mode can run nothing else, hence a second one. */
  sub: Redis;
  prefix: string;
  close(): Promise<void>;
}

export interface RedisOptions {
  /** Namespace of every key and channel (default `clanker:`); replicas of one deployment must share it. */
  prefix?: string;
  /** How long the first connection may take before start-up fails (default 3 s). */
  connectTimeoutMs?: number;
}

/** The URL without its password, for messages. */
export function redactUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = "***";
    return u.toString().replace(/\/$/, "");
  } catch {
    return "(not a URL)";
  }
}

/**
 * Connects both connections, or rejects with one line that says which Redis and why: a replica that cannot
 * reach its shared state must not start and quietly keep its own. Once up, a dropped connection reconnects.
 */
export async function connectRedis(url: string, opts: RedisOptions = {}): Promise<RedisConnections> {
  // Before ioredis: its tracing asks a TracingChannel for subscribers (see the shim). Here, not at start: Bun compiles
  // node:diagnostics_channel when it is first imported, ~1 ms of a start that never talks to Redis.
  await import("../lib/tracing-channel");
  const { default: IORedis } = await import("ioredis");
  const prefix = opts.prefix ?? "clanker:";
  const timeoutMs = opts.connectTimeoutMs ?? 3000;
  let up = false;
  let lastError: Error | null = null;
  const make = (pipelined: boolean): Redis => {
    const r = new IORedis(url, {
      lazyConnect: true,
      connectTimeout: timeoutMs,
      keyPrefix: prefix,
      // At start: no retries (fail fast). After: back off up to 2 s and keep trying.
      retryStrategy: (times) => (up ? Math.min(times * 100, 2000) : null),
      // While Redis is out of reach a command fails at once, not after retries and a queue: every request waited
      // 5–8 s for a 500. Its callers fall back (the rate limit counts here alone) or refuse in a typed way.
      maxRetriesPerRequest: pipelined ? 1 : 3,
      enableOfflineQueue: !pipelined,
      // Commands issued in the same turn of the event loop (the rate-limit checks of the requests one read brought
      // in) go out in one write: under load, a write (and the wake-up of Redis) per command cost more CPU than the
      // commands. Not on the SUBSCRIBE connection, which sends nothing else.
      enableAutoPipelining: pipelined,
    });
    // Without a listener ioredis prints every connection error; the start-up one becomes the rejection below.
    r.on("error", (e: Error) => {
      lastError = e;
    });
    return r;
  };
  const cmd = make(true);
  const sub = make(false);
  const disconnect = () => {
    cmd.disconnect();
    sub.disconnect();
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      Promise.all([cmd.connect(), sub.connect()]),
      // connectTimeout covers the TCP connect only; a server that accepts and never answers is caught here.
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } catch (e) {
    disconnect();
    const why = (lastError as Error | null)?.message ?? (e as Error).message;
    // A runtime failure (exit 1), as an unreachable DATABASE_URL is: the setting may be right and Redis down.
    throw new Failure(`cannot reach Redis at ${redactUrl(url)} (${why}); check REDIS_URL and that Redis is running`);
  } finally {
    clearTimeout(timer);
  }
  up = true;
  return {
    cmd,
    sub,
    prefix,
    async close() {
      up = false;
      await Promise.allSettled([cmd.quit(), sub.quit()]);
      disconnect();
    },
  };
}
