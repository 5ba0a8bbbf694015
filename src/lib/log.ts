// The server's logger: pino, JSON lines or pretty text on stdout, written from this thread (no worker transports:
// their thread entry is a file path that does not exist inside the compiled binary).
import { tracingChannel } from "node:diagnostics_channel";
import { writeSync } from "node:fs";
import pino from "pino";
import type PinoPretty from "pino-pretty";
import { stdoutIsTerminal } from "./terminal";

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
  /** The access line of one answered request, at info: `GET /api/v1/profile 200 0.4ms req_…` with those fields. */
  access(method: string, route: string, status: number, ms: number, requestId: string): void;
}

type AccessLog = Log["access"];
/** The access line as a message and fields, through any line writer (the generic way). */
const accessVia =
  (line: (msg: string, fields: LogFields) => void): AccessLog =>
  (method, route, status, ms, requestId) =>
    line(`${method} ${route} ${status} ${ms}ms ${requestId}`, { requestId, method, route, status, ms });

// Fields the pretty format leaves out: the access line's message already says them.
const PRETTY_HIDDEN = "pid,hostname,requestId,method,route,status,ms";

export function createLog(opts: { level: LogLevel; format: LogFormat }): Log {
  // JSON lines (the access log's and pino's own) share stdoutLines, so they stay in order.
  const stream =
    opts.format === "pretty"
      ? // Loaded only when asked for: it costs a CLI start about half a second.
        (require("pino-pretty") as typeof PinoPretty)({ sync: true, colorize: stdoutIsTerminal(), translateTime: "SYS:HH:MM:ss.l", ignore: PRETTY_HIDDEN })
      : stdoutLines;
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
  const json = opts.format === "json";
  const head = (level: string) => `{"level":${JSON.stringify(level)}`;
  const infoHead = head("info");
  const pidPart = `,"pid":${process.pid}`;
  const at = (level: Exclude<LogLevel, "silent">) => {
    const levelVal = pino.levels.values[level]!;
    const start = head(level);
    const line = (msg: string, fields?: LogFields): void => {
      if (!fields) return void logger[level](msg);
      // The access log's case (a flat object of strings and numbers, one line per request): the exact line pino
      // writes, built here. pino's generic path cost ~4.7 µs a line here; this ~1.3.
      if (json) {
        if (logger.levelVal > levelVal) return;
        const props = flatProps(fields);
        if (props !== null) return void stdoutLines.write(`${start}${isoTime()}${pidPart}${props},"msg":${quoted(msg)}}\n`);
      }
      logger[level](fields, msg);
    };
    // An error is out at once (with the lines before it): the process may be about to die of it.
    return level === "error" ? (msg: string, fields?: LogFields) => (line(msg, fields), stdoutLines.flush()) : line;
  };
  const info = at("info");
  const infoVal = pino.levels.values.info!;
  // `,"method":"GET","route":"/api/v1/profile"` and the message's `GET /api/v1/profile` per route (bounded): the
  // same line info() writes, without building and walking a fields object per request.
  const routeParts = new Map<string, Map<string, { fields: string; text: string } | null>>();
  const routePart = (method: string, route: string) => {
    let byRoute = routeParts.get(method);
    if (!byRoute) routeParts.set(method, (byRoute = new Map()));
    let part = byRoute.get(route);
    if (part === undefined) {
      // A name that JSON would escape takes the generic path.
      part = PLAIN.test(method) && PLAIN.test(route) ? { fields: `,"method":"${method}","route":"${route}"`, text: `${method} ${route}` } : null;
      if (byRoute.size < 1024) byRoute.set(route, part);
    }
    return part;
  };
  const generic = accessVia(info);
  const access: AccessLog = (method, route, status, ms, requestId) => {
    if (!json) return generic(method, route, status, ms, requestId);
    if (logger.levelVal > infoVal) return;
    const part = routePart(method, route);
    if (part === null || !PLAIN.test(requestId) || !Number.isFinite(ms)) return generic(method, route, status, ms, requestId);
    stdoutLines.write(`${infoHead}${isoTime()}${pidPart},"requestId":"${requestId}"${part.fields},"status":${status},"ms":${ms},"msg":"${part.text} ${status} ${ms}ms ${requestId}"}\n`);
  };
  return Object.assign((line: string) => logger.info(line), { debug: at("debug"), info, warn: at("warn"), error: at("error"), access });
}

/**
 * stdout for JSON lines: what one event-loop turn logs leaves in one write when the turn ends (a setImmediate), not
 * one write(2) per line: under load the access lines of every request answered in the turn share one syscall
 * (GET /api/v1/profile +2-8 % per CPU). Kept: order, errors at once, everything at exit; a SIGKILL loses at most
 * the current turn's lines.
 * Written straight to fd 1; a full non-blocking pipe or a short write goes to pino's sync destination (which waits
 * it out), and a closed or broken stdout turns the shortcut off (the destination then drops lines, as pino does).
 */
const stdoutLines = (() => {
  let fallback: { write(text: string): unknown } | null = null;
  const slow = (text: string) => (fallback ??= pino.destination({ dest: 1, sync: true })).write(text);
  let pending = "";
  let scheduled = false;
  let direct = true;
  const flush = (): void => {
    scheduled = false;
    if (pending === "") return;
    const text = pending;
    pending = "";
    if (direct) {
      try {
        const n = writeSync(1, text);
        if (n !== Buffer.byteLength(text)) slow(Buffer.from(text).subarray(n).toString());
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EAGAIN") direct = false;
      }
    }
    slow(text);
  };
  process.on("exit", flush);
  return {
    write(line: string): void {
      pending += line;
      if (pending.length >= 64 * 1024) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
})();

// Keys pino writes itself: an object carrying one goes the generic way.
const OWN_KEYS = new Set(["level", "time", "pid", "msg", "hostname", "err", "error"]);

/** `,"k":` per field name: the access line's five names are quoted once, not on every line (bounded). */
const keyParts = new Map<string, string>();
const keyPart = (k: string): string => {
  let part = keyParts.get(k);
  if (part === undefined) {
    part = `,${JSON.stringify(k)}:`;
    if (keyParts.size < 256) keyParts.set(k, part);
  }
  return part;
};

// Printable ASCII without `"` or `\`: quoted as is, which is what JSON.stringify would write (and cheaper).
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const quoted = (v: string): string => (PLAIN.test(v) ? `"${v}"` : JSON.stringify(v));

/** `,"k":v` for each field, as pino writes them, or null when a value is not a plain string, number or boolean. */
function flatProps(fields: LogFields): string | null {
  let out = "";
  for (const k in fields) {
    if (!Object.hasOwn(fields, k)) continue;
    const v = fields[k];
    if (OWN_KEYS.has(k)) return null;
    switch (typeof v) {
      case "undefined":
        continue; // pino leaves these out
      case "string":
        out += keyPart(k) + quoted(v);
        continue;
      case "number":
        out += keyPart(k) + (Number.isFinite(v) ? v : "null");
        continue;
      case "boolean":
        out += keyPart(k) + v;
        continue;
      default:
        if (v === null) {
          out += `${keyPart(k)}null`;
          continue;
        }
        return null;
    }
  }
  return out;
}

/** A Log over a plain line printer (the stdio MCP server writes to stderr; stdout is its protocol channel). */
export function lineLog(print: (line: string) => void): Log {
  const at = (msg: string, fields?: LogFields) => print(fields ? `${msg} ${JSON.stringify(fields)}` : msg);
  return Object.assign((line: string) => print(line), { debug: at, info: at, warn: at, error: at, access: accessVia(at) });
}

/** Either kind of logger a caller hands over, as a Log. */
export const asLog = (log: Log | ((line: string) => void)): Log => ("error" in log ? (log as Log) : lineLog(log));
