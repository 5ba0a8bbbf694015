// The hot path's cache (key → principal, and the principal's user row): every change that could alter what it
// holds reaches the next request — through this server at once, from another process (the CLI, direct SQL)
// within the 50 ms between data_version checks, not the 5 s the cache entries live.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cleanup, client, startServer, testDialect, uniqueEmail, type TestServer } from "./helpers/server";
import { runSql } from "./helpers/sql";
import { waitUntil } from "./helpers/suite";

let srv: TestServer;

beforeAll(async () => {
  srv = await startServer();
});

afterAll(async () => {
  await srv?.stop();
  if (srv) cleanup(srv);
});

/** Past the 50 ms between the server's looks at data_version, far short of the 5 s entry TTL. */
const OTHER_PROCESS_DELAY_MS = 150;
/**
 * How long another process's change may take to be seen: polled, not slept (PostgreSQL's NOTIFY on a loaded machine
 * may take longer than OTHER_PROCESS_DELAY_MS), and still far short of the TTL, which a cache that missed it waits out.
 */
const SEEN_WITHIN_MS = 2_000;
const seen = (what: string, check: () => Promise<boolean>) => waitUntil(what, check, SEEN_WITHIN_MS);

async function profile(auth: { apiKey?: string; session?: string }) {
  return client(srv, auth)("GET", "/api/v1/profile");
}

/** Warms the cache: several reads, so the key and the user row are surely held. */
async function warm(auth: { apiKey?: string; session?: string }) {
  for (let i = 0; i < 3; i++) expect((await profile(auth)).status).toBe(200);
}

describe("key cache invalidation", () => {
  test("a key revoked over the API is refused on the very next request", async () => {
    const email = uniqueEmail("cache-revoke");
    const admin = await srv.createKey({ name: "admin", email });
    const doomed = await srv.createKey({ name: "doomed", email });
    await warm({ apiKey: doomed });
    const id = (await profile({ apiKey: doomed })).body.apiKeyId;
    const r = await client(srv, { apiKey: admin })("POST", `/api/v1/api-keys/${id}/revoke`);
    expect(r.status).toBe(200);
    const next = await profile({ apiKey: doomed });
    expect(next.status).toBe(401);
    expect(next.body.error.code).toBe("KEY_REVOKED");
  });

  test("a key revoked by the CLI (another process) is refused within the data_version interval, not the 5 s TTL", async () => {
    const email = uniqueEmail("cache-cli");
    const doomed = await srv.createKey({ name: "cli-doomed", email });
    await warm({ apiKey: doomed });
    const id = (await profile({ apiKey: doomed })).body.apiKeyId;
    const r = await srv.cli(["keys", "revoke", id]);
    expect(r.code).toBe(0);
    await seen("the CLI's revoke", async () => (await profile({ apiKey: doomed })).status === 401);
  });

  test("a role changed by another process is the role of the next request", async () => {
    const email = uniqueEmail("cache-role");
    const key = await srv.createKey({ name: "role", email });
    await warm({ apiKey: key });
    const me = (await profile({ apiKey: key })).body;
    expect(me.role).toBe("owner");
    const hash = new Bun.CryptoHasher("sha256").update(key).digest("hex");
    expect(await runSql(srv, "UPDATE memberships SET role = 'member' WHERE user_id = (SELECT user_id FROM api_keys WHERE key_hash = ?)", hash)).toBe(1);
    await seen("the demotion", async () => (await profile({ apiKey: key })).body.role === "member");
    // And a removal from the workspace: the key no longer acts in it.
    expect(await runSql(srv, "DELETE FROM memberships WHERE user_id = (SELECT user_id FROM api_keys WHERE key_hash = ?)", hash)).toBe(1);
    await seen("the removal", async () => (await profile({ apiKey: key })).status === 401);
  });

  test("rebinding a key to another workspace moves its next request there", async () => {
    const email = uniqueEmail("cache-rebind");
    const key = await srv.createKey({ name: "rebind", email });
    await warm({ apiKey: key });
    const before = (await profile({ apiKey: key })).body.workspaceId;
    const ws = await client(srv, { apiKey: key })("POST", "/api/v1/workspaces", { body: { name: "Second" } });
    expect(ws.status).toBe(200);
    expect((await client(srv, { apiKey: key })("PUT", "/api/v1/workspaces/current", { body: { workspace: ws.body.id } })).status).toBe(200);
    const after = (await profile({ apiKey: key })).body.workspaceId;
    expect(after).toBe(ws.body.id);
    expect(after).not.toBe(before);
  });
});

describe("profile cache invalidation", () => {
  test("a name changed through a session shows at once through the same person's key", async () => {
    const email = uniqueEmail("cache-name");
    const key = await srv.createKey({ name: "name", email });
    const session = await srv.createSession(email);
    await warm({ apiKey: key });
    await warm({ session });
    const patched = await client(srv, { session })("PATCH", "/api/v1/profile", { body: { name: "Renamed Person" } });
    expect(patched.status).toBe(200);
    expect((await profile({ apiKey: key })).body.name).toBe("Renamed Person");
    expect((await profile({ session })).body.name).toBe("Renamed Person");
  });

  test("a name changed by another process shows within the data_version interval", async () => {
    const email = uniqueEmail("cache-sql-name");
    const key = await srv.createKey({ name: "sql-name", email });
    await warm({ apiKey: key });
    expect(await runSql(srv, "UPDATE users SET name = 'Changed Elsewhere' WHERE email = ?", email)).toBe(1);
    await seen("the new name", async () => (await profile({ apiKey: key })).body.name === "Changed Elsewhere");
  });
});

describe.skipIf(testDialect() !== "postgres")("PostgreSQL: the auth NOTIFY names what changed", () => {
  /** One transaction on the server's database with its triggers off: a change no server hears of. */
  async function unheard(statement: string, ...params: string[]): Promise<void> {
    const { default: postgres } = await import("postgres");
    const sql = postgres(srv.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    try {
      await sql.begin(async (tx) => {
        await tx.unsafe("SET LOCAL session_replication_role = replica");
        await tx.unsafe(statement, params);
      });
    } finally {
      await sql.end({ timeout: 5 });
    }
  }

  test("a membership of a new workspace leaves cached keys alone; a change to the key's own membership reaches it", async () => {
    const email = uniqueEmail("cache-narrow");
    const key = await srv.createKey({ name: "narrow", email });
    const hash = new Bun.CryptoHasher("sha256").update(key).digest("hex");
    await warm({ apiKey: key });
    expect((await profile({ apiKey: key })).body.role).toBe("owner");
    // Demoted without a NOTIFY: the cache still answers "owner", which tells whether the next NOTIFY emptied it.
    await unheard("UPDATE memberships m SET role = 'member' FROM api_keys k WHERE k.key_hash = $1 AND m.workspace_id = k.workspace_id AND m.user_id = k.user_id", hash);
    // A new workspace of the same person (as every POST /workspaces makes, here from another process): its
    // membership cannot change the role of a key bound elsewhere, so no server forgets that key for it.
    const ws = await client(srv, { apiKey: key })("POST", "/api/v1/workspaces", { body: { name: "Narrow" } });
    expect(ws.status).toBe(200);
    expect(await runSql(srv, "UPDATE memberships SET role = 'admin' WHERE workspace_id = (SELECT id FROM workspaces WHERE slug = ?)", ws.body.slug)).toBe(1);
    await Bun.sleep(OTHER_PROCESS_DELAY_MS);
    expect((await profile({ apiKey: key })).body.role).toBe("owner");
    // A write to the key's own membership (the same role) names it: the next request reads the row again.
    expect(await runSql(srv, "UPDATE memberships SET role = role WHERE user_id = (SELECT user_id FROM api_keys WHERE key_hash = ?) AND workspace_id = (SELECT workspace_id FROM api_keys WHERE key_hash = ?)", hash, hash)).toBe(1);
    await seen("the write to the key's own membership", async () => (await profile({ apiKey: key })).body.role === "member");
  });
});
