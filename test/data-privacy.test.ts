// The data dir is owner-only whatever the umask (0700 folders, 0600 files: db, -wal, -shm, artifacts, imported
// skills, outbox, backups), an older 0755/0644 data dir is tightened at start-up, and sign-in codes never reach the log.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeModel, type FakeModel } from "./helpers/fake-models";
import { outboxLatest, outboxCode } from "./helpers/mail";
import { cleanup, client, startServer, testDialect, uniqueEmail, type TestServer } from "./helpers/server";

let srv: TestServer;
let fake: FakeModel;
let oldUmask: number;
const work = mkdtempSync(join(tmpdir(), "clanker-privacy-"));
const dataDir = join(work, "data");

/** Every path under root with its permission bits. */
function walk(root: string): { path: string; mode: number; dir: boolean }[] {
  const out: { path: string; mode: number; dir: boolean }[] = [];
  const visit = (p: string) => {
    const st = lstatSync(p);
    out.push({ path: p, mode: st.mode & 0o777, dir: st.isDirectory() });
    if (st.isDirectory()) for (const n of readdirSync(p)) visit(join(p, n));
  };
  visit(root);
  return out;
}

beforeAll(async () => {
  // The usual umask, so files come out 0644 unless the server makes them private itself. Spawned processes inherit it.
  oldUmask = process.umask(0o022);
  // A data dir as an older version left it: 0755 folders, 0644 files.
  mkdirSync(join(dataDir, "artifacts", "9"), { recursive: true, mode: 0o755 });
  const old = new Database(join(dataDir, "clanker.db"), { create: true });
  old.run("PRAGMA journal_mode = WAL");
  old.close();
  writeFileSync(join(dataDir, "artifacts", "9", "1-0-old.md"), "# from an older version\n", { mode: 0o644 });
  chmodSync(dataDir, 0o755);
  expect(statSync(join(dataDir, "clanker.db")).mode & 0o777).toBe(0o644);
  fake = startFakeModel("anthropic");
  srv = await startServer({ dataDir, env: { ANTHROPIC_API_KEY: "sk-ant-server-privacy-0123456789", ANTHROPIC_BASE_URL: fake.url, CLANKER_SMTP_URL: "" } });
});

afterAll(async () => {
  await srv?.stop();
  if (srv) cleanup(srv);
  fake?.stop();
  process.umask(oldUmask);
  rmSync(work, { recursive: true, force: true });
});

describe("file modes", () => {
  // The data dir's own files (db, artifacts, outbox, imported skills, backups): under PostgreSQL they live in the database.
  test.skipIf(testDialect() === "postgres")("under umask 022, after a run with artifacts, a sign-in mail, a skill import and a backup: no group/other bit anywhere", async () => {
    const key = await srv.createKey({ email: uniqueEmail("modes") });
    const api = client(srv, { apiKey: key });
    const started = await api("POST", "/api/v1/skills/summarize/run", { body: { input: "Write a page [[file]]" } });
    expect(started.status).toBe(200);
    let status: any;
    for (let i = 0; i < 200; i++) {
      status = (await api("GET", `/api/v1/executions/${started.body.executionId}/status`)).body;
      if (!["queued", "running"].includes(status.status)) break;
      await Bun.sleep(25);
    }
    expect(status.status).toBe("completed");

    const email = uniqueEmail("modes-mail");
    expect((await client(srv)("POST", "/api/v1/auth/email/start", { body: { email } })).status).toBe(200);
    await outboxCode(dataDir, email);

    // A skill folder as people make them: 0755 folders, 0644 files, an executable script.
    const src = join(work, "to-import", "weekly-digest");
    mkdirSync(join(src, "scripts"), { recursive: true, mode: 0o755 });
    writeFileSync(join(src, "SKILL.md"), `---\nname: weekly-digest\ndescription: Turns a week of notes into a digest.\n---\n\n# Weekly digest\n\nSummarise the notes.\n`, { mode: 0o644 });
    writeFileSync(join(src, "scripts", "run.sh"), "#!/bin/sh\necho hi\n", { mode: 0o755 });
    const imported = await srv.cli(["skills", "import", src]);
    expect(imported.code).toBe(0);
    const backedUp = await srv.cli(["backup", join(dataDir, "backups", "manual")]);
    expect({ code: backedUp.code, stderr: backedUp.stderr }).toEqual({ code: 0, stderr: "" });

    const entries = walk(dataDir);
    const rel = entries.map((e) => e.path.slice(dataDir.length + 1));
    // Not vacuous: every kind of file is there, the WAL pair included (the server holds the db open).
    for (const p of ["clanker.db", "clanker.db-wal", "clanker.db-shm", "master.key", "outbox", "skills/weekly-digest/SKILL.md", "skills/weekly-digest/scripts/run.sh", "backups/manual/clanker.db", "backups/manual/SECRET-master.key", "artifacts/9/1-0-old.md"])
      expect(rel).toContain(p);
    expect(rel.some((p) => /^artifacts\/\d+\/\d+-\d+-index\.html$/.test(p))).toBe(true);
    expect(rel.some((p) => /^outbox\/.+\.eml$/.test(p))).toBe(true);
    const loose = entries.filter((e) => e.mode & 0o077).map((e) => `${(e.mode).toString(8)} ${e.path}`);
    expect(loose).toEqual([]);
    for (const e of entries) if (e.dir) expect({ path: e.path, mode: e.mode }).toEqual({ path: e.path, mode: 0o700 });
    // Files are 0600, except that the owner keeps an imported script's executable bit.
    for (const e of entries.filter((e) => !e.dir && !e.path.endsWith("run.sh"))) expect({ path: e.path, mode: e.mode }).toEqual({ path: e.path, mode: 0o600 });
    expect(statSync(join(dataDir, "skills/weekly-digest/scripts/run.sh")).mode & 0o777).toBe(0o700);
  }, 30_000);

  test.skipIf(testDialect() === "postgres")("a fresh data dir made by `migrate` under umask 022 is 0700 with a 0600 db", async () => {
    const fresh = join(work, "fresh");
    const r = await srv.cli(["migrate"], { CLANKER_DATA_DIR: fresh });
    expect(r.code).toBe(0);
    expect(statSync(fresh).mode & 0o777).toBe(0o700);
    expect(statSync(join(fresh, "clanker.db")).mode & 0o777).toBe(0o600);
    for (const f of ["clanker.db-wal", "clanker.db-shm"]) if (existsSync(join(fresh, f))) expect(statSync(join(fresh, f)).mode & 0o777).toBe(0o600);
  });
});

describe("sign-in codes and the log", () => {
  test("without SMTP the log names the recipient and the outbox file, never the code or the subject", async () => {
    const email = uniqueEmail("nolog");
    const before = srv.logs().length;
    expect((await client(srv)("POST", "/api/v1/auth/email/start", { body: { email } })).status).toBe(200);
    const code = await outboxCode(dataDir, email);
    const mail = outboxLatest(dataDir, email)!;
    expect(mail.subject).toContain(code);
    // The log line is written before the answer; give the pipe a moment to deliver it.
    for (let i = 0; i < 100 && !srv.logs().slice(before).includes(email); i++) await Bun.sleep(20);
    const logged = srv.logs().slice(before);
    expect(logged).toContain(email);
    expect(logged).toContain(mail.file);
    expect(srv.logs()).not.toMatch(new RegExp(`(?<!\\d)${code}(?!\\d)`));
    expect(logged).not.toContain(mail.subject);
  });
});

describe("deleted credentials", () => {
  test.skipIf(testDialect() === "postgres")("a deleted secret's and BYOK key's ciphertext is gone from the database file once the server stops", async () => {
    const own = join(work, "deleted");
    const server = await startServer({ dataDir: own });
    const api = client(server, { apiKey: await server.createKey({ email: uniqueEmail("gone") }) });
    const secret = await api("POST", "/api/v1/secrets", { body: { name: `GONE_${Date.now()}`, value: "sk-gone-secret-value-0123456789" } });
    expect(secret.status).toBe(200);
    // One larger than a page: its ciphertext fills overflow pages of its own, which a delete frees.
    const large = await api("POST", "/api/v1/secrets", { body: { name: `GONE_LARGE_${Date.now()}`, value: "x".repeat(20_000) } });
    expect(large.status).toBe(200);
    expect((await api("PUT", "/api/v1/byok", { body: { anthropicKey: "sk-ant-api03-gone-byok-key-0123456789abcdef" } })).status).toBe(200);
    // What was sealed, as the file holds it (read-only, beside the running server).
    const peek = new Database(join(own, "clanker.db"), { readonly: true });
    const sealed = [
      ...peek.query<{ c: Uint8Array }, []>("SELECT ciphertext AS c FROM secrets").all(),
      ...peek.query<{ c: Uint8Array }, []>("SELECT ciphertext AS c FROM byok_keys").all(),
    ].map((r) => Buffer.from(r.c));
    peek.close();
    expect(sealed.length).toBe(3);
    // The large one by a slice from its middle (a page boundary may split the whole).
    sealed.forEach((c, i) => c.length > 4096 && (sealed[i] = c.subarray(10_000, 10_032)));
    expect((await api("DELETE", `/api/v1/secrets/${secret.body.id}`)).status).toBe(200);
    expect((await api("DELETE", `/api/v1/secrets/${large.body.id}`)).status).toBe(200);
    expect((await api("DELETE", "/api/v1/byok")).status).toBe(200);
    await server.stop();
    // A clean stop folds the WAL into the file: what is left is the file alone.
    expect(existsSync(join(own, "clanker.db-wal"))).toBe(false);
    const file = Buffer.from(await Bun.file(join(own, "clanker.db")).arrayBuffer());
    cleanup(server);
    expect(sealed.map((c) => file.includes(c))).toEqual([false, false, false]);
  });
});
