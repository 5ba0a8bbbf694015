// The CLI explains itself, with real processes: --version, every command's own --help, exit 2 with one line for
// every usage error (1 for a failure), keys list/revoke against a running server, and the next steps it prints.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { client, logMessages, ownStoreEnv, startServer, uniqueEmail, type TestServer } from "./helpers/server";
import { stdoutUntil, stopAll } from "./helpers/suite";

const ROOT = resolve(import.meta.dir, "..");
const MAIN = join(ROOT, "src/main.ts");
const VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;

let srv: TestServer;
const scratch = mkdtempSync(join(tmpdir(), "clanker-cli-help-"));

async function run(args: string[], env: Record<string, string> = {}, opts: { cmd?: string[]; stdin?: string } = {}) {
  const p = Bun.spawn([...(opts.cmd ?? [process.execPath, MAIN]), ...args], {
    env: { ...srv.env, ...env },
    cwd: ROOT,
    stdin: opts.stdin === undefined ? "ignore" : new Blob([opts.stdin]),
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => p.kill("SIGKILL"), 15_000);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { stdout, stderr, code };
}

beforeAll(async () => {
  srv = await startServer();
});

afterAll(() => stopAll([srv], [scratch]));

describe("--version and --help", () => {
  test("--version and -v print the package version alone", async () => {
    for (const flag of ["--version", "-v"]) expect(await run([flag])).toEqual({ stdout: `${VERSION}\n`, stderr: "", code: 0 });
  });

  test("--version with anything after it is a usage error about --version, not an unknown option of serve", async () => {
    const r = await run(["--version", "extra"]);
    expect(r).toMatchObject({ stdout: "", code: 2 });
    expect(r.stderr).toBe("clanker: --version takes no argument, got 'extra'; see 'clanker --help'\n");
  });

  // Each command's own usage: its name, its flags (--data wherever it opens the store), examples; exit 0.
  const commands: [string, string[]][] = [
    ["serve", ["--port", "--host", "--data"]],
    ["mcp", ["--api-key", "--data"]],
    ["keys create", ["--name", "--email", "--workspace", "--data"]],
    ["keys list", ["--workspace", "--data"]],
    ["keys revoke", ["ID", "--data"]],
    ["sessions create", ["--email", "--data"]],
    ["credits grant", ["--workspace", "--amount", "--data"]],
    ["skills import", ["PATH", "--data"]],
    ["skills list", ["--data"]],
    ["backup", ["PATH", "--data"]],
    ["restore", ["PATH", "--data"]],
    ["health", ["--port", "--host"]],
    ["migrate", ["--data"]],
  ];
  for (const [command, flags] of commands) {
    test(`${command} --help`, async () => {
      const r = await run([...command.split(" "), "--help"]);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
      expect(r.stdout).toContain(`USAGE clanker ${command}`);
      for (const flag of flags) expect(r.stdout).toContain(flag);
      expect(r.stdout).toContain(`EXAMPLES\n\n  clanker ${command}`);
      // Not the global help, and plain text in a pipe.
      expect(r.stdout).not.toContain("COMMANDS");
      expect(r.stdout).not.toContain("\x1b[");
      expect((await run(["help", ...command.split(" ")])).stdout).toBe(r.stdout);
    });
  }

  test("a help flag before the verb (keys -h list) shows the verb's help, as after it does", async () => {
    const list = await run(["keys", "list", "--help"]);
    expect(list.stdout).toContain("USAGE clanker keys list");
    for (const argv of [["keys", "-h", "list"], ["keys", "--help", "list"], ["-h", "keys", "list"]]) expect(await run(argv)).toEqual(list);
    expect((await run(["keys", "-h"])).stdout).toContain("USAGE clanker keys ");
  });

  test("clanker --help lists every command; a group's --help lists its verbs", async () => {
    const r = await run(["--help"]);
    expect(r.code).toBe(0);
    for (const c of ["serve", "mcp", "keys", "sessions", "credits", "skills", "backup", "restore", "health", "migrate"]) expect(r.stdout).toMatch(new RegExp(`^ +${c} {2,}\\S`, "m"));
    expect(r.stdout).toContain("EXIT CODES");
    const keys = await run(["keys", "--help"]);
    expect(keys.code).toBe(0);
    for (const verb of ["create", "list", "revoke"]) expect(keys.stdout).toMatch(new RegExp(`^ +${verb} {2,}\\S`, "m"));
  });
});

describe("exit codes", () => {
  const usage: string[][] = [
    ["nope"],
    ["nope", "--help"],
    ["help", "keys", "nope"],
    ["keys"],
    ["keys", "nope"],
    ["keys", "create"],
    ["keys", "create", "--name"],
    ["keys", "create", "--name", "k", "--bogus", "1"],
    ["keys", "create", "--name", "k", "extra"],
    ["keys", "revoke"],
    ["keys", "revoke", "not-an-id"],
    ["keys", "revoke", "key_999999"],
    ["keys", "list", "--workspace", "no-such-workspace"],
    ["sessions", "create"],
    ["credits", "grant", "--workspace", "x"],
    ["credits", "grant", "--workspace", "x", "--amount", "-5"],
    ["skills", "list", "--verbose"],
    ["backup"],
    ["backup", "a", "b"],
    ["migrate", "--data"],
    ["serve", "--prot", "80"],
    ["--prot", "80"],
    ["help", "--bogus"],
    ["--data", "somewhere", "keys", "list"],
    ["keys", "create", "--name", "k".repeat(101)],
    ["mcp", "--api-key", ""],
    ["mcp", "--api-key="],
    ["keys", "list", "--workspace="],
    ["keys", "create", "--name", "a", "--name", "b"],
  ];
  for (const args of usage) {
    test(`clanker ${args.join(" ")} → exit 2, one line, nothing on stdout`, async () => {
      const r = await run(args);
      expect({ code: r.code, stdout: r.stdout }).toEqual({ code: 2, stdout: "" });
      const lines = r.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^clanker: \S/);
      expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
    });
  }

  test("unknown flags and missing values say which, and where to read more", async () => {
    expect((await run(["keys", "create", "--name", "k", "--bogus", "1"])).stderr).toBe("clanker: unknown option '--bogus' for 'clanker keys create'; see 'clanker keys create --help'\n");
    expect((await run(["keys", "create"])).stderr).toContain("needs --name NAME");
    expect((await run(["nope"])).stderr).toContain("unknown command 'clanker nope'");
    expect((await run(["help", "--bogus"])).stderr).toBe("clanker: help takes a command's name, not '--bogus'; see 'clanker help'\n");
    expect((await run(["help", "keys", "--help"])).code).toBe(0);
    // Flags before the command: the command line as it should be.
    expect((await run(["--data", "d1", "keys", "list"])).stderr).toBe("clanker: options go after the command: clanker keys list --data d1\n");
    expect((await run(["keys", "create", "--name", "k".repeat(101)])).stderr).toBe("clanker: --name is 101 characters; a key's name is at most 100\n");
    // An agent's config whose ${CLANKER_API_KEY} was unset: not the local owner.
    expect((await run(["mcp", "--api-key", ""])).stderr).toBe("clanker: --api-key was given an empty value: give KEY, or leave it out; see 'clanker mcp --help'\n");
    expect((await run(["keys", "create", "--name", "a", "--name", "b"])).stderr).toBe("clanker: --name was given more than once: give it once; see 'clanker keys create --help'\n");
    // A bad host names where it came from.
    expect((await run(["serve", "--port", "0"], { HOST: "bad host" })).stderr).toContain("clanker: HOST must be a hostname or IP address, got 'bad host'");
    expect((await run(["serve", "--port", "0", "--host", "bad host"])).stderr).toContain("clanker: --host must be a hostname or IP address");
    // A skills folder that is not there is named, as serve names it.
    const listed = await run(["skills", "list"], { CLANKER_SKILLS_DIR: join(scratch, "no-such-skills") });
    expect(listed.code).toBe(0);
    expect(listed.stderr).toContain("clanker: warning: CLANKER_SKILLS_DIR names");
  });

  test("CLANKER_API_KEY set but empty or blank → exit 2 as --api-key \"\" is, not the local owner; nothing made", async () => {
    const data = join(scratch, "mcp-empty-key");
    for (const value of ["", "  "]) {
      const r = await run(["mcp", "--data", data], { CLANKER_API_KEY: value }, { stdin: "" });
      expect(r).toEqual({
        stdout: "",
        stderr: "clanker: CLANKER_API_KEY is set but empty: set it to an API key (clanker keys create makes one), or remove it to act as the local owner; see 'clanker mcp --help'\n",
        code: 2,
      });
    }
    expect(existsSync(data)).toBe(false);
  });

  test("keys create / sessions create with stdout closed (>&-) or /dev/null → exit 2 before making anything: the secret would be shown to nobody", async () => {
    const data = join(scratch, "unseen-secret");
    const email = uniqueEmail("unseen");
    for (const args of [["keys", "create", "--name", "unseen", "--email", email], ["sessions", "create", "--email", email]]) {
      for (const redirect of [">&-", ">/dev/null"]) {
        const p = Bun.spawn(["sh", "-c", `exec "$@" ${redirect}`, "sh", process.execPath, MAIN, ...args, "--data", data], { env: srv.env, cwd: ROOT, stdin: "ignore", stderr: "pipe" });
        const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
        const what = args[0] === "keys" ? "key" : "session token";
        expect({ code, stderr }).toEqual({ code: 2, stderr: `clanker: stdout is closed or /dev/null: the new ${what} would be shown to nobody, and is not made; run it with stdout to a terminal, a pipe or a file\n` });
      }
    }
    expect(existsSync(data)).toBe(false);
    // A pipe is still fine.
    expect((await run(["keys", "create", "--name", "seen", "--email", email, "--data", data])).code).toBe(0);
  });

  test("a path with no skill folder there is a bad value → exit 2, one line", async () => {
    const r = await run(["skills", "import", join(scratch, "missing")]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain("no skill folder");
  });
});

describe("keys list and keys revoke", () => {
  test("list shows id, name, prefix, workspace, user and dates, never the key; --workspace filters", async () => {
    const slug = `list-${process.pid}`;
    const email = uniqueEmail("list");
    const key = await srv.createKey({ name: "listed key", email, workspace: slug });
    const other = await srv.createKey({ name: "elsewhere" });
    const r = await run(["keys", "list"]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    const header = r.stdout.split("\n")[0]!;
    for (const col of ["ID", "NAME", "KEY", "WORKSPACE", "USER", "CREATED", "LAST USED", "STATUS"]) expect(header).toContain(col);
    const row = r.stdout.split("\n").find((l) => l.includes("listed key"))!;
    expect(row).toMatch(/^key_\d+ /);
    expect(row).toContain(`${key.slice(0, 7)}…${key.slice(-4)}`);
    expect(row).toContain(slug);
    expect(row).toContain(email);
    expect(row).toMatch(/active$/);
    expect(r.stdout).not.toContain(key);
    expect(r.stdout).not.toContain(other);
    const only = await run(["keys", "list", "--workspace", slug]);
    expect(only.stdout).toContain("listed key");
    expect(only.stdout).not.toContain("elsewhere");
  });

  test("revoke: the key then gets 401 over HTTP, the audit log has it, list says revoked; again is harmless", async () => {
    const slug = `revoke-${process.pid}`;
    const email = uniqueEmail("revoke");
    const admin = await srv.createKey({ name: "admin", email, workspace: slug });
    const doomed = await srv.createKey({ name: "doomed", email, workspace: slug });
    expect((await client(srv, { apiKey: doomed })("GET", "/api/v1/profile")).status).toBe(200);
    const id = (await run(["keys", "list", "--workspace", slug])).stdout.split("\n").find((l) => l.includes("doomed"))!.split(" ")[0]!;

    const r = await run(["keys", "revoke", id]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout).toContain(`Revoked API key ${id} (doomed)`);
    // The server's key cache lives 5 s: within that the revocation reaches it.
    let status = 0;
    for (let i = 0; i < 40; i++) {
      status = (await client(srv, { apiKey: doomed })("GET", "/api/v1/profile")).status;
      if (status === 401) break;
      await Bun.sleep(250);
    }
    expect(status).toBe(401);
    const audit = (await client(srv, { apiKey: admin })("GET", "/api/v1/audit-logs?action=api_key.revoke")).body.data;
    expect(audit.map((a: { resourceId: string }) => a.resourceId)).toContain(id);
    expect((await run(["keys", "list", "--workspace", slug])).stdout).toMatch(new RegExp(`^${id} .*revoked$`, "m"));
    const again = await run(["keys", "revoke", id]);
    expect({ code: again.code, out: again.stdout }).toEqual({ code: 0, out: `API key ${id} (doomed) was already revoked\n` });
    expect((await client(srv, { apiKey: admin })("GET", "/api/v1/profile")).status).toBe(200);
  }, 30_000);
});

describe("next steps", () => {
  test("the first-start command works as printed: npm run clanker -- keys create", async () => {
    const email = uniqueEmail("npm");
    const r = await run(["run", "--silent", "clanker", "--", "keys", "create", "--name", "via npm", "--email", email], {}, { cmd: ["npm"] });
    expect(r.code).toBe(0);
    const key = r.stdout.trim().split("\n").pop()!;
    expect((await client(srv, { apiKey: key })("GET", "/api/v1/profile")).body.email).toBe(email);
  });

  test("serve --data DIR on an empty dir: the printed command carries the same --data", async () => {
    const dir = join(scratch, "first start");
    const p = Bun.spawn([process.execPath, MAIN, "serve", "--port", "0", "--data", dir], { env: { ...srv.env, CLANKER_DATA_DIR: "", ...(await ownStoreEnv(dir)) }, cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    const log = await stdoutUntil(p, "listening on");
    expect(logMessages(log)).toContain(`Create your first API key:  npm run clanker -- keys create --name "my key" --email you@example.com --data '${dir}'\n`);
  }, 20_000);

  test("CLANKER_DATA_DIR=DIR serve: the printed command carries --data too (another terminal has no such variable)", async () => {
    const dir = join(scratch, "first-start-env");
    const p = Bun.spawn([process.execPath, MAIN, "serve", "--port", "0"], { env: { ...srv.env, CLANKER_DATA_DIR: dir, ...(await ownStoreEnv(dir)) }, cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    const log = await stdoutUntil(p, "listening on");
    expect(logMessages(log)).toContain(`Create your first API key:  npm run clanker -- keys create --name "my key" --email you@example.com --data ${dir}\n`);
  }, 20_000);

  test("keys create prints a curl line for this server and MCP configs (stdio that starts, and HTTP) before the key", async () => {
    const port = new URL(srv.url).port;
    const email = uniqueEmail("steps");
    const r = await run(["keys", "create", "--name", "steps", "--email", email], { PORT: port });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    const key = lines.pop()!;
    expect(key).toMatch(/^ck_/);
    const curl = lines.find((l) => l.includes("curl "))!.replace(/^.*?(curl .*)$/, "$1");
    expect(curl).toBe(`curl -H "x-api-key: $CLANKER_API_KEY" ${srv.url}/api/v1/profile`);
    // The curl line, run as printed, answers this key's profile.
    const viaCurl = Bun.spawnSync(["sh", "-c", curl], { env: { PATH: process.env.PATH!, CLANKER_API_KEY: key } });
    expect(JSON.parse(viaCurl.stdout.toString()).email).toBe(email);

    const configs = lines.filter((l) => l.trim().startsWith('{"mcpServers"')).map((l) => JSON.parse(l).mcpServers.clanker);
    expect(configs).toHaveLength(2);
    const [stdio, http] = configs;
    expect(stdio).toEqual({ command: process.execPath, args: [MAIN, "mcp", "--data", srv.dataDir], env: { CLANKER_API_KEY: "${CLANKER_API_KEY}" } });
    expect(http).toEqual({ type: "http", url: `${srv.url}/mcp`, headers: { "x-api-key": "${CLANKER_API_KEY}" } });

    // The stdio config launches an MCP server that answers initialize as this key.
    const init = { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } };
    const mcp = await run(stdio.args, { CLANKER_API_KEY: key }, { cmd: [stdio.command], stdin: `${JSON.stringify(init)}\n` });
    expect(JSON.parse(mcp.stdout.split("\n")[0]!).result.serverInfo).toBeDefined();
    // Its stdin closed (how an MCP client stops it), it exits by itself, on either store.
    expect(mcp.code).toBe(0);
    // The HTTP config reaches this server's /mcp with the key.
    const res = await fetch(http.url, {
      method: "POST",
      headers: { "x-api-key": key, "content-type": "application/json", accept: "application/json, text/event-stream" },
      body: JSON.stringify(init),
    });
    expect(res.status).toBe(200);
    await res.body?.cancel();
  }, 30_000);
});
