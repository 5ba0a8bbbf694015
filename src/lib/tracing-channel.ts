// Libraries skip their diagnostics tracing when `tracingChannel(...).hasSubscribers` is false, but Bun's
// TracingChannel lacks that getter (undefined): ioredis reads `hasSubscribers !== false` and so traced every Redis
// command. This is Node's definition of it, set once, before ioredis loads (connectRedis imports this module).
import { tracingChannel } from "node:diagnostics_channel";

const proto = Object.getPrototypeOf(tracingChannel("clanker:probe")) as object;
if (!("hasSubscribers" in proto))
  Object.defineProperty(proto, "hasSubscribers", {
    configurable: true,
    get(this: Record<"start" | "end" | "asyncStart" | "asyncEnd" | "error", { hasSubscribers: boolean }>) {
      return this.start.hasSubscribers || this.end.hasSubscribers || this.asyncStart.hasSubscribers || this.asyncEnd.hasSubscribers || this.error.hasSubscribers;
    },
  });
