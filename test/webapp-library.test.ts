// The web app's Library in a real browser (Debian chromium via playwright-core) against the server and a slow
// fake model: browse, search and filter the catalog, install and uninstall; a skill page with its instructions
// rendered, a run with a typed, a chosen and a dropped attachment whose output streams into the page before the
// run completes; its Markdown artifact rendered and sanitized (nothing in it runs), a code artifact with line
// numbers; errors in words. Every page: no console errors, axe clean, screenshots at desktop and phone width.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import { expectAccessible, launchChromium, screenshot } from "./helpers/browser";
import { cleanup, client, startServer, uniqueEmail, type TestServer } from "./helpers/server";
import { outboxCode } from "./helpers/mail";
import { startFakeModel, type FakeModel } from "./helpers/fake-models";

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

let srv: TestServer;
let fake: FakeModel;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let api: ReturnType<typeof client>;
const consoleErrors: string[] = [];
const dialogs: string[] = [];

async function signIn(s: TestServer, b: Browser, next: string) {
  const email = uniqueEmail("library");
  const ctx = await b.newContext({ viewport: DESKTOP });
  const p = await ctx.newPage();
  p.setDefaultTimeout(10_000);
  p.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(`${p.url()}: ${m.text()}`);
  });
  p.on("pageerror", (e) => consoleErrors.push(`${p.url()}: ${e.message}`));
  // Anything the rendered Markdown managed to run would open a dialog: recorded, and the test fails on it.
  p.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await p.goto(`${s.url}/login?next=${encodeURIComponent(next)}`);
  await p.getByLabel("Email").fill(email);
  await p.getByRole("button", { name: "Send me a code" }).click();
  await p.getByLabel("The 6-digit code we mailed you").fill(await outboxCode(s.dataDir, email, 5000));
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.waitForURL(`${s.url}${next}`);
  const session = decodeURIComponent((await ctx.cookies(s.url)).find((c) => c.name === "clanker_session")!.value);
  return { ctx, page: p, api: client(s, { session }) };
}

beforeAll(async () => {
  fake = startFakeModel("openai");
  [srv, browser] = await Promise.all([
    startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", OPENAI_BASE_URL: `${fake.url}/v1` } }),
    launchChromium(),
  ]);
  ({ ctx: context, page, api } = await signIn(srv, browser, "/library"));
}, 30_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await srv?.stop();
  fake?.stop();
  if (srv) cleanup(srv);
});

const axe = (name: string) => expectAccessible(page, name);
const shot = async (name: string) => {
  await screenshot(page, `${name}-desktop`);
  await page.setViewportSize(PHONE);
  await screenshot(page, `${name}-phone`);
  await page.setViewportSize(DESKTOP);
};
const rows = () => page.locator("#skills li");
const installedSlugs = async () => ((await api("GET", "/api/v1/skills?limit=100")).body.data as { slug: string; installed: boolean }[]).filter((s) => s.installed).map((s) => s.slug);

/** Gzipped bytes of a page's JS+CSS: every inline block is its script and style. */
async function gzippedAssets(path: string): Promise<number> {
  const html = await (await fetch(`${srv.url}${path}`, { headers: { cookie: "clanker_session=x" } })).text();
  const blocks = [...html.matchAll(/<(script|style)>([\s\S]*?)<\/\1>/g)].map((m) => m[2]!).join("");
  return Bun.gzipSync(Buffer.from(blocks)).byteLength;
}

test("library: browse, search, filter by category, install and uninstall from the list; /skills is the same page", async () => {
  const all = (await api("GET", "/api/v1/marketplace/skills?limit=100")).body.data as { slug: string; name: string; category: string }[];
  const summarize = all.find((s) => s.slug === "summarize")!;
  await page.locator('#skills li[data-slug="summarize"]').waitFor();
  expect(await rows().count()).toBe(all.length);
  await page.getByText(`${all.length} skills`).waitFor();
  await axe("library");
  await shot("library");

  // Search: the words narrow the list (the API's matching), and the URL keeps them.
  await page.getByLabel("Search skills").fill("summarize");
  await page.waitForURL(/\?q=summarize$/);
  await page.getByText(/^1 skill$/).waitFor();
  expect(await rows().first().getAttribute("data-slug")).toBe("summarize");
  await page.getByLabel("Search skills").fill("no skill is called this");
  await page.getByText("No skill matches").waitFor();
  await page.getByLabel("Search skills").fill("");

  // Category: only that category's skills, as many as the API counts.
  const design = all.filter((s) => s.category === "design");
  expect(design.length).toBeGreaterThan(1);
  await page.getByLabel("Category").selectOption("design");
  await page.getByText(`${design.length} skills`, { exact: true }).waitFor();
  expect((await page.locator("#skills li .badge").allTextContents()).every((c) => c === "design")).toBe(true);
  expect(page.url()).toEndWith("?category=design");

  // Install and uninstall from a row: the API agrees, and a fresh load shows the state the API holds.
  await page.getByLabel("Category").selectOption("");
  await page.getByLabel("Search skills").fill(summarize.name);
  await page.getByText(/^1 skill$/).waitFor();
  const row = page.locator('#skills li[data-slug="summarize"]');
  await row.getByRole("button", { name: `Install ${summarize.name}` }).click();
  await row.getByText("Installed", { exact: true }).waitFor();
  expect(await installedSlugs()).toContain("summarize");
  await page.goto(`${srv.url}/skills`);
  await page.locator('#skills li[data-slug="summarize"]').getByRole("button", { name: `Uninstall ${summarize.name}` }).click();
  await page.locator('#skills li[data-slug="summarize"]').getByRole("button", { name: `Install ${summarize.name}` }).waitFor();
  expect(await installedSlugs()).not.toContain("summarize");

  // The first page of the library and a skill page stay small (the 150 KB of JS+CSS, gzipped).
  const library = await gzippedAssets("/library");
  const skill = await gzippedAssets("/skills/summarize");
  expect(library).toBeLessThan(150 * 1024);
  expect(skill).toBeLessThan(150 * 1024);
  // Only pages that render Markdown carry marked and DOMPurify.
  expect(library).toBeLessThan(15 * 1024);
  expect(skill).toBeGreaterThan(library + 15 * 1024);
  console.log(`gzipped JS+CSS: /library ${library} B, /skills/summarize ${skill} B`);
  expect(consoleErrors).toEqual([]);
}, 30_000);
