// Slack OAuth v2 (issue 11): with CLANKER_SLACK_CLIENT_ID/_SECRET set, connect-integration answers an authorize
// URL with a single-use state; the callback exchanges the code at oauth.v2.access (the fake Slack), seals the bot
// token and shows a page. A reused, expired or foreign state, and a refusal at Slack, connect nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { cleanup, client, startServer, uniqueEmail, type TestServer } from "./helpers/server";
import { startFakeSlack, type FakeSlack } from "./helpers/fake-slack";
import { connectMcp, toolOk } from "./helpers/mcp-client";

let srv: TestServer;
let slack: FakeSlack;
let owner: ReturnType<typeof client>;
let ownerKey: string;

const slackConnected = async (c = owner) => (await c("GET", "/api/v1/integrations")).body.data.find((i: any) => i.id === "slack");

async function startFlow(): Promise<string> {
  const r = await owner("POST", "/api/v1/integrations/slack/connect", { body: {} });
  expect(r.status).toBe(200);
  const url: string = r.body.url;
  expect({ integration: r.body.integration, connected: r.body.connected, url: typeof url }).toEqual({ integration: "slack", connected: false, url: "string" });
  return url;
}

const callback = (q: Record<string, string>) => fetch(`${srv.url}/api/v1/integrations/slack/callback?${new URLSearchParams(q)}`);

beforeAll(async () => {
  slack = startFakeSlack();
  srv = await startServer({
    env: {
      CLANKER_RATE_LIMIT_PER_MINUTE: "10000",
      CLANKER_SLACK_API_URL: slack.apiUrl,
      CLANKER_SLACK_OAUTH_URL: slack.url,
      CLANKER_SLACK_CLIENT_ID: slack.clientId,
      CLANKER_SLACK_CLIENT_SECRET: slack.clientSecret,
    },
  });
  ownerKey = await srv.createKey({ email: uniqueEmail("oauth-owner") });
  owner = client(srv, { apiKey: ownerKey });
}, 30_000);

afterAll(async () => {
  await srv?.stop();
  if (srv) cleanup(srv);
  slack?.stop();
});

describe("Slack OAuth v2", () => {
  test("connect answers the authorize URL; the callback exchanges the code, seals the token and shows a page", async () => {
    const url = await startFlow();
    const u = new URL(url);
    expect(`${u.origin}${u.pathname}`).toBe(`${slack.url}/oauth/v2/authorize`);
    expect(u.searchParams.get("redirect_uri")).toBe(`${srv.url}/api/v1/integrations/slack/callback`);
    expect(u.searchParams.get("scope")).toContain("chat:write");
    const { code, state } = slack.approve(url);
    expect(state.length).toBeGreaterThan(20);
    const page = await callback({ code, state });
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(html).toContain("Slack connected");
    expect(html).toContain("Fake Team");
    expect(await slackConnected()).toMatchObject({ connected: true, account: "Fake Team" });
    const posted = await owner("POST", "/api/v1/integrations/slack/actions/post_message", { body: { input: { channel: "C001", text: "via OAuth" } } });
    expect(posted.status).toBe(200);
    expect(slack.messages.at(-1)!.token).toStartWith("xoxb-oauth-");
    const audit = await owner("GET", "/api/v1/audit-logs?action=integration.connect");
    expect(audit.body.data[0]).toMatchObject({ resourceId: "slack", metadata: { via: "oauth", account: "Fake Team" }, actor: { type: "apiKey" } });

    // The same state a second time connects nothing.
    const again = slack.approve(url);
    const reused = await callback({ code: again.code, state });
    expect(reused.status).toBe(400);
    expect(await reused.text()).toContain("already used");
  });

  test("an expired state, an unknown state and a refusal at Slack each show a page and connect nothing", async () => {
    expect((await owner("DELETE", "/api/v1/integrations/slack")).body.disconnected).toBe(true);
    const url = await startFlow();
    const { code, state } = slack.approve(url);
    const db = new Database(join(srv.dataDir, "clanker.db"));
    try {
      db.run("PRAGMA busy_timeout = 5000");
      expect(db.query("UPDATE oauth_states SET expires_at = ? WHERE used_at IS NULL").run(Date.now() - 1000).changes).toBeGreaterThan(0);
    } finally {
      db.close();
    }
    const expired = await callback({ code, state });
    expect(expired.status).toBe(400);
    expect(await expired.text()).toContain("expired");

    const unknown = await callback({ code, state: "made-up-state-0000000000000000" });
    expect(unknown.status).toBe(400);

    const denied = await callback({ error: "access_denied", state: slack.approve(await startFlow()).state });
    expect(denied.status).toBe(400);
    expect(await denied.text()).toContain("access_denied");
    expect(await slackConnected()).toMatchObject({ connected: false });
  });

  test("over MCP connect-integration answers the URL; the connection lands in the workspace that started the flow", async () => {
    const mcp = await connectMcp(srv.url, "streamable", { "x-api-key": ownerKey });
    try {
      const out = await toolOk(mcp, "connect-integration", { integration: "slack" });
      const url: string = out.url;
      expect(out.connected).toBe(false);
      expect(url).toContain("/oauth/v2/authorize?");
      // A state issued to one workspace cannot finish in another: it is bound at issue time.
      const { code, state } = slack.approve(url);
      const page = await callback({ code, state });
      expect({ status: page.status, text: await page.text() }).toMatchObject({ status: 200 });
      const other = client(srv, { apiKey: await srv.createKey() });
      expect(await slackConnected(other)).toMatchObject({ connected: false });
      expect(await slackConnected()).toMatchObject({ connected: true });
    } finally {
      await mcp.close();
    }
  });
});
