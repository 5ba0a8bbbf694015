// The /activate page in a real browser (Debian chromium driven by playwright-core): a CLI asks for a device
// code, a person signs in on the page with the code mailed to them (read from data/outbox/), types the device
// code and approves; the CLI's poll then receives a working API key, exactly once.
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Browser } from "playwright-core";
import { closeSuite, launchChromium } from "./helpers/browser";
import { client, startServer, uniqueEmail, type TestServer } from "./helpers/server";
import { outboxCode } from "./helpers/mail";

let srv: TestServer;
let browser: Browser;

beforeAll(async () => {
  [srv, browser] = await Promise.all([
    startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", CLANKER_DEVICE_POLL_INTERVAL_SECONDS: "0" } }),
    launchChromium(),
  ]);
}, 30_000);

afterAll(() => closeSuite({ browser, srv }));

test("sign in on /activate with the mailed code, approve the device code, and the CLI's poll gets the key once", async () => {
  const cli = client(srv);
  const email = uniqueEmail("browser");

  // The CLI asks for a code and polls once: pending.
  const start = await cli("POST", "/api/v1/activate");
  expect(start.status).toBe(200);
  const deviceCode: string = start.body.code;
  expect(deviceCode).toMatch(/^[A-Z]{4}-\d{4}$/);
  expect(start.body.verification_url).toBe(`${srv.url}/activate`);
  expect((await cli("POST", "/api/v1/activate/poll", { body: { code: deviceCode } })).body).toEqual({ status: "pending" });

  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const consoleErrors: string[] = [];
  page.on("console", (m) => void (m.type() === "error" && consoleErrors.push(m.text())));
  page.on("pageerror", (e) => void consoleErrors.push(e.message));
  try {
    const res = await page.goto(start.body.verification_url, { waitUntil: "load" });
    expect(res?.status()).toBe(200);
    expect(await page.title()).toContain("Activate");

    // Not signed in: the email form shows, the code form does not.
    await page.locator("#email-form").waitFor({ state: "visible" });
    expect(await page.locator("#code-form").isVisible()).toBe(false);
    await page.locator("#email").fill(email);
    await page.locator("#email-form button").click();
    await page.locator("#otp-form").waitFor({ state: "visible" });

    const otp = await outboxCode(srv.dataDir, email, 5000);
    expect(otp).toMatch(/^\d{6}$/);
    await page.locator("#otp").fill(otp);
    await page.locator("#otp-form button").click();

    // Signed in: the page says who, and asks for the device code.
    await page.locator("#code-form").waitFor({ state: "visible" });
    expect(await page.locator("#who").textContent()).toContain(email);
    const cookies = await context.cookies(srv.url);
    const session = cookies.find((c) => c.name === "clanker_session");
    expect(session).toBeDefined();
    expect(session!.httpOnly).toBe(true);
    // The page's script cannot read it.
    expect(await page.evaluate("document.cookie")).not.toContain("clanker_session");
    // Loaded again, signed in: straight to the device code. Signed out, nothing asked the API who was there: no 401.
    await page.reload();
    await page.locator("#code-form").waitFor({ state: "visible" });
    expect(consoleErrors).toEqual([]);

    await page.locator("#code").fill(deviceCode.toLowerCase());
    await page.locator("#approve").click();
    const status = page.locator("#status.ok");
    await status.waitFor({ state: "visible" });
    expect(await status.textContent()).toMatch(/Approved/);
    expect(await page.locator("#code-form").isVisible()).toBe(false);
    await page.screenshot({ path: "/tmp/activate.png", fullPage: true });
  } finally {
    await context.close();
  }

  // The CLI's poll receives the key, which works and belongs to the person who approved.
  const done = await cli("POST", "/api/v1/activate/poll", { body: { code: deviceCode } });
  expect(done.status).toBe(200);
  expect(done.body.status).toBe("completed");
  expect(done.body.api_key).toMatch(/^ck_/);
  expect(typeof done.body.tier).toBe("string");
  const me = await client(srv, { apiKey: done.body.api_key })("GET", "/api/v1/profile");
  expect(me.status).toBe(200);
  expect(me.body).toMatchObject({ email, authMethod: "api_key" });

  // Exactly once.
  const again = await cli("POST", "/api/v1/activate/poll", { body: { code: deviceCode } });
  expect(again.status).toBe(400);
  expect(again.body.error.code).toBe("code_used");
}, 40_000);

test("a wrong device code on the page shows an error and approves nothing", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  try {
    // Reuse the sign-in through the page, for a second person.
    const email = uniqueEmail("browser-wrong");
    await page.goto(`${srv.url}/activate?code=AAAA-0000`, { waitUntil: "load" });
    await page.locator("#email").fill(email);
    await page.locator("#email-form button").click();
    await page.locator("#otp-form").waitFor({ state: "visible" });
    await page.locator("#otp").fill(await outboxCode(srv.dataDir, email, 5000));
    await page.locator("#otp-form button").click();
    await page.locator("#code-form").waitFor({ state: "visible" });
    // ?code= prefills the field, with a warning: a link's code may be someone else's device (RFC 8628 5.4), so
    // Approve does nothing until the person confirms their device shows it.
    expect(await page.locator("#code").inputValue()).toBe("AAAA-0000");
    await page.locator("#preset-warning").waitFor({ state: "visible" });
    await page.locator("#approve").click();
    await Bun.sleep(300);
    expect(await page.locator("#status").isVisible()).toBe(false);
    await page.getByLabel("My device shows this code, and I started this sign-in").check();
    await page.locator("#approve").click();
    const err = page.locator("#status.err");
    await err.waitFor({ state: "visible" });
    expect(await err.textContent()).toMatch(/unknown|code/i);
    expect(await page.locator("#code-form").isVisible()).toBe(true);

    // A real code this person did not start: Deny, and the device's poll hears access_denied.
    const started = (await (await fetch(`${srv.url}/api/v1/activate`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).json()) as { code: string };
    await page.locator("#code").fill(started.code);
    await page.getByRole("button", { name: "Deny: I did not start this" }).click();
    await page.locator("#status.ok", { hasText: "Denied" }).waitFor({ state: "visible" });
    const poll = await fetch(`${srv.url}/api/v1/activate/poll`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ code: started.code }) });
    expect({ status: poll.status, code: ((await poll.json()) as { error?: { code?: string } }).error?.code }).toEqual({ status: 400, code: "access_denied" });
  } finally {
    await context.close();
  }
}, 30_000);
