// CLI entry: serve (default) | mcp | keys | sessions | skills | credits | backup | restore | health | migrate.
import "./production-env";
import { parseArgs } from "node:util";
import { join } from "node:path";
import { ConfigError, loadConfig, type Config } from "./config";
import { migrate, openStore } from "./store/db";
import { prepareDataDir } from "./store/data-dir";
import { PRIVATE_UMASK } from "./lib/private-files";
import type { Running } from "./server";
import { DataDirInUseError } from "./store/data-lock";
import { runKeysCommand, runSessionsCommand } from "./cli/identity";
import { runSkillsCommand } from "./cli/skills";
import { runCreditsCommand } from "./cli/credits";
import { runBackupCommand, runRestoreCommand } from "./cli/backup";
import { runHealthCommand } from "./cli/health";

const USAGE = `Usage: clanker [command] [options]

Commands:
  serve                     Start the API server (default)
      --port N --host H --data DIR   (env PORT, HOST, CLANKER_DATA_DIR)
  mcp [--api-key KEY]       Speak MCP on stdin/stdout against the data dir (env CLANKER_API_KEY; default: the local owner)
  keys create --name NAME [--email EMAIL] [--workspace SLUG]
                            Create an API key (and its user and workspace if missing); prints the key last
  sessions create --email EMAIL
                            Create a session token for x-auth-token; prints the token last
  credits grant --workspace SLUG --amount N
                            Add credits to a workspace
  skills import PATH        Import a skill folder (or a folder of them) into the data dir
  skills list               List the catalog: bundled, imported and CLANKER_SKILLS_DIR skills
  backup PATH               Write a restorable backup folder to PATH (new): database, master key (SECRET),
                            artifacts and imported skills; safe while the server runs
  restore PATH --data DIR   Restore a backup folder into DIR (new or empty), then: clanker serve --data DIR
  health                    GET /healthz on the configured host and port; exit 0 if it answers 200, else 1
  migrate                   Apply pending database migrations and exit
`;

function fail(message: string, code = 2): never {
  console.error(`clanker: ${message}`);
  process.exit(code);
}

async function main(argv: string[]): Promise<void> {
  // Everything this process creates (db, -wal/-shm, artifacts, outbox, backups) is owner-only, whatever the shell's umask.
  process.umask(PRIVATE_UMASK);
  const command = argv[0] && !argv[0].startsWith("-") ? argv[0] : "serve";
  const rest = command === argv[0] ? argv.slice(1) : argv;
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        data: { type: "string" },
        name: { type: "string" },
        email: { type: "string" },
        workspace: { type: "string" },
        amount: { type: "string" },
        "api-key": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (e) {
    fail((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help || command === "help") {
    console.log(USAGE);
    return;
  }
  let config: Config;
  try {
    config = loadConfig({ port: values.port, host: values.host, data: values.data });
  } catch (e) {
    // Docker reserves a HEALTHCHECK's exit code 2: health reports any failure as 1.
    if (e instanceof ConfigError) fail(e.message, command === "health" ? 1 : 2);
    throw e;
  }
  // Made 0700, or tightened once if an older version left it 0755 with 0644 files. Not for backup (reads only),
  // restore (wants its DIR new or empty) or health (no data dir at all).
  if (["serve", "mcp", "keys", "sessions", "credits", "skills", "migrate"].includes(command)) {
    const loose = prepareDataDir(config.dataDir);
    if (loose.length) console.error(`clanker: warning: ${loose[0]}${loose.length > 1 ? ` and ${loose.length - 1} more` : ""} stay readable by others (owned by another user)`);
  }
  // Not server.ts's dbPath: importing server.ts loads the whole HTTP app, which `clanker mcp` must not wait for.
  const dbPath = (c: Config) => join(c.dataDir, "clanker.db");
  const withStore = <T>(fn: (store: ReturnType<typeof openStore>) => T): T => {
    const store = openStore(dbPath(config));
    try {
      migrate(store);
      return fn(store);
    } finally {
      store.close();
    }
  };

  switch (command) {
    case "serve": {
      // Each command loads only what it needs (an agent launching `clanker mcp` waits for every import).
      const { startServer, StartError } = await import("./server");
      const log = config.logLevel === "silent" ? () => {} : (line: string) => console.log(line);
      let running: Running;
      try {
        running = startServer(config, log);
      } catch (e) {
        if (e instanceof StartError || e instanceof DataDirInUseError) fail(e.message);
        throw e;
      }
      handleSignals(running);
      return;
    }
    case "keys":
      return withStore((store) => runKeysCommand(store, positionals, values));
    case "mcp": {
      const { runMcpStdio } = await import("./mcp/stdio");
      return runMcpStdio(config, values["api-key"] ?? process.env.CLANKER_API_KEY);
    }
    case "credits":
      return withStore((store) => runCreditsCommand(store, config, positionals, values));
    case "skills":
      return runSkillsCommand(config, positionals);
    case "sessions":
      return withStore((store) => runSessionsCommand(store, positionals, values));
    case "backup":
      return runBackupCommand(config, positionals);
    case "restore":
      return runRestoreCommand(config, positionals);
    case "health":
      process.exitCode = await runHealthCommand(config);
      return;
    case "migrate": {
      const store = openStore(dbPath(config));
      const applied = migrate(store);
      store.close();
      console.log(applied.length ? `Applied ${applied.join(", ")}` : "The store is up to date");
      return;
    }
    default:
      fail(`unknown command '${command}'\n\n${USAGE}`);
  }
}

/**
 * SIGTERM/SIGINT drain the server, then exit 0; a second signal stops it at once. Ctrl-C under `npm start`
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
    running.stopNow(signal);
    process.exit(0);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

// No top-level await: the binary is compiled with --bytecode, which needs a plain module.
main(process.argv.slice(2)).catch((e) => {
  console.error(`clanker: ${(e as Error)?.stack ?? e}`);
  process.exit(1);
});
