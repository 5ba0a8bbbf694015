// A checkout's `clanker serve` and `keys create` as the benches start them (the checkout's root given, so a bench
// can run an older checkout beside this one).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pin } from "./wrk";

type Env = Record<string, string | undefined>;

/**
 * Starts `clanker serve` from `root` pinned to core 0. Its access log goes to `log`, as a deployment's would go to
 * its log collector: every line written, and no reader of ours competing for the two cores.
 */
export async function startClanker(root: string, env: Env, log: string, own: Env = {}): Promise<{ url: string; proc: Bun.Subprocess }> {
  const vars = { ...env, CLANKER_LOG: "info", ...own };
  // The URL (the port is 0: any free one) is read from the "listening on" line, which is logged at info.
  if (!["info", "debug"].includes(vars.CLANKER_LOG!)) throw new Error(`CLANKER_LOG=${vars.CLANKER_LOG} hides the "listening on" line the bench reads the server's URL from: use info or debug`);
  const proc = Bun.spawn([...pin(0), process.execPath, join(root, "src/main.ts"), "serve"], { env: vars, stdout: Bun.file(log), stderr: "inherit", stdin: "ignore" });
  for (let i = 0; i < 600; i++) {
    const m = existsSync(log) ? /listening on (\S+?)["\s]/.exec(await Bun.file(log).text()) : null;
    if (m) return { url: m[1]!, proc };
    if (proc.exitCode !== null) break;
    await Bun.sleep(50);
  }
  // Not left running: it would hold the bench's stderr open after the bench gave up.
  proc.kill();
  throw new Error(`the server did not start: ${existsSync(log) ? await Bun.file(log).text() : "no output"}`);
}

/** A new API key in env's data dir, made by `root`'s CLI. */
export async function createKey(root: string, env: Env): Promise<string> {
  const p = Bun.spawn([process.execPath, join(root, "src/main.ts"), "keys", "create", "--name", "bench", "--email", "bench@example.test"], { env, stdout: "pipe", stderr: "inherit" });
  const out = (await new Response(p.stdout).text()).trim();
  if ((await p.exited) !== 0) throw new Error(`keys create failed (exit ${p.exitCode})`);
  return out.split("\n").pop()!;
}
