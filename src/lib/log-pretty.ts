// pino-pretty's formatter (CLANKER_LOG_FORMAT=pretty), in a module of its own that log.ts requires when asked for it:
// pino-pretty is CommonJS, which the bundler folds into the chunk that requires it, so required from log.ts it made
// the chunk every start reads larger by ~8 ms of start-up here; from here it gets a chunk of its own.
import PinoPretty from "pino-pretty";

// Fields the pretty format leaves out: the access line's message already says them.
const PRETTY_HIDDEN = "pid,hostname,requestId,method,route,status,ms";

/** A JSON line (with the level's number) in, a text line out. */
export const prettyFormatter = (colorize: boolean): ((jsonLine: string) => string) =>
  PinoPretty.prettyFactory({ colorize, translateTime: "SYS:HH:MM:ss.l", ignore: PRETTY_HIDDEN });
