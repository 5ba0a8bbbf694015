import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MIGRATIONS } from "../src/store/migrations";
import { migrate, openStore } from "../src/store/db";
import { createOtpService } from "../src/modules/signin/otp";
import { SecretBox } from "../src/lib/secret-box";

const dir = join(import.meta.dir, "../src/store/migrations");

test("every migration drizzle-kit generated is embedded, in order", () => {
  const journal = JSON.parse(readFileSync(join(dir, "meta/_journal.json"), "utf8")) as { entries: { tag: string }[] };
  expect(MIGRATIONS.map((m) => m.tag)).toEqual(journal.entries.map((e) => e.tag));
  for (const m of MIGRATIONS) expect(m.sql).toBe(readFileSync(join(dir, `${m.tag}.sql`), "utf8"));
});

test("migrations apply to an empty store once, and a second run applies nothing", () => {
  const store = openStore(":memory:");
  expect(migrate(store)).toEqual(MIGRATIONS.map((m) => m.tag));
  expect(migrate(store)).toEqual([]);
  const tables = store.sqlite.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((r) => r.name);
  for (const t of ["users", "workspaces", "memberships", "api_keys", "sessions", "audit_logs", "idempotency_keys", "memory", "executions", "artifacts"])
    expect(tables).toContain(t);
  expect(store.sqlite.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()!.journal_mode).toBe("memory");
  store.close();
});

test("the scheduler's prune forgets one-time codes a day past expiry and keeps live ones", () => {
  const store = openStore(":memory:");
  migrate(store);
  const otp = createOtpService(store, new SecretBox(Buffer.alloc(32, 7)));
  store.tx(() => otp.issue("signin", "old@example.test"));
  store.tx(() => otp.issue("signin", "new@example.test"));
  store.sqlite.run("UPDATE otp_codes SET expires_at = ? WHERE email = 'old@example.test'", [Date.now() - 25 * 3600 * 1000]);
  otp.prune();
  const left = store.sqlite.query<{ email: string }, []>("SELECT email FROM otp_codes").all().map((r) => r.email);
  expect(left).toEqual(["new@example.test"]);
  store.close();
});
