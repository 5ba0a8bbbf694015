// Broadcast to every replica's subscribers (event rows → SSE clients, auth-cache evictions, "new work queued").
import { randomBytes } from "../lib/crypto";
import type Redis from "ioredis";
import type { Log } from "../lib/log";

export type FanoutChannel = "events" | "cache" | "wake" | (string & {});

export interface Fanout {
  /** Delivers `payload` once to each subscriber of `channel` in every replica, this one included. */
  publish(channel: FanoutChannel, payload: string): void;
  /** Returns the unsubscribe function. */
  subscribe(channel: FanoutChannel, fn: (payload: string) => void): () => void;
  /** Resolves once every subscription made so far receives other replicas' messages (await it before serving). */
  ready(): Promise<void>;
  close(): Promise<void>;
}

type Subscribers = Map<string, Set<(payload: string) => void>>;

function dispatch(subs: Subscribers, channel: string, payload: string, log: Log): void {
  const set = subs.get(channel);
  if (!set) return;
  for (const fn of [...set]) {
    try {
      fn(payload);
    } catch (e) {
      log.error("fan-out subscriber failed", { channel, err: (e as Error).message });
    }
  }
}

function subscribeLocal(subs: Subscribers, channel: string, fn: (payload: string) => void): () => void {
  let set = subs.get(channel);
  if (!set) subs.set(channel, (set = new Set()));
  set.add(fn);
  return () => {
    set.delete(fn);
  };
}

/** One process: publish calls the subscribers synchronously, as the event bus does today. */
export class MemoryFanout implements Fanout {
  private readonly subs: Subscribers = new Map();
  constructor(private readonly log: Log) {}

  publish(channel: string, payload: string): void {
    dispatch(this.subs, channel, payload, this.log);
  }
  subscribe(channel: string, fn: (payload: string) => void): () => void {
    return subscribeLocal(this.subs, channel, fn);
  }
  ready(): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    this.subs.clear();
    return Promise.resolve();
  }
}

const ORIGIN_LEN = 16;

/**
 * PUBLISH on the command connection, SUBSCRIBE on the subscriber one. Each message starts with this replica's
 * origin id: its own subscribers are called at once, locally and synchronously (as in memory, and whether or not
 * Redis is reachable), and the echo Redis sends back is skipped — so each subscriber sees a message exactly once.
 * A Redis channel, once subscribed, stays subscribed until close (there are a few fixed channels; no churn).
 */
export class RedisFanout implements Fanout {
  private readonly subs: Subscribers = new Map();
  private readonly origin = randomBytes(ORIGIN_LEN / 2).toString("hex");
  private readonly joined = new Map<string, Promise<unknown>>();
  /** A publish failed and none has succeeded since (Redis away): logged once. */
  private failing = false;

  constructor(
    private readonly cmd: Redis,
    private readonly sub: Redis,
    private readonly prefix: string,
    private readonly log: Log,
  ) {
    sub.on("message", (full: string, message: string) => {
      if (!full.startsWith(prefix) || message.startsWith(this.origin)) return;
      dispatch(this.subs, full.slice(prefix.length), message.slice(ORIGIN_LEN), this.log);
    });
  }

  publish(channel: string, payload: string): void {
    dispatch(this.subs, channel, payload, this.log);
    // Channel names are not keys: keyPrefix does not apply, so the prefix is written here.
    this.cmd.publish(this.prefix + channel, this.origin + payload).then(
      () => {
        if (!this.failing) return;
        this.failing = false;
        this.log.info("fan-out publishing again");
      },
      (e: Error) => {
        // Once per outage: every event append publishes, dozens of lines a second while Redis is away.
        if (this.failing) return;
        this.failing = true;
        this.log.error("fan-out publish failed (further failures are not logged until one succeeds; streams on other replicas catch up from the log)", { channel, err: e.message });
      },
    );
  }

  subscribe(channel: string, fn: (payload: string) => void): () => void {
    if (!this.joined.has(channel))
      this.joined.set(
        channel,
        this.sub.subscribe(this.prefix + channel).catch((e: Error) => this.log.error("fan-out subscribe failed", { channel, err: e.message })),
      );
    return subscribeLocal(this.subs, channel, fn);
  }

  async ready(): Promise<void> {
    await Promise.all(this.joined.values());
  }

  close(): Promise<void> {
    this.subs.clear();
    return Promise.resolve();
  }
}
