// `clanker backup` of a data dir on a read-only mount (a snapshot, a volume mounted :ro into a backup container): it
// only reads, so it works beside a running server and after a clean stop; a WAL without its -shm, which SQLite cannot
// read there, is one line saying so. `doctor` says the file system is read-only, not to chown it. Each command runs in
// a mount namespace of its own (unshare -m) with the data dir bind-mounted read-only: root only.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { startServer, testDialect, uniqueEmail, type TestServer } from "./helpers/server";
import { stopAll } from "./helpers/suite";

const MAIN = join(resolve(import.meta.dir, ".."), "src/main.ts");
const canMount = process.getuid?.() === 0 && Bun.spawnSync(["unshare", "-m", "true"]).exitCode === 0;
const work = mkdtempSync(join(tmpdir(), "clanker-backup-ro-"));
let srv: TestServer;
let seq = 0;

/** Runs `clanker ARGS --data MOUNT` with `dataDir` bind-mounted read-only at MOUNT, in a mount namespace of its own. */
async function readOnly(dataDir: string, args: string[]) {
  const mount = join(work, `ro-${++seq}`);
  mkdirSync(mount);
  const script = 'mount --bind -o ro "$1" "$2" && shift 2 && exec "$@"';
  const p = Bun.spawn(["unshare", "-m", "sh", "-c", script, "sh", dataDir, mount, process.execPath, MAIN, ...args, "--data", mount], {
    env: srv.env,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { stdout, stderr, code };
}

const keyNames = (bk: string) => {
  const db = new Database(join(bk, "clanker.db"), { readonly: true });
  try {
    return db.query<{ name: string }, []>("SELECT name FROM api_keys").all().map((r) => r.name);
  } finally {
    db.close();
  }
};

describe.skipIf(!canMount || testDialect() === "postgres")("a data dir on a read-only mount", () => {
  beforeAll(async () => {
    srv = await startServer();
    await srv.createKey({ name: "before the backup", email: uniqueEmail("ro") });
  });

  afterAll(() => stopAll([srv], [work]));

  test("backup beside the running server (its -wal in use) → exit 0, a backup holding the newest key, restorable", async () => {
    expect(existsSync(join(srv.dataDir, "clanker.db-wal"))).toBe(true);
    const bk = join(work, "bk-live");
    const r = await readOnly(srv.dataDir, ["backup", bk]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(keyNames(bk)).toContain("before the backup");
    expect((await srv.cli(["restore", bk, "--data", join(work, "restored-live")])).code).toBe(0);
  }, 30_000);

  test("a WAL copied without its -shm → exit 2, one line: the backup needs the folder writable", async () => {
    const copy = join(work, "no-shm");
    mkdirSync(copy);
    for (const f of ["clanker.db", "clanker.db-wal", "master.key"]) copyFileSync(join(srv.dataDir, f), join(copy, f));
    const r = await readOnly(copy, ["backup", join(work, "bk-no-shm")]);
    expect(r).toEqual({
      stdout: "",
      stderr: "clanker: a backup needs the data dir writable (it reads the database through SQLite's WAL); copy it or mount it rw\n",
      code: 2,
    });
    expect(existsSync(join(work, "bk-no-shm"))).toBe(false);
    expect(readdirSync(copy).sort()).toEqual(["clanker.db", "clanker.db-wal", "master.key"]);
  }, 30_000);

  test("doctor says the file system is read-only, not to chown or chmod it", async () => {
    const r = await readOnly(srv.dataDir, ["doctor"]);
    expect(r.code).toBe(1);
    const line = r.stdout.split("\n").find((l) => /^FAIL +data dir/.test(l));
    expect(line).toMatch(/is on a read-only file system: /);
    expect(line).not.toMatch(/chown|chmod/);
  }, 30_000);

  test("backup after a clean stop (no -wal: nothing else has it open) → exit 0, nothing written in the data dir", async () => {
    await srv.createKey({ name: "after the first backup", email: uniqueEmail("ro") });
    expect(await srv.stop()).toBe(0);
    const before = readdirSync(srv.dataDir).sort();
    expect(before).not.toContain("clanker.db-wal");
    const bk = join(work, "bk-stopped");
    const r = await readOnly(srv.dataDir, ["backup", bk]);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(keyNames(bk)).toContain("after the first backup");
    expect(readdirSync(srv.dataDir).sort()).toEqual(before);
  }, 30_000);
});
