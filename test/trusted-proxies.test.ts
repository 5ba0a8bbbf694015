// Behind a reverse proxy (CLANKER_TRUSTED_PROXIES): the client a trusted proxy names in X-Forwarded-For is the one
// rate-limited and audited; from a peer that is not a trusted proxy, the header is ignored. Real servers over real
// HTTP; the "proxy" is this test process on loopback, sending the header a proxy would.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cleanup, client, startServer, type TestServer } from "./helpers/server";
import { querySql } from "./helpers/sql";

const PUBLIC = "/api/v1/marketplace/skills/categories";
const LOOPBACK = /^(127\.0\.0\.1|::1|::ffff:127\.0\.0\.1)$/;

describe("X-Forwarded-For", () => {
  let proxied: TestServer;
  let direct: TestServer;
  // A public limit of 3 a minute: the fourth request from one client is refused.
  const env = { CLANKER_PUBLIC_RATE_LIMIT_PER_MINUTE: "3" };

  beforeAll(async () => {
    [proxied, direct] = await Promise.all([startServer({ env: { ...env, CLANKER_TRUSTED_PROXIES: "loopback" } }), startServer({ env })]);
  });
  afterAll(async () => {
    await Promise.all([proxied?.stop(), direct?.stop()]);
    for (const s of [proxied, direct]) if (s) cleanup(s);
  });

  const from = (srv: TestServer, forwardedFor: string) => client(srv)("GET", PUBLIC, { headers: { "x-forwarded-for": forwardedFor } });
  const statuses = async (srv: TestServer, forwardedFor: string, n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push((await from(srv, forwardedFor)).status);
    return out;
  };

  test("from a trusted proxy, each forwarded client has its own public budget: one past its limit blocks no other", async () => {
    expect(await statuses(proxied, "203.0.113.1", 4)).toEqual([200, 200, 200, 429]);
    // Another client behind the same proxy, and one whose own header the proxy appended to (the left part is the
    // client's to write, so only the right-most untrusted address counts: 203.0.113.2 here too).
    expect(await statuses(proxied, "203.0.113.2", 2)).toEqual([200, 200]);
    expect(await statuses(proxied, "203.0.113.1, 203.0.113.2", 2)).toEqual([200, 429]);
    // A chain of trusted proxies is walked through to the client before them.
    expect(await statuses(proxied, "198.51.100.7, 127.0.0.1", 1)).toEqual([200]);
  });

  test("from a trusted proxy, the audit row's ip is the forwarded client's, for a key's request and for a public one", async () => {
    const key = await proxied.createKey();
    const owner = client(proxied, { apiKey: key });
    const made = await owner("POST", "/api/v1/secrets", { body: { name: "PROXIED_SECRET", value: "s3cret-value" }, headers: { "x-forwarded-for": "198.51.100.20" } });
    expect(made.status).toBeLessThan(300);
    const reg = await client(proxied)("POST", "/agent/auth", { body: { type: "anonymous" }, headers: { "x-forwarded-for": "198.51.100.21" } });
    expect(reg.status).toBe(200);
    const rows = async (call: ReturnType<typeof client>) => (await call("GET", "/api/v1/audit-logs?limit=100")).body.data as { action: string; ip: string | null }[];
    expect((await rows(owner)).find((a) => a.action === "secret.create")?.ip).toBe("198.51.100.20");
    // An unclaimed agent may not read its workspace's audit log: read from the store.
    expect(await querySql(proxied, "SELECT ip FROM audit_logs WHERE action = 'agent.register'")).toEqual([{ ip: "198.51.100.21" }]);
  });

  test("without CLANKER_TRUSTED_PROXIES the header is ignored: every client is the peer, one budget and the peer's address audited", async () => {
    expect(await statuses(direct, "203.0.113.1", 3)).toEqual([200, 200, 200]);
    expect(await statuses(direct, "203.0.113.2", 1)).toEqual([429]);
    const key = await direct.createKey();
    const owner = client(direct, { apiKey: key });
    expect((await owner("POST", "/api/v1/secrets", { body: { name: "DIRECT_SECRET", value: "s3cret-value" }, headers: { "x-forwarded-for": "198.51.100.20" } })).status).toBeLessThan(300);
    const row = ((await owner("GET", "/api/v1/audit-logs?limit=100")).body.data as { action: string; ip: string }[]).find((a) => a.action === "secret.create");
    expect(row?.ip).toMatch(LOOPBACK);
  });
});
