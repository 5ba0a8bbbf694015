// Starts the real server (bun src/main.ts serve) on a free port with a fresh temp data dir, and talks to it
// over real HTTP. The CLI helpers run the real `clanker` verbs against the same data dir.
// With CLANKER_TEST_DATABASE_URL set (source .ci/services.sh) each new data dir gets a fresh PostgreSQL database
// (DATABASE_URL) and the servers share CLANKER_TEST_REDIS_URL (REDIS_URL): the same tests, on the replica stack.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";

const ROOT = resolve(import.meta.dir, "../..");
const MAIN = join(ROOT, "src/main.ts");

export interface TestServer {
  url: string;
  dataDir: string;
  env: Record<string, string>;
  /** Runs a CLI verb against this server's data dir; returns stdout, stderr and the exit code. */
  cli(args: string[], env?: Record<string, string>): Promise<{ stdout: string; stderr: string; code: number }>;
  /** `keys create`; returns the new key (the last line of stdout). */
  createKey(opts?: { name?: string; email?: string; workspace?: string }): Promise<string>;
  /** `sessions create`; returns the session token. */
  createSession(email: string): Promise<string>;
  /** The server process's PID (changes on restart). */
  readonly pid: number;
  /** Resolves with the exit code once the server process has ended. */
  exited(): Promise<number>;
  /** Stops gracefully (SIGTERM), or at once with `kill("SIGKILL")`; resolves with the exit code. */
  stop(): Promise<number>;
  kill(signal?: NodeJS.Signals): Promise<number>;
  /** Starts the server again on the same data dir (new port). */
  restart(): Promise<void>;
  logs(): string;
}

export interface StartOptions {
  env?: Record<string, string>;
  dataDir?: string;
  /** A compiled binary to run (serve and the CLI verbs) instead of `bun src/main.ts`. */
  binary?: string;
}

/** Which store the servers of this run use: a test of something only SQLite has skips itself under "postgres". */
export function testDialect(): "sqlite" | "postgres" {
  return process.env.CLANKER_TEST_DATABASE_URL ? "postgres" : "sqlite";
}

/** data dir → the database made for it, so a restart, the CLI and a later startServer on that dir reuse it. */
const databases = new Map<string, string>();

/** postgres.js on the admin URL for one statement (CREATE/DROP DATABASE cannot run in a transaction block). */
async function adminSql(statement: string): Promise<void> {
  const { default: postgres } = await import("postgres");
  const sql = postgres(process.env.CLANKER_TEST_DATABASE_URL!, { max: 1, onnotice: () => {} });
  try {
    await sql.unsafe(statement);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

const urlOf = (name: string) => {
  const url = new URL(process.env.CLANKER_TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  return url.toString();
};

/**
 * One migrated database per test process, copied for every server (CREATE DATABASE … TEMPLATE is a file copy):
 * migrating an empty database at each server start cost about a second. Built by the real `clanker migrate`.
 */
let template: Promise<string> | undefined;
function migratedTemplate(): Promise<string> {
  return (template ??= (async () => {
    const name = `ck_tpl_${process.pid}_${Date.now().toString(36)}`;
    await adminSql(`CREATE DATABASE "${name}"`);
    const p = Bun.spawn([process.execPath, MAIN, "migrate"], {
      env: { ...(process.env as Record<string, string>), DATABASE_URL: urlOf(name), CLANKER_DATA_DIR: mkdtempSync(join(tmpdir(), "clanker-tpl-")) },
      cwd: ROOT,
      stdout: "ignore",
      stderr: "pipe",
    });
    if ((await p.exited) !== 0) throw new Error(`migrating the template database failed: ${await new Response(p.stderr).text()}`);
    return name;
  })());
}

/** The database for a data dir: made on first use (ck_<random>, a copy of the migrated template). */
async function databaseFor(dataDir: string): Promise<string> {
  const known = databases.get(dataDir);
  if (known) return known;
  const name = `ck_${process.pid}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  await adminSql(`CREATE DATABASE "${name}" TEMPLATE "${await migratedTemplate()}"`);
  const url = urlOf(name);
  databases.set(dataDir, url);
  return url;
}

/**
 * DATABASE_URL and REDIS_URL for servers on one database. Every test server shares the one Redis, so each database
 * gets its own key prefix (rate windows, locks, channels): servers on one database are replicas of one deployment,
 * servers on different ones never see each other.
 */
export async function replicaStackEnv(databaseUrl: string): Promise<Record<string, string>> {
  const name = new URL(databaseUrl).pathname.slice(1);
  return {
    DATABASE_URL: databaseUrl,
    ...(process.env.CLANKER_TEST_REDIS_URL ? { REDIS_URL: process.env.CLANKER_TEST_REDIS_URL, CLANKER_REDIS_PREFIX: `ck:${name}:` } : {}),
  };
}

/**
 * For a process a test starts on a data dir of its own (a fresh `serve`, `clanker mcp`) with another server's env:
 * under PostgreSQL, that dir's own database (else it would share the other server's); nothing on SQLite.
 */
export async function ownStoreEnv(dataDir: string): Promise<Record<string, string>> {
  return process.env.CLANKER_TEST_DATABASE_URL ? replicaStackEnv(await databaseFor(dataDir)) : {};
}

/** The PostgreSQL database a data dir's servers use (made by startServer/freshDatabase), or null (SQLite). */
export function databaseUrlOf(dataDir: string): string | null {
  return databases.get(dataDir) ?? null;
}

/** A fresh database on the test PostgreSQL (CLANKER_TEST_DATABASE_URL), dropped with the data dir it is bound to. */
export async function freshDatabase(dataDir: string): Promise<string> {
  return databaseFor(dataDir);
}

let emailSeq = 0;
export const uniqueEmail = (tag = "user") => `${tag}-${process.pid}-${++emailSeq}-${Date.now()}@example.test`;

export async function startServer(opts: StartOptions = {}): Promise<TestServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "clanker-test-"));
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    CLANKER_DATA_DIR: dataDir,
    HOST: "127.0.0.1",
    PORT: "0",
    CLANKER_LOG: "info",
    // stop() drains runs in flight; a suite that stops with a slow run going should not wait 30 s for it.
    CLANKER_SHUTDOWN_GRACE_SECONDS: "2",
    ...(process.env.CLANKER_TEST_DATABASE_URL ? await replicaStackEnv(await databaseFor(dataDir)) : {}),
    ...opts.env,
  };
  const clanker = opts.binary ? [opts.binary] : [process.execPath, MAIN];
  let proc: Subprocess<"ignore", "pipe", "pipe">;
  let output = "";
  let url = "";

  async function launch(): Promise<void> {
    proc = Bun.spawn([...clanker, "serve"], { env, cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    url = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start in 15s:\n${output}`)), 15_000);
      const pump = async (stream: ReadableStream<Uint8Array>) => {
        const decoder = new TextDecoder();
        for await (const chunk of stream) {
          output += decoder.decode(chunk);
          const m = /listening on (http:\/\/\S+)/.exec(output.slice(output.lastIndexOf("Clanker listening")));
          if (m) {
            clearTimeout(timer);
            resolveUrl(m[1]!);
          }
        }
      };
      void pump(proc.stdout);
      void pump(proc.stderr);
      void proc.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`server exited with ${code}:\n${output}`));
      });
    });
  }

  await launch();

  const server: TestServer = {
    get url() {
      return url;
    },
    dataDir,
    env,
    get pid() {
      return proc.pid;
    },
    exited: () => proc.exited,
    async cli(args, extraEnv = {}) {
      const p = Bun.spawn([...clanker, ...args], { env: { ...env, ...extraEnv }, cwd: ROOT, stdout: "pipe", stderr: "pipe" });
      const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      return { stdout, stderr, code };
    },
    async createKey(o = {}) {
      const args = ["keys", "create", "--name", o.name ?? "test key", "--email", o.email ?? uniqueEmail()];
      if (o.workspace) args.push("--workspace", o.workspace);
      const r = await server.cli(args);
      if (r.code !== 0) throw new Error(`keys create failed (${r.code}): ${r.stderr}`);
      return r.stdout.trim().split("\n").pop()!;
    },
    async createSession(email) {
      const r = await server.cli(["sessions", "create", "--email", email]);
      if (r.code !== 0) throw new Error(`sessions create failed (${r.code}): ${r.stderr}`);
      return r.stdout.trim().split("\n").pop()!;
    },
    async stop() {
      proc.kill("SIGTERM");
      return proc.exited;
    },
    async kill(signal = "SIGKILL") {
      proc.kill(signal);
      return proc.exited;
    },
    async restart() {
      output = "";
      await launch();
    },
    logs: () => output,
  };
  return server;
}

/** Removes the data dir and, under PostgreSQL, drops its database (best-effort, in the background). */
export function cleanup(server: TestServer): void {
  rmSync(server.dataDir, { recursive: true, force: true });
  const url = databases.get(server.dataDir);
  if (url) {
    databases.delete(server.dataDir);
    const name = new URL(url).pathname.slice(1);
    void adminSql(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {});
  }
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** A small client: JSON in, JSON out, credentials as the spec sends them. */
export function client(server: TestServer, auth: { apiKey?: string; session?: string; workspace?: string } = {}) {
  return async function call<T = any>(
    method: string,
    path: string,
    opts: { body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    if (auth.apiKey) headers["x-api-key"] = auth.apiKey;
    if (auth.session) headers["x-auth-token"] = auth.session;
    if (auth.workspace) headers["x-workspace-id"] = auth.workspace;
    let body: string | undefined = opts.raw;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers["content-type"] ??= "application/json";
    }
    return readResponse<T>(await fetch(server.url + path, { method, headers, body }));
  };
}

/** A fetch Response as an ApiResponse: the text, and its JSON when it parses. */
export async function readResponse<T = any>(res: Response): Promise<ApiResponse<T>> {
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

/** A server's stdout as its log messages, one per line: JSON lines (the default off a terminal) become their `msg`. */
export function logMessages(raw: string): string {
  return raw
    .split("\n")
    .map((line) => {
      if (!line.startsWith("{")) return line;
      try {
        return (JSON.parse(line) as { msg?: string }).msg ?? line;
      } catch {
        return line;
      }
    })
    .join("\n");
}
