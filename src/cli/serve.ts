// `clanker serve`: starts the server and drains it on SIGTERM/SIGINT.
import { readFileSync } from "node:fs";
import type { Config } from "../config";
import { startServer, StartError, type Running } from "../server";
import { DataDirInUseError } from "../store/data-lock";
import { MasterKeyError } from "../lib/master-key-text";
import { SchemaError } from "../store/newer-schema";
import { UsageError } from "./errors";
import { jitForServing } from "../lib/jit";

export async function serveCommand(config: Config): Promise<void> {
  const log = config.logLevel === "silent" ? () => {} : (line: string) => console.log(line);
  let running: Running;
  try {
    running = await startServer(config, log);
  } catch (e) {
    // A busy port, a data dir another server holds, a master key that cannot open the database's secrets, a database a
    // newer version migrated or a migration failed: the operator changes the command line, the environment or the data (exit 2).
    if (e instanceof StartError || e instanceof DataDirInUseError || e instanceof MasterKeyError || e instanceof SchemaError) throw new UsageError(e.message);
    throw e;
  }
  handleSignals(running);
  jitForServing();
}

/**
 * SIGTERM/SIGINT/SIGHUP drain the server, then exit 0; a second signal stops it at once. Ctrl-C under `npm start`
 * reaches us twice (from the terminal and forwarded by npm), so a repeat within a second counts as the same one.
 */
function handleSignals(running: Running): void {
  let first = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!first) {
      first = Date.now();
      running.shutdown(signal).then(
        () => process.exit(0),
        (e) => {
          console.error(`clanker: shutdown failed: ${(e as Error)?.stack ?? e}`);
          process.exit(1);
        },
      );
      return;
    }
    if (Date.now() - first < 1000) return;
    // The requeue and the store's last commit still happen (quick); the grace wait is what is skipped.
    running.stopNow(signal).then(
      () => process.exit(0),
      (e) => {
        console.error(`clanker: stop failed: ${(e as Error)?.stack ?? e}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  // The terminal it was started from closed (an ssh session dropped): drained as well, not killed mid-run. Unless it
  // was started to outlive it (nohup, or a supervisor ignoring SIGHUP): a handler would undo that.
  if (!ignoresSignal(1)) process.on("SIGHUP", onSignal);
}

/** Whether this process was started ignoring signal `n` (Linux's /proc says; elsewhere, taken as not). */
function ignoresSignal(n: number): boolean {
  try {
    const mask = /^SigIgn:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    return mask !== undefined && (BigInt(`0x${mask}`) & (1n << BigInt(n - 1))) !== 0n;
  } catch {
    return false;
  }
}
