// What many suites do around their tests: wait for a condition, receive outbound calls, read a started process's
// first lines, and stop servers, fakes and receivers and remove scratch folders afterwards.
import { rmSync } from "node:fs";
import type { Subprocess } from "bun";
import { cleanup, type TestServer } from "./server";

/** Polls `get` until it returns something truthy and returns that; throws naming `what` after `timeoutMs`. */
export async function waitUntil<T>(what: string, get: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(25);
  }
}

/** A receiver for the server's outbound calls (webhooks, callbacks): loopback only, on a free port. */
export function startReceiver(fetch: (req: Request) => Response | Promise<Response>) {
  return Bun.serve({ hostname: "127.0.0.1", port: 0, fetch });
}

/** A started process's stdout up to the chunk that contains `marker`; the process is then stopped (SIGTERM). */
export async function stdoutUntil(p: Subprocess<any, "pipe", any>, marker = "listening on"): Promise<string> {
  let log = "";
  try {
    for await (const chunk of p.stdout as ReadableStream<Uint8Array>) {
      log += new TextDecoder().decode(chunk);
      if (log.includes(marker)) break;
    }
  } finally {
    p.kill("SIGTERM");
    await p.exited;
  }
  return log;
}

/** Something a suite started that is not a TestServer: a fake service or a Bun.serve receiver. */
type Stoppable = { stop(closeActiveConnections?: boolean): unknown };

/**
 * An afterAll: stops what started (a TestServer gracefully, its data dir then removed; anything else at once, open
 * connections closed), then removes `folders`. Undefined entries are what never started. The servers stop together,
 * then the rest: each may drain a run for its whole grace (2 s), and one after another they outlasted the hook's 5 s.
 */
export async function stopAll(things: (TestServer | Stoppable | undefined)[], folders: string[] = []): Promise<void> {
  const servers = things.filter((t): t is TestServer => t !== undefined && "dataDir" in t);
  await Promise.all(servers.map(async (s) => (await s.stop(), cleanup(s))));
  for (const t of things) if (t && !("dataDir" in t)) await t.stop(true);
  for (const f of folders) rmSync(f, { recursive: true, force: true });
}

/** A port nothing listens on: the kernel just handed it out and it was let go (a connection to it is refused). */
export async function freePort(): Promise<number> {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}
