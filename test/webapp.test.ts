// The web app in a real browser (Debian chromium via playwright-core) against the server and a fake model:
// sign in with the code from data/outbox, see a run started over the API by another client appear and
// complete in /executions without a reload, open it, rerun and cancel from the page, the not-yet-built pages
// answer as pages, sign out. Every page: no console errors, no serious/critical axe violations, and
// screenshots at desktop and phone width in test-artifacts/screens/.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Browser, type Page } from "playwright-core";
import { closeSuite, collectConsoleErrors, DESKTOP, expectAccessible, expectConsoleErrors, openSignedIn, PHONE, screenshot, sessionCookie, setTabHidden, startAppServer } from "./helpers/browser";
import { client, uniqueEmail, type TestServer } from "./helpers/server";
import { outboxCode } from "./helpers/mail";
import type { FakeModel } from "./helpers/fake-models";
import { metric } from "./helpers/metrics";
import { waitUntil } from "./helpers/suite";

let srv: TestServer, fake: FakeModel, browser: Browser;
const consoleErrors: string[] = [];

beforeAll(async () => {
  ({ srv, fake, browser } = await startAppServer());
}, 30_000);

afterAll(() => closeSuite({ browser, srv, fake }));

function watch(page: Page) {
  page.setDefaultTimeout(10_000);
  collectConsoleErrors(page, consoleErrors);
}

const axe = (page: Page, name: string) => expectAccessible(page, name);

const shot = (page: Page, name: string) => screenshot(page, name);

test("sign in, watch an API run live in /executions, open it, rerun, cancel, other pages, sign out", async () => {
  const email = uniqueEmail("webapp");
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  watch(page);

  // Sign in at /: email → mailed code → the app. A `next` that a browser would read as another host ("/\x")
  // is ignored: the app, never an open redirect.
  expect((await page.goto(`${srv.url}/?next=${encodeURIComponent("/\\example.test")}`))?.status()).toBe(200);
  await page.getByLabel("Email").fill(email);
  await axe(page, "sign-in");
  await shot(page, "signin-desktop");
  await page.getByRole("button", { name: "Send me a code" }).click();
  const code = await outboxCode(srv.dataDir, email, 5000);
  await page.getByLabel("The 6-digit code we mailed you").fill(code);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${srv.url}/executions`);
  await page.getByText(email).waitFor();
  await page.getByText("No executions yet").waitFor();
  // Signed in, /login goes on to `next`: a page of this site only. Each of these is another host to a browser (it
  // drops tabs and line breaks, reads "\" as "/", resolves "/.//x" to "//x"); a closed loopback port stands for it.
  for (const offSite of ["/\t/127.0.0.1:1/x", "/\n/127.0.0.1:1/x", "/\r\\127.0.0.1:1/x", "//127.0.0.1:1/x", "http://127.0.0.1:1/x", "/.//127.0.0.1:1/x", "/..//127.0.0.1:1/x", "/a/..//127.0.0.1:1/x", "/%2e//127.0.0.1:1/x"]) {
    await page.goto(`${srv.url}/login?next=${encodeURIComponent(offSite)}`);
    await page.waitForURL(`${srv.url}/executions`);
  }
  await page.goto(`${srv.url}/login?next=${encodeURIComponent("/memory?from=next#top")}`);
  await page.waitForURL(`${srv.url}/memory?from=next#top`);
  await page.goto(`${srv.url}/executions`);
  await page.getByText("No executions yet").waitFor();
  const nav = page.getByRole("navigation", { name: "Main" });
  for (const name of ["Library", "Executions", "Artifacts", "Workflows", "Memory", "Settings"]) expect(await nav.getByRole("link", { name }).count()).toBe(1);

  // Another client (the same person over the API) starts a slow run: it appears and completes, no reload.
  const api = client(srv, { session: await sessionCookie(context, srv) });
  await page.evaluate("window.__noReload = true");
  await page.getByText("Live", { exact: true }).waitFor();
  const started = await api("POST", "/api/v1/skills/summarize/run", { body: { input: "[[slow:300]] watched live from the page" } });
  expect(started.status).toBe(200);
  const id: string = started.body.executionId;
  const row = page.locator(`#runs li[data-id="${id}"]`);
  await row.waitFor();
  const firstSeen = await row.getAttribute("data-status");
  expect(["queued", "running"]).toContain(firstSeen!);
  await page.locator(`#runs li[data-id="${id}"][data-status="completed"]`).waitFor();
  expect(await page.evaluate("window.__noReload")).toBe(true);
  await axe(page, "executions");
  await shot(page, "executions-desktop");

  // The status filter asks the API for that status only.
  await page.getByLabel("Status").selectOption("failed");
  await page.getByText("No execution matches these filters.").waitFor();
  await page.getByLabel("Status").selectOption("completed");
  await row.waitFor();

  // Open it: output blocks and the facts.
  await row.getByRole("link", { name: /summar/i }).click();
  await page.waitForURL(`${srv.url}/executions/${id}`);
  // The model's text, rendered as Markdown (sanitized), not as raw text.
  await page.locator('#output .md[data-type="text"]', { hasText: "watched live from the page" }).waitFor();
  await page.locator('#status-badge[data-status="completed"]').waitFor();
  const facts = await page.locator("#facts").textContent();
  expect(facts).toContain("Tokens");
  expect(facts).toMatch(/\d+ in · \d+ out/);
  expect(facts).toContain("credits");
  await axe(page, "execution");
  await shot(page, "execution-desktop");
  // An input of several lines keeps them.
  const lines = await api("POST", "/api/v1/skills/summarize/run", { body: { input: "line one\nline two\n\n- a bullet" } });
  await page.goto(`${srv.url}/executions/${lines.body.executionId}`);
  const inputFact = page.locator("#facts dt", { hasText: /^Input$/ }).locator("xpath=following-sibling::dd[1]");
  await inputFact.waitFor();
  expect(await inputFact.innerText()).toBe("line one\nline two\n\n- a bullet");
  expect(await page.locator("#facts dt", { hasText: /^Ended$/ }).count()).toBe(0); // an answer that ended on its own
  // One cut off at the token limit says so, and what to do.
  const cut = await api("POST", "/api/v1/skills/summarize/run", { body: { input: "[[stop:length]] a long answer" } });
  await page.goto(`${srv.url}/executions/${cut.body.executionId}`);
  const ended = page.locator("#facts dt", { hasText: /^Ended$/ }).locator("xpath=following-sibling::dd[1]");
  await ended.waitFor();
  expect(await ended.innerText()).toContain("Cut off at the token limit");
  await page.goto(`${srv.url}/executions/${id}`);
  await page.locator('#status-badge[data-status="completed"]').waitFor();

  // Rerun from the page: a new execution, which completes.
  await page.getByRole("button", { name: "Run again" }).click();
  await page.waitForURL((u) => u.pathname.startsWith("/executions/") && !u.pathname.endsWith(id));
  await page.locator('#status-badge[data-status="completed"]').waitFor();
  await page.getByText(`Rerun of`).waitFor();

  // Cancel from the page: a slow run started over the API, opened while running.
  const slow = await api("POST", "/api/v1/skills/summarize/run", { body: { input: "[[slow:1500]] to be cancelled" } });
  await page.goto(`${srv.url}/executions/${slow.body.executionId}`);
  // Once the page has read the run (its first status paints the badge): the load event can come before that read.
  await page.locator("#status-badge[data-status]").waitFor();
  // A screen reader hears the status change (role=status, replaced only when it changes), not the whole output again
  // at every update (it was a live region rebuilt each time); a failure is an alert.
  expect(await page.locator("#output").getAttribute("aria-live")).toBeNull();
  expect(await page.locator("#output").getAttribute("aria-busy")).toBe("true");
  expect(await page.locator("#status-badge").getAttribute("role")).toBe("status");
  expect(await page.locator("#run-error").getAttribute("role")).toBe("alert");
  await page.locator('#status-badge[data-status="running"]').waitFor();
  const badgeNode = await page.locator("#status-badge > *").elementHandle();
  await page.waitForTimeout(1200); // updates of a running run (a delta each 1.5 s, four of them), its status unchanged
  expect(await badgeNode!.evaluate((n) => n.isConnected)).toBe(true);
  await page.getByRole("button", { name: "Cancel" }).click();
  await page.locator('#status-badge[data-status="cancelled"]').waitFor();

  // One that is not in this workspace (deleted, or in another): the page says it was not found.
  await page.goto(`${srv.url}/executions/exec_999999`);
  await page.locator("#page-error", { hasText: "This execution was not found: it may have been deleted, or be in another workspace." }).waitFor();
  // Its 404s (the page asks again when its live stream opens, a moment later), and nothing else.
  await page.waitForTimeout(500);
  const notFound = (e: string) => e.includes("/executions/exec_999999") && e.includes("404 (Not Found)");
  expectConsoleErrors(consoleErrors, notFound, consoleErrors.filter(notFound).length || 1);

  // /activate (device approval) still works inside the app.
  expect((await page.goto(`${srv.url}/activate`))?.status()).toBe(200);
  await page.locator("#code-form").waitFor({ state: "visible" });

  // Phone width: the same pages, readable.
  await page.setViewportSize(PHONE);
  await page.goto(`${srv.url}/executions`);
  await row.waitFor();
  await shot(page, "executions-phone");
  await page.goto(`${srv.url}/executions/${id}`);
  await page.locator("#output [data-type]").first().waitFor();
  await axe(page, "execution (phone)");
  await shot(page, "execution-phone");

  // A required choice with no default is the person's to make: it starts on "Choose…" and a run without it is refused.
  await page.goto(`${srv.url}/skills/ai-voice-cloning`);
  const consent = page.getByLabel("Speaker consent (required)");
  await consent.waitFor();
  expect(await consent.inputValue()).toBe("");
  await page.getByLabel("Use case (required)").fill("course videos");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await page.getByText(/^Fill in Speaker consent/).waitFor();
  await page.goto(`${srv.url}/executions/${id}`);
  await page.locator("#output [data-type]").first().waitFor();

  // Nothing a person sees is kept by a cache (Back after signing out must not show it); the app's assets are.
  expect((await fetch(`${srv.url}/executions/${id}`)).headers.get("cache-control")).toBe("no-store");
  expect((await api("GET", "/api/v1/profile")).headers.get("cache-control")).toBe("no-store");

  // Sign out: back to the sign-in form, and the app sends a signed-out visitor there; Back shows nothing of the session.
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(`${srv.url}/login`);
  await page.goBack();
  await page.waitForURL(/\/login\?next=%2Fexecutions%2F/);
  await page.goForward();
  await page.waitForURL(`${srv.url}/login`);
  await page.getByLabel("Email").waitFor();
  await shot(page, "signin-phone");
  expect((await context.cookies(srv.url)).find((c) => c.name === "clanker_session")).toBeUndefined();
  expect((await api("GET", "/api/v1/profile")).status).toBe(401);
  await page.goto(`${srv.url}/executions`);
  await page.waitForURL(/\/login\?next=%2Fexecutions$/);

  await context.close();
  expect(consoleErrors).toEqual([]);
}, 30_000);

test("tabs: only pages in view hold an event stream, so a ninth tab still runs a skill; one shown again catches up", async () => {
  const errors: string[] = [];
  const { context, page: first } = await openSignedIn(srv, browser, { next: "/executions", errors });
  try {
    // Eight tabs of live pages, each put behind the next as it opens. Each held a stream before, and Chromium gives a
    // host six connections: from the seventh on, pages did not even load.
    const tabs = [first];
    for (let i = 1; i < 8; i++) tabs.push(await context.newPage());
    for (const [i, tab] of tabs.entries()) {
      tab.setDefaultTimeout(10_000);
      if (i > 0) await tab.goto(`${srv.url}/${i % 2 ? "executions" : "workflows"}`);
      await tab.getByText("Live", { exact: true }).waitFor();
      await setTabHidden(tab, true);
    }
    await waitUntil("the hidden tabs' streams to be closed", async () => (await metric(srv.url, "clanker_sse_clients")) === 0);
    const runner = await context.newPage();
    runner.setDefaultTimeout(10_000);
    collectConsoleErrors(runner, errors);
    await runner.goto(`${srv.url}/skills/summarize`);
    await runner.getByLabel("Text (required)").fill("[[slow:300]] run from the ninth tab");
    await runner.getByRole("button", { name: "Run", exact: true }).click();
    await runner.getByText("Completed.", { exact: true }).waitFor();
    const runId = (await runner.locator("#execution-link").getAttribute("href"))!.split("/").pop()!;
    // Shown again, the first tab follows the workspace once more and lists the run it missed while hidden.
    await setTabHidden(first, false);
    await first.locator(`#runs li[data-id="${runId}"][data-status="completed"]`).waitFor();
    await first.getByText("Live", { exact: true }).waitFor();
    expect(await metric(srv.url, "clanker_sse_clients")).toBe(1);
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
}, 60_000);
