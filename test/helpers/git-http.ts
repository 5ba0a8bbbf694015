// A git smart-HTTP server on 127.0.0.1 for tests: the real protocol, answered by the `git upload-pack` binary
// (stateless RPC, as git-http-backend does), serving repositories made in the test. Counts every request.
import { existsSync } from "node:fs";
import { join } from "node:path";

export interface GitHttpServer {
  url: string;
  /** Every request, as "METHOD /path?query". */
  requests: string[];
  /** The most git-upload-pack POSTs (the transfers) answered at once. */
  maxTransfers(): number;
  stop(): void;
}

const pkt = (s: string) => (s.length + 4).toString(16).padStart(4, "0") + s;

/**
 * Serves each `repos[name]` folder at `${url}/${name}.git`; `/stall.git/…` answers only after 5 s (timeouts); a repo
 * whose name starts with `slow` takes 300 ms over each transfer (to see transfers overlap, or not).
 */
export function startGitHttpServer(repos: Record<string, string>): GitHttpServer {
  const requests: string[] = [];
  let transfers = 0;
  let maxTransfers = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const u = new URL(req.url);
      requests.push(`${req.method} ${u.pathname}${u.search}`);
      if (u.pathname.startsWith("/stall.git/")) await Bun.sleep(5000);
      const m = /^\/([^/]+)\.git\/(info\/refs|git-upload-pack)$/.exec(u.pathname);
      const dir = m ? repos[m[1]!] : undefined;
      if (!m || !dir || !existsSync(join(dir, ".git"))) return new Response("not found", { status: 404 });
      if (m[2] === "info/refs") {
        if (u.searchParams.get("service") !== "git-upload-pack") return new Response("smart HTTP only", { status: 403 });
        const p = Bun.spawn(["git", "upload-pack", "--stateless-rpc", "--advertise-refs", dir], { stdout: "pipe", stderr: "ignore", env: { ...process.env, GIT_PROTOCOL: "" } });
        const refs = await new Response(p.stdout).arrayBuffer();
        await p.exited;
        const body = Buffer.concat([Buffer.from(pkt("# service=git-upload-pack\n") + "0000"), Buffer.from(refs)]);
        return new Response(body, { headers: { "content-type": "application/x-git-upload-pack-advertisement", "cache-control": "no-cache" } });
      }
      if (req.method !== "POST") return new Response("POST only", { status: 405 });
      maxTransfers = Math.max(maxTransfers, ++transfers);
      try {
        if (m[1]!.startsWith("slow")) await Bun.sleep(300);
        const p = Bun.spawn(["git", "upload-pack", "--stateless-rpc", dir], { stdin: "pipe", stdout: "pipe", stderr: "ignore", env: { ...process.env, GIT_PROTOCOL: "" } });
        p.stdin.write(new Uint8Array(await req.arrayBuffer()));
        await p.stdin.end();
        const out = await new Response(p.stdout).arrayBuffer();
        await p.exited;
        return new Response(out, { headers: { "content-type": "application/x-git-upload-pack-result", "cache-control": "no-cache" } });
      } finally {
        transfers--;
      }
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, requests, maxTransfers: () => maxTransfers, stop: () => server.stop(true) };
}
