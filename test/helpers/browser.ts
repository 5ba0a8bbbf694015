// Debian's chromium through playwright-core for the page tests: one launch (the flags the machine needs), the
// folder screenshots go to, the accessibility check every page passes, the two widths pages are seen at, and the
// set-up the app's suites share: signing in through the page, collecting console errors, polling, teardown.
import { expect } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import AxeBuilder from "@axe-core/playwright";
import { client, startServer, uniqueEmail, type TestServer } from "./server";
import { startFakeModel } from "./fake-models";
import { outboxCode, outboxMessages } from "./mail";
import { stopAll } from "./suite";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

/** Where the page tests write their screenshots (git-ignored; the README names it). */
export const SCREENS = resolve(import.meta.dir, "..", "..", "test-artifacts", "screens");

/** Launches chromium, waiting (bounded) in case apt is still installing it when the suite starts. */
export async function launchChromium(): Promise<Browser> {
  const deadline = Date.now() + 20_000;
  while (!existsSync(CHROMIUM) && Date.now() < deadline) await Bun.sleep(250);
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is not installed (.ci/run installs it with apt-get)`);
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 20_000 });
}

/** A full-page screenshot named `name` in SCREENS. */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENS, { recursive: true });
  await page.screenshot({ path: join(SCREENS, `${name}.png`), fullPage: true });
}

/** axe-core on the page as it is: no serious or critical violation (`exclude`: content that is not ours). */
export async function expectAccessible(page: Page, name: string, exclude?: string): Promise<void> {
  const builder = new AxeBuilder({ page });
  if (exclude) builder.exclude(exclude);
  const { violations } = await builder.analyze();
  const bad = violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => `${name}: ${v.id} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
  expect(bad).toEqual([]);
}

/** The two widths every page is seen at. */
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** Records the page's console errors and uncaught exceptions in `into`, each as "<url>: <text>". */
export function collectConsoleErrors(page: Page, into: string[]): void {
  page.on("console", (m) => {
    if (m.type() === "error") into.push(`${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => into.push(`${page.url()}: ${e.message}`));
}

/**
 * The collected console errors are `count` that `expected` matches and nothing else (Chromium logs every non-2xx
 * fetch itself: the expected ones are the refusals a test provoked); then the list is emptied for the next check.
 */
export function expectConsoleErrors(errors: string[], expected: (e: string) => boolean, count: number): void {
  const seen = errors.filter(expected);
  expect(seen.length).toBe(count);
  expect(errors.filter((e) => !seen.includes(e))).toEqual([]);
  errors.length = 0;
}

/** Polls `read` until it returns `want` (Bun's expect has no poll); fails with the last value seen. */
export async function until<T>(read: () => Promise<T>, want: T, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  let last = await read();
  while (last !== want && Date.now() < deadline) {
    await Bun.sleep(50);
    last = await read();
  }
  expect(last as unknown).toBe(want);
}

/** The session token in `context`'s clanker_session cookie for `srv`. */
export async function sessionCookie(context: BrowserContext, srv: TestServer): Promise<string> {
  return decodeURIComponent((await context.cookies(srv.url)).find((c) => c.name === "clanker_session")!.value);
}

/**
 * Signs `email` in on `page` through /login with the code mailed to data/outbox, as a person would; lands on
 * `next`. Returns the session and an API client that is the same person (in another tab, so to speak).
 */
export async function signInThroughPage(page: Page, srv: TestServer, email: string, next: string) {
  // As the app sends a person to sign in: a fragment (a token) stays the login page's own, out of the query string.
  const [path, fragment] = next.split("#");
  await page.goto(`${srv.url}/login?next=${encodeURIComponent(path!)}${fragment === undefined ? "" : `#${fragment}`}`);
  await page.getByLabel("Email").fill(email);
  // Signing in again: wait for the new mail, or the previous (spent) code would be read.
  const had = outboxMessages(srv.dataDir, email).length;
  await page.getByRole("button", { name: "Send me a code" }).click();
  const deadline = Date.now() + 10_000;
  while (outboxMessages(srv.dataDir, email).length <= had && Date.now() < deadline) await Bun.sleep(50);
  await page.getByLabel("The 6-digit code we mailed you").fill(await outboxCode(srv.dataDir, email, 5000));
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(`${srv.url}${next}`);
  const session = await sessionCookie(page.context(), srv);
  return { session, api: client(srv, { session }) };
}

/**
 * A new desktop-width context and page (default timeout `timeout`) whose console errors go to `errors`, signed in
 * through the page as `email` (a new person if none) and landed on `next`.
 */
export async function openSignedIn(srv: TestServer, browser: Browser, opts: { next: string; errors: string[]; email?: string; timeout?: number }) {
  const email = opts.email ?? uniqueEmail("browser");
  const context = await browser.newContext({ viewport: DESKTOP });
  try {
    const page = await context.newPage();
    page.setDefaultTimeout(opts.timeout ?? 10_000);
    collectConsoleErrors(page, opts.errors);
    return { context, page, email, ...(await signInThroughPage(page, srv, email, opts.next)) };
  } catch (e) {
    await context.close();
    throw e;
  }
}

/** A page suite's afterAll: its context (if it kept one), the browser, the server (stopped, its data removed), its fake (model or service). */
export async function closeSuite(parts: { context?: BrowserContext; browser?: Browser; srv?: TestServer; fake?: { stop(): unknown } }): Promise<void> {
  await parts.context?.close();
  await parts.browser?.close();
  await stopAll([parts.srv, parts.fake]);
}

/** A fake OpenAI model, the server that uses it (rate limit off, plus `env`) and chromium, started side by side. */
export async function startAppServer(env: Record<string, string> = {}) {
  const fake = startFakeModel("openai");
  const [srv, browser] = await Promise.all([
    startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", OPENAI_BASE_URL: `${fake.url}/v1`, ...env } }),
    launchChromium(),
  ]);
  return { fake, srv, browser };
}

/** What most of the app's suites start from: startAppServer, then a page signed in (openSignedIn). */
export async function startSignedIn(opts: { next: string; errors: string[]; email?: string; timeout?: number; env?: Record<string, string> }) {
  const started = await startAppServer(opts.env);
  try {
    return { ...started, ...(await openSignedIn(started.srv, started.browser, opts)) };
  } catch (e) {
    await closeSuite(started);
    throw e;
  }
}

/** What a browser does when a tab goes behind another or comes back to the front (headless Chromium shows every page). */
export const setTabHidden = (page: Page, hidden: boolean) =>
  page.evaluate((h) => {
    const doc = (globalThis as any).document;
    Object.defineProperty(doc, "hidden", { configurable: true, get: () => h });
    Object.defineProperty(doc, "visibilityState", { configurable: true, get: () => (h ? "hidden" : "visible") });
    doc.dispatchEvent(new Event("visibilitychange"));
  }, hidden);
