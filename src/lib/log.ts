// The server's logger: JSON lines in pino's format (byte for byte: test/log-lines.test.ts holds them against pino's
// own) or pretty text (pino-pretty's), on stdout, written from this thread. Not pino itself: every line was already
// built here on the hot path, and loading pino (its streams, its worker-thread transport) cost each start ~10 ms.
import { writeSync } from "node:fs";
import { colourWanted } from "./terminal";

// Every line says its time; under load many lines share a millisecond, so the text is reused.
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

/** pino's level numbers: what the pretty format is given (it names them), and what a level is compared by. */
const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;

export function createLog(opts: { level: LogLevel; format: LogFormat }): Log {
  const threshold = opts.level === "silent" ? Infinity : LEVELS[opts.level];
  const json = opts.format === "json";
  // Loaded only when asked for (see log-pretty.ts).
  const pretty = json ? null : (require("./log-pretty") as typeof import("./log-pretty")).prettyFormatter(colourWanted());
  const pidPart = `,"pid":${process.pid}`;
  const at = (level: Exclude<LogLevel, "silent">) => {
    const value = LEVELS[level];
    const head = json ? `{"level":"${level}"` : `{"level":${value}`;
    const line = (msg: string, fields?: LogFields): void => {
      if (value < threshold) return;
      const text = `${head}${isoTime()}${pidPart}${fields ? props(fields) : ""},"msg":${quoted(msg)}}\n`;
      stdoutLines.write(pretty ? pretty(text) : text);
    };
    // An error is out at once (with the lines before it): the process may be about to die of it.
    return level === "error" ? (msg: string, fields?: LogFields) => (line(msg, fields), stdoutLines.flush()) : line;
  };
  const info = at("info");
  const infoHead = `{"level":"info"`;
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
    if (LEVELS.info < threshold) return;
    const part = routePart(method, route);
    if (part === null || !PLAIN.test(requestId) || !Number.isFinite(ms)) return generic(method, route, status, ms, requestId);
    stdoutLines.write(`${infoHead}${isoTime()}${pidPart},"requestId":"${requestId}"${part.fields},"status":${status},"ms":${ms},"msg":"${part.text} ${status} ${ms}ms ${requestId}"}\n`);
  };
  return Object.assign((line: string) => info(line), { debug: at("debug"), info, warn: at("warn"), error: at("error"), access });
}

/**
 * stdout for log lines: what one event-loop turn logs leaves in one write when the turn ends (a setImmediate), not
 * one write(2) per line: under load the access lines of every request answered in the turn share one syscall
 * (GET /api/v1/profile +2-8 % per CPU). Kept: order, errors at once, everything at exit; a SIGKILL loses at most
 * the current turn's lines.
 * A full non-blocking pipe (EAGAIN) is waited out, as pino's synchronous destination did; a closed or broken stdout
 * drops the lines from then on (the process must not die of its log).
 */
const stdoutLines = (() => {
  let pending = "";
  let scheduled = false;
  let broken = false;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  /** Writes from byte `at` on, waiting out a full pipe; false once stdout is closed or broken. */
  const write = (text: string, bytes: Buffer | null, at: number): boolean => {
    for (;;) {
      try {
        if (bytes === null) {
          // The usual case: the whole text in one call, with no Buffer made for it.
          const n = writeSync(1, text);
          if (n === Buffer.byteLength(text)) return true;
          bytes = Buffer.from(text);
          at = n;
        } else if ((at += writeSync(1, bytes, at)) >= bytes.length) return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "EAGAIN") return false;
        Atomics.wait(pause, 0, 0, 1); // the reader is behind: 1 ms, then again
      }
    }
  };
  const flush = (): void => {
    scheduled = false;
    const text = pending;
    pending = "";
    if (text !== "" && !broken) broken = !write(text, null, 0);
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

/** `,"k":v` for each field, as pino writes them: undefined left out, a number that JSON cannot hold as null, an Error
 * as pino's err serializer has it (type, message, stack), anything else as JSON (or a note when it cannot be). */
function props(fields: LogFields): string {
  let out = "";
  for (const k in fields) {
    if (!Object.hasOwn(fields, k)) continue;
    const v = fields[k];
    switch (typeof v) {
      case "undefined":
        continue;
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
        out += keyPart(k) + nested(v);
    }
  }
  return out;
}

function nested(v: unknown): string {
  if (v instanceof Error) v = { type: v.name, message: v.message, stack: v.stack };
  try {
    return JSON.stringify(v) ?? "null";
  } catch {
    return `"[unserializable ${typeof v}]"`;
  }
}

/** A Log over a plain line printer (the stdio MCP server writes to stderr; stdout is its protocol channel). */
export function lineLog(print: (line: string) => void): Log {
  const at = (msg: string, fields?: LogFields) => print(fields ? `${msg} ${JSON.stringify(fields)}` : msg);
  return Object.assign((line: string) => print(line), { debug: at, info: at, warn: at, error: at, access: accessVia(at) });
}

/** Either kind of logger a caller hands over, as a Log. */
export const asLog = (log: Log | ((line: string) => void)): Log => ("error" in log ? (log as Log) : lineLog(log));
