// `clanker backup PATH` of a running server and `clanker restore PATH --data DIR`, as real processes: after a restore
// a new server decrypts the same BYOK key (the fake Anthropic server sees it) and webhook secret, serves the old
// artifacts and imported skills; an existing target or a non-empty DIR is one line and exit 2; with
// CLANKER_MASTER_KEY the backup says the key is not in it and restore needs the same key; scheduled backups keep N.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { promptText, startFakeModel, type FakeModel } from "./helpers/fake-models";
import { cleanup, client, startServer, testDialect, uniqueEmail, type TestServer } from "./helpers/server";
import { backupName, staleBackups } from "../src/jobs/backups";

type Call = ReturnType<typeof client>;
let fake: FakeModel;
const work = mkdtempSync(join(tmpdir(), "clanker-backup-"));
const servers: TestServer[] = [];
let seq = 0;

const byokKey = () => `sk-ant-api03-${randomBytes(30).toString("base64url")}`;

async function serve(env: Record<string, string> = {}, dataDir?: string): Promise<TestServer> {
  const s = await startServer({ dataDir, env: { ANTHROPIC_BASE_URL: fake.url, ANTHROPIC_API_KEY: "", OPENAI_BASE_URL: "", CLANKER_WORKERS: "1", ...env } });
  servers.push(s);
  return s;
}

function expectOneLineRefusal(r: { code: number; stderr: string }, mentions: RegExp) {
  expect(r.code).toBe(2);
  const lines = r.stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(mentions);
}

/** Runs a skill to its end; returns the execution's final status. */
async function run(api: Call, input: string): Promise<any> {
  const started = await api("POST", "/api/v1/skills/summarize/run", { body: { input } });
  expect({ status: started.status, text: started.text }).toMatchObject({ status: 200 });
  for (let i = 0; i < 400; i++) {
    const s = (await api("GET", `/api/v1/executions/${started.body.executionId}/status`)).body;
    if (!["queued", "running"].includes(s.status)) return s;
    await Bun.sleep(25);
  }
  throw new Error("the run did not end");
}

/** The key the fake model received with the request whose prompt holds `marker`. */
function keySeenFor(marker: string): string | undefined {
  return fake.requests.find((r) => promptText(r.body).includes(marker))?.headers["x-api-key"];
}

beforeAll(() => {
  fake = startFakeModel("anthropic");
});

afterAll(async () => {
  for (const s of servers) {
    await s.stop().catch(() => {});
    cleanup(s);
  }
  fake?.stop();
  rmSync(work, { recursive: true, force: true });
});

// A SQLite data dir's backup; under PostgreSQL `clanker backup` refuses and points at pg_dump (tested in cli.test.ts).
describe.skipIf(testDialect() === "postgres")("backup and restore with the master key in the data dir", () => {
  let srv: TestServer;
  let api: Call;
  let ownerKey: string;
  const key = byokKey();
  let webhookSecret: string;
  let artifactId: string;
  let artifactText: string;
  // A parent folder that is the user's, readable by others: the backup is private, the parent keeps its mode.
  const shared = join(work, "shared");
  const bk = join(shared, "bk1");
  const restored = join(work, "restored1");

  beforeAll(async () => {
    mkdirSync(shared);
    chmodSync(shared, 0o755);
    srv = await serve();
    ownerKey = await srv.createKey({ email: uniqueEmail("bk") });
    api = client(srv, { apiKey: ownerKey });
    expect((await api("PUT", "/api/v1/byok", { body: { anthropicKey: key } })).status).toBe(200);
    expect((await api("POST", "/api/v1/secrets", { body: { name: "GITHUB_TOKEN", value: `ghp_${randomBytes(18).toString("hex")}` } })).status).toBe(200);
    webhookSecret = (await api("GET", "/api/v1/webhooks/secret")).body.secret;
    expect(typeof webhookSecret).toBe("string");
    const marker = `before-${++seq}`;
    const done = await run(api, `Make a page ${marker} [[file]]`);
    expect(done.status).toBe("completed");
    expect(keySeenFor(marker)).toBe(key);
    artifactId = done.artifactIds.at(-1);
    const dl = await api("GET", `/api/v1/artifacts/${artifactId}/download`);
    expect(dl.status).toBe(200);
    artifactText = dl.text;
    const skill = join(work, "import", "weekly-digest");
    mkdirSync(skill, { recursive: true });
    writeFileSync(join(skill, "SKILL.md"), `---\nname: weekly-digest\ndescription: Turns a week of notes into a digest.\n---\n\n# Weekly digest\n\nSummarise the notes.\n`);
    expect((await srv.cli(["skills", "import", skill])).code).toBe(0);
  }, 30_000);

  test("backup of the running server writes a folder with the db, the SECRET key file 0600, artifacts and skills", async () => {
    const r = await srv.cli(["backup", bk]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout).toMatch(/SECRET/);
    const names = readdirSync(bk).sort();
    expect(names).toEqual(["README.txt", "SECRET-master.key", "artifacts", "clanker-backup.json", "clanker.db", "skills"].sort());
    expect(statSync(join(bk, "SECRET-master.key")).mode & 0o777).toBe(0o600);
    expect(statSync(bk).mode & 0o777).toBe(0o700);
    expect(statSync(shared).mode & 0o777).toBe(0o755);
    expect(existsSync(join(bk, "skills", "weekly-digest", "SKILL.md"))).toBe(true);
    expect(existsSync(join(bk, "clanker.db-wal"))).toBe(false);
  }, 20_000);

  test("a CLANKER_MASTER_KEY that cannot open the database's secrets → exit 2, one line, nothing written", async () => {
    const target = join(shared, "bk-wrong-key");
    const r = await srv.cli(["backup", target], { CLANKER_MASTER_KEY: randomBytes(32).toString("base64") });
    expectOneLineRefusal(r, /nothing written: CLANKER_MASTER_KEY cannot open the secrets.*or unset it: the data dir's master\.key is used then/);
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(shared).filter((n) => n.includes("bk-wrong-key"))).toEqual([]);
  }, 20_000);

  test("an existing target → exit 2, one line, and the existing backup is untouched", async () => {
    const before = readdirSync(bk).sort();
    expectOneLineRefusal(await srv.cli(["backup", bk]), /already exists/);
    expect(readdirSync(bk).sort()).toEqual(before);
    expectOneLineRefusal(await srv.cli(["backup"]), /backup.*PATH/);
    // Where nothing can be made: named as the folder asked for.
    expectOneLineRefusal(await srv.cli(["backup", "/proc/clanker-bk"]), /^clanker: cannot mkdir \/proc\/clanker-bk: /);
  }, 20_000);

  test("restore into a new dir; a server on it decrypts the same BYOK key and webhook secret and serves the old artifact", async () => {
    const r = await srv.cli(["restore", bk, "--data", restored]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    const again = await serve({}, restored);
    // The same API key works on the restored server: its hash is in the db copy.
    const old = client(again, { apiKey: ownerKey });
    expect((await old("GET", "/api/v1/byok")).body).toMatchObject({ configured: true, last4: key.slice(-4) });
    expect((await old("GET", "/api/v1/webhooks/secret")).body.secret).toBe(webhookSecret);
    expect((await old("GET", "/api/v1/secrets")).body.data.map((s: { name: string }) => s.name)).toContain("GITHUB_TOKEN");
    const dl = await old("GET", `/api/v1/artifacts/${artifactId}/download`);
    expect({ status: dl.status, text: dl.text }).toEqual({ status: 200, text: artifactText });
    expect((await old("GET", "/api/v1/marketplace/skills/weekly-digest")).status).toBe(200);
    const marker = `after-${++seq}`;
    const done = await run(old, `Summarize ${marker}`);
    expect({ status: done.status, byok: done.byok }).toEqual({ status: "completed", byok: true });
    expect(keySeenFor(marker)).toBe(key);
  }, 30_000);

  test("a run in flight at the backup is settled by the restored server's start, while the backed-up server (its holder's pid) still runs", async () => {
    const started = await api("POST", "/api/v1/skills/summarize/run", { body: { input: `In flight at the backup ${++seq} [[slow:1500]]` } });
    const id = started.body.executionId;
    for (let i = 0; i < 200 && (await api("GET", `/api/v1/executions/${id}/status`)).body.status !== "running"; i++) await Bun.sleep(25);
    const target = join(shared, `bk-in-flight-${seq}`);
    expect((await srv.cli(["backup", target])).code).toBe(0);
    const dir = join(work, `restored-in-flight-${seq}`);
    expect((await srv.cli(["restore", target, "--data", dir])).code).toBe(0);
    const again = await serve({}, dir);
    const there = client(again, { apiKey: ownerKey });
    let status: any;
    for (let i = 0; i < 40; i++) {
      status = (await there("GET", `/api/v1/executions/${id}/status`)).body;
      if (!["queued", "running"].includes(status.status)) break;
      await Bun.sleep(250);
    }
    // The restore's run was held by the old server (alive, on this host): its own stays its own, this one ends.
    expect({ status: status.status, code: status.error?.code }).toEqual({ status: "failed", code: "SERVER_RESTARTED" });
    expect((await api("GET", `/api/v1/executions/${id}/status`)).body.status).toBe("running");
    await api("POST", `/api/v1/executions/${id}/cancel`);
  }, 40_000);

  test("restore into a non-empty dir (a running server's) → exit 2, one line; so does a folder that is no backup", async () => {
    expectOneLineRefusal(await srv.cli(["restore", bk, "--data", srv.dataDir]), /not empty/);
    expectOneLineRefusal(await srv.cli(["restore", bk, "--data", restored]), /not empty/);
    expectOneLineRefusal(await srv.cli(["restore", work, "--data", join(work, "never")]), /not a clanker backup/);
    expectOneLineRefusal(await srv.cli(["restore", join(work, "no-such-backup"), "--data", join(work, "never")]), /no-such-backup does not exist: give the folder `clanker backup` wrote/);
    expect(existsSync(join(work, "never"))).toBe(false);
  }, 20_000);

  // As another user than root (root reads every file): a backup made by root, restored by the service's user.
  test.skipIf(process.getuid?.() !== 0)("a backup this user may not read → exit 2, one line saying permission denied and what to do, not 'not a clanker backup'", async () => {
    const home = mkdtempSync(join(tmpdir(), "clanker-restore-nobody-"));
    chownSync(home, 65534, 65534);
    const asNobody = async (source: string) => {
      const argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, join(import.meta.dir, "..", "src/main.ts"), "restore", source, "--data", join(home, "data")];
      const p = Bun.spawn(argv, { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home }, cwd: home, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
      const [stderr, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
      return { stderr, code };
    };
    // The scratch folder searchable for the moment: what is refused is the backup itself.
    chmodSync(work, 0o711);
    try {
      // The folder 0700 (as backup writes it), then the folder open and the manifest 0600.
      expect(statSync(bk).mode & 0o777).toBe(0o700);
      expectOneLineRefusal(await asNobody(bk), new RegExp(`^clanker: cannot read ${join(bk, "clanker-backup.json")}: permission denied: run the restore as the backup's owner, or chown the backup folder to this user$`));
      const open = join(work, "bk-open-folder");
      cpSync(bk, open, { recursive: true });
      chmodSync(open, 0o755);
      expectOneLineRefusal(await asNobody(open), /^clanker: cannot read .*bk-open-folder\/clanker-backup\.json: permission denied/);
      expect(existsSync(join(home, "data"))).toBe(false);
    } finally {
      chmodSync(work, 0o700);
      rmSync(home, { recursive: true, force: true });
    }
  }, 20_000);

  test("a backup with a file cut short, changed or missing since → exit 2, one line naming it, nothing restored (not served as the wrong bytes or a 404)", async () => {
    const artifactsIn = (dir: string): string[] => readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    const damage = async (name: string, harm: (file: string, copy: string) => void, says: RegExp) => {
      const copy = join(work, name);
      cpSync(bk, copy, { recursive: true });
      const file = artifactsIn(join(copy, "artifacts"))[0]!;
      harm(file, copy);
      expectOneLineRefusal(await srv.cli(["restore", copy, "--data", join(work, `${name}-restored`)]), says);
      expect(existsSync(join(work, `${name}-restored`))).toBe(false);
    };
    await damage("bk-truncated", (f) => truncateSync(f, 5), /has 5 bytes, not the \d+ it was backed up with: this backup is not whole/);
    await damage("bk-changed", (f) => writeFileSync(f, readFileSync(f).map((b) => b ^ 1)), /is not the file it was backed up as/);
    await damage("bk-missing", (f) => rmSync(f), /artifacts\/.* is missing: this backup is not whole/);
    // A backup made before the manifest listed its files: a missing one is found by the count.
    await damage("bk-older-missing", (f, copy) => {
      const manifest = JSON.parse(readFileSync(join(copy, "clanker-backup.json"), "utf8"));
      delete manifest.contents;
      writeFileSync(join(copy, "clanker-backup.json"), JSON.stringify(manifest));
      rmSync(f);
    }, /1 of its \d+ files are missing/);
    // A manifest otherwise than backup writes one, or files it does not list: refused, never followed.
    const manifestOf = (copy: string) => JSON.parse(readFileSync(join(copy, "clanker-backup.json"), "utf8"));
    const rewrite = (copy: string, change: (m: any) => void) => {
      const m = manifestOf(copy);
      change(m);
      writeFileSync(join(copy, "clanker-backup.json"), JSON.stringify(m));
    };
    await damage("bk-null", (_f, copy) => rewrite(copy, (m) => (m.contents = null)), /lists no files as clanker backup writes them/);
    await damage("bk-escape", (_f, copy) => rewrite(copy, (m) => (m.contents["artifacts/../../../etc/hostname"] = { bytes: 3, sha256: "0".repeat(64) })), /lists "artifacts\/\.\.\/\.\.\/\.\.\/etc\/hostname" otherwise than clanker backup writes an entry/);
    await damage("bk-extra", (f) => writeFileSync(join(f, "..", "planted.txt"), "x"), /planted\.txt is not among the files its clanker-backup\.json lists/);
    await damage("bk-link", (f) => symlinkSync("/etc/passwd", join(f, "..", "passwd")), /passwd is not a file \(a link\?\), and a backup holds files only/);
  }, 30_000);

  test("a backup whose database was changed since → exit 2 naming clanker.db; one made before the database was hashed restores, saying it was not checked", async () => {
    const listed = JSON.parse(readFileSync(join(bk, "clanker-backup.json"), "utf8")).database;
    expect(listed).toEqual({ bytes: statSync(join(bk, "clanker.db")).size, sha256: new Bun.CryptoHasher("sha256").update(readFileSync(join(bk, "clanker.db"))).digest("hex") });
    // A row edited with any SQLite tool: the file stays a sound database, which quick_check alone passed.
    const edited = join(work, "bk-db-edited");
    cpSync(bk, edited, { recursive: true });
    const db = new Database(join(edited, "clanker.db"));
    db.run("UPDATE api_keys SET name = 'edited since'");
    db.close();
    expectOneLineRefusal(await srv.cli(["restore", edited, "--data", join(work, "db-edited-restored")]), /clanker\.db is not the file it was backed up as \(its SHA-256 differs\): this backup is not whole/);
    expect(existsSync(join(work, "db-edited-restored"))).toBe(false);
    const older = join(work, "bk-db-unhashed");
    cpSync(bk, older, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(older, "clanker-backup.json"), "utf8"));
    delete manifest.database;
    writeFileSync(join(older, "clanker-backup.json"), JSON.stringify(manifest));
    const r = await srv.cli(["restore", older, "--data", join(work, "db-unhashed-restored")]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("clanker: warning: clanker.db was not checked against a SHA-256 (this backup was made before clanker recorded one): only SQLite's quick_check passed\n");
    expect((await srv.cli(["restore", bk, "--data", join(work, "db-hashed-restored")])).stderr).toBe("");
  }, 30_000);

  test("an artifacts folder linked to another disk is backed up as its files, and restored as files", async () => {
    const data = join(work, "artifacts-linked-data");
    expect((await srv.cli(["keys", "create", "--name", "k", "--email", uniqueEmail("linked"), "--data", data])).code).toBe(0);
    const disk = join(work, "artifacts-disk");
    mkdirSync(join(disk, "7"), { recursive: true });
    writeFileSync(join(disk, "7", "report.txt"), "on another disk");
    rmSync(join(data, "artifacts"), { recursive: true, force: true });
    symlinkSync(disk, join(data, "artifacts"));
    const bkLinked = join(work, "bk-linked");
    expect((await srv.cli(["backup", bkLinked, "--data", data])).code).toBe(0);
    expect(Object.keys(JSON.parse(readFileSync(join(bkLinked, "clanker-backup.json"), "utf8")).contents)).toEqual(["artifacts/7/report.txt"]);
    const back = join(work, "linked-restored");
    expect((await srv.cli(["restore", bkLinked, "--data", back])).code).toBe(0);
    expect(readFileSync(join(back, "artifacts", "7", "report.txt"), "utf8")).toBe("on another disk");
  }, 30_000);

  test("a restore stopped part-way: every command refuses the folder, saying to restore again, which starts it over", async () => {
    const half = join(work, "half-restored");
    // What a restore killed before its database was in place leaves: the key and the files, no database.
    mkdirSync(join(half, "artifacts"), { recursive: true });
    writeFileSync(join(half, ".restore-unfinished"), "");
    writeFileSync(join(half, "master.key"), randomBytes(32).toString("base64"));
    for (const args of [["serve", "--port", "0"], ["keys", "list"], ["backup", join(work, "from-half")]])
      expectOneLineRefusal(await srv.cli([...args, "--data", half]), /holds a restore that did not finish .*: run the same clanker restore again/);
    const doctor = await srv.cli(["doctor", "--data", half]);
    expect({ code: doctor.code, says: /data dir.*holds a restore that did not finish/.test(doctor.stdout + doctor.stderr) }).toEqual({ code: 1, says: true });
    expect(existsSync(join(half, "clanker.db"))).toBe(false);
    expect((await srv.cli(["restore", bk, "--data", half])).code).toBe(0);
    expect(existsSync(join(half, ".restore-unfinished"))).toBe(false);
    const s = await serve({}, half);
    expect((await s.cli(["keys", "list"])).code).toBe(0);
  }, 30_000);

  test("a backup a newer clanker made is refused at restore (exit 2, one line), not restored for serve to refuse", async () => {
    const newer = join(work, "newer-data");
    expect((await srv.cli(["keys", "create", "--name", "k", "--email", uniqueEmail("newer"), "--data", newer])).code).toBe(0);
    const db = new Database(join(newer, "clanker.db"));
    db.run("INSERT INTO _migrations (tag, applied_at) VALUES ('9999_from_the_future', 1)");
    db.close();
    expect((await srv.cli(["backup", join(work, "newer-bk"), "--data", newer])).code).toBe(0);
    expectOneLineRefusal(await srv.cli(["restore", join(work, "newer-bk"), "--data", join(work, "newer-restored")]), /comes from a newer clanker: .*9999_from_the_future/);
    expect(existsSync(join(work, "newer-restored"))).toBe(false);
  }, 20_000);

  test("a manual backup removes the unfinished folders a backup to the same name killed part-way left beside it, never one still being written nor another name's", async () => {
    const dir = join(work, "manual-partials");
    // A killed `clanker backup bk-new`'s (its process gone, an hour ago), holding the master key; a live server's, just
    // begun; and a hidden folder of the same shape that is not this backup's (in a home folder, say).
    const killed = join(dir, ".bk-new.partial-999999999-1");
    const going = join(dir, `.clanker-backup-20240101T000000000Z.partial-${srv.pid}-${Date.now()}`);
    const others = join(dir, ".photos.partial-999999999-1");
    mkdirSync(killed, { recursive: true });
    writeFileSync(join(killed, "master.key"), "secret");
    mkdirSync(going);
    mkdirSync(others);
    const r = await srv.cli(["backup", join(dir, "bk-new")]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout).toContain("removed 1 unfinished backup folder(s) beside it");
    expect(readdirSync(dir).sort()).toEqual([basename(going), basename(others), "bk-new"].sort());
  }, 20_000);

  test("a single-file backup (an older clanker's: the database alone) given to restore is refused saying how to use it", async () => {
    const file = join(work, "backup.db");
    const db = new Database(file);
    db.run("CREATE TABLE t (x)");
    db.close();
    const dir = join(work, "restored-single");
    expectOneLineRefusal(await srv.cli(["restore", file, "--data", dir]), /backup\.db is a database alone, as `clanker backup` wrote before backups were folders.*cp .*backup\.db .*restored-single\/clanker\.db.*master\.key.*serve --data .*restored-single/);
    const text = join(work, "notes.txt");
    writeFileSync(text, "not a backup");
    expectOneLineRefusal(await srv.cli(["restore", text, "--data", dir]), /notes\.txt is a file, not a clanker backup/);
    expect(existsSync(dir)).toBe(false);
  }, 20_000);

  test("restore through a symlink to an empty folder (a data dir on another disk) restores into that folder", async () => {
    const disk = join(work, "other-disk");
    mkdirSync(disk);
    const link = join(work, "linked-data");
    symlinkSync(disk, link);
    const r = await srv.cli(["restore", bk, "--data", link]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(readdirSync(disk)).toContain("clanker.db");
    // Tightened there, through the link: owner-only, as a restore into a plain folder is.
    expect(statSync(join(disk, "clanker.db")).mode & 0o077).toBe(0);
    expect(statSync(disk).mode & 0o077).toBe(0);
    // A link to nothing is named as such.
    const dangling = join(work, "dangling-data");
    symlinkSync(join(work, "no-such-disk"), dangling);
    expectOneLineRefusal(await srv.cli(["restore", bk, "--data", dangling]), /is not a directory \(a link to nothing\)/);
  }, 20_000);

});

// A SQLite data dir's backup; under PostgreSQL `clanker backup` refuses and points at pg_dump (tested in cli.test.ts).
describe.skipIf(testDialect() === "postgres")("backup and restore with CLANKER_MASTER_KEY", () => {
  const masterKey = randomBytes(32).toString("hex");
  const key = byokKey();
  let srv: TestServer;
  let ownerKey: string;
  const bk = join(work, "bk-env");

  beforeAll(async () => {
    srv = await serve({ CLANKER_MASTER_KEY: masterKey });
    ownerKey = await srv.createKey({ email: uniqueEmail("bk-env") });
    expect((await client(srv, { apiKey: ownerKey })("PUT", "/api/v1/byok", { body: { anthropicKey: key } })).status).toBe(200);
  }, 30_000);

  test("the backup says the key is not in it, and holds no key file", async () => {
    const r = await srv.cli(["backup", bk]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout).toMatch(/NOT in the backup.*CLANKER_MASTER_KEY/);
    expect(readdirSync(bk).some((n) => /key/i.test(n))).toBe(false);
    expect(await Bun.file(join(bk, "README.txt")).text()).toMatch(/NOT in this backup/);
  }, 20_000);

  test("taken from a shell without CLANKER_MASTER_KEY → exit 2, one line saying to set it, nothing written (not a backup that says nothing is sealed)", async () => {
    const target = join(work, "bk-env-unset");
    expectOneLineRefusal(await srv.cli(["backup", target], { CLANKER_MASTER_KEY: "" }), /nothing written: there is no .*master\.key and CLANKER_MASTER_KEY is not set, but this database's secrets were sealed with a key/);
    expect(existsSync(target)).toBe(false);
  }, 20_000);

  test("restore without the key, or with another one → exit 2, one line, nothing written", async () => {
    const dir = join(work, "restored-env-bad");
    expectOneLineRefusal(await srv.cli(["restore", bk, "--data", dir], { CLANKER_MASTER_KEY: "" }), /CLANKER_MASTER_KEY/);
    expectOneLineRefusal(await srv.cli(["restore", bk, "--data", dir], { CLANKER_MASTER_KEY: randomBytes(32).toString("hex") }), /CLANKER_MASTER_KEY/);
    expect(existsSync(dir)).toBe(false);
  }, 20_000);

  test("restore with the same CLANKER_MASTER_KEY; the server on it reaches the model with the same BYOK key", async () => {
    const dir = join(work, "restored-env");
    const r = await srv.cli(["restore", bk, "--data", dir]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    const again = await serve({ CLANKER_MASTER_KEY: masterKey }, dir);
    const marker = `env-after-${++seq}`;
    const done = await run(client(again, { apiKey: ownerKey }), `Summarize ${marker}`);
    expect(done.status).toBe("completed");
    expect(keySeenFor(marker)).toBe(key);
  }, 30_000);
});

// A SQLite data dir's backup; under PostgreSQL `clanker backup` refuses and points at pg_dump (tested in cli.test.ts).
describe.skipIf(testDialect() === "postgres")("scheduled backups", () => {
  test("CLANKER_BACKUP_CRON every second with CLANKER_BACKUP_KEEP=2 keeps the newest two, each restorable", async () => {
    const dir = join(work, "scheduled");
    // What backups killed part-way leave: a partial folder of a process that is gone, removed by the next backup.
    mkdirSync(join(dir, ".clanker-backup-20240101T000000000Z.partial-999999999-1"), { recursive: true });
    const srv = await serve({ CLANKER_BACKUP_CRON: "* * * * * *", CLANKER_BACKUP_KEEP: "2", CLANKER_BACKUP_DIR: dir });
    // And one under the server's own pid, as a container's server (pid 1 at every start) finds its last one's.
    mkdirSync(join(dir, `.clanker-backup-20240101T000000000Z.partial-${srv.pid}-1`), { recursive: true });
    const written = () => srv.logs().match(/backup written to (\S+)/g) ?? [];
    for (let i = 0; i < 200 && written().length < 3; i++) await Bun.sleep(50);
    expect(written().length).toBeGreaterThanOrEqual(3);
    await srv.stop();
    const left = readdirSync(dir).sort();
    expect(left).toHaveLength(2);
    for (const n of left) expect(n).toMatch(/^clanker-backup-\d{8}T\d{9}Z$/);
    const newest = written().at(-1)!.split(" ").pop()!;
    expect(join(dir, left[1]!)).toBe(newest);
    const r = await srv.cli(["restore", newest, "--data", join(work, "restored-scheduled")]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  }, 30_000);

  test("scheduled backups that stop being written fail doctor (naming the newest) and show on /metrics", async () => {
    const dir = join(work, "scheduled-stale");
    const env = { CLANKER_BACKUP_CRON: "* * * * * *", CLANKER_BACKUP_DIR: dir };
    const srv = await serve(env);
    const written = () => srv.logs().match(/backup written to (\S+)/g) ?? [];
    for (let i = 0; i < 100 && !written().length; i++) await Bun.sleep(50);
    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    expect(Number(/^clanker_backup_last_success_timestamp_seconds (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(metrics).toMatch(/^clanker_backup_failures_total 0$/m);
    await srv.stop();
    const fresh = await srv.cli(["doctor"], env);
    expect(fresh.stdout).toMatch(/^ok +backups +scheduled backups are written to /m);
    // Stopped for longer than three intervals (a second each here): the newest is stale.
    await Bun.sleep(3_500);
    const stale = await srv.cli(["doctor"], env);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toMatch(/^FAIL +backups +scheduled backups \(CLANKER_BACKUP_CRON "\* \* \* \* \* \*"\) are not being written to .*: the newest, clanker-backup-\d{8}T\d{9}Z, is from /m);
  }, 30_000);

  test("a bad CLANKER_BACKUP_CRON → exit 2 and one line naming it", async () => {
    const s = servers[0]!;
    const r = await s.cli(["serve"], { CLANKER_BACKUP_CRON: "every night" });
    expectOneLineRefusal(r, /CLANKER_BACKUP_CRON/);
  }, 20_000);

  test("a CLANKER_BACKUP_DIR that cannot be made → serve exits 2, one line naming it, before serving (not a failure in the log at every backup)", async () => {
    const s = servers[0]!;
    const blocked = join(work, "a-file");
    writeFileSync(blocked, "not a folder");
    const r = await s.cli(["serve", "--port", "0", "--data", join(work, "never-served")], { CLANKER_BACKUP_CRON: "0 3 * * *", CLANKER_BACKUP_DIR: join(blocked, "backups") });
    expectOneLineRefusal(r, /CLANKER_BACKUP_DIR .*a-file\/backups cannot hold the scheduled backups \(ENOTDIR\)/);
    expect(existsSync(join(work, "never-served"))).toBe(false);
  }, 20_000);
});

test("doctor's backup check reads a schedule's longest gap: a weekday schedule's newest backup 2.5 days old (over a weekend) is not stale", () => {
  const dir = mkdtempSync(join(tmpdir(), "clanker-stale-"));
  try {
    const at = new Date(Date.now() - 2.5 * 24 * 3600_000);
    mkdirSync(join(dir, backupName(at)));
    const config = { databaseUrl: null, backups: { cron: "0 3 * * 1-5", dir } } as unknown as Parameters<typeof staleBackups>[0];
    expect(staleBackups(config)).toBeNull();
    // Every day, the same backup is stale.
    expect(staleBackups({ ...config, backups: { cron: "0 3 * * *", dir } } as typeof config)).toContain("are not being written");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
