// Slack OAuth v2 (issue 11): with CLANKER_SLACK_CLIENT_ID/_SECRET set, connect-integration answers an authorize
// URL with a single-use state; the callback shows a page naming the workspace and who started, and only its
// confirmation (a same-origin POST) exchanges the code at oauth.v2.access (the fake Slack), seals the bot token and
// says so. A reused, expired or foreign state, a refusal at Slack, a cross-site post, a browser signed in as someone
// else and a starter demoted since connect nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cleanup, client, startServer, uniqueEmail, type TestServer } from "./helpers/server";
import { runSql } from "./helpers/sql";
import { startFakeSlack, type FakeSlack } from "./helpers/fake-slack";
import { connectMcp, toolOk } from "./helpers/mcp-client";
import { confirmCallback, openConfirmation, postConfirmation, unescape } from "./helpers/oauth-confirm";

let srv: TestServer;
let slack: FakeSlack;
let owner: ReturnType<typeof client>;
let ownerKey: string;
let ownerEmail: string;

const slackConnected = async (c = owner) => (await c("GET", "/api/v1/integrations")).body.data.find((i: any) => i.id === "slack");

async function startFlow(): Promise<string> {
  const r = await owner("POST", "/api/v1/integrations/slack/connect", { body: {} });
  expect(r.status).toBe(200);
  const url: string = r.body.url;
  expect({ integration: r.body.integration, connected: r.body.connected, url: typeof url }).toEqual({ integration: "slack", connected: false, url: "string" });
  return url;
}

const callbackUrl = (q: Record<string, string>) => `${srv.url}/api/v1/integrations/slack/callback?${new URLSearchParams(q)}`;
const callback = (q: Record<string, string>) => fetch(callbackUrl(q));

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
  ownerEmail = uniqueEmail("oauth-owner");
  ownerKey = await srv.createKey({ email: ownerEmail });
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
    // The callback itself only asks: which workspace, who started it. Nothing is stored yet.
    const { form, html: ask } = await openConfirmation(callbackUrl({ code, state }));
    const ws = (await owner("GET", "/api/v1/workspaces/current")).body;
    expect(ask).toContain("Connect Slack?");
    expect(unescape(ask)).toContain(`workspace <code>${ws.name}</code>`);
    expect(unescape(ask)).toContain(`<${ownerEmail}> started this`);
    expect(form).toEqual({ action: `${srv.url}/api/v1/integrations/slack/callback`, state, code });
    expect(slack.calls.filter((c) => c.method === "oauth.v2.access").length).toBe(0);
    expect(await slackConnected()).toMatchObject({ connected: false });
    const page = await postConfirmation(form);
    const html = page.html;
    expect(page.status).toBe(200);
    expect(html).toContain("Slack connected");
    expect(html).toContain("Fake Team");
    expect(await slackConnected()).toMatchObject({ connected: true, account: "Fake Team" });
    const posted = await owner("POST", "/api/v1/integrations/slack/actions/post_message", { body: { input: { channel: "C001", text: "via OAuth" } } });
    expect(posted.status).toBe(200);
    expect(slack.messages.at(-1)!.token).toStartWith("xoxb-oauth-");
    const audit = await owner("GET", "/api/v1/audit-logs?action=integration.connect");
    expect(audit.body.data[0]).toMatchObject({ resourceId: "slack", metadata: { via: "oauth", account: "Fake Team" }, actor: { type: "apiKey" } });

    // The same state a second time connects nothing: the page refuses it, and so does a second post.
    const again = slack.approve(url);
    const reused = await callback({ code: again.code, state });
    expect(reused.status).toBe(400);
    expect(await reused.text()).toContain("already used");
    const reposted = await postConfirmation({ ...form, code: again.code });
    expect(reposted.status).toBe(400);
    expect(reposted.html).toContain("already used");
  });

  test("an expired state, an unknown state and a refusal at Slack each show a page and connect nothing", async () => {
    expect((await owner("DELETE", "/api/v1/integrations/slack")).body.disconnected).toBe(true);
    const url = await startFlow();
    const { code, state } = slack.approve(url);
    expect(await runSql(srv, "UPDATE oauth_states SET expires_at = ? WHERE used_at IS NULL", Date.now() - 1000)).toBeGreaterThan(0);
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
      const page = await confirmCallback(callbackUrl({ code, state }));
      expect({ status: page.status, text: page.html }).toMatchObject({ status: 200, text: expect.stringContaining("Slack connected") });
      const other = client(srv, { apiKey: await srv.createKey() });
      expect(await slackConnected(other)).toMatchObject({ connected: false });
      expect(await slackConnected()).toMatchObject({ connected: true });
    } finally {
      await mcp.close();
    }
  });
});

describe("the confirmation step", () => {
  const ownerId = async () => Number(String((await owner("GET", "/api/v1/profile")).body.id).replace(/^usr_/, ""));
  const fresh = async () => {
    await owner("DELETE", "/api/v1/integrations/slack");
    expect(await slackConnected()).toMatchObject({ connected: false });
    const { code, state } = slack.approve(await startFlow());
    return callbackUrl({ code, state });
  };

  test("a post from another origin (or Origin: null, or Sec-Fetch-Site: cross-site) is refused, stores nothing and leaves the state usable", async () => {
    const { form } = await openConfirmation(await fresh());
    const exchanges = slack.calls.filter((c) => c.method === "oauth.v2.access").length;
    const foreign = [
      { origin: "http://127.0.0.1:1" },
      { origin: "null" },
      { origin: null, headers: { "sec-fetch-site": "cross-site" } },
    ];
    for (const f of foreign) {
      const r = await postConfirmation(form, f);
      expect({ f, status: r.status, refused: r.html.includes("Cross-site confirmation refused") }).toEqual({ f, status: 403, refused: true });
    }
    expect(slack.calls.filter((c) => c.method === "oauth.v2.access").length).toBe(exchanges);
    expect(await slackConnected()).toMatchObject({ connected: false });
    const ok = await postConfirmation(form);
    expect(ok.status).toBe(200);
    expect(await slackConnected()).toMatchObject({ connected: true });
  });

  test("a browser signed in as someone else than the starter is refused; the starter's own session cookie is fine", async () => {
    const url = await fresh();
    const other = await srv.createSession(uniqueEmail("bystander"));
    const page = await fetch(url, { headers: { cookie: `clanker_session=${other}` } });
    const html = await page.text();
    expect(page.status).toBe(403);
    expect(html).toContain("signed in as someone other than the person who started");
    expect(html).not.toContain('name="code"');
    // Posting the form anyway (read without the cookie) is refused too, and burns the state.
    const { form } = await openConfirmation(url);
    const r = await postConfirmation(form, { headers: { cookie: `clanker_session=${other}` } });
    expect(r.status).toBe(403);
    expect(r.html).toContain("signed in as someone other");
    expect(await slackConnected()).toMatchObject({ connected: false });
    expect((await postConfirmation(form)).status).toBe(400);

    const mine = await srv.createSession(ownerEmail);
    const done = await confirmCallback(await fresh(), { cookie: `clanker_session=${mine}` });
    expect(done.status).toBe(200);
    expect(await slackConnected()).toMatchObject({ connected: true });
  });

  test("a starter demoted to member after starting cannot complete; nothing is exchanged or stored", async () => {
    const { form } = await openConfirmation(await fresh());
    const exchanges = slack.calls.filter((c) => c.method === "oauth.v2.access").length;
    const uid = await ownerId();
    expect(await runSql(srv, "UPDATE memberships SET role = 'member' WHERE user_id = ?", uid)).toBe(1);
    try {
      const r = await postConfirmation(form);
      expect(r.status).toBe(403);
      expect(r.html).toContain("owners and admins");
      expect(slack.calls.filter((c) => c.method === "oauth.v2.access").length).toBe(exchanges);
      expect(await slackConnected()).toMatchObject({ connected: false });
    } finally {
      await runSql(srv, "UPDATE memberships SET role = 'owner' WHERE user_id = ?", uid);
    }
  });
});
