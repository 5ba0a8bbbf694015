// The clanker CLI: invalid config exits 2 with one clear line, `keys create` needs --name, `backup` writes a
// consistent SQLite copy of the live store, `migrate` exits 0 and builds the tables, `health` exits 0/1.
// Help, --version, usage errors, keys list/revoke and the next-steps text are in cli-help.test.ts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { cleanup, client, logMessages, ownStoreEnv, startServer, testDialect, uniqueEmail, type TestServer } from "./helpers/server";
import { querySql, runSql, tableNames } from "./helpers/sql";

const querySqlTags = async (srv: TestServer) => (await querySql(srv, "SELECT tag FROM _migrations ORDER BY tag")).map((r) => String(r.tag));
import { stopAll } from "./helpers/suite";

const ROOT = resolve(import.meta.dir, "..");
const MAIN = join(ROOT, "src/main.ts");

let srv: TestServer;
const scratch = mkdtempSync(join(tmpdir(), "clanker-cli-test-"));

/** Runs `clanker ARGS` with the server's env plus `env`; a run that does not exit in time is killed and reported. */
async function run(args: string[], env: Record<string, string> = {}, timeoutMs = 10_000, as: { user?: string[]; home?: string } = {}) {
  // as.user: a command run in front (setpriv …) with only `env`, from as.home.
  const p = Bun.spawn([...(as.user ?? []), process.execPath, MAIN, ...args], { env: as.user ? env : { ...srv.env, ...env }, cwd: as.home ?? ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    p.kill("SIGKILL");
  }, timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { stdout, stderr, code, timedOut };
}

function expectUsageError(r: Awaited<ReturnType<typeof run>>, mentions: RegExp) {
  expect({ timedOut: r.timedOut, code: r.code }).toEqual({ timedOut: false, code: 2 });
  const lines = r.stderr.trim().split("\n");
  expect(lines.length).toBe(1);
  expect(lines[0]).toMatch(mentions);
  expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack trace
}

beforeAll(async () => {
  srv = await startServer();
});

afterAll(() => stopAll([srv], [scratch]));

describe("invalid configuration", () => {
  test("first start on an empty store says how to get a key, as this server was started (npm run clanker from the checkout)", () => {
    // Its data dir came from CLANKER_DATA_DIR, which the terminal the person runs it in does not have: named.
    expect(logMessages(srv.logs())).toContain(`npm run clanker -- keys create --name "my key" --email you@example.com --data ${srv.dataDir}\n`);
    expect(srv.logs()).toContain(`Open the web app: ${srv.url}/`);
  });

  test("PORT=abc → exit 2 and one line naming PORT", async () => {
    expectUsageError(await run(["serve"], { PORT: "abc" }, 5_000), /PORT.*abc/);
  });

  test("--port 99999 → exit 2 and one line naming --port", async () => {
    expectUsageError(await run(["serve", "--port", "99999"], {}, 5_000), /--port.*99999/);
  });

  test("PORT=99999 and a bad rate limit are rejected the same way", async () => {
    expectUsageError(await run(["serve"], { PORT: "99999" }, 5_000), /PORT/);
    expectUsageError(await run(["serve"], { CLANKER_RATE_LIMIT_PER_MINUTE: "0" }, 5_000), /CLANKER_RATE_LIMIT_PER_MINUTE/);
    expectUsageError(await run(["serve"], { CLANKER_MAX_BODY_BYTES: "lots" }, 5_000), /CLANKER_MAX_BODY_BYTES/);
  });

  test("a blank or space-padded model name (CLANKER_ANTHROPIC_MODEL=\" \") → exit 2, one line naming it and the value", async () => {
    const bad: [string, string][] = [["CLANKER_ANTHROPIC_MODEL", " "], ["CLANKER_OPENAI_MODEL", "\t"], ["CLANKER_ANTHROPIC_MODEL", "claude-sonnet-4-5 "]];
    for (const [name, value] of bad) {
      const r = await run(["serve"], { [name]: value }, 5_000);
      expectUsageError(r, new RegExp(`^clanker: ${name} must be a model's name`));
      expect(r.stderr).toContain(`got ${JSON.stringify(value)}`);
    }
  });

  test("DATABASE_URL at a closed port → exit 1 and one line naming DATABASE_URL, never its password", async () => {
    const r = await run(["serve"], { DATABASE_URL: "postgres://clanker:hunter2@127.0.0.1:1/clanker", CLANKER_DATA_DIR: join(scratch, "no-pg") }, 15_000);
    expect({ timedOut: r.timedOut, code: r.code }).toEqual({ timedOut: false, code: 1 });
    const lines = r.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/cannot reach PostgreSQL at 127\.0\.0\.1:1\/clanker \(DATABASE_URL\)/);
    expect(r.stderr).not.toContain("hunter2");
  });

  test("a data dir the file system refuses (a file, under a file, nowhere to make it) → exit 2, one line naming the path, no stack", async () => {
    const file = join(scratch, "a-file");
    writeFileSync(file, "not a folder");
    for (const [dir, why] of [
      [file, /cannot mkdir .*a-file: a file is in the way where a folder belongs/],
      [join(file, "sub"), /cannot mkdir .*a-file\/sub: a part of the path is a file, not a folder/],
      ["/proc/clanker-nope", /cannot mkdir \/proc\/clanker-nope: a folder on the way does not exist/],
      [join(scratch, "n".repeat(300)), /a name in the path is longer than the file system allows \(255 bytes\): choose a shorter one/],
      [join(scratch, ...Array(6).fill("d".repeat(100))), /--data is \d+ bytes long once resolved; SQLite opens files under a path of at most about 490: choose a shorter one/],
    ] as const) {
      expectUsageError(await run(["serve", "--data", dir, "--port", "0"], {}, 5_000), why);
      expectUsageError(await run(["keys", "create", "--name", "k", "--data", dir], {}, 5_000), why);
    }
  });

  test("a host that is no address of this machine → exit 2, one line naming it", async () => {
    const dir = join(scratch, "badhost");
    const r = await run(["serve", "--host", "nosuchhost.invalid", "--port", "0", "--data", dir], { CLANKER_LOG: "silent", ...(await ownStoreEnv(dir)) }, 10_000);
    expectUsageError(r, /nosuchhost\.invalid is not an address of this machine/);
    // An address of another machine (TEST-NET-1: bound, never reached) is refused before anything is made, and
    // without the warnings a server that was about to start would log.
    const other = await run(["serve", "--host", "192.0.2.1", "--port", "0", "--data", dir], await ownStoreEnv(dir), 10_000);
    expectUsageError(other, /192\.0\.2\.1 is not an address of this machine/);
    expect(other.stdout).toBe("");
    expect(existsSync(dir)).toBe(false);
  });

  test("--host [::1] (an IPv6 address in brackets, as HOST takes it) serves there, and says so with one pair of brackets", async () => {
    const dir = join(scratch, "v6");
    const p = Bun.spawn([process.execPath, MAIN, "serve", "--host", "[::1]", "--port", "0", "--data", dir], { env: { ...srv.env, ...(await ownStoreEnv(dir)), CLANKER_LOG: "info" }, cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    const timer = setTimeout(() => p.kill("SIGKILL"), 15_000);
    try {
      const reader = p.stdout.getReader();
      let out = "";
      while (!/listening on http:\S+/.test(out)) {
        const { done, value } = await reader.read();
        if (done) throw new Error(`serve ended: ${out} ${await new Response(p.stderr).text()}`);
        out += new TextDecoder().decode(value);
      }
      const url = /listening on (http:\/\/\[::1\]:\d+)/.exec(out)?.[1];
      expect(url).toBeDefined();
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
    } finally {
      clearTimeout(timer);
      p.kill();
      await p.exited;
    }
  }, 20_000);

  test("a CLANKER_MASTER_KEY that is not 32 bytes → exit 2, one line naming it, and the data dir left untouched", async () => {
    const dir = join(scratch, "short-key");
    const r = await run(["serve", "--port", "0", "--data", dir], { CLANKER_MASTER_KEY: "short", ...(await ownStoreEnv(dir)) }, 5_000);
    expectUsageError(r, /^clanker: CLANKER_MASTER_KEY must hold 32 bytes as 64 hex characters or base64$/);
    expect(existsSync(dir)).toBe(false);
  });

  test("an unknown flag → exit 2", async () => {
    const r = await run(["serve", "--prot", "80"], {}, 5_000);
    expect({ timedOut: r.timedOut, code: r.code }).toEqual({ timedOut: false, code: 2 });
    expect(r.stderr).toContain("--prot");
  });
});

describe("keys create", () => {
  test("without --name → exit 2, one line, and no key printed", async () => {
    const r = await run(["keys", "create", "--email", uniqueEmail("noname")]);
    expectUsageError(r, /--name/);
    expect(r.stdout).not.toMatch(/ck_/);
  });

  test.skipIf(testDialect() === "postgres")("on a damaged database file → exit 1, one line saying to put a backup back, no stack trace", async () => {
    const dir = join(scratch, "damaged");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "clanker.db"), Buffer.alloc(8192, 7));
    const r = await run(["keys", "create", "--name", "k", "--email", uniqueEmail("damaged"), "--data", dir]);
    expect({ code: r.code, stderr: r.stderr.trim() }).toEqual({
      code: 1,
      stderr: "clanker: the database is damaged (file is not a database): stop the server and put the latest backup back (clanker restore --help); clanker doctor checks it",
    });
  });

  // As another user than root (root may write any file): what a data dir restored or copied with the wrong owner is.
  test.skipIf(testDialect() === "postgres" || process.getuid?.() !== 0)("on a database file this user may not write → serve exits 2 naming the file, doctor fails it; nothing serves read-only", async () => {
    const home = mkdtempSync(join(tmpdir(), "clanker-cli-readonly-"));
    chownSync(home, 65534, 65534);
    const data = join(home, "data");
    const asNobody = (args: string[]) =>
      run([...args, "--data", data], { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, HOST: "127.0.0.1", PORT: "0" }, 10_000, {
        user: ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"],
        home,
      });
    expect((await asNobody(["migrate"])).code).toBe(0);
    const db = join(data, "clanker.db");
    chmodSync(db, 0o400);
    const serve = await asNobody(["serve"]);
    expect({ code: serve.code, stderr: serve.stderr.trim() }).toEqual({ code: 2, stderr: `clanker: cannot access ${db}: permission denied: run as a user who may read and write it, or choose another path` });
    const doctor = await asNobody(["doctor"]);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout + doctor.stderr).toContain(`cannot access ${db}: permission denied`);
    // The file writable, its folder not (SQLite makes -wal and -shm there; serve stops at its lock file there first):
    // a command that opens the store is refused the same way, naming the folder.
    chmodSync(db, 0o600);
    chmodSync(data, 0o500);
    const folder = await asNobody(["keys", "create", "--name", "k", "--email", "ro@example.test"]);
    expect({ code: folder.code, stderr: folder.stderr.trim() }).toEqual({ code: 2, stderr: `clanker: cannot access ${data}: permission denied: run as a user who may read and write it, or choose another path` });
  });

  test("with a bad --email → exit 2", async () => {
    const r = await run(["keys", "create", "--name", "k", "--email", "not an email"]);
    expectUsageError(r, /email/i);
  });

  test("for another's workspace → exit 2 saying how to join it, and nothing made: no user, no key", async () => {
    const slug = `cli-theirs-${process.pid}`;
    await srv.createKey({ email: uniqueEmail("cli-owner"), workspace: slug });
    const stranger = uniqueEmail("cli-stranger");
    const r = await run(["keys", "create", "--name", "intruder", "--email", stranger, "--workspace", slug]);
    expectUsageError(r, new RegExp(`${stranger} is not a member of workspace '${slug}': an owner or admin of it invites them first`));
    expect(r.stdout).toBe("");
    // The stranger was not left behind: signing them in later starts from nothing.
    const users = await run(["keys", "list"]);
    expect(users.stdout).not.toContain("intruder");
    expect(await runSql(srv, "UPDATE users SET name = name WHERE email = ?", stranger)).toBe(0);
  });

  test("a new --workspace whose slug a path would read as current or an id → exit 2, nothing made", async () => {
    for (const slug of ["current", "42"]) {
      const r = await run(["keys", "create", "--name", "reserved", "--email", uniqueEmail("cli-reserved"), "--workspace", slug]);
      expectUsageError(r, new RegExp(`--workspace ${slug} would read as .* in /workspaces/:id paths`));
    }
    expect(await runSql(srv, "UPDATE workspaces SET name = name WHERE slug IN ('current', '42')")).toBe(0);
  });

  test("keys list names the next step: an unknown --workspace says to leave it out; no keys, the command that makes one", async () => {
    expectUsageError(await run(["keys", "list", "--workspace", "nope-nope"]), /no workspace with slug 'nope-nope' in this data dir; leave out --workspace to list every key$/);
    const empty = join(scratch, "no-keys");
    const env = await ownStoreEnv(empty);
    // A data dir that is not there (a typo) is named, not answered from a store made for the question.
    if (testDialect() === "sqlite") {
      for (const args of [["keys", "list"], ["keys", "revoke", "key_1"], ["credits", "grant", "--workspace", "w", "--amount", "1"]])
        expectUsageError(await run([...args, "--data", empty], env), /there is no clanker data in .*no-keys: check --data or CLANKER_DATA_DIR/);
      expect(existsSync(empty)).toBe(false);
    }
    expect((await run(["migrate", "--data", empty], env)).code).toBe(0);
    const r = await run(["keys", "list", "--data", empty], env);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(`No API keys. Create one with: npm run clanker -- keys create --name NAME --data ${empty}`);
  });

  test("prints a working key alone on the last line", async () => {
    const email = uniqueEmail("cli");
    const r = await run(["keys", "create", "--name", "cli key", "--email", email]);
    expect(r.code).toBe(0);
    const last = r.stdout.trim().split("\n").pop()!;
    expect(last).toMatch(/^ck_[A-Za-z0-9_-]{43}$/);
    const profile = await client(srv, { apiKey: last })("GET", "/api/v1/profile");
    expect(profile.status).toBe(200);
    expect(profile.body.email).toBe(email);
    // The curl line names the running server, which listens on a port this command was not told (PORT=0 here).
    expect(r.stdout).toContain(`curl -H "x-api-key: $CLANKER_API_KEY" ${srv.url}/api/v1/profile`);
    expect(r.stdout).toContain(`"url":"${srv.url}/mcp"`);
  });

  test("a stdout that cannot take the key (a full disk): exit 1 saying so, and the key revoked (and audited), not left working unseen", async () => {
    const email = uniqueEmail("cli-full");
    for (const args of [["keys", "create", "--name", "unseen", "--email", email], ["sessions", "create", "--email", email]]) {
      const p = Bun.spawn([process.execPath, MAIN, ...args], { env: srv.env, cwd: ROOT, stdin: "ignore", stdout: Bun.file("/dev/full"), stderr: "pipe" });
      const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
      expect(code).toBe(1);
      expect(stderr).toContain("to stdout (ENOSPC): it was revoked, since nobody could see it; run the command again with stdout to a terminal or a file");
    }
    const list = await run(["keys", "list"]);
    expect(list.stdout.split("\n").find((l) => l.includes("unseen"))).toContain("revoked");
    // (PostgreSQL answers a count as text.)
    const count = async (statement: string, ...params: string[]) => Number((await querySql(srv, statement, ...params))[0]!.n);
    expect(await count("SELECT count(*) AS n FROM sessions WHERE revoked_at IS NULL AND user_id = (SELECT id FROM users WHERE email = ?)", email)).toBe(0);
    expect(await count("SELECT count(*) AS n FROM audit_logs WHERE action = 'api_key.revoke' AND CAST(metadata AS TEXT) LIKE '%not shown%'")).toBe(1);
  });
});

describe("a command that makes the store where there is none", () => {
  test.skipIf(testDialect() === "postgres")("says so on stderr, once: keys create, sessions create and mcp (a mistyped --data is seen)", async () => {
    for (const args of [["keys", "create", "--name", "first"], ["sessions", "create", "--email", "first@example.com"]]) {
      const dir = join(scratch, `fresh-${args[0]}`);
      const first = await run([...args, "--data", dir]);
      expect({ code: first.code, stderr: first.stderr.trim() }).toEqual({ code: 0, stderr: `clanker: no clanker data in ${dir} yet: making a new store there (if you meant another folder, check --data or CLANKER_DATA_DIR)` });
      const again = await run([...args, "--data", dir]);
      expect({ code: again.code, stderr: again.stderr }).toEqual({ code: 0, stderr: "" });
    }
    // clanker mcp: stderr is where an agent's MCP client logs its server; its stdin closed at once, it ends.
    const dir = join(scratch, "fresh-mcp");
    const mcp = await run(["mcp", "--data", dir]);
    expect(mcp.stderr).toContain(`clanker: no clanker data in ${dir} yet: making a new store there`);
  });
});

describe("backup", () => {
  test.skipIf(testDialect() === "postgres")("backup PATH writes a folder whose SQLite copy holds every user", async () => {
    const emails = [uniqueEmail("bk1"), uniqueEmail("bk2"), uniqueEmail("bk3")];
    for (const email of emails) await srv.createKey({ email });
    const live = new Database(join(srv.dataDir, "clanker.db"), { readonly: true });
    const liveUsers = live.query<{ n: number }, []>("SELECT count(*) AS n FROM users").get()!.n;
    live.close();
    expect(liveUsers).toBeGreaterThanOrEqual(3);

    const folder = join(scratch, "nested", "backup");
    const r = await run(["backup", folder]);
    expect(r.code).toBe(0);
    const file = join(folder, "clanker.db");
    expect(existsSync(file)).toBe(true);
    const copy = new Database(file, { readonly: true });
    try {
      expect(copy.query<{ n: number }, []>("SELECT count(*) AS n FROM users").get()!.n).toBe(liveUsers);
      const stored = copy.query<{ email: string }, []>("SELECT email FROM users").all().map((u) => u.email);
      for (const email of emails) expect(stored).toContain(email);
      expect(copy.query("PRAGMA integrity_check").values()).toEqual([["ok"]]);
    } finally {
      copy.close();
    }
    // The copy is self-contained: no WAL beside it is needed.
    expect(existsSync(`${file}-wal`)).toBe(false);
  }, 20_000);

  test("backup without FILE → exit 2", async () => {
    expectUsageError(await run(["backup"]), /backup/);
  });
});

describe("health", () => {
  const port = () => new URL(srv.url).port;

  test("against the running server → exit 0 and one line", async () => {
    const r = await run(["health", "--port", port()]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toContain(`127.0.0.1:${port()}/healthz`);
  });

  test("a mistyped flag or an extra argument is exit 1 too (Docker reserves a HEALTHCHECK's 2), one line", async () => {
    for (const args of [["health", "--bogus"], ["health", "extra"]]) {
      const r = await run(args);
      expect({ code: r.code, lines: r.stderr.trim().split("\n").length }).toEqual({ code: 1, lines: 1 });
      expect(r.stderr).toContain("see 'clanker health --help'");
    }
  });

  test("bound to 0.0.0.0, it asks 127.0.0.1", async () => {
    const r = await run(["health", "--host", "0.0.0.0", "--port", port()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`http://127.0.0.1:${port()}/healthz`);
  });

  test("against a closed port → exit 1 and one line on stderr", async () => {
    const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
    const closed = String(probe.port);
    probe.stop(true);
    const r = await run(["health", "--port", closed]);
    expect({ code: r.code, timedOut: r.timedOut, stdout: r.stdout }).toEqual({ code: 1, timedOut: false, stdout: "" });
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`unhealthy: .*:${closed}/healthz`));
    expect(r.stderr).toContain("is the server running (clanker serve)? If it listens elsewhere, pass --port and --host");
  });

  test("against a server that answers something else than 200 → exit 1", async () => {
    const other = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("down", { status: 503 }) });
    try {
      const r = await run(["health", "--port", String(other.port)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("503");
    } finally {
      other.stop(true);
    }
  });
});

describe("migrate", () => {
  test("migrate on the live store exits 0", async () => {
    const r = await run(["migrate"]);
    expect(r.code).toBe(0);
    expect(r.stderr.trim()).toBe("");
  });

  test("migrate on an empty data dir exits 0 and creates the store's tables", async () => {
    const dir = join(scratch, "fresh");
    const env = { CLANKER_DATA_DIR: dir, ...(await ownStoreEnv(dir)) };
    const r = await run(["migrate"], env);
    expect(r.code).toBe(0);
    const tables = await tableNames({ dataDir: dir, env });
    for (const t of ["users", "workspaces", "memberships", "api_keys", "sessions", "audit_logs", "idempotency_keys", "memory"]) expect(tables).toContain(t);
    // Running it again is a no-op that still exits 0.
    expect((await run(["migrate"], env)).code).toBe(0);
  });
});

describe("a CLI verb (or clanker mcp, or migrate) beside an older server", () => {
  test.skipIf(testDialect() === "postgres")("refuses to migrate the database under it (exit 2, one line saying what to do), and changes nothing", async () => {
    const older = await startServer({});
    try {
      // What an older version's server would be serving: a database without this version's last migration, and a pid
      // file naming the migration before it as the last it ships.
      const tags = await querySqlTags(older);
      const last = tags.at(-1)!;
      expect(await runSql(older, "DELETE FROM _migrations WHERE tag = ?", last)).toBe(1);
      const pidFile = join(older.dataDir, "clanker.pid");
      const [pid, url, shipped] = readFileSync(pidFile, "utf8").split("\n");
      expect(shipped).toBe(last);
      writeFileSync(pidFile, `${pid}\n${url}\n${tags.at(-2)}\n`);
      const env = { CLANKER_DATA_DIR: older.dataDir };
      for (const args of [["keys", "list"], ["keys", "create", "--name", "x"], ["credits", "grant", "--workspace", "x", "--amount", "1"], ["migrate"], ["mcp"]])
        expectUsageError(await run(args, env), new RegExp(`^clanker( mcp)?: the server serving .* \\(pid \\d+\\) is an older clanker than this command: its database lacks migration ${last}.*Stop that server and start this version`));
      expect((await querySqlTags(older)).includes(last)).toBe(false);
      // A server of this version that has not finished migrating (it ships the migration): no refusal, it goes on to
      // migrate (and meets the tables this test left without their tag).
      writeFileSync(pidFile, `${pid}\n${url}\n${last}\n`);
      const starting = await run(["keys", "list"], env);
      expect(starting.stderr).not.toContain("older clanker");
      expect(starting.stderr).toContain(`migration ${last} failed`);
      await older.stop();
      // Killed, its pid file left behind, that pid now another process's (which does not hold the lock): no server.
      const other = Bun.spawn(["sleep", "30"]);
      try {
        writeFileSync(pidFile, `${other.pid}\nhttp://127.0.0.1:9\n${tags.at(-2)}\n`);
        const listed = await run(["keys", "list"], env);
        expect(listed.stderr).not.toContain("older clanker");
        expect(listed.stderr).toContain(`migration ${last} failed`);
      } finally {
        other.kill();
      }
    } finally {
      await older.stop();
      cleanup(older);
    }
  });
});

describe("a migration that fails", () => {
  test.skipIf(testDialect() === "postgres")("is one line naming it and what to do (exit 2), from migrate and from serve; the dir is left as the migrations before it made it", async () => {
    const dir = join(scratch, "failing-migration");
    mkdirSync(dir, { recursive: true });
    // 0002 makes the executions table: one made by hand first makes it fail.
    const db = new Database(join(dir, "clanker.db"));
    db.run("CREATE TABLE executions (id INTEGER PRIMARY KEY)");
    db.close();
    const env = { CLANKER_DATA_DIR: dir };
    for (const args of [["migrate"], ["serve", "--port", "0"]])
      expectUsageError(await run(args, env), /^clanker: migration 0002_executions_billing_events failed \(.*executions.*\): it rolled back, the migrations before it stay applied\. .*clanker migrate again/);
    const check = new Database(join(dir, "clanker.db"), { readonly: true });
    expect(check.query<{ tag: string }, []>("SELECT tag FROM _migrations ORDER BY tag").all().map((r) => r.tag)).toEqual(["0000_init", "0001_skills_secrets_byok"]);
    check.close();
  });
});

describe("credits grant", () => {
  test("adds credits to the named workspace's ledger, visible over HTTP", async () => {
    const slug = `credits-${process.pid}`;
    const key = await srv.createKey({ email: uniqueEmail("credits"), workspace: slug });
    const api = client(srv, { apiKey: key });
    const before = (await api("GET", "/api/v1/billing/balance")).body.balance as number;
    const r = await run(["credits", "grant", "--workspace", slug, "--amount", "12.5"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`balance is now ${before + 12.5}`);
    expect((await api("GET", "/api/v1/billing/balance")).body.balance).toBe(before + 12.5);
    const txns = (await api("GET", "/api/v1/billing/transactions")).body.data;
    expect(txns[0]).toMatchObject({ kind: "grant", amount: 12.5, balanceAfter: before + 12.5 });
    const tier = (await api("GET", "/api/v1/billing/subscription/tier")).body;
    expect(tier).toMatchObject({ tier: "paygmode", byokCost: 0, prices: { inputPerMTok: 300, outputPerMTok: 1500 } });
    // Audited in the workspace, as the command line's other changes are.
    const audit = (await api("GET", "/api/v1/audit-logs?action=credits.grant")).body.data;
    expect(audit.map((a: { action: string; resourceId: string; metadata: unknown }) => [a.action, a.resourceId, a.metadata])).toEqual([["credits.grant", txns[0].id, { amount: 12.5, via: "cli" }]]);
    // A session made by the command line too, in the workspace it acts in.
    const email = uniqueEmail("cli-session");
    const made = await run(["sessions", "create", "--email", email]);
    const session = client(srv, { session: made.stdout.trim().split("\n").pop()! });
    const created = (await session("GET", "/api/v1/audit-logs?action=session.create")).body.data;
    expect(created.map((a: { action: string; metadata: unknown }) => [a.action, a.metadata])).toEqual([["session.create", { via: "cli" }]]);
  });

  test("a grant to a workspace whose account nobody opened yet is the only credit: the command line knows no server's welcome grant", async () => {
    const slug = `credits-first-${process.pid}`;
    const key = await srv.createKey({ email: uniqueEmail("credits-first"), workspace: slug });
    const r = await run(["credits", "grant", "--workspace", slug, "--amount", "5"], { CLANKER_CREDIT_GRANT: "100" });
    expect({ code: r.code, stdout: r.stdout }).toMatchObject({ code: 0, stdout: expect.stringContaining("balance is now 5") });
    const api = client(srv, { apiKey: key });
    expect((await api("GET", "/api/v1/billing/balance")).body.balance).toBe(5);
    expect((await api("GET", "/api/v1/billing/transactions")).body.data.map((t: { amount: number }) => t.amount)).toEqual([5]);
  });

  test("a bad amount or an unknown workspace → exit 2", async () => {
    expectUsageError(await run(["credits", "grant", "--workspace", "nope-nope", "--amount", "5"]), /no workspace with slug .nope-nope. in this data dir; clanker keys list names each key.s workspace/);
    expectUsageError(await run(["credits", "grant", "--workspace", "x", "--amount", "abc"]), /--amount/);
    expectUsageError(await run(["credits", "grant", "--workspace", "x", "--amount", "99999999999999999999"]), /--amount must be at most 1,000,000,000/);
    expectUsageError(await run(["credits", "grant", "--workspace", "x", "--amount", "1.1234567"]), /--amount takes at most 6 decimals/);
  });
});
