// CLI entry: parses argv with the command tree in src/cli/commands.ts (serve is the default) and exits 0, 1 or 2.
import "./production-env";
import { PRIVATE_UMASK } from "./lib/private-files";
import { jitWhileStarting } from "./lib/jit";
import { rootCommand } from "./cli/commands";
import { runCli } from "./cli/runner";
import { version } from "../package.json";

// Everything this process creates (db, -wal/-shm, artifacts, outbox, backups) is owner-only, whatever the shell's umask.
process.umask(PRIVATE_UMASK);
jitWhileStarting();

// No top-level await: the binary is compiled with --bytecode, which needs a plain module. Commands that keep
// running (serve, mcp) return early; the process then lives on their servers.
runCli(rootCommand(version), process.argv.slice(2), version, "serve").then(
  (code) => {
    // A command that failed (or set process.exitCode, as doctor and health do) is done: a socket still open to a
    // database that never answered must not hold the process after its report.
    const exit = code || Number(process.exitCode ?? 0);
    if (exit !== 0) process.exit(exit);
  },
  // runCli answers every failure with an exit code; this is for a bug in that answer itself.
  (e: unknown) => {
    console.error(`clanker: ${(e as Error)?.stack ?? e}`);
    process.exit(1);
  },
);
