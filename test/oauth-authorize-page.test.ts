// /oauth/authorize in a real browser (Debian chromium through playwright-core): the SDK client's authorization URL,
// opened signed out, goes through sign-in and back to the consent page, which names the app and the workspace;
// Approve lands the browser on the app's loopback redirect with the code, and the SDK client connects with it.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { closeSuite, collectConsoleErrors, DESKTOP, expectAccessible, launchChromium, screenshot, signInThroughPage } from "./helpers/browser";
import { startServer, uniqueEmail, type TestServer } from "./helpers/server";
import { startReceiver } from "./helpers/suite";
import { MemoryProvider, beginAuthorization } from "./helpers/oauth-client";

let srv: TestServer;
let browser: Browser;
const received: URL[] = [];
// The app's loopback redirect (RFC 8252 §7.3), where the browser lands after Approve or Deny.
const app = startReceiver((req) => {
  received.push(new URL(req.url));
  return new Response("<!doctype html><title>App</title><p>You can close this tab.</p>", { headers: { "content-type": "text/html" } });
});

beforeAll(async () => {
  [srv, browser] = await Promise.all([startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000" } }), launchChromium()]);
}, 30_000);

afterAll(() => closeSuite({ browser, srv, fake: app }));

test("signed out → sign in → consent names the app and workspace → Approve → the app gets its code and connects", async () => {
  const provider = new MemoryProvider(`http://127.0.0.1:${app.port}/callback`, "Pocket IDE");
  const url = await beginAuthorization(srv.url, provider);
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  collectConsoleErrors(page, errors);
  try {
    // Signed out, the page sends the person to sign in, and sign-in brings them back to the same request.
    await page.goto(url.toString());
    await page.waitForURL((u) => u.pathname === "/login" && u.searchParams.get("next") === url.pathname + url.search);
    await signInThroughPage(page, srv, uniqueEmail("oauth-page"), url.pathname + url.search);

    await page.locator("#consent").waitFor({ state: "visible" });
    expect(await page.locator("h1").textContent()).toBe("Allow Pocket IDE to use Clanker?");
    expect(await page.locator("#ws-name").textContent()).not.toBe("");
    expect(await page.locator("#consent").textContent()).toContain(`127.0.0.1:${app.port}`);
    await expectAccessible(page, "oauth-authorize");
    await screenshot(page, "oauth-authorize");

    await page.getByRole("button", { name: "Approve" }).click();
    await page.waitForURL((u) => u.port === String(app.port) && u.pathname === "/callback");
    // The browser may ask the app for /favicon.ico as well.
    const back = received.find((u) => u.pathname === "/callback")!;
    expect(back.searchParams.get("state")).toBe(provider.sentState);
    const code = back.searchParams.get("code")!;
    expect(code).toBeTruthy();
    expect(errors).toEqual([]);

    await new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), { authProvider: provider }).finishAuth(code);
    const mcp = new Client({ name: "pocket-ide", version: "1.0.0" });
    await mcp.connect(new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), { authProvider: provider }));
    expect((await mcp.listTools()).tools.map((t) => t.name)).toContain("read-memory");
    await mcp.close();
  } finally {
    await context.close();
  }
});
