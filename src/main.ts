// CLI entry: serve (default) | mcp | keys | sessions | skills | credits | backup | migrate.
import "./production-env";
import { parseArgs } from "node:util";
import { ConfigError, loadConfig, type Config } from "./config";
import { backup, migrate, openStore } from "./store/db";
import { dbPath, startServer, StartError, type Running } from "./server";
import { DataDirInUseError } from "./store/data-lock";
import { runKeysCommand, runSessionsCommand } from "./cli/identity";
import { runSkillsCommand } from "./cli/skills";
import { runCreditsCommand } from "./cli/credits";
import { runMcpStdio } from "./mcp/stdio";

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
  backup FILE               Write a consistent copy of the live database to FILE
  migrate                   Apply pending database migrations and exit
`;

function fail(message: string): never {
  console.error(`clanker: ${message}`);
  process.exit(2);
}

async function main(argv: string[]): Promise<void> {
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
    if (e instanceof ConfigError) fail(e.message);
    throw e;
  }
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
    case "mcp":
      return runMcpStdio(config, values["api-key"] ?? process.env.CLANKER_API_KEY);
    case "credits":
      return withStore((store) => runCreditsCommand(store, config, positionals, values));
    case "skills":
      return runSkillsCommand(config, positionals);
    case "sessions":
      return withStore((store) => runSessionsCommand(store, positionals, values));
    case "backup": {
      const file = positionals[0];
      if (!file) fail("backup needs a FILE");
      withStore((store) => backup(store, file));
      console.log(`Backup written to ${file}`);
      return;
    }
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
