// The OAuth confirmation step in a real browser (Debian chromium driven by playwright-core) against the fake
// GitHub: the authorize URL redirects to our callback, which asks; Confirm posts back from our own page (so the
// page's referrer policy must let Chromium send our Origin, not `null`) and connects. A page on another origin
// that posts a victim's state and code to the callback is refused by Chromium's own Origin header.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import { closeSuite, launchChromium } from "./helpers/browser";
import { client, startServer, uniqueEmail, type TestServer } from "./helpers/server";
import { startFakeGithub, type FakeGithub, githubOAuthEnv } from "./helpers/fake-github";

const TOKEN = "ghp_browserflow000000000000000000000";

let srv: TestServer;
let gh: FakeGithub;
let browser: Browser;
let elsewhere: ReturnType<typeof Bun.serve> | undefined;

beforeAll(async () => {
  gh = startFakeGithub({ tokens: { [TOKEN]: "octocat" }, repos: {}, clientId: "Iv1.client", clientSecret: "client-secret-xyz" });
  [srv, browser] = await Promise.all([
    startServer({
      env: {
        CLANKER_RATE_LIMIT_PER_MINUTE: "10000",
        ...githubOAuthEnv(gh, "Iv1.client", "client-secret-xyz"),
      },
    }),
    launchChromium(),
  ]);
}, 40_000);

afterAll(async () => {
  elsewhere?.stop(true);
  await closeSuite({ browser, srv, fake: gh });
});

async function startFlow(call: ReturnType<typeof client>): Promise<string> {
  const r = await call("POST", "/api/v1/connectors/github/connect", { body: {} });
  expect(r.status).toBe(200);
  return r.body.url;
}

test("authorize → the confirmation page → Confirm connects, in a real browser", async () => {
  const c = client(srv, { apiKey: await srv.createKey({ email: uniqueEmail("browser-oauth") }) });
  const url = await startFlow(c);
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  try {
    const res = await page.goto(url, { waitUntil: "load" });
    expect(res?.status()).toBe(200);
    expect(new URL(page.url()).pathname).toBe("/api/v1/connectors/github/callback");
    expect(await page.title()).toContain("Connect GitHub?");
    expect((await c("GET", "/api/v1/connectors/github")).body.connected).toBe(false);
    const [answer] = await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.locator("button[type=submit]").click()]);
    expect(answer?.status()).toBe(200);
    expect(await page.title()).toContain("GitHub connected");
    expect(await page.locator("body").innerText()).toContain("octocat");
    expect((await c("GET", "/api/v1/connectors/github")).body).toMatchObject({ connected: true, account: "octocat" });
  } finally {
    await context.close();
  }
});

test("a page on another origin posting a state and code to the callback is refused by the Origin Chromium sends", async () => {
  const c = client(srv, { apiKey: await srv.createKey({ email: uniqueEmail("browser-victim") }) });
  // The code and state the provider would send back (what an attacker relaying the flow would have).
  const back = await fetch(await startFlow(c), { redirect: "manual" });
  const cb = new URL(back.headers.get("location")!);
  const action = `${srv.url}/api/v1/connectors/github/callback`;
  elsewhere = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () =>
      new Response(
        `<!doctype html><form method="post" action="${action}" enctype="multipart/form-data"><input name="state" value="${cb.searchParams.get("state")}"><input name="code" value="${cb.searchParams.get("code")}"><button>go</button></form>`,
        { headers: { "content-type": "text/html" } },
      ),
  });
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  try {
    await page.goto(`http://127.0.0.1:${elsewhere.port}/`, { waitUntil: "load" });
    const [answer] = await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.locator("button").click()]);
    expect(answer?.status()).toBe(403);
    expect(await page.locator("body").innerText()).toContain("Cross-site confirmation refused");
    expect((await c("GET", "/api/v1/connectors/github")).body.connected).toBe(false);
  } finally {
    await context.close();
  }
});
