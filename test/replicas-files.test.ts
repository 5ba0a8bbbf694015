// Issue 15, items 6 and 7: what replicas must share besides rows. With PostgreSQL and Redis (source .ci/services.sh):
// an artifact made by a run on A downloads byte-identical from B, a skill imported with A's environment is in B's
// catalog after B restarts, a sign-in code mailed by A is read from the shared outbox and completes on B, a replica
// with another CLANKER_MASTER_KEY refuses to start with one line, and `clanker doctor` checks the stack. In either
// mode: doctor on a healthy and a broken set-up, and the master key check against the database at start.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createCipheriv, randomBytes } from "node:crypto";
import { Database } from "bun:sqlite";
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { answerFor, startFakeModel, type FakeModel } from "./helpers/fake-models";
import { outboxCode } from "./helpers/mail";
import { replicasAvailable, startReplicas, type Replicas } from "./helpers/replicas";
import { cleanup, client, startServer, testDialect, uniqueEmail, type TestServer } from "./helpers/server";
import { runSql } from "./helpers/sql";
import { waitUntil } from "./helpers/suite";

const MAIN = resolve(import.meta.dir, "../src/main.ts");

/** `clanker serve` with this environment, expected to refuse: its exit code and output (killed if it starts after all). */
async function serveRefused(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const p = Bun.spawn([process.execPath, MAIN, "serve"], { env: { ...env, HOST: "127.0.0.1", PORT: "0" }, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => p.kill("SIGKILL"), 15_000);
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr };
}

function expectMasterKeyRefusal(r: { code: number; stdout: string; stderr: string }) {
  expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 2, stderr: expect.stringContaining("CLANKER_MASTER_KEY") });
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stdout).not.toContain("listening");
}

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** doctor's lines as { status, name } for each check line. */
const checkLines = (out: string) =>
  out
    .split("\n")
    .filter((l) => /^(ok|FAIL)\s/.test(l))
    .map((l) => ({ ok: l.startsWith("ok"), line: l }));

async function runToEnd(call: ReturnType<typeof client>, input: string): Promise<any> {
  const r = await call("POST", "/api/v1/skills/summarize/run", { body: { input } });
  expect(r.status).toBe(200);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const s = await call("GET", `/api/v1/executions/${r.body.executionId}/status`);
    if (["completed", "failed", "cancelled"].includes(s.body.status)) return s.body;
    await Bun.sleep(50);
  }
  throw new Error(`execution ${r.body.executionId} did not end in 15 s`);
}

describe.skipIf(!replicasAvailable)("files shared by replicas (PostgreSQL + Redis)", () => {
  let fake: FakeModel;
  let reps: Replicas;
  let A: TestServer;
  let B: TestServer;
  const work = mkdtempSync(join(tmpdir(), "clanker-replicas-files-"));

  beforeAll(async () => {
    fake = startFakeModel("anthropic");
    reps = await startReplicas(2, { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", ANTHROPIC_API_KEY: "sk-ant-replicas-0123456789abcdefghij", ANTHROPIC_BASE_URL: fake.url, OPENAI_BASE_URL: "" });
    [A, B] = reps.servers as [TestServer, TestServer];
  }, 60_000);

  afterAll(async () => {
    await reps?.stop();
    fake?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  test("an artifact made by a run on A downloads byte-identical from B (nothing on either disk); deleted on B, gone on A", async () => {
    const key = await A.createKey({ email: uniqueEmail("rf-art") });
    const onA = client(A, { apiKey: key });
    const onB = client(B, { apiKey: key });
    const input = `Make a page [[file]] ${randomBytes(4).toString("hex")}`;
    const done = await runToEnd(onA, input);
    expect(done.status).toBe("completed");
    expect(done.artifactIds).toHaveLength(2);
    const expected = [answerFor(input).join(""), "<h1>Hello</h1>\n"];
    for (const [i, id] of (done.artifactIds as string[]).entries()) {
      const fromB = await fetch(`${B.url}/api/v1/artifacts/${id}/download`, { headers: { "x-api-key": key } });
      expect(fromB.status).toBe(200);
      const bytesB = Buffer.from(await fromB.arrayBuffer());
      const bytesA = Buffer.from(await (await fetch(`${A.url}/api/v1/artifacts/${id}/download`, { headers: { "x-api-key": key } })).arrayBuffer());
      expect(bytesB.equals(bytesA)).toBe(true);
      expect(bytesB.toString("utf8")).toBe(expected[i]!);
      expect(Number(fromB.headers.get("content-length"))).toBe(bytesB.length);
    }
    // In the database, not on A's disk (where B could never read it).
    for (const s of [A, B]) expect(existsSync(join(s.dataDir, "artifacts"))).toBe(false);
    const [first] = done.artifactIds as string[];
    expect((await onB("DELETE", `/api/v1/artifacts/${first}`)).status).toBe(200);
    expect((await onA("GET", `/api/v1/artifacts/${first}/download`)).status).toBe(404);
  }, 30_000);

  test("a skill imported through the CLI with A's environment is in B's catalog after B restarts", async () => {
    const slug = `shared-skill-${process.pid}`;
    const src = join(work, slug);
    mkdirSync(join(src, "references"), { recursive: true });
    writeFileSync(join(src, "SKILL.md"), `---\nname: ${slug}\ndescription: Imported beside replica A.\ncategory: research\n---\n\n# Shared\n\nDo the shared job.\n`);
    writeFileSync(join(src, "references", "notes.md"), "Some notes.\n");
    const anonB = client(B);
    expect((await anonB("GET", `/api/v1/marketplace/skills/${slug}`)).status).toBe(404);
    const r = await A.cli(["skills", "import", src]);
    expect({ code: r.code, out: r.stdout }).toMatchObject({ code: 0, out: expect.stringContaining("into the database") });
    // The sources can go away, and nothing was written to A's data dir.
    rmSync(src, { recursive: true, force: true });
    expect(existsSync(join(A.dataDir, "skills"))).toBe(false);
    await B.stop();
    await B.restart();
    const d = await anonB("GET", `/api/v1/marketplace/skills/${slug}`);
    expect(d.status).toBe(200);
    expect(d.body).toMatchObject({ category: "research", files: ["references/notes.md"] });
    expect(d.body.instructions).toContain("Do the shared job.");
    const listed = await B.cli(["skills", "list"]);
    expect(listed.stdout).toContain(`${slug}\tresearch\timported`);
  }, 30_000);

  test("a sign-in code mailed by A is in the shared outbox; sign-in completes on B", async () => {
    const email = uniqueEmail("rf-mail");
    expect((await client(A)("POST", "/api/v1/auth/email/start", { body: { email } })).status).toBe(200);
    // Read through B's DATABASE_URL: the outbox is the deployment's, not A's disk.
    const code = await outboxCode(B, email);
    expect(existsSync(join(A.dataDir, "outbox"))).toBe(false);
    const verified = await client(B)("POST", "/api/v1/auth/email/verify", { body: { email, code } });
    expect(verified.status).toBe(200);
    const me = await client(B, { session: verified.body.token })("GET", "/api/v1/profile");
    expect({ status: me.status, email: me.body.email }).toEqual({ status: 200, email });
  }, 30_000);

  test("a replica started with another CLANKER_MASTER_KEY refuses to start with one line naming it", async () => {
    const dir = mkdtempSync(join(work, "wrong-key-"));
    expectMasterKeyRefusal(await serveRefused({ ...(process.env as Record<string, string>), ...reps.env, CLANKER_DATA_DIR: dir, CLANKER_MASTER_KEY: randomBytes(32).toString("base64") }));
    // The one with the shared key is welcome.
    const C = await reps.add();
    expect((await fetch(`${C.url}/healthz`)).status).toBe(200);
  }, 30_000);

  test("doctor: exit 0 on the healthy stack; 1 naming Redis when REDIS_URL points at a closed port", async () => {
    const ok = await A.cli(["doctor"]);
    expect({ code: ok.code, out: ok.stdout }).toMatchObject({ code: 0, out: expect.stringContaining("all checks passed") });
    const lines = checkLines(ok.stdout);
    expect(lines.map((l) => l.ok)).toEqual([true, true, true, true]);
    expect(ok.stdout).toMatch(/^ok\s+database\s+postgres:\/\/.*migrations applied$/m);
    expect(ok.stdout).toMatch(/^ok\s+redis\s+redis:\/\/127\.0\.0\.1:\d+: reachable$/m);
    expect(ok.stdout).toMatch(/^ok\s+master key\s+CLANKER_MASTER_KEY opens/m);

    const bad = await A.cli(["doctor"], { REDIS_URL: `redis://127.0.0.1:${await closedPort()}` });
    expect(bad.code).toBe(1);
    const failed = checkLines(bad.stdout).filter((l) => !l.ok);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.line).toMatch(/^FAIL\s+redis\s+cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ .*REDIS_URL/);
    expect(bad.stdout).toContain("1 check(s) failed: redis");

    const wrongKey = await A.cli(["doctor"], { CLANKER_MASTER_KEY: randomBytes(32).toString("hex") });
    expect(wrongKey.code).toBe(1);
    expect(checkLines(wrongKey.stdout).filter((l) => !l.ok).map((l) => l.line)).toEqual([expect.stringMatching(/^FAIL\s+master key\s+CLANKER_MASTER_KEY cannot open/)]);
  }, 30_000);

  test("migrate says the shared database is up to date; backup refuses with the pg_dump command to run", async () => {
    const m = await B.cli(["migrate"]);
    expect({ code: m.code, out: m.stdout.trim() }).toEqual({ code: 0, out: "The store is up to date" });
    const b = await B.cli(["backup", join(work, "bk")]);
    expect(b.code).toBe(2);
    expect(b.stderr.trim().split("\n")).toHaveLength(1);
    expect(b.stderr).toContain('pg_dump --format=custom --file=clanker.dump "$DATABASE_URL"');
    expect(b.stderr).toContain("CLANKER_MASTER_KEY");
    expect(existsSync(join(work, "bk"))).toBe(false);
  });
});

describe("doctor and the master key check (either store)", () => {
  let srv: TestServer;

  beforeAll(async () => {
    srv = await startServer();
  }, 30_000);

  afterAll(async () => {
    await srv?.stop();
    if (srv) cleanup(srv);
  });

  test("doctor: exit 0 on a healthy data dir; 1 naming the data dir when it does not exist or is a file", async () => {
    const ok = await srv.cli(["doctor"]);
    expect({ code: ok.code, out: ok.stdout }).toMatchObject({ code: 0, out: expect.stringContaining("all checks passed") });
    expect(checkLines(ok.stdout).map((l) => l.ok)).toEqual([true, true, true, true]);
    expect(ok.stdout).toMatch(/^ok\s+master key\s+.*opens the database's check$/m);

    // Loosened since the server tightened it (a copy, a chmod -R): the master key readable by others is a failure.
    if (existsSync(join(srv.dataDir, "master.key"))) {
      chmodSync(join(srv.dataDir, "master.key"), 0o644);
      const loose = await srv.cli(["doctor"]);
      expect(loose.code).toBe(1);
      expect(loose.stdout).toMatch(/^FAIL\s+data dir\s+.*master\.key can be read by other users of this machine .*: chmod 700 .* and chmod 600 the files in it/m);
      chmodSync(join(srv.dataDir, "master.key"), 0o600);
    }

    const missing = join(srv.dataDir, "no-such-dir");
    const bad = await srv.cli(["doctor", "--data", missing]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/^FAIL\s+data dir\s+.*no-such-dir does not exist/m);
    // Looks only: doctor made nothing.
    expect(existsSync(missing)).toBe(false);

    // A file where the data dir belongs is named as such, not as a missing dir or a missing database.
    const file = join(srv.dataDir, "a-file");
    writeFileSync(file, "");
    const onFile = await srv.cli(["doctor", "--data", file]);
    expect(onFile.code).toBe(1);
    // On SQLite the database lives in that dir; PostgreSQL's is reachable all the same.
    if (testDialect() === "sqlite") expect(onFile.stdout).toMatch(/^FAIL\s+database\s+not looked for: the data dir is a file, not a folder/m);
    expect(onFile.stdout).toMatch(/^FAIL\s+data dir\s+.*a-file is a file, not a folder: move the file away, or pass another folder with --data$/m);
  });

  test("doctor: a database and a Redis that accept connections and never answer: both fail within the check's 5 s, and doctor exits after its report", async () => {
    // Accepts every connection and says nothing, as a host behind a firewall that drops replies would.
    const sockets: import("node:net").Socket[] = [];
    const silent = createServer((s) => void sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as { port: number }).port;
    try {
      const t0 = performance.now();
      const out = await srv.cli(["doctor"], { DATABASE_URL: `postgres://u:p@127.0.0.1:${port}/db`, REDIS_URL: `redis://127.0.0.1:${port}` });
      const seconds = (performance.now() - t0) / 1000;
      expect(out.code).toBe(1);
      expect(out.stdout).toMatch(/^FAIL\s+database\s+.*no answer within 5 s/m);
      expect(out.stdout).toMatch(/^FAIL\s+redis\s+/m);
      // The master key could not be checked against a database that did not answer: skipped, not a third failure.
      expect(out.stdout).toMatch(/^--\s+master key\s+.*not checked against the database/m);
      expect(out.stdout).toContain("2 check(s) failed: database, redis");
      // Each check waits 5 s at most; before, a connection left open held the process ~20 s past its report.
      expect(seconds).toBeLessThan(15);
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  }, 40_000);

  test("a database a newer clanker migrated (a rolled-back binary, a newer backup put back): serve, mcp, migrate and keys refuse in one line; doctor fails", async () => {
    const dir = join(srv.dataDir, "from-the-future");
    expect((await srv.cli(["migrate", "--data", dir])).code).toBe(0);
    const future = "9999_from_a_newer_version";
    const insert = "INSERT INTO _migrations (tag, applied_at) VALUES (?, ?)";
    // Under PostgreSQL the database is the suite server's own (DATABASE_URL): the row is taken out again below.
    if (testDialect() === "postgres") await runSql(srv, insert, future, Date.now());
    else {
      const db = new Database(join(dir, "clanker.db"));
      db.query(insert).run(future, Date.now());
      db.close();
    }
    try {
      const refusal = expect.stringMatching(new RegExp(`migrated by a newer clanker .*migration ${future}.*Run that newer version, or put back a backup`));
      const served = await serveRefused({ ...srv.env, CLANKER_DATA_DIR: dir });
      expect({ code: served.code, stderr: served.stderr, lines: served.stderr.trim().split("\n").length }).toEqual({ code: 2, stderr: refusal, lines: 1 });
      expect(served.stdout).not.toContain("listening");
      for (const args of [["migrate"], ["keys", "list"], ["mcp"]]) {
        const r = await srv.cli([...args, "--data", dir]);
        expect({ args, code: r.code, stderr: r.stderr }).toEqual({ args, code: 2, stderr: refusal });
      }
      const doctor = await srv.cli(["doctor", "--data", dir]);
      expect(doctor.code).toBe(1);
      expect(doctor.stdout).toMatch(new RegExp(`^FAIL\\s+database\\s+.*migrated by a newer clanker`, "m"));
    } finally {
      if (testDialect() === "postgres") await runSql(srv, "DELETE FROM _migrations WHERE tag = ?", future);
    }
  }, 40_000);

  /** A migrated store in `dir` with a page three quarters in (an index's or a table's, not the schema's) overwritten: the file opens and lists its migrations. */
  async function damagedStore(dir: string): Promise<string> {
    expect((await srv.cli(["migrate", "--data", dir])).code).toBe(0);
    const file = join(dir, "clanker.db");
    const size = statSync(file).size;
    const fd = openSync(file, "r+");
    writeSync(fd, randomBytes(4096), 0, 4096, Math.floor((size * 0.75) / 4096) * 4096);
    closeSync(fd);
    return file;
  }

  test.skipIf(testDialect() === "postgres")("doctor: a database file damaged where it still opens fails, saying to put a backup back", async () => {
    const dir = join(srv.dataDir, "damaged");
    const file = await damagedStore(dir);
    const out = await srv.cli(["doctor", "--data", dir]);
    expect(out.code).toBe(1);
    expect(out.stdout).toMatch(/^FAIL\s+database\s+.*clanker\.db is damaged \(.*\): stop the server and put the latest backup back \(clanker restore --help\)$/m);

    // Damaged where SQLite cannot even open it: the same advice, and the master key is skipped, not failed.
    writeFileSync(file, randomBytes(8192));
    const unopenable = await srv.cli(["doctor", "--data", dir]);
    expect(unopenable.code).toBe(1);
    expect(unopenable.stdout).toMatch(/^FAIL\s+database\s+.*put the latest backup back \(clanker restore --help\)$/m);
    expect(unopenable.stdout).toMatch(/^--\s+master key\s+/m);
  });

  test.skipIf(testDialect() === "postgres")("serve on a file damaged where it still opens: it starts, and its log says the file is damaged and to put a backup back", async () => {
    const dir = mkdtempSync(join(tmpdir(), "clanker-damaged-serve-"));
    const data = join(dir, "data");
    await damagedStore(data);
    const damaged = await startServer({ dataDir: data });
    try {
      await waitUntil("the damage in the log", () => /the database .*clanker\.db is damaged \(.*\): .*put the latest backup back/.test(damaged.logs()), 10_000);
    } finally {
      await damaged.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    // A whole file says nothing of the kind.
    expect(srv.logs()).not.toContain("is damaged");
  }, 30_000);

  test("a lost master.key (or a restore without its key) refuses to start with one line; the right key starts again", async () => {
    await srv.stop();
    const keyFile = join(srv.dataDir, "master.key");
    renameSync(keyFile, `${keyFile}.kept`);
    // Without a key the server would make a new one: it must not then serve secrets it cannot open.
    const env = srv.env;
    const refused = await serveRefused(env);
    expectMasterKeyRefusal(refused);
    expect(refused.stderr).toContain(`there is no ${keyFile} and CLANKER_MASTER_KEY is not set, but this database's secrets were sealed with a key: put master.key back`);
    // No new (wrong) key was left on disk for the next start to trip on.
    expect(existsSync(keyFile)).toBe(false);
    expectMasterKeyRefusal(await serveRefused({ ...env, CLANKER_MASTER_KEY: randomBytes(32).toString("hex") }));
    const doctor = await srv.cli(["doctor"]);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(/^FAIL\s+master key\s+there is no .*master\.key and CLANKER_MASTER_KEY is not set/m);
    renameSync(`${keyFile}.kept`, keyFile);
    // Its own master.key back, but shadowed by another CLANKER_MASTER_KEY: the refusal says to unset the variable.
    const shadowed = await serveRefused({ ...env, CLANKER_MASTER_KEY: randomBytes(32).toString("hex") });
    expect(shadowed.stderr).toContain(`if ${keyFile} is this database's key, unset CLANKER_MASTER_KEY`);
    await srv.restart();
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
    expect((await srv.cli(["doctor"])).code).toBe(0);
  }, 45_000);

  // The start checks the key against an HMAC of a constant; data dirs made before that hold the constant sealed
  // (AES-256-GCM: iv ‖ tag ‖ ciphertext, the path as associated data), written here with node:crypto as they were.
  // SQLite only: the test rewrites the check in the database file.
  test.skipIf(testDialect() === "postgres")("the sealed check alone: another key is refused, its own key starts and adds the MAC, which then refuses another key", async () => {
    await srv.stop();
    const key = Buffer.from(readFileSync(join(srv.dataDir, "master.key"), "utf8").trim(), "base64");
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(Buffer.from("meta/master-key-check"));
    const data = Buffer.concat([cipher.update("clanker master key check v1", "utf8"), cipher.final()]);
    const sealed = Buffer.concat([iv, cipher.getAuthTag(), data]);
    const checks = () => {
      const db = new Database(join(srv.dataDir, "clanker.db"));
      try {
        return db.query<{ path: string }, []>("SELECT path FROM files WHERE path LIKE 'meta/master-key-%' ORDER BY path").all().map((r) => r.path);
      } finally {
        db.close();
      }
    };
    expect(checks()).toEqual(["meta/master-key-mac"]);
    const db = new Database(join(srv.dataDir, "clanker.db"));
    db.run("DELETE FROM files WHERE path = 'meta/master-key-mac'");
    db.run("INSERT INTO files (path, content, size, created_at) VALUES (?, ?, ?, ?)", ["meta/master-key-check", sealed, sealed.length, Date.now()]);
    db.close();

    expectMasterKeyRefusal(await serveRefused({ ...srv.env, CLANKER_MASTER_KEY: randomBytes(32).toString("hex") }));
    expect(checks()).toEqual(["meta/master-key-check"]);
    await srv.restart();
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
    expect(checks()).toEqual(["meta/master-key-check", "meta/master-key-mac"]);
    await srv.stop();
    // From now on the MAC is what is asked: with the sealed check spoilt, another key is still refused and its own
    // key still starts.
    const again = new Database(join(srv.dataDir, "clanker.db"));
    again.run("UPDATE files SET content = ? WHERE path = 'meta/master-key-check'", [Buffer.from("not a sealed value")]);
    again.close();
    expectMasterKeyRefusal(await serveRefused({ ...srv.env, CLANKER_MASTER_KEY: randomBytes(32).toString("hex") }));
    await srv.restart();
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
  }, 45_000);
});
