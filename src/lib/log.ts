// The server's logger: pino, JSON lines or pretty text on stdout, written synchronously (no worker transports:
// their thread entry is a file path that does not exist inside the compiled binary).
import { tracingChannel } from "node:diagnostics_channel";
import pino from "pino";
import type PinoPretty from "pino-pretty";

// pino skips its diagnostics tracing when `tracingChannel(...).hasSubscribers` is false, but Bun's TracingChannel
// lacks that getter (undefined), so every line paid for traceSync. This is Node's definition of it.
{
  const proto = Object.getPrototypeOf(tracingChannel("clanker:probe")) as object;
  if (!("hasSubscribers" in proto))
    Object.defineProperty(proto, "hasSubscribers", {
      configurable: true,
      get(this: Record<"start" | "end" | "asyncStart" | "asyncEnd" | "error", { hasSubscribers: boolean }>) {
        return this.start.hasSubscribers || this.end.hasSubscribers || this.asyncStart.hasSubscribers || this.asyncEnd.hasSubscribers || this.error.hasSubscribers;
      },
    });
}

// pino's isoTime formats a Date per line; under load many lines share a millisecond, so the text is reused.
let isoAt = -1;
let isoText = "";
const isoTime = (): string => {
  const now = Date.now();
  if (now !== isoAt) {
    isoAt = now;
    isoText = `,"time":"${new Date(now).toISOString()}"`;
  }
  return isoText;
};

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
export type LogFormat = "json" | "pretty";
export type LogFields = Record<string, unknown>;

/**
 * Callable as a plain line printer (at info), so code that only says what happened needs nothing more; the
 * level methods take structured fields as well.
 */
export interface Log {
  (line: string): void;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

// Fields the pretty format leaves out: the access line's message already says them.
const PRETTY_HIDDEN = "pid,hostname,requestId,method,route,status,ms";

export function createLog(opts: { level: LogLevel; format: LogFormat }): Log {
  const stream =
    opts.format === "pretty"
      ? // Loaded only when asked for: it costs a CLI start about half a second.
        (require("pino-pretty") as typeof PinoPretty)({ sync: true, colorize: Boolean(process.stdout.isTTY), translateTime: "SYS:HH:MM:ss.l", ignore: PRETTY_HIDDEN })
      : pino.destination({ dest: 1, sync: true });
  const logger = pino(
    {
      level: opts.level,
      base: { pid: process.pid },
      timestamp: isoTime,
      // JSON lines say "info", not 30: readable without pino's table. pino-pretty reads the numbers itself.
      ...(opts.format === "json" ? { formatters: { level: (label: string) => ({ level: label }) } } : {}),
    },
    stream,
  );
  const at =
    (level: Exclude<LogLevel, "silent">) =>
    (msg: string, fields?: LogFields): void => {
      if (fields) logger[level](fields, msg);
      else logger[level](msg);
    };
  return Object.assign((line: string) => logger.info(line), { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") });
}

/** A Log over a plain line printer (the stdio MCP server writes to stderr; stdout is its protocol channel). */
export function lineLog(print: (line: string) => void): Log {
  const at = (msg: string, fields?: LogFields) => print(fields ? `${msg} ${JSON.stringify(fields)}` : msg);
  return Object.assign((line: string) => print(line), { debug: at, info: at, warn: at, error: at });
}

/** Either kind of logger a caller hands over, as a Log. */
export const asLog = (log: Log | ((line: string) => void)): Log => ("error" in log ? (log as Log) : lineLog(log));
