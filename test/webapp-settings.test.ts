// The web app's /settings pages in a real browser (Debian chromium via playwright-core) against the real server:
// an API key created in the page works with a real curl and stops working once revoked in the page; the audit
// filter finds the creation; the MCP snippets carry this server's URL; a member switched into a team (the
// header's workspace switcher) is not offered owner/admin pages. Every page: no console errors, axe clean,
// desktop and phone screenshots in test-artifacts/screens/. And the size budget of the pages' JS+CSS.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import { closeSuite, collectConsoleErrors, DESKTOP, expectAccessible, expectConsoleErrors, openSignedIn, PHONE, screenshot, sessionCookie, setTabHidden, signInThroughPage, startSignedIn, until } from "./helpers/browser";
import { outboxLatest } from "./helpers/mail";
import { client, uniqueEmail, type TestServer } from "./helpers/server";
import { joinTeam } from "./helpers/team";
import type { FakeModel } from "./helpers/fake-models";

const SECTIONS = ["keys", "members", "byok", "secrets", "connectors", "webhooks", "billing", "audit", "mcp"];
const ADMIN_ONLY = ["BYOK", "Secrets", "Webhooks"];
const BYOK_KEY = `sk-ant-api03-${"x".repeat(40)}9876`;

let srv: TestServer, fake: FakeModel, browser: Browser, context: BrowserContext, page: Page, api: ReturnType<typeof client>;
let ownerEmail = "";
let ownerSession = "";
const consoleErrors: string[] = [];

beforeAll(async () => {
  ({ srv, fake, browser, context, page, api, email: ownerEmail, session: ownerSession } = await startSignedIn({
    email: uniqueEmail("settings-owner"),
    next: "/settings/keys",
    errors: consoleErrors,
  }));
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: srv.url });
}, 30_000);

afterAll(() => closeSuite({ context, browser, srv, fake }));

/** A real curl process against /api/v1/profile with `key`: its HTTP status. */
async function curlProfile(key: string): Promise<string> {
  const p = Bun.spawn(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", `x-api-key: ${key}`, `${srv.url}/api/v1/profile`], { stdout: "pipe", stderr: "pipe" });
  const [out] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  return out.trim();
}

async function shots(name: string) {
  await screenshot(page, `${name}-desktop`);
  await page.setViewportSize(PHONE);
  // Readable on a phone: nothing wider than the screen (no sideways scrolling).
  expect({ name, width: await page.evaluate("document.documentElement.scrollWidth") }).toEqual({ name, width: PHONE.width });
  await screenshot(page, `${name}-phone`);
  await page.setViewportSize(DESKTOP);
}

test("keys: created in the page (shown once, copied), works with curl; revoked in the page, curl gets 401", async () => {
  await page.goto(`${srv.url}/settings/keys`);
  await page.getByLabel("Key name").fill("curl key");
  await page.getByRole("button", { name: "Create key" }).click();
  const field = page.getByLabel("New API key");
  await field.waitFor();
  const key = await field.inputValue();
  expect(key).toMatch(/^ck_/);
  await page.getByRole("button", { name: "Copy" }).click();
  await page.getByText("Copied the key to the clipboard.").waitFor();
  expect(await page.evaluate("navigator.clipboard.readText()")).toBe(key);
  expect(await curlProfile(key)).toBe("200");

  // Listed with its prefix and last four only; a reload never shows the key again.
  const row = page.locator("#keys li", { hasText: "curl key" });
  await row.getByText("active").waitFor();
  await expectAccessible(page, "settings keys");
  await shots("settings-keys");
  await page.reload();
  await row.waitFor();
  expect(await page.content()).not.toContain(key);

  page.once("dialog", (d) => void d.accept());
  await page.getByRole("button", { name: "Revoke key curl key" }).click();
  await page.getByText("Revoked curl key.").waitFor();
  await row.getByText("revoked").waitFor();
  expect(await curlProfile(key)).toBe("401");
  // One revoked right after it was made is not left on show to be copied; focus goes to what happened.
  await page.getByLabel("Key name").fill("short-lived");
  await page.getByRole("button", { name: "Create key" }).click();
  await page.getByLabel("New API key").waitFor();
  page.once("dialog", (d) => void d.accept());
  await page.getByRole("button", { name: "Revoke key short-lived" }).click();
  await page.getByText("Revoked short-lived.").waitFor();
  expect(await page.locator("#new-key").isHidden()).toBe(true);
  expect(await page.evaluate("document.activeElement.id")).toBe("key-status");
  expect(consoleErrors).toEqual([]);
}, 30_000);

test("audit: the action filter shows the key's creation; the actor and date filters narrow it", async () => {
  await page.goto(`${srv.url}/settings/audit`);
  await page.locator("#audit li").first().waitFor();
  await page.getByLabel("Action").fill("api_key.create");
  await page.getByRole("button", { name: "Apply filters" }).click();
  // The unfiltered list may still show when the click lands: wait for the filtered one (only key creations).
  const shown = () => page.locator("#audit li").evaluateAll((els) => els.map((e) => e.getAttribute("data-action")));
  await until(async () => { const a = await shown(); return a.length > 0 && a.every((x) => x === "api_key.create"); }, true);
  expect(await page.locator("#audit li").first().textContent()).toContain(ownerEmail);

  // The actor filter keeps the owner's entries; a date range in the future has none.
  await page.getByLabel("Actor").selectOption({ label: ownerEmail });
  await page.getByRole("button", { name: "Apply filters" }).click();
  await page.locator('#audit li[data-action="api_key.create"]').first().waitFor();
  const future = new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 10);
  await page.getByLabel("From").fill(future);
  await page.getByRole("button", { name: "Apply filters" }).click();
  await page.getByText("No entries match.").waitFor();
  await page.getByLabel("From").fill("");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await page.locator('#audit li[data-action="api_key.create"]').first().waitFor();
  // A refused filter (From after To) says why in place of the list; the next good one clears the reason.
  await page.getByLabel("From").fill("2030-01-01");
  await page.getByLabel("To", { exact: true }).fill("2020-01-01");
  await page.getByRole("button", { name: "Apply filters" }).click();
  // In the page's words (its fields' labels), not the API's parameter names.
  await page.locator("#audit-status", { hasText: "Could not read the audit log: “From” is after “To”" }).waitFor();
  expect({ rows: await page.locator("#audit li").count(), note: await page.locator("#audit-note").textContent() }).toEqual({ rows: 0, note: "" });
  await page.getByLabel("From").fill("");
  await page.getByLabel("To", { exact: true }).fill("");
  await page.getByRole("button", { name: "Apply filters" }).click();
  await page.locator('#audit li[data-action="api_key.create"]').first().waitFor();
  await page.locator("#audit-status").waitFor({ state: "hidden" });

  // The days picked are the person's own: in a zone whose date is not UTC's now, "today" to "today" shows what was
  // done minutes ago (a bare date was a UTC day, and showed nothing).
  // Kiritimati (UTC+14) starts its day at 10:00 UTC and Pago Pago (UTC-11) ends its at 11:00 UTC: the switch is half
  // way, so neither zone's midnight falls between the entries made minutes ago and now (switching at 10:00 picked
  // Kiritimati's new day just after it began, a day none of those entries were made in).
  const utcNow = new Date();
  const timezoneId = utcNow.getUTCHours() * 60 + utcNow.getUTCMinutes() >= 10 * 60 + 30 ? "Pacific/Kiritimati" : "Pacific/Pago_Pago";
  const today = new Date().toLocaleDateString("en-CA", { timeZone: timezoneId });
  expect(today).not.toBe(new Date().toISOString().slice(0, 10));
  const far = await browser.newContext({ viewport: DESKTOP, timezoneId });
  try {
    await far.addCookies([{ name: "clanker_session", value: encodeURIComponent(ownerSession), url: srv.url }]);
    const p = await far.newPage();
    await p.goto(`${srv.url}/settings/audit`);
    await p.locator("#audit li").first().waitFor();
    await p.getByLabel("Action").fill("api_key.create");
    // First a day with nothing, so what shows next is the filter's answer, not the list from before it.
    await p.getByLabel("From").fill("2020-01-01");
    await p.getByLabel("To", { exact: true }).fill("2020-01-01");
    await p.getByRole("button", { name: "Apply filters" }).click();
    await p.getByText("No entries match.").waitFor();
    await p.getByLabel("From").fill(today);
    await p.getByLabel("To", { exact: true }).fill(today);
    await p.getByRole("button", { name: "Apply filters" }).click();
    await p.locator('#audit li[data-action="api_key.create"]').first().waitFor();
  } finally {
    await far.close();
  }
  await expectAccessible(page, "settings audit");
  await shots("settings-audit");
  // Chromium logs the refused filter's 400 as a failed load; nothing else.
  expectConsoleErrors(consoleErrors, (e) => /status of 400/.test(e), 1);
}, 30_000);

test("MCP: the stdio, HTTP (with a key, and signing in) and SSE snippets carry this server's URL and the clanker mcp command", async () => {
  await page.goto(`${srv.url}/settings/mcp`);
  const http = page.getByLabel("HTTP configuration", { exact: true });
  await http.getByText(`${srv.url}/mcp`).waitFor();
  expect(JSON.parse((await http.textContent())!).mcpServers.clanker).toMatchObject({ type: "http", url: `${srv.url}/mcp`, headers: { "x-api-key": "ck_…" } });
  // The client that signs in through the browser (OAuth) needs the URL alone.
  expect(JSON.parse((await page.getByLabel("HTTP configuration with browser sign-in").textContent())!).mcpServers.clanker).toEqual({ type: "http", url: `${srv.url}/mcp` });
  expect(JSON.parse((await page.getByLabel("SSE configuration").textContent())!).mcpServers.clanker).toMatchObject({ type: "sse", url: `${srv.url}/mcp/sse` });
  expect(JSON.parse((await page.getByLabel("stdio configuration").textContent())!).mcpServers.clanker).toMatchObject({ command: "/path/to/clanker", args: ["mcp", "--data", "/path/to/data"] });
  await page.getByRole("button", { name: "Copy HTTP configuration" }).click();
  await page.getByText("Copied.").waitFor();
  expect(await page.evaluate("navigator.clipboard.readText()")).toContain(`${srv.url}/mcp`);
  await expectAccessible(page, "settings mcp");
  await shots("settings-mcp");
  expect(consoleErrors).toEqual([]);
}, 30_000);

test("the owner's other settings pages: BYOK never shows the key back, secrets, webhooks rotate, credits, members, connectors", async () => {
  await page.goto(`${srv.url}/settings`);
  for (const label of ["API keys", ...ADMIN_ONLY, "Audit log", "MCP"]) await page.getByRole("navigation", { name: "Settings" }).getByRole("link", { name: label }).waitFor();
  await expectAccessible(page, "settings");
  await shots("settings-index");

  await page.goto(`${srv.url}/settings/byok`);
  await page.getByText("No key set").waitFor();
  // A refusal names the field as the page does.
  await page.getByLabel("Anthropic API key").fill("not-a-key");
  await page.getByRole("button", { name: "Save key" }).click();
  await page.locator("#byok-status", { hasText: "Could not save the key: The key must look like an Anthropic API key" }).waitFor();
  await page.getByLabel("Anthropic API key").fill(BYOK_KEY);
  await page.getByRole("button", { name: "Save key" }).click();
  await page.getByText("A key ending in 9876 is set").waitFor();
  expect(await page.getByLabel("Anthropic API key").inputValue()).toBe("");
  await page.reload();
  await page.getByText("A key ending in 9876 is set").waitFor();
  expect(await page.content()).not.toContain(BYOK_KEY.slice(0, 20));
  await expectAccessible(page, "settings byok");
  await shots("settings-byok");

  await page.goto(`${srv.url}/settings/secrets`);
  await page.getByLabel("Secret name").fill("DEPLOY_TOKEN");
  await page.getByLabel("Secret value").fill("s3cret-value");
  await page.getByRole("button", { name: "Add secret" }).click();
  await page.locator("#secrets li", { hasText: "DEPLOY_TOKEN" }).waitFor();
  expect(await page.content()).not.toContain("s3cret-value");
  expect((await api("GET", "/api/v1/secrets")).body.data.map((s: { name: string }) => s.name)).toContain("DEPLOY_TOKEN");
  // Replacing a value types into a masked field of the page (no prompt() showing it in clear).
  await page.getByRole("button", { name: "Replace the value of DEPLOY_TOKEN" }).click();
  const replacement = page.getByLabel("New value for DEPLOY_TOKEN");
  expect(await replacement.getAttribute("type")).toBe("password");
  await replacement.fill("s3cret-value-2");
  await page.getByRole("button", { name: "Save new value" }).click();
  await page.getByText("Replaced the value of DEPLOY_TOKEN.").waitFor();
  expect(await page.content()).not.toContain("s3cret-value-2");
  await expectAccessible(page, "settings secrets");
  await shots("settings-secrets");
  // Bound to a skill, then deleted: the binding goes with it, and so does the page's "Bound.".
  expect((await api("POST", "/api/v1/skills/summarize/install")).status).toBe(200);
  await page.reload();
  await page.locator("#bind-skill option", { hasText: /summar/i }).waitFor({ state: "attached" });
  await page.locator("#bind-skill").selectOption("summarize");
  await page.locator("#bind-secret").selectOption({ label: "DEPLOY_TOKEN" });
  await page.getByLabel("As environment variable").fill("DEPLOY_TOKEN");
  await page.getByRole("button", { name: "Bind secret" }).click();
  // No run reads DEPLOY_TOKEN (only the provider keys reach one): bound, and the page says so.
  await page.getByText("Bound, but no run reads DEPLOY_TOKEN: runs use only ANTHROPIC_API_KEY and OPENAI_API_KEY.", { exact: false }).waitFor();
  await page.locator("#bindings li", { hasText: "DEPLOY_TOKEN" }).waitFor();
  page.once("dialog", (d) => void d.accept());
  await page.getByRole("button", { name: "Delete secret DEPLOY_TOKEN" }).click();
  await page.getByText("Deleted DEPLOY_TOKEN and 1 binding(s).").waitFor();
  await page.getByText("No secrets bound to this skill.").waitFor();
  expect(await page.locator("#bind-status").isHidden()).toBe(true);
  expect((await api("POST", "/api/v1/skills/summarize/uninstall")).status).toBe(200);

  await page.goto(`${srv.url}/settings/webhooks`);
  const before = (await api("GET", "/api/v1/webhooks/secret")).body.secret;
  const secretField = page.getByLabel("Signing secret");
  // Not in the page until asked for.
  await Bun.sleep(300);
  expect(await secretField.inputValue()).toBe("");
  expect(await page.content()).not.toContain(before);
  await page.getByRole("button", { name: "Show secret" }).click();
  await until(() => secretField.inputValue(), before, 5000);
  page.once("dialog", (d) => void d.accept());
  await page.getByRole("button", { name: "Rotate secret" }).click();
  await page.getByText(/^Rotated/).waitFor();
  const after = (await api("GET", "/api/v1/webhooks/secret")).body.secret;
  expect(after).not.toBe(before);
  expect(await secretField.inputValue()).toBe(after);
  await expectAccessible(page, "settings webhooks");
  await shots("settings-webhooks");

  await page.goto(`${srv.url}/settings/billing`);
  const balance = (await api("GET", "/api/v1/billing/balance")).body;
  await page.locator("#balance", { hasText: balance.currency }).waitFor();
  await page.locator("#transactions li").first().waitFor();
  // The tier by its name only: its id ("paygmode") is the API's.
  expect(await page.locator("#tier").textContent()).toBe("Pay as you go");
  await expectAccessible(page, "settings billing");
  await shots("settings-billing");

  await page.goto(`${srv.url}/settings/members`);
  await page.locator("#members li", { hasText: ownerEmail }).waitFor();
  const invitee = uniqueEmail("invitee");
  await page.getByLabel("Email to invite").fill(invitee);
  await page.getByRole("button", { name: "Send invitation" }).click();
  await page.getByText(`Invited ${invitee}.`).waitFor();
  await expectAccessible(page, "settings members");
  await shots("settings-members");

  // The invited person follows the mail's link: signed out, the page sends them to sign in and back (the token
  // rides in the fragment); there they accept, and the browser acts in the workspace they joined.
  const link = /https?:\/\/\S+\/invitations\/accept#token=inv_[A-Za-z0-9_-]+/.exec(outboxLatest(srv.dataDir, invitee)?.text ?? "")?.[0];
  expect(link?.startsWith(`${srv.url}/invitations/accept#token=`)).toBe(true);
  const guestContext = await browser.newContext({ viewport: DESKTOP });
  try {
    const guest = await guestContext.newPage();
    const guestErrors: string[] = [];
    collectConsoleErrors(guest, guestErrors);
    await guest.goto(link!);
    const path = link!.slice(srv.url.length);
    // The token stays in the fragment, never in a query string a proxy logs.
    const [page_, fragment] = path.split("#") as [string, string];
    await guest.waitForURL(`${srv.url}/login?next=${encodeURIComponent(page_)}#${fragment}`);
    await signInThroughPage(guest, srv, invitee, path);
    // Before joining, the page says what and whose: the workspace, the role, who invited them.
    const wsName = (await api("GET", "/api/v1/workspaces/current")).body.name;
    await guest.locator("#inv-text", { hasText: `${ownerEmail}) invited you, ${invitee}, to join the workspace ${wsName} as a member.` }).waitFor();
    await guest.getByRole("button", { name: `Join ${wsName}` }).click();
    await guest.locator("#accept-status", { hasText: /^You are now a member of .+\.$/ }).waitFor();
    expect(guest.url()).toBe(`${srv.url}/invitations/accept`);
    await expectAccessible(guest, "invitation accepted");
    // The mail's link opened again: it says they are in, with the way there (not "ask for a new one").
    await guest.goto("about:blank");
    await guest.goto(link!);
    await guest.locator("#inv-text", { hasText: `You accepted this invitation already: you are in the workspace ${wsName}.` }).waitFor();
    await guest.getByRole("link", { name: "Go to the workspace" }).waitFor();
    const current = await client(srv, { session: await sessionCookie(guestContext, srv), workspace: (await guestContext.cookies(srv.url)).find((c) => c.name === "clanker_workspace")?.value })("GET", "/api/v1/workspaces/current");
    expect({ role: current.body.role, id: current.body.id }).toEqual({ role: "member", id: (await api("GET", "/api/v1/workspaces/current")).body.id });
    expect(guestErrors).toEqual([]);
  } finally {
    await guestContext.close();
  }

  // Back on the members page: the new member's role changed from its select, then they are removed (after a
  // confirm); a second invitation is listed as pending and withdrawn. The API agrees with each.
  const ws = (await api("GET", "/api/v1/workspaces/current")).body.id;
  await page.goto(`${srv.url}/settings/members`);
  const joined = page.locator("#members li", { hasText: invitee });
  // Only what the service allows: no owner but its own in a personal workspace, and its only owner cannot leave.
  await joined.getByRole("combobox").waitFor();
  expect(await joined.getByRole("combobox").locator("option").allTextContents()).toEqual(["member", "admin"]);
  expect(await page.locator("#members li", { hasText: ownerEmail }).getByRole("button", { name: "Leave this workspace" }).count()).toBe(0);
  await joined.getByRole("combobox").selectOption("admin");
  await page.locator("#members-status", { hasText: / is now admin\.$/ }).waitFor();
  const listed = async () => (await api("GET", `/api/v1/workspaces/${ws}/members`)).body.data.filter((m: any) => m.email === invitee).map((m: any) => m.role);
  expect(await listed()).toEqual(["admin"]);
  page.once("dialog", (d) => void d.accept());
  await joined.getByRole("button", { name: /^Remove / }).click();
  await page.locator("#members-status", { hasText: /^Removed / }).waitFor();
  expect(await listed()).toEqual([]);
  const second = uniqueEmail("withdrawn");
  await page.getByLabel("Email to invite").fill(second);
  await page.getByRole("button", { name: "Send invitation" }).click();
  await page.getByRole("button", { name: `Withdraw the invitation to ${second}` }).click();
  await page.getByText(`Withdrew the invitation to ${second}.`).waitFor();
  await page.getByText("No pending invitations.").waitFor();
  expect((await api("GET", `/api/v1/workspaces/${ws}/invitations`)).body.data).toEqual([]);
  await expectAccessible(page, "settings members after changes");

  await page.goto(`${srv.url}/settings/connectors`);
  await page.locator("#connectors li").first().waitFor();
  await page.locator("#integrations li").first().waitFor();
  // Errors in words next to what failed: bad JSON caught in the page, a refusal from the API shown as said.
  await page.getByLabel("Credentials as JSON for Webhook (optional)").fill("{not json");
  await page.getByRole("button", { name: "Connect the Webhook integration" }).click();
  await page.getByText("The credentials for Webhook are not valid JSON.").waitFor();
  await page.getByLabel("Credentials as JSON for Webhook (optional)").fill('{"url":"not a url"}');
  await page.getByRole("button", { name: "Connect the Webhook integration" }).click();
  await page.getByText(/^Could not connect Webhook: ./).waitFor();
  expect(await page.locator("#integrations li", { hasText: "Webhook" }).getByText("not connected").count()).toBe(1);
  await expectAccessible(page, "settings connectors");
  await shots("settings-connectors");
  // Chromium logs the refused key and connect (400s) itself; the page showed them in words (checked above).
  expectConsoleErrors(consoleErrors, (e) => /\/settings\/(byok|connectors): Failed to load resource: the server responded with a status of 400 \(Bad Request\)$/.test(e), 2);
}, 90_000);

test("a member switched into a team does not see owner/admin settings; a direct visit says to ask an owner", async () => {
  const made = await api("POST", "/api/v1/workspaces", { body: { name: "Settings Team" } });
  expect(made.status).toBe(200);
  const team = { srv, id: made.body.id as string, ownerSession, owner: client(srv, { session: ownerSession, workspace: made.body.id }) };
  const memberEmail = uniqueEmail("settings-member");
  await joinTeam(team, memberEmail, "member");

  const { context: ctx2, page: p } = await openSignedIn(srv, browser, { email: memberEmail, next: "/settings", errors: consoleErrors });
  try {
    const nav = p.getByRole("navigation", { name: "Settings" });
    // In their own (personal) workspace they are its owner: everything is offered.
    await nav.getByRole("link", { name: "BYOK" }).waitFor();
    // The header's switcher: two workspaces, the team among them.
    const switcher = p.getByLabel("Workspace");
    await switcher.waitFor();
    // Choosing (by arrow keys too) does not switch; the button does.
    await switcher.selectOption(team.id);
    await p.waitForTimeout(300);
    expect(await p.evaluate("document.cookie")).not.toContain(`clanker_workspace=${team.id}`);
    await Promise.all([p.waitForEvent("load"), p.getByRole("button", { name: "Switch" }).click()]);
    await p.getByText("You are a member of this workspace.").waitFor();
    // The switcher fills in after the page's own calls: wait for it to show the team as the current workspace.
    await p.waitForFunction((id: string) => (globalThis as any).document.getElementById("ws-select").value === id, team.id);
    for (const label of ADMIN_ONLY) expect(await nav.getByRole("link", { name: label }).count()).toBe(0);
    await nav.getByRole("link", { name: "API keys" }).waitFor();
    await expectAccessible(p, "settings (member)");
    await screenshot(p, "settings-member-desktop");

    // A direct visit: no form, a sentence instead; the API agrees (the service enforces the role).
    await p.goto(`${srv.url}/settings/byok`);
    await p.getByText("Only workspace owners and admins can use this page. Ask an owner").waitFor();
    expect(await p.getByLabel("Anthropic API key").isVisible()).toBe(false);
    await p.setViewportSize(PHONE);
    expect(await p.evaluate("document.documentElement.scrollWidth")).toBe(PHONE.width);
    await screenshot(p, "settings-member-byok-phone");
    const memberSession = await sessionCookie(ctx2, srv);
    const asMember = client(srv, { session: memberSession, workspace: team.id });
    expect((await asMember("PUT", "/api/v1/byok", { body: { anthropicKey: "sk-ant-x" } })).status).toBe(403);
    // The members page lists the team but offers no invitation form to a member.
    await p.goto(`${srv.url}/settings/members`);
    await p.locator("#members li", { hasText: ownerEmail }).waitFor();
    expect(await p.getByLabel("Email to invite").isVisible()).toBe(false);
    // No role to change, nobody to remove: only their own Leave.
    expect(await p.locator("#members select").count()).toBe(0);
    expect(await p.getByRole("button", { name: /^Remove / }).count()).toBe(0);
    expect(await p.locator("#members li", { hasText: memberEmail }).getByRole("button", { name: "Leave this workspace" }).count()).toBe(1);
    // Skills: a member is shown whether each is installed, and who installs them; no button the API would refuse.
    await p.goto(`${srv.url}/library`);
    await p.locator("#members-note").waitFor();
    await p.locator('li[data-slug="summarize"] .state').waitFor();
    expect(await p.getByRole("button", { name: /^(Install|Uninstall) / }).count()).toBe(0);
    await p.goto(`${srv.url}/skills/summarize`);
    await p.locator("#installed-state", { hasText: "(an owner or admin installs skills)" }).waitFor();
    expect(await p.locator("#install").isHidden()).toBe(true);
    // Runs: Cancel only on the member's own (the API refuses it on the owner's, README's roles).
    const slow = (call: typeof asMember, who: string) => call("POST", "/api/v1/skills/summarize/run", { body: { input: `[[slow:5000]] ${who}'s run` } });
    const [ownersRun, membersRun] = [(await slow(team.owner, "the owner")).body.executionId, (await slow(asMember, "the member")).body.executionId];
    await p.goto(`${srv.url}/executions/${ownersRun}`);
    await p.locator("#facts dt").first().waitFor();
    expect(await p.locator('#status-badge').getAttribute("data-status")).toMatch(/^(queued|running)$/);
    expect(await p.locator("#cancel").isHidden()).toBe(true);
    await p.goto(`${srv.url}/executions/${membersRun}`);
    await p.getByRole("button", { name: "Cancel" }).click();
    await p.locator('#status-badge[data-status="cancelled"]').waitFor();
    expect((await team.owner("POST", `/api/v1/executions/${ownersRun}/cancel`)).body.status).toBe("cancelled");
  } finally {
    await ctx2.close();
  }
  expect(consoleErrors).toEqual([]);
}, 40_000);

test("the switcher: the owner acts in the team, /executions there updates live, and plain links act there too (the clanker_workspace cookie)", async () => {
  const teamId: string = (await api("GET", "/api/v1/workspaces?limit=100")).body.data.find((w: { name: string }) => w.name === "Settings Team").id;
  const personal = await api("POST", "/api/v1/skills/summarize/run", { body: { input: "a personal run" } });
  await page.goto(`${srv.url}/executions`);
  await page.locator(`#runs li[data-id="${personal.body.executionId}"]`).waitFor();
  const switcher = page.getByLabel("Workspace");
  await switcher.waitFor();
  const opened = page.waitForResponse(async (r) => r.url().startsWith(`${srv.url}/api/events`) && ((await r.request().allHeaders())["cookie"] ?? "").includes(`clanker_workspace=${teamId}`));
  await switcher.selectOption(teamId);
  await Promise.all([page.waitForEvent("load"), page.getByRole("button", { name: "Switch" }).click()]);
  expect((await opened).status()).toBe(200);
  // The team's list (the member's test left two cancelled runs in it), without the personal run.
  await page.locator('#runs li[data-status="cancelled"]').first().waitFor();
  expect(await page.locator(`#runs li[data-id="${personal.body.executionId}"]`).count()).toBe(0);
  await page.evaluate("window.__noReload = true");
  const inTeam = client(srv, { session: ownerSession, workspace: teamId });
  const started = await inTeam("POST", "/api/v1/skills/summarize/run", { body: { input: "[[slow:300]] a team run, watched live" } });
  expect(started.status).toBe(200);
  await page.locator(`#runs li[data-id="${started.body.executionId}"][data-status="completed"]`).waitFor();
  expect(await page.evaluate("window.__noReload")).toBe(true);
  // A link, an image or a frame cannot send a header: the cookie selects the team for them as well.
  const linkPage = await page.context().newPage();
  const viaLink = await linkPage.goto(`${srv.url}/api/v1/workspaces/current`);
  expect(JSON.parse(await viaLink!.text()).id).toBe(teamId);
  await linkPage.close();
  // The personal workspace's run is not in the team's list; switching back shows it again.
  expect(await page.locator(`#runs li[data-id="${personal.body.executionId}"]`).count()).toBe(0);
  // A second tab opened in the team keeps acting there after the first switches back (the cookie is the
  // browser's): its header says the team, and so does where its Save lands.
  const teamTab = await page.context().newPage();
  await teamTab.goto(`${srv.url}/memory`);
  await teamTab.locator("#meta").filter({ hasText: /\S/ }).waitFor();
  const personalId: string = (await api("GET", "/api/v1/workspaces/current")).body.id;
  await switcher.selectOption(personalId);
  await Promise.all([page.waitForEvent("load"), page.getByRole("button", { name: "Switch" }).click()]);
  await page.locator(`#runs li[data-id="${personal.body.executionId}"]`).waitFor();
  const personalMemory = (await api("GET", "/api/v1/memory")).body.content;
  await teamTab.locator("#memory").fill("written in the team's tab");
  await teamTab.getByRole("button", { name: "Save" }).click();
  await teamTab.locator("#save-status", { hasText: /Saved/ }).waitFor();
  expect((await inTeam("GET", "/api/v1/memory")).body.content).toBe("written in the team's tab");
  expect((await api("GET", "/api/v1/memory")).body.content).toBe(personalMemory);
  // The cookie is the browser's: the tab brought to the front sets it back to its own workspace, so what it opens
  // by link (a download, a preview) acts there, whichever tab switched last.
  const chosen = async () => (await page.context().cookies(srv.url)).find((c) => c.name === "clanker_workspace")?.value;
  await setTabHidden(page, true);
  await setTabHidden(teamTab, false);
  await until(chosen, teamId);
  await setTabHidden(teamTab, true);
  await setTabHidden(page, false);
  await until(chosen, personalId);
  await teamTab.close();
  await screenshot(page, "executions-switched-desktop");
  expect(consoleErrors).toEqual([]);
}, 40_000);

test("/activate is a page of the app: the frame, signed in it asks for the device code; axe clean, no console errors", async () => {
  await page.goto(`${srv.url}/activate?code=ABCD-1234`);
  await page.getByRole("navigation", { name: "Main" }).waitFor();
  await page.getByText(`Signed in as ${ownerEmail}.`).waitFor();
  expect(await page.getByLabel("The code your device shows").inputValue()).toBe("ABCD-1234");
  await expectAccessible(page, "activate");
  await shots("activate");
  expect(consoleErrors).toEqual([]);
}, 20_000);

test("size: each first page and settings page carries under 150 KB of JS+CSS gzipped", async () => {
  const paths = ["/", "/login", "/activate", "/settings", ...SECTIONS.map((s) => `/settings/${s}`)];
  for (const path of paths) {
    const res = await fetch(`${srv.url}${path}`, { headers: { cookie: `clanker_session=${encodeURIComponent(ownerSession)}` } });
    expect({ path, status: res.status }).toEqual({ path, status: 200 });
    const html = await res.text();
    if (path.startsWith("/settings/")) expect(html).toContain('<nav aria-label="Settings"');
    // Everything the page runs or styles with is inline (no src= or stylesheet links to add on top).
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+stylesheet/);
    const assets = [...html.matchAll(/<(script|style)>([\s\S]*?)<\/\1>/g)].map((m) => m[2]).join("");
    const gz = gzipSync(Buffer.from(assets)).length;
    expect({ path, gz, under: gz < 150 * 1024 }).toEqual({ path, gz, under: true });
    expect(gz).toBeGreaterThan(1000);
  }
  expect((await fetch(`${srv.url}/settings/nope`)).status).toBe(404);
});

test("/settings/webhooks rotates keeping the old secret for a day: both sign until then, and the page says until when", async () => {
  await page.goto(`${srv.url}/settings/webhooks`);
  await page.locator("#wh-show").click();
  await page.waitForFunction('document.getElementById("wh-secret").value !== ""');
  const before = await page.locator("#wh-secret").inputValue();
  await page.getByLabel("When rotated, the old secret").selectOption("86400");
  page.once("dialog", (d) => void d.accept());
  await page.locator("#wh-rotate").click();
  await page.getByText("Rotated: deliveries are signed with the new secret, and with the old one too until it ends.").waitFor();
  await page.locator("#wh-previous:not([hidden])").waitFor();
  expect(await page.locator("#wh-previous").textContent()).toContain("also signs every delivery");
  const now = (await api("GET", "/api/v1/webhooks/secret")).body;
  expect(await page.locator("#wh-secret").inputValue()).toBe(now.secret);
  expect(now.secret).not.toBe(before);
  expect(Date.parse(now.previousSecretExpiresAt) - Date.now()).toBeGreaterThan(86_000_000);
  expect(consoleErrors).toEqual([]);
}, 20_000);
