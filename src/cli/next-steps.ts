// What a person does next, printed where they need it: the first start (how to get a key, for the way this
// process was started) and `keys create` (a curl line and the MCP config snippets).
import { existsSync, readFileSync } from "node:fs";
import { basename, delimiter, dirname, isAbsolute, join, relative, resolve } from "node:path";
import type { Config } from "../config";
import { runningServerUrl } from "../store/data-lock";
import { urlHost } from "../lib/url-host";

export interface Invocation {
  /** How a person types this CLI in the same shell, e.g. `npm run clanker --` or `./dist/clanker`. */
  shell: string;
  /** What an MCP client launches: absolute paths, no npm (its banner would corrupt stdio). */
  command: string;
  args: string[];
}

const quote = (s: string) => (/^[A-Za-z0-9_./:=@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/** The compiled binary runs its entry from Bun's embedded file system ($bunfs, or B:/~BUN on Windows). */
function isCompiled(main: string): boolean {
  return main.includes("$bunfs") || main.includes("~BUN");
}

function onPath(file: string, env: NodeJS.ProcessEnv): boolean {
  return (env.PATH ?? "").split(delimiter).some((dir) => dir && resolve(dir, basename(file)) === file);
}

/** From the source tree: `npm run clanker --` when cwd is the project (npm start, npm run), else `bun <main.ts>`. */
export function invocation(main = Bun.main, execPath = process.execPath, cwd = process.cwd(), env = process.env): Invocation {
  if (isCompiled(main)) {
    const rel = relative(cwd, execPath);
    const shell = onPath(execPath, env) ? basename(execPath) : !rel.startsWith("..") && !isAbsolute(rel) ? `./${rel}` : execPath;
    // The image's ENTRYPOINT makes the server the container's PID 1: the person is outside, at `docker exec`.
    const inImage = process.pid === 1 && existsSync("/.dockerenv");
    return { shell: inImage ? `docker exec -it <container> ${shell}` : shell, command: execPath, args: [] };
  }
  const root = dirname(dirname(main));
  let ours = false;
  try {
    ours = resolve(cwd) === root && JSON.parse(readFileSync(join(root, "package.json"), "utf8"))?.scripts?.clanker !== undefined;
  } catch {
    // No package.json beside src/: not the project checkout.
  }
  const rel = relative(cwd, main);
  return { shell: ours ? "npm run clanker --" : `bun ${quote(rel.startsWith("..") ? main : rel)}`, command: execPath, args: [main] };
}

/**
 * `--data DIR` when the next command would not find the data dir by itself: run in the same shell, env carries over
 * (a --data flag does not); run in another terminal (the server's first-start steps), only the default does.
 */
function dataFlag(config: Config, env: NodeJS.ProcessEnv = process.env): string {
  return config.dataDir === resolve(env.CLANKER_DATA_DIR || "./data") ? "" : ` --data ${quote(config.dataDir)}`;
}

/** The base URL a person on this machine reaches: a wildcard bind is reached over loopback. */
export function reachableUrl(config: Config, port = config.port): string {
  if (config.publicUrl) return config.publicUrl;
  const h = config.host === "0.0.0.0" ? "127.0.0.1" : config.host === "::" || config.host === "[::]" ? "::1" : config.host;
  return `http://${urlHost(h)}:${port}`;
}

/** Logged on a start with no users yet: the exact command that makes the first key, and where the web app is. */
export function logFirstStartSteps(config: Config, port: number, log: (line: string) => void, inv = invocation()): void {
  log("No users yet. Next steps:");
  log(`  1. Create your first API key:  ${inv.shell} keys create --name "my key" --email you@example.com${dataFlag(config, {})}`);
  log(`  2. Open the web app: ${reachableUrl(config, port)}/ (sign in with that email)`);
}

/** The command that makes a key on this data dir, as this process was started. */
export function keysCreateCommand(config: Config, inv = invocation()): string {
  return `${inv.shell} keys create --name NAME${dataFlag(config)}`;
}

/** Printed by `keys create` before the key: try it with curl, and the MCP config for stdio and for HTTP. The URL
 * is the running server's (it may listen on another port than this command's config says), else the config's. */
export function keysCreateNextSteps(config: Config, inv = invocation()): string[] {
  const base = runningServerUrl(config.dataDir) ?? reachableUrl(config);
  const stdio = { command: inv.command, args: [...inv.args, "mcp", "--data", config.dataDir], env: { CLANKER_API_KEY: "${CLANKER_API_KEY}" } };
  const http = { type: "http", url: `${base}/mcp`, headers: { "x-api-key": "${CLANKER_API_KEY}" } };
  return [
    "Next steps, with CLANKER_API_KEY set to the key printed last:",
    `  Try it (the server running):  curl -H "x-api-key: $CLANKER_API_KEY" ${base}/api/v1/profile`,
    "  MCP over stdio, in your agent's MCP config (put the key in place of ${CLANKER_API_KEY} if it does not expand variables):",
    `    ${JSON.stringify({ mcpServers: { clanker: stdio } })}`,
    "  MCP over HTTP, against the running server:",
    `    ${JSON.stringify({ mcpServers: { clanker: http } })}`,
  ];
}
