// The web app's Library in a real browser (Debian chromium via playwright-core) against the server and a slow
// fake model: browse, search and filter the catalog, install and uninstall; a skill page with its instructions
// rendered, a run with a typed, a chosen and a dropped attachment whose output streams into the page before the
// run completes; its Markdown artifact rendered and sanitized (nothing in it runs), a code artifact with line
// numbers; errors in words. Every page: no console errors, axe clean, screenshots at desktop and phone width.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import { closeSuite, DESKTOP, expectAccessible, expectConsoleErrors, openSignedIn, PHONE, screenshot, startAppServer } from "./helpers/browser";
import { client, startServer, uniqueEmail, type TestServer } from "./helpers/server";
import { stopAll } from "./helpers/suite";
import type { FakeModel } from "./helpers/fake-models";

let srv: TestServer, fake: FakeModel, browser: Browser, context: BrowserContext, page: Page, api: ReturnType<typeof client>;
const consoleErrors: string[] = [];
const dialogs: string[] = [];

async function signIn(s: TestServer, next: string) {
  const signedIn = await openSignedIn(s, browser, { email: uniqueEmail("library"), next, errors: consoleErrors });
  // Anything the rendered Markdown managed to run would open a dialog: recorded, and the test fails on it.
  signedIn.page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  return signedIn;
}

// A folder the `local` connector serves, so the run form has a connector to offer.
const sources = mkdtempSync(join(tmpdir(), "clanker-lib-src-"));
const notes = join(sources, "team-notes");

beforeAll(async () => {
  mkdirSync(notes);
  writeFileSync(join(notes, "README.md"), "# Team notes\n\nlocal readme text\n");
  ({ srv, fake, browser } = await startAppServer({ CLANKER_LOCAL_SOURCES: notes }));
  ({ context, page, api } = await signIn(srv, "/library"));
}, 30_000);

afterAll(async () => {
  await closeSuite({ context, browser, srv, fake });
  rmSync(sources, { recursive: true, force: true });
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
  await page.getByLabel("Category", { exact: true }).selectOption("design");
  await page.getByText(`${design.length} skills`, { exact: true }).waitFor();
  expect((await page.locator("#skills li .badge").allTextContents()).every((c) => c === "design")).toBe(true);
  expect(page.url()).toEndWith("?category=design");

  // Install and uninstall from a row: the API agrees, and a fresh load shows the state the API holds.
  await page.getByLabel("Category", { exact: true }).selectOption("");
  await page.getByLabel("Search skills").fill(summarize.name);
  await page.getByText(/^1 skill$/).waitFor();
  const row = page.locator('#skills li[data-slug="summarize"]');
  await row.getByRole("button", { name: `Install ${summarize.name}`, exact: true }).click();
  await row.getByText("Installed", { exact: true }).waitFor();
  expect(await installedSlugs()).toContain("summarize");
  await page.goto(`${srv.url}/skills`);
  await page.locator('#skills li[data-slug="summarize"]').getByRole("button", { name: `Uninstall ${summarize.name}` }).click();
  // exact: a role name matches as a case-insensitive substring, and "Uninstall X" contains "install X".
  await page.locator('#skills li[data-slug="summarize"]').getByRole("button", { name: `Install ${summarize.name}`, exact: true }).waitFor();
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

test("skill page: instructions rendered, install, a run with attachments streams in before it completes, its artifacts", async () => {
  await page.goto(`${srv.url}/skills/summarize`);
  const detail = (await api("GET", "/api/v1/marketplace/skills/summarize")).body;
  await page.locator("#title", { hasText: detail.name }).waitFor();
  // Instructions: Markdown rendered (its headings are headings), not shown as source.
  const instructions = page.locator("#instructions");
  await instructions.getByRole("heading", { name: "When input is missing", level: 4 }).waitFor();
  // Its headings sit under the page's: the file's "# Summarize" is an h3 below the "Instructions" h2.
  expect(await instructions.getByRole("heading", { name: detail.name, level: 3 }).count()).toBe(1);
  expect(await instructions.textContent()).not.toContain("## When input is missing");

  // Install / uninstall from the page; the API agrees.
  await page.getByText("Not installed").waitFor();
  await page.getByRole("button", { name: "Install", exact: true }).click();
  await page.getByText("Installed in this workspace").waitFor();
  expect(await installedSlugs()).toContain("summarize");
  await page.getByRole("button", { name: "Uninstall", exact: true }).click();
  await page.getByText("Not installed").waitFor();
  expect(await installedSlugs()).not.toContain("summarize");

  // The form comes from the skill's parameters: a required text, enums with their defaults.
  expect(await page.getByLabel("Length (optional)", { exact: true }).inputValue()).toBe("short");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await page.getByText("Fill in Text (required) first.").waitFor();
  await axe("skill");
  await shot("skill");

  // Attachments: one through the file input (keyboard users), one dropped on the drop zone. Their text reaches
  // the model: the dropped file asks the fake for a code file and Markdown that tries to run script.
  await page.getByLabel("Text (required)").fill("[[slow:350]] streamed into the page");
  await page.getByLabel("Style (optional)", { exact: true }).selectOption("prose");
  await page.getByLabel("Attachments (optional)").setInputFiles({ name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("chosen file text") });
  await page.locator("#drop").evaluate((zone) => {
    const w = globalThis as any; // the browser's globals (this project's TypeScript has no DOM lib)
    const dt = new w.DataTransfer();
    dt.items.add(new File(["[[code]] [[xss]] dropped file text"], "dropped.md", { type: "text/markdown" }));
    zone.dispatchEvent(new w.DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await page.getByRole("button", { name: "Remove dropped.md" }).waitFor();
  await page.getByRole("button", { name: "Remove notes.txt" }).waitFor();
  // The connector: the workspace's usable connectors, then the chosen one's sources.
  await page.getByLabel("Connector (optional)", { exact: true }).selectOption("local");
  await page.getByLabel("Source", { exact: true }).selectOption("team-notes");
  const before = fake.requests.length;
  await page.getByRole("button", { name: "Run", exact: true }).click();

  // Streaming: the model's first words are on the page while the run is still running (the API says so too).
  await page.locator("#output", { hasText: "Fake answer" }).waitFor();
  const statusWhenSeen = await page.locator("#result").getAttribute("data-status");
  const href = (await page.getByRole("link", { name: "Open this execution" }).getAttribute("href"))!;
  const executionId = href.split("/").pop()!;
  const apiStatusWhenSeen = (await api("GET", `/api/v1/executions/${executionId}/status`)).body.status;
  expect({ statusWhenSeen, apiStatusWhenSeen }).toEqual({ statusWhenSeen: "running", apiStatusWhenSeen: "running" });

  await page.getByText("Completed.", { exact: true }).waitFor();
  const status = (await api("GET", `/api/v1/executions/${executionId}/status`)).body;
  expect(status.status).toBe("completed");
  expect(status.interface).toBe("web");
  expect(status.input).toBe("text: [[slow:350]] streamed into the page\nlength: short\nstyle: prose");
  const prompt = JSON.stringify(fake.requests.slice(before).map((r) => r.body));
  expect(prompt).toContain("chosen file text");
  expect(prompt).toContain("dropped file text");
  expect(prompt).toContain("local readme text");
  expect(status.connector).toMatchObject({ type: "local", fields: { source: "team-notes" } });
  // Cost and tokens as the API counts them, and the run's page linked.
  const facts = page.locator("#run-facts");
  await facts.getByText(`${status.cost} credits`).waitFor();
  await facts.getByText(`${status.usage.inputTokens} in · ${status.usage.outputTokens} out`).waitFor();
  expect(href).toBe(`/executions/${executionId}`);
  // The streamed output is the run's whole text, rendered (and sanitized) as it came in.
  await page.locator("#output").getByRole("heading", { name: "Rendered heading" }).waitFor();
  expect(await page.locator("#output script, #output img, #output [onerror], #output [style]").count()).toBe(0);
  await axe("skill after a run");
  await shot("skill-run");

  // The Markdown artifact: rendered, and nothing in it runs or keeps a handler, a style, an id or a script URL.
  const artifacts = (await api("GET", "/api/v1/artifacts?limit=50")).body.data as { id: string; name: string; executionId: string }[];
  const md = artifacts.find((a) => a.executionId === executionId && a.name === "summarize-output.md")!;
  const py = artifacts.find((a) => a.executionId === executionId && a.name === "hello.py")!;
  await facts.getByRole("link", { name: "hello.py" }).waitFor();
  await facts.getByRole("link", { name: "summarize-output.md" }).click();
  await page.waitForURL(`${srv.url}/artifacts/${md.id}`);
  const preview = page.locator("#preview-md");
  await preview.getByRole("heading", { name: "Rendered heading" }).waitFor();
  expect(await preview.locator("strong").first().textContent()).toBe("bold");
  expect(await preview.getByRole("link", { name: "safe link" }).getAttribute("href")).toBe("https://example.com/page");
  expect(await preview.locator("script, img, iframe, p[style], [onerror], [onclick], [onmouseover], [style], [id]").count()).toBe(0);
  expect(await preview.locator('a[href^="javascript"]').count()).toBe(0);
  // The javascript: link is still a link element (marked built it) but DOMPurify took its target away.
  const clickMe = preview.locator("a", { hasText: "click me" });
  expect(await clickMe.count()).toBe(1);
  expect(await clickMe.getAttribute("href")).toBeNull();
  // Raw HTML in the Markdown is shown as its text; an image from elsewhere becomes a link, fetched only if followed.
  const text = (await preview.textContent())!;
  expect(text).toContain("<script>alert('script tag')</script>");
  expect(text).toContain(`<img src=x onerror="alert('img onerror')">`);
  expect(text).toContain(`<p style="color:red" id="delete" onmouseover="alert('hover')">styled</p>`);
  expect(await preview.getByRole("link", { name: "[Image: tracker]" }).getAttribute("href")).toBe("https://example.com/pixel.png");
  // The page's own #delete is still the page's button (an id in the document could not shadow it).
  expect(await page.locator("#delete").evaluate((e) => e.tagName)).toBe("BUTTON");
  await Bun.sleep(300); // time for an image's onerror to fire, if it had survived
  expect(dialogs).toEqual([]);
  await axe("artifact (markdown rendered)");
  await shot("artifact-markdown-rendered");

  // The same output on the run's own page: rendered through the same sanitizer, nothing runs.
  await page.goto(`${srv.url}/executions/${executionId}`);
  const out = page.locator('#output .md[data-type="text"]');
  await out.getByRole("heading", { name: "Rendered heading" }).waitFor();
  expect(await out.locator("script, img, iframe, [onerror], [onclick], [onmouseover], [style], [id]").count()).toBe(0);
  expect(await out.locator('a[href^="javascript"]').count()).toBe(0);
  await Bun.sleep(300);
  expect(dialogs).toEqual([]);

  // A code artifact: its text with line numbers (CSS counters: the text itself stays the file), never markup.
  await page.goto(`${srv.url}/artifacts/${py.id}`);
  const code = page.locator("#preview-text");
  await code.waitFor();
  expect(await code.locator(".ln").count()).toBe(3);
  expect(await code.textContent()).toBe("import sys\n\nprint('<b>hi</b>')");
  expect(await code.locator("b").count()).toBe(0);
  expect(await code.locator(".ln").first().evaluate((e) => (globalThis as any).getComputedStyle(e, "::before").content)).toBe("counter(ln)");
  await axe("artifact (code)");
  await shot("artifact-code");
  expect(dialogs).toEqual([]);
  expect(consoleErrors).toEqual([]);
}, 40_000);

test("skill page: errors in words next to the form (400 refused input, 404 unknown skill); memory preview rendered", async () => {
  await page.goto(`${srv.url}/skills/summarize`);
  // A run that completes, then one the server refuses: the refusal does not sit above the first run's result.
  await page.getByLabel("Text (required)").fill("a run that completes");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await page.getByText("Completed.", { exact: true }).waitFor();
  await page.getByLabel("Text (required)").fill("with a file the server refuses");
  await page.getByLabel("Attachments (optional)").setInputFiles({ name: "blob.bin", mimeType: "application/octet-stream", buffer: Buffer.from([1, 2, 3]) });
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await page.locator("#run-error", { hasText: /^The run was refused: Unsupported attachment type 'application\/octet-stream'.*\(attachments\.0\.mediaType\)$/ }).waitFor();
  expect(await page.locator("#result").isHidden()).toBe(true);

  await page.goto(`${srv.url}/skills/no-such-skill`);
  await page.locator("#page-error", { hasText: "There is no skill called no-such-skill in the catalog." }).waitFor();
  expect(await page.locator("#run-form").isHidden()).toBe(true);
  // A malformed %-sequence in the address is an unknown skill too, not a script error and an empty page.
  await page.goto(`${srv.url}/skills/%E0%A4%A`);
  await page.locator("#page-error", { hasText: "There is no skill called %E0%A4%A in the catalog." }).waitFor();

  // /memory: the rendered preview beside the editor follows the text, sanitized.
  expect((await api("PUT", "/api/v1/memory", { body: { content: "# Notes\n\n- one\n<img src=x onerror=alert(1)>" } })).status).toBe(200);
  await page.goto(`${srv.url}/memory`);
  const preview = page.locator("#memory-preview");
  await preview.getByRole("heading", { name: "Notes" }).waitFor();
  expect(await preview.locator("img, [onerror]").count()).toBe(0);
  await page.getByLabel("Memory (Markdown)").fill("## Edited *live*");
  await preview.getByRole("heading", { name: "Edited live" }).waitFor();
  await axe("memory with preview");
  await shot("memory-preview");
  expect(dialogs).toEqual([]);
  // Chromium logs the refused run (400) and the unknown skills (404) as failed loads; nothing else.
  expectConsoleErrors(consoleErrors, (e) => /status of (400|404)/.test(e), 3);
}, 30_000);

test("skill page: a run without credits is refused with the reason in words (402), nothing started", async () => {
  const broke = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", OPENAI_BASE_URL: `${fake.url}/v1`, CLANKER_CREDIT_GRANT: "0" } });
  const other = await signIn(broke, "/skills/summarize");
  try {
    await other.page.getByLabel("Text (required)").fill("no credits for this");
    await other.page.getByRole("button", { name: "Run", exact: true }).click();
    await other.page.locator("#run-error", { hasText: /^Not enough credits to run this skill: .+ Add credits or set your own model key in Settings\.$/ }).waitFor();
    expect(await other.page.locator("#result").isHidden()).toBe(true);
    expect(await other.page.getByRole("button", { name: "Run", exact: true }).isEnabled()).toBe(true);
    expect((await other.api("GET", "/api/v1/executions")).body.data).toEqual([]);
    expectConsoleErrors(consoleErrors, (e) => e.includes("status of 402"), 1);
  } finally {
    await other.context.close();
    await stopAll([broke]);
  }
}, 30_000);
