// The `clanker` command tree: each command's flags, help and examples. Every run() imports its module lazily, so
// `clanker mcp` or `clanker --help` never loads the HTTP server (stdio start time is measured).
import type { Config } from "../config";
import type { Store } from "../store/db";
import { Failure, UsageError } from "./errors";
import type { ArgsDef, CommandDef } from "citty";
import type { Cmd } from "./runner";

/** citty's defineCommand with examples: the args' types flow into run(). */
function command<const T extends ArgsDef>(def: CommandDef<T> & { examples?: string[]; usageExit?: 1 | 2 }): Cmd {
  return def as unknown as Cmd;
}

const data = { type: "string", valueHint: "DIR", description: "Data dir (env CLANKER_DATA_DIR; default ./data)" } as const;
const port = { type: "string", valueHint: "N", description: "Port (env PORT; default 4377)" } as const;
const host = { type: "string", valueHint: "HOST", description: "Address to bind (env HOST; default 127.0.0.1)" } as const;

interface ConfigArgs {
  port?: string;
  host?: string;
  data?: string;
}

/** The validated config; a bad flag or env var is a usage error (exit 2) unless `failCode` says otherwise. */
async function configOf(
  args: ConfigArgs,
  opts: { dataDir?: boolean; existing?: boolean; announceNew?: boolean; failCode?: 1 | 2; before?: (config: Config) => Promise<void> } = {},
): Promise<Config> {
  const [{ loadConfig }, { ConfigError }] = await Promise.all([import("../config"), import("../config-values")]);
  let config: Config;
  try {
    config = loadConfig({ port: args.port, host: args.host, data: args.data });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    if (opts.failCode === 1) throw new Failure(e.message, 1);
    throw new UsageError(e.message);
  }
  // A command that only reads or changes what is there: a mistyped --data must not make an empty store to answer from.
  // A half-restored data dir is refused first, before `before` makes anything in it (serve's backup folder).
  if (opts.existing || opts.dataDir) {
    const { noDataIn, unfinishedRestore } = await import("../store/data-dir");
    const why = opts.existing && !config.databaseUrl ? noDataIn(config.dataDir) : unfinishedRestore(config.dataDir);
    if (why) throw new UsageError(why);
  }
  await opts.before?.(config);
  if (opts.dataDir) {
    // Made 0700, or tightened once if an older version left it 0755 with 0644 files.
    const { prepareDataDir } = await import("../store/data-dir");
    const loose = prepareDataDir(config.dataDir);
    if (loose.length) console.error(`clanker: warning: ${loose[0]}${loose.length > 1 ? ` and ${loose.length - 1} more` : ""} ${loose.length > 1 ? "stay" : "stays"} readable by others (owned by another user)`);
  }
  // A command that makes the store where there is none says so on stderr (once the folder is there to make it in): a
  // mistyped --data in an agent's MCP config would otherwise act, silently, in a new and empty store.
  if (opts.announceNew && !config.databaseUrl) {
    const { hasDatabase } = await import("../store/data-dir");
    if (!hasDatabase(config.dataDir)) console.error(`clanker: no clanker data in ${config.dataDir} yet: making a new store there (if you meant another folder, check --data or CLANKER_DATA_DIR)`);
  }
  return config;
}

/**
 * Refuses, before anything is made, when stdout is /dev/null: a secret printed once would be shown to nobody. Closed
 * (`>&-`), fd 1 is /dev/null too: Bun reopens it there. No command that prints a secret can send it elsewhere.
 */
async function refuseUnseenSecret(what: string): Promise<void> {
  const { fstatSync, statSync } = await import("node:fs");
  let out;
  try {
    out = fstatSync(1);
  } catch {
    out = null; // no fd 1 at all
  }
  const devNull = statSync("/dev/null", { throwIfNoEntry: false });
  if (out === null || (devNull && out.isCharacterDevice() && out.rdev === devNull.rdev))
    throw new UsageError(`stdout is closed or /dev/null: the new ${what} would be shown to nobody, and is not made; run it with stdout to a terminal, a pipe or a file`);
}

/** Opens (and migrates) the data dir's store for one command, and closes it after. */
async function withStore<T>(config: Config, fn: (store: Store) => T | Promise<T>): Promise<T> {
  const { openStore, storeOptions } = await import("../store/db");
  const store = await openStore(storeOptions(config));
  try {
    await migrated(store);
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Applies the pending migrations (their tags); a database a newer clanker migrated, or a migration that fails, is a usage error (exit 2, one line). */
async function migrated(store: Store): Promise<string[]> {
  const [{ migrate }, { SchemaError }] = await Promise.all([import("../store/db"), import("../store/newer-schema")]);
  try {
    return await migrate(store);
  } catch (e) {
    throw e instanceof SchemaError ? new UsageError(e.message) : e;
  }
}

/** The store only where files live in it (PostgreSQL): on SQLite the data dir's files need no database opened. */
async function withFilesStore<T>(config: Config, fn: (store: Store | null) => T | Promise<T>): Promise<T> {
  return config.databaseUrl ? withStore(config, fn) : fn(null);
}

const serve = command({
  meta: { name: "clanker serve", description: "Start the API server, the web app and MCP over HTTP (the default command)" },
  args: { port, host, data },
  examples: ["clanker serve", "clanker serve --port 8080 --host 0.0.0.0 --data /var/lib/clanker"],
  async run({ args }) {
    const config = await configOf(args, {
      dataDir: true,
      before: async (c) => {
        const [{ refuseUnusableAddress, StartError }, { unusableBackupDir }] = await Promise.all([import("../server"), import("../jobs/backups")]);
        try {
          refuseUnusableAddress(c);
        } catch (e) {
          throw e instanceof StartError ? new UsageError(e.message) : e;
        }
        const backups = unusableBackupDir(c);
        if (backups) throw new UsageError(backups);
      },
    });
    const { serveCommand } = await import("./serve");
    await serveCommand(config);
  },
});

const mcp = command({
  meta: { name: "clanker mcp", description: "Speak MCP on stdin/stdout against the data dir (for an agent that launches clanker)" },
  args: {
    "api-key": { type: "string", valueHint: "KEY", description: "Act as this API key (env CLANKER_API_KEY; default: the local owner)" },
    data,
    port: { ...port, description: "Port of the HTTP server, for links (env PORT)" },
    host: { ...host, description: "Host of the HTTP server, for links (env HOST)" },
  },
  examples: ["clanker mcp --data ./data", "CLANKER_API_KEY=ck_... clanker mcp"],
  async run({ args }) {
    const fromEnv = process.env.CLANKER_API_KEY;
    // Unlike other variables, set to nothing is not unset here: an agent's config filling "${CLANKER_API_KEY}" from an
    // unset variable would otherwise act, silently, as the local owner (the reason `--api-key ""` is refused too).
    if (args["api-key"] === undefined && fromEnv !== undefined && fromEnv.trim() === "")
      throw new UsageError("CLANKER_API_KEY is set but empty: set it to an API key (clanker keys create makes one), or remove it to act as the local owner", "clanker mcp --help");
    const config = await configOf(args, { dataDir: true, announceNew: true });
    const { runMcpStdio } = await import("../mcp/stdio");
    await runMcpStdio(config, args["api-key"] ?? fromEnv);
  },
});

const keys: Cmd = {
  meta: { name: "clanker keys", description: "Create, list and revoke API keys" },
  subCommands: {
    create: command({
      meta: { name: "clanker keys create", description: "Create an API key (and its user and workspace if missing); prints the key last" },
      args: {
        name: { type: "string", valueHint: "NAME", required: true, description: "A name for the key" },
        email: { type: "string", valueHint: "EMAIL", description: "The key's user (made if new; default: the local owner)" },
        workspace: { type: "string", valueHint: "SLUG", description: "Workspace (made if new; default: the user's personal one)" },
        data,
      },
      examples: ['clanker keys create --name "my key" --email you@example.com', "clanker keys create --name ci --workspace team"],
      async run({ args }) {
        await refuseUnseenSecret("key");
        const config = await configOf(args, { dataDir: true, announceNew: true });
        const { runKeysCreate } = await import("./identity");
        await withStore(config, (store) => runKeysCreate(store, config, args));
      },
    }),
    list: command({
      meta: { name: "clanker keys list", description: "List API keys: id, name, prefix, workspace, user, created, last used, status (never the key)" },
      args: { workspace: { type: "string", valueHint: "SLUG", description: "Only this workspace's keys" }, data },
      examples: ["clanker keys list", "clanker keys list --workspace team"],
      async run({ args }) {
        const config = await configOf(args, { dataDir: true, existing: true });
        const { runKeysList } = await import("./keys");
        await withStore(config, (store) => runKeysList(store, config, args));
      },
    }),
    revoke: command({
      meta: { name: "clanker keys revoke", description: "Revoke an API key (audited); a running server refuses it within 5 seconds" },
      args: { id: { type: "positional", required: true, valueHint: "ID", description: "The key's id, e.g. key_12 (see clanker keys list)" }, data },
      examples: ["clanker keys revoke key_12"],
      async run({ args }) {
        const config = await configOf(args, { dataDir: true, existing: true });
        const { runKeysRevoke } = await import("./keys");
        await withStore(config, (store) => runKeysRevoke(store, args.id));
      },
    }),
  },
};

const sessions: Cmd = {
  meta: { name: "clanker sessions", description: "Create session tokens" },
  subCommands: {
    create: command({
      meta: { name: "clanker sessions create", description: "Create a session token for x-auth-token; prints the token last" },
      args: { email: { type: "string", valueHint: "EMAIL", required: true, description: "The user (made if new)" }, data },
      examples: ["clanker sessions create --email you@example.com"],
      async run({ args }) {
        await refuseUnseenSecret("session token");
        const config = await configOf(args, { dataDir: true, announceNew: true });
        const { runSessionsCreate } = await import("./identity");
        await withStore(config, (store) => runSessionsCreate(store, args.email));
      },
    }),
  },
};

const credits: Cmd = {
  meta: { name: "clanker credits", description: "Manage workspace credits" },
  subCommands: {
    grant: command({
      meta: { name: "clanker credits grant", description: "Add credits to a workspace's ledger" },
      args: {
        workspace: { type: "string", valueHint: "SLUG", required: true, description: "The workspace's slug" },
        amount: { type: "string", valueHint: "N", required: true, description: "Credits to add (a positive number, up to 6 decimals)" },
        data,
      },
      examples: ["clanker credits grant --workspace team --amount 50"],
      async run({ args }) {
        const config = await configOf(args, { dataDir: true, existing: true });
        const { runCreditsCommand } = await import("./credits");
        await withStore(config, (store) => runCreditsCommand(store, config, args));
      },
    }),
  },
};

const skills: Cmd = {
  meta: { name: "clanker skills", description: "Import and list skills" },
  subCommands: {
    import: command({
      meta: { name: "clanker skills import", description: "Import a skill folder (or a folder of them) into the data dir (the database under DATABASE_URL)" },
      args: { path: { type: "positional", required: true, valueHint: "PATH", description: "A folder with a SKILL.md, or a folder of such folders" }, data },
      examples: ["clanker skills import ./my-skills"],
      async run({ args }) {
        const config = await configOf(args, { dataDir: true });
        const { runSkillsImport } = await import("./skills");
        await withFilesStore(config, (store) => runSkillsImport(config, store, args.path));
      },
    }),
    list: command({
      meta: { name: "clanker skills list", description: "List the catalog: bundled, imported and CLANKER_SKILLS_DIR skills" },
      args: { data },
      examples: ["clanker skills list"],
      async run({ args }) {
        // Looks only: a data dir that is not there has no imported skills, and is not made for that.
        const config = await configOf(args);
        const { runSkillsList } = await import("./skills");
        await withFilesStore(config, (store) => runSkillsList(config, store));
      },
    }),
  },
};

const backup = command({
  meta: { name: "clanker backup", description: "Write a restorable backup folder (database, master key: SECRET, artifacts, skills); safe while the server runs" },
  args: { path: { type: "positional", required: true, valueHint: "PATH", description: "A new folder" }, data },
  examples: ["clanker backup ./backups/today", "clanker backup /mnt/backup/clanker --data /var/lib/clanker"],
  async run({ args }) {
    // Reads only: the data dir is not prepared (or created) for it.
    const config = await configOf(args);
    const { runBackupCommand } = await import("./backup");
    await runBackupCommand(config, args.path);
  },
});

const restore = command({
  meta: { name: "clanker restore", description: "Restore a backup folder into a new or empty data dir" },
  args: { path: { type: "positional", required: true, valueHint: "PATH", description: "A folder written by clanker backup" }, data },
  examples: ["clanker restore ./backups/today --data ./data2 && clanker serve --data ./data2"],
  async run({ args }) {
    // Wants its DIR new or empty: not prepared beforehand.
    const config = await configOf(args);
    const { runRestoreCommand } = await import("./backup");
    await runRestoreCommand(config, args.path);
  },
});

const health = command({
  meta: { name: "clanker health", description: "GET /healthz on the configured host and port; exit 0 if it answers 200, else 1" },
  args: { port: { ...port, description: "Port of the server to ask (env PORT; default 4377)" }, host: { ...host, description: "Host of the server to ask (env HOST; default 127.0.0.1)" } },
  examples: ["clanker health", "clanker health --port 8080"],
  // Docker reserves a HEALTHCHECK's exit code 2: any failure here is 1, a mistyped flag or a bad setting included.
  usageExit: 1,
  async run({ args }) {
    const config = await configOf(args, { failCode: 1 });
    const { runHealthCommand } = await import("./health");
    process.exitCode = await runHealthCommand(config);
  },
});

const migrate = command({
  meta: { name: "clanker migrate", description: "Apply pending database migrations and exit" },
  args: { data },
  examples: ["clanker migrate --data ./data"],
  async run({ args }) {
    const config = await configOf(args, { dataDir: true });
    const { openStore, storeOptions } = await import("../store/db");
    const store = await openStore(storeOptions(config));
    let applied: string[];
    try {
      applied = await migrated(store);
    } finally {
      await store.close();
    }
    console.log(applied.length ? `Applied ${applied.join(", ")}` : "The store is up to date");
  },
});

const doctor = command({
  meta: { name: "clanker doctor", description: "Check the database (reachable, migrated), Redis, the master key and the data dir; exit 0 if all pass, else 1" },
  args: { data },
  examples: ["clanker doctor", "DATABASE_URL=postgres://… REDIS_URL=redis://… CLANKER_MASTER_KEY=… clanker doctor"],
  async run({ args }) {
    // Looks only: the data dir is neither made nor tightened, and nothing is migrated.
    const config = await configOf(args);
    const { runDoctor } = await import("./doctor");
    process.exitCode = await runDoctor(config);
  },
});

const help = command({
  meta: { name: "clanker help", description: "Show the help of clanker or of a command" },
  args: { command: { type: "positional", valueHint: "COMMAND", required: false, description: "e.g. keys create" } },
  examples: ["clanker help keys create"],
});

export function rootCommand(version: string): Cmd {
  return {
    meta: { name: "clanker", version, description: "Clanker API v1, self-hosted" },
    subCommands: { serve, mcp, keys, sessions, credits, skills, backup, restore, health, migrate, doctor, help },
    examples: [
      "clanker                      # same as clanker serve",
      'clanker keys create --name "my key" --email you@example.com',
      "clanker keys create --help",
    ],
    notes: ["EXIT CODES  0 done · 1 failed (for health: any failure) · 2 usage error: unknown command or flag, missing or bad value, bad setting"],
  };
}
