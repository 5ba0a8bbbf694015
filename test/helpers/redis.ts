// A throwaway redis-server on a free loopback port for a test file (or CLANKER_TEST_REDIS_URL's when set).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./suite";

export interface TestRedis {
  url: string;
  stop(): Promise<void>;
}


/** Answers PING with PONG over a raw socket (no client library, so the helper proves nothing about ours). */
async function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    let got = "";
    const done = (ok: boolean) => {
      clearTimeout(timer);
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), 500);
    Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        open: (s) => void s.write("PING\r\n"),
        data: (s, d) => {
          got += d.toString();
          if (got.includes("\r\n")) {
            s.end();
            done(got.startsWith("+PONG"));
          }
        },
        error: () => done(false),
        connectError: () => done(false),
      },
    }).catch(() => done(false));
  });
}

export async function startRedis(): Promise<TestRedis> {
  const given = process.env.CLANKER_TEST_REDIS_URL;
  if (given) return { url: given, stop: async () => {} };
  const dir = mkdtempSync(join(tmpdir(), "clanker-redis-"));
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const proc = Bun.spawn(["redis-server", "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir], {
      stdout: "ignore",
      stderr: "pipe",
    });
    for (let i = 0; i < 200 && proc.exitCode === null; i++) {
      if (await pong(port))
        return {
          url: `redis://127.0.0.1:${port}`,
          async stop() {
            proc.kill("SIGTERM");
            await proc.exited;
            rmSync(dir, { recursive: true, force: true });
          },
        };
      await Bun.sleep(25);
    }
    proc.kill("SIGKILL");
    await proc.exited; // the port was taken in between, most likely: another one
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error("redis-server did not start");
}
