// `clanker mcp`: MCP on stdin/stdout against the local data dir, for an agent that launches the binary itself.
// Authenticated by --api-key / CLANKER_API_KEY, else it acts as the owner of the local store.
// Start-up is on an agent's critical path: this module loads the services and the MCP SDK, never the HTTP app
// (Elysia, routes, OpenAPI); see test/bench/mcp-stdio-start.ts.
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { Transform, type Readable } from "node:stream";
import type { Config } from "../config";
import { openStore, storeOptions, type Store } from "../store/db";
import { prepareStore } from "../startup";
import { createServices } from "../services";
import { Authenticator } from "../http/auth";
import { loadConfiguredCatalog } from "../modules/skills/sources";
import { SecretBox } from "../lib/secret-box";
import { loadMasterKey } from "../store/master-key";
import { ApiError } from "../lib/errors";
import { lineLog, type Log } from "../lib/log";
import type { Ctx } from "../lib/context";
import { decodeId } from "../lib/ids";
import { createMcpServer, type ToolContext } from "./server";
import { Idempotency } from "../http/idempotency";
import { jitForServing } from "../lib/jit";
import { runningServerUrl } from "../store/data-lock";
import { reachableUrl } from "../cli/next-steps";

export async function runMcpStdio(config: Config, apiKey: string | undefined): Promise<void> {
  // stdout belongs to the protocol: everything else goes to stderr.
  const log = lineLog((line: string) => console.error(line));
  const store = await openStore(storeOptions(config));
  try {
    await prepareStore(store, config.dataDir);
  } catch (e) {
    await store.close();
    console.error(`clanker mcp: ${(e as Error).message}`);
    process.exit(2);
  }
  const deps = stdioDeps(config, store, log);
  let ctx: Ctx;
  // With a key, resolved again on every call: a rebind or a role change made through the server applies here too.
  const current = async () => (apiKey ? principalCtx(await deps.authenticator().fromApiKey(apiKey)) : ctx);
  try {
    ctx = apiKey ? principalCtx(await deps.authenticator().fromApiKey(apiKey)) : await ownerCtx(deps);
  } catch (e) {
    // A refused key: say where the key came from and how to get one.
    // Its own next step (the flag and the command), not the HTTP answer's (Settings, /auth.md).
    const refused = e instanceof ApiError ? (e.code === "INVALID_API_KEY" ? "Invalid API key" : e.message) : null;
    console.error(`clanker mcp: ${refused !== null ? `${refused}: check --api-key or CLANKER_API_KEY (clanker keys create makes a key; keys list shows them)` : (e as Error).message}`);
    process.exit(2);
  }
  await deps.services.runner.start();
  const server = createMcpServer({ services: deps.services, ctxOf: current, once: deps.once, log, transport: "stdio", baseUrl: () => runningServerUrl(config.dataDir) ?? reachableUrl(config), workspaceId: ctx.workspaceId });
  const tooLong = (id: string | number | null) => {
    log.error(`clanker mcp: a message over ${config.maxBodyBytes} bytes (CLANKER_MAX_BODY_BYTES) was not read`);
    // The request's id when its edges showed it, else null: the client hears why rather than nothing.
    void transport.send({ jsonrpc: "2.0", id, error: { code: -32600, message: `Request too large: a message over ${config.maxBodyBytes} bytes was not read (CLANKER_MAX_BODY_BYTES); send less at once (attachments in several runs)` } } as unknown as JSONRPCMessage).catch(() => {});
  };
  // The SDK's own bound well above ours: lines reach it whole and bounded (wholeLines).
  const transport = new StdioServerTransport(wholeLines(process.stdin, config.maxBodyBytes, tooLong), process.stdout, { maxBufferSize: config.maxBodyBytes + 64 * 1024 * 1024 });
  transport.onclose = () => void end(deps.services.runner, store, config.shutdownGraceSeconds);
  // The SDK's transport does not watch for the end of stdin, which is how an MCP client asks its server to stop:
  // with PostgreSQL's connections and the run claims' timers still open, the process lived on until killed.
  process.stdin.once("end", () => void transport.close());
  // A client that closed stdin and waited then signals (the MCP SDK's SIGTERM comes 2 s later, SIGKILL after):
  // what still runs goes back to the queue now, rather than be killed while `running`.
  for (const signal of ["SIGTERM", "SIGINT"] as const)
    process.on(signal, () => {
      void end(deps.services.runner, store, config.shutdownGraceSeconds);
      hurry?.();
    });
  answerUnreadableLines(transport);
  await server.connect(transport);
  jitForServing();
}

/**
 * stdin as whole lines, without blank ones: a newline between messages (a client's keep-alive) is no message, and is not
 * answered as a parse error. A line over `maxLine` bytes (CLANKER_MAX_BODY_BYTES, /mcp's bound) is dropped as it comes
 * and `tooLong` called: the SDK's transport closed itself past 10 MiB and the process exited 0, without a word. Split on
 * the newline byte, which no UTF-8 character contains.
 */
function wholeLines(input: Readable, maxLine: number, tooLong: (id: string | number | null) => void): Readable {
  let parts: Buffer[] = [];
  let size = 0;
  let skipping = false;
  // Of a line being dropped, its first and last bytes: where a request's id is (see idOfDropped).
  let head = Buffer.alloc(0);
  let tail = Buffer.alloc(0);
  const blank = (line: Buffer) => line.every((c) => c === 0x20 || c === 0x09 || c === 0x0d);
  const take = (segment: Buffer) => {
    if (skipping) {
      tail = Buffer.concat([tail, segment.subarray(Math.max(0, segment.length - EDGE))]).subarray(-EDGE);
      return;
    }
    parts.push(segment);
    size += segment.length;
    if (size > maxLine) {
      const line = Buffer.concat(parts);
      [head, tail] = [line.subarray(0, EDGE), line.subarray(-EDGE)];
      [parts, size, skipping] = [[], 0, true];
    }
  };
  const dropped = () => tooLong(idOfDropped(head.toString("utf8"), tail.toString("utf8")));
  return input.pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        const kept: Buffer[] = [];
        let from = 0;
        for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, from)) {
          take(chunk.subarray(from, i));
          from = i + 1;
          if (skipping) dropped();
          else {
            const line = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
            if (!blank(line)) kept.push(line, NEWLINE);
          }
          [parts, size, skipping] = [[], 0, false];
        }
        take(chunk.subarray(from));
        done(null, Buffer.concat(kept));
      },
      flush(done) {
        const rest = Buffer.concat(parts);
        if (skipping) dropped();
        done(null, skipping || blank(rest) ? null : rest);
      },
    }),
  );
}
const NEWLINE = Buffer.from("\n");
const EDGE = 512;
const ID = String.raw`(-?\d{1,15}|"(?:[^"\\]|\\.){0,200}")`;
/**
 * The id of a request too large to read, from its first or last bytes, so the client can match the refusal to its call
 * (with id null the SDK's client waited for its own timeout): `{"jsonrpc":"2.0","id":7,…` as most clients write it,
 * or `…,"jsonrpc":"2.0","id":7}` as the MCP SDK does. Else null.
 */
function idOfDropped(head: string, tail: string): string | number | null {
  const m = new RegExp(String.raw`^\s*\{\s*(?:"jsonrpc"\s*:\s*"2\.0"\s*,\s*)?"id"\s*:\s*${ID}`).exec(head) ?? new RegExp(String.raw`[,{]\s*"id"\s*:\s*${ID}\s*\}\s*$`).exec(tail);
  if (!m) return null;
  try {
    return JSON.parse(m[1]!) as string | number;
  } catch {
    return null;
  }
}

/**
 * JSON-RPC answers a line that is not JSON with a parse error (-32700) and JSON that is not a message with an invalid
 * request (-32600), both with id null, as /mcp answers such a body; the SDK's transport only reports them to onerror,
 * and a client waiting on a request it mangled would wait for ever. Set before connect: the SDK calls it before its own.
 */
function answerUnreadableLines(transport: StdioServerTransport): void {
  transport.onerror = (e) => {
    const code = e instanceof SyntaxError ? -32700 : e?.name === "ZodError" ? -32600 : null;
    if (code === null) return;
    const message = code === -32700 ? "Parse error: a line that is not JSON" : "Invalid Request: not a JSON-RPC message";
    // id null: JSON-RPC's answer when the request's id could not be read. The SDK's types want an id; the wire does not.
    void transport.send({ jsonrpc: "2.0", id: null, error: { code, message } } as unknown as JSONRPCMessage).catch(() => {});
  };
}

let ending: Promise<never> | null = null;
/** Cuts end()'s wait for running runs short (a signal). */
let hurry: (() => void) | null = null;
/**
 * As the server drains: the runs this process started may finish within the grace, what is left goes back to
 * `queued` (a server on the data dir runs it), and the open group-commit batch commits before the process goes.
 */
function end(runner: ReturnType<typeof createServices>["runner"], store: Store, graceSeconds: number): Promise<never> {
  return (ending ??= (async () => {
    runner.pause();
    const signalled = new Promise<void>((resolve) => (hurry = resolve));
    try {
      await Promise.race([runner.whenIdle(graceSeconds * 1000), signalled]);
      await runner.requeueRunning();
    } finally {
      runner.stop();
      await store.close().catch(() => {});
    }
    process.exit(0);
  })());
}

/**
 * What createDeps (app.ts) makes, less the HTTP side (rate limiter, idempotency, MCP sessions). The authenticator
 * is made only with --api-key: its key cache allocates ~2 MB up front, enough to bring a garbage collection into
 * the start. Without one, nothing was cached, so there is nothing to forget.
 */
function stdioDeps(config: Config, store: Store, log: Log) {
  let auth: Authenticator | undefined;
  const authenticator = () => (auth ??= new Authenticator(store));
  const keyCache = {
    forgetKey: (hash: string) => auth?.forgetKey(hash),
    forgetAll: () => auth?.forgetAll(),
    sessionEnded: () => auth?.sessionEnded(),
    // The profile's user row, through the same cache as the HTTP side (made on first use, after the first answer).
    user: (userId: number) => authenticator().user(userId),
    forgetUser: (userId: number) => auth?.forgetUser(userId),
  };
  const catalog = loadConfiguredCatalog(config, log);
  const box = new SecretBox(loadMasterKey(config.dataDir));
  // One transaction per call (no group commit: one agent's calls come one at a time), in the table the server keeps
  // REST's keys in: a retry reaches the first answer whether this process or the server's MCP answers it.
  let idempotency: Idempotency | undefined; // made by the first call that needs it, not at start
  const once: ToolContext["once"] = (ctx, key, call, args, fn, tx) =>
    (idempotency ??= new Idempotency(store, config.idempotencyTtlSeconds * 1000, box, false)).once(ctx, key, call, args, fn, tx, (line) => log.error(line));
  return { authenticator, once, services: createServices({ store, config, keyCache, catalog, box, log, ownRunsOnly: true }) };
}

function principalCtx(p: { workspaceId: number; actor: Ctx["actor"]; role: Ctx["role"] }): Ctx {
  return { workspaceId: p.workspaceId, actor: p.actor, role: p.role, requestId: "mcp-stdio" };
}

/** The owner of a fresh local store (made if there is none yet), in their personal workspace. */
async function ownerCtx(deps: ReturnType<typeof stdioDeps>): Promise<Ctx> {
  const { user } = await deps.services.users.ensure({ email: null });
  const ws = await deps.services.workspaces.list({ workspaceId: 0, actor: { kind: "user", userId: user.id }, role: "owner", requestId: "mcp-stdio" }, { limit: 100 });
  const personal = ws.rows.find((w) => w.personal) ?? ws.rows[ws.rows.length - 1];
  if (!personal) throw new Error("the local owner has no workspace");
  return { workspaceId: decodeId("workspace", personal.id)!, actor: { kind: "user", userId: user.id }, role: personal.role as Ctx["role"], requestId: "mcp-stdio" };
}
