// The web app's /memory and /artifacts pages in a real browser (Debian chromium via playwright-core) against
// the server and a fake model: a memory edit that another writer beat is shown as a conflict with their
// version (and nothing is overwritten), then saved; a run's artifacts listed, previewed (Markdown rendered, its raw HTML as text,
// HTML in a sandboxed frame), downloadable, deleted. Every page: no console errors, no serious/critical axe
// violations, screenshots at desktop and phone width in test-artifacts/screens/.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import { closeSuite, DESKTOP, expectAccessible, expectConsoleErrors, PHONE, screenshot, startSignedIn, until } from "./helpers/browser";
import { client, uniqueEmail, type TestServer } from "./helpers/server";
import type { FakeModel } from "./helpers/fake-models";

let srv: TestServer, fake: FakeModel, browser: Browser, context: BrowserContext, page: Page, api: ReturnType<typeof client>;
const consoleErrors: string[] = [];

beforeAll(async () => {
  // Signed in through the page, as a person would; the API client is the same person in another tab.
  ({ srv, fake, browser, context, page, api } = await startSignedIn({ email: uniqueEmail("webapp2"), next: "/memory", errors: consoleErrors }));
}, 30_000);

afterAll(() => closeSuite({ context, browser, srv, fake }));

const axe = (name: string, exclude?: string) => expectAccessible(page, name, exclude);

const shot = (name: string) => screenshot(page, name);

test("memory: a write in between is shown as a conflict with their version, nothing overwritten; then a save lands", async () => {
  expect((await api("PUT", "/api/v1/memory", { body: { content: "# Team notes\nfirst line" } })).status).toBe(200);
  await page.goto(`${srv.url}/memory`);
  const editor = page.getByLabel("Memory (Markdown)");
  await until(() => editor.inputValue(), "# Team notes\nfirst line");
  await page.getByText(/^Version \d+, saved /).waitFor();
  await axe("memory");
  await shot("memory-desktop");

  // Another writer saves between this page's load and its save.
  await editor.fill("# Team notes\nmy edit");
  expect((await api("PUT", "/api/v1/memory", { body: { content: "# Team notes\ntheir <b>edit</b>" } })).status).toBe(200);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByRole("heading", { name: "Conflict: someone else changed the memory" }).waitFor();
  expect(await page.locator("#conflict-text").textContent()).toContain("Someone else saved the memory after you loaded it");
  expect(await page.getByLabel("Their version").textContent()).toBe("# Team notes\ntheir <b>edit</b>");
  expect(await page.locator("#theirs b").count()).toBe(0);
  expect(await editor.inputValue()).toBe("# Team notes\nmy edit");
  expect((await api("GET", "/api/v1/memory")).body.content).toBe("# Team notes\ntheir <b>edit</b>");
  await axe("memory conflict");
  await shot("memory-conflict-desktop");

  // Reload their version, edit it, save: it lands, conditional on the version just loaded.
  await page.getByRole("button", { name: "Load their version (discard my edits)" }).click();
  expect(await editor.inputValue()).toBe("# Team notes\ntheir <b>edit</b>");
  await editor.fill("# Team notes\ntheir <b>edit</b>\nand mine");
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByText(/^Saved \(version \d+\)\.$/).waitFor();
  expect(await page.locator("#conflict").isHidden()).toBe(true);
  const after = await api("GET", "/api/v1/memory");
  expect(after.body.content).toBe("# Team notes\ntheir <b>edit</b>\nand mine");

  // "Save mine over theirs" after a second conflict is an explicit choice, still conditional.
  await editor.fill("mine wins");
  expect((await api("PUT", "/api/v1/memory", { body: { content: "theirs again" } })).status).toBe(200);
  await page.getByRole("button", { name: "Save", exact: true }).click();
  await page.getByRole("button", { name: "Save mine over theirs" }).click();
  await page.getByText(/^Saved \(version \d+\)\.$/).waitFor();
  expect((await api("GET", "/api/v1/memory")).body.content).toBe("mine wins");

  await page.setViewportSize(PHONE);
  await page.reload();
  await until(() => editor.inputValue(), "mine wins");
  await shot("memory-phone");
  await page.setViewportSize(DESKTOP);
  // Chromium itself logs every non-2xx fetch; the two conflicting saves are the expected ones (the page shows
  // them as conflicts, checked above). Anything else is a failure.
  expectConsoleErrors(consoleErrors, (e) => e.endsWith("/memory: Failed to load resource: the server responded with a status of 412 (Precondition Failed)"), 2);
}, 25_000);

test("artifacts: a run's files listed, previewed as text or in a sandboxed frame, downloadable, deleted", async () => {
  const run = await api("POST", "/api/v1/skills/summarize/run", { body: { input: "[[file]] <b>not markup</b>" } });
  expect(run.status).toBe(200);
  const executionId: string = run.body.executionId;
  await until(async () => (await api("GET", `/api/v1/executions/${executionId}/status`)).body.status, "completed");

  await page.goto(`${srv.url}/artifacts`);
  const md = page.locator("#artifacts li", { hasText: "summarize-output.md" });
  const html = page.locator("#artifacts li", { hasText: "index.html" });
  await md.waitFor();
  await html.waitFor();
  expect(await md.textContent()).toContain("text/markdown");
  expect(await md.getByRole("link", { name: /Execution/ }).getAttribute("href")).toBe(`/executions/${executionId}`);
  await axe("artifacts");
  await shot("artifacts-desktop");

  // Markdown: rendered, its raw HTML shown as text, never markup of this page; the download link is the API's download route.
  await md.getByRole("link", { name: "summarize-output.md" }).click();
  await page.waitForURL(/\/artifacts\/[^/]+$/);
  const mdId = page.url().split("/").pop()!;
  await page.locator("#preview-md", { hasText: "<b>not markup</b>" }).waitFor();
  expect(await page.locator("#preview b").count()).toBe(0);
  const download = page.getByRole("link", { name: "Download summarize-output.md" });
  expect(await download.getAttribute("href")).toBe(`/api/v1/artifacts/${mdId}/download`);
  const file = await api("GET", (await download.getAttribute("href"))!);
  expect({ status: file.status, disposition: file.headers.get("content-disposition") }).toEqual({ status: 200, disposition: "attachment; filename=\"summarize-output.md\"; filename*=UTF-8''summarize-output.md" });
  await axe("artifact (markdown)");
  await shot("artifact-markdown-desktop");

  // HTML: rendered only inside a sandbox="" frame, from the inline form of the download route, which is a
  // sandbox itself; the page's own policy allows framing this origin only.
  await page.goto(`${srv.url}/artifacts`);
  await html.getByRole("link", { name: "index.html" }).click();
  const frame = page.locator("iframe.preview");
  await frame.waitFor();
  expect(await frame.getAttribute("sandbox")).toBe("");
  // Read through the frame's document: Playwright's locators need script in the frame, which its sandbox forbids.
  const previewFrame = () => page.frames().find((f) => f.url().endsWith("/download?inline=1"));
  await until(async () => (await previewFrame()?.content().catch(() => ""))?.includes("<h1>Hello</h1>") ?? false, true);
  const htmlId = page.url().split("/").pop()!;
  const pageCsp = (await api("GET", `/artifacts/${htmlId}`)).headers.get("content-security-policy")!;
  expect(pageCsp).toContain("frame-src 'self'");
  expect((await api("GET", "/artifacts")).headers.get("content-security-policy")).not.toContain("frame-src");
  const inline = await api("GET", `/api/v1/artifacts/${htmlId}/download?inline=1`);
  expect(inline.status).toBe(200);
  expect(inline.headers.get("content-security-policy")).toStartWith("sandbox;");
  expect(inline.headers.get("content-disposition")).toStartWith("inline;");
  // The preview frame holds the run's HTML, not ours (and axe cannot run inside its script-less sandbox).
  await axe("artifact (html)", "iframe.preview");
  await shot("artifact-html-desktop");
  await page.setViewportSize(PHONE);
  await shot("artifact-html-phone");
  await page.setViewportSize(DESKTOP);

  // Delete, after the confirm: gone from the list and from the API.
  page.once("dialog", (d) => void d.accept());
  await page.getByRole("button", { name: "Delete" }).click();
  await page.waitForURL(`${srv.url}/artifacts`);
  await md.waitFor();
  expect(await html.count()).toBe(0);
  expect((await api("GET", `/api/v1/artifacts/${htmlId}`)).status).toBe(404);
  await page.setViewportSize(PHONE);
  await shot("artifacts-phone");
  // Long names (120 characters of one word) wrap at phone width, in the list and on their page.
  const odd = await api("POST", "/api/v1/skills/summarize/run", { body: { input: "Odd names [[names]]" } });
  await until(async () => (await api("GET", `/api/v1/executions/${odd.body.executionId}/status`)).body.status, "completed");
  const done = (await api("GET", `/api/v1/executions/${odd.body.executionId}/status`)).body;
  const long = (await Promise.all(done.artifactIds.map(async (id: string) => (await api("GET", `/api/v1/artifacts/${id}`)).body))).find((a: any) => a.name.startsWith("report-"));
  for (const path of ["/artifacts", `/artifacts/${long.id}`]) {
    await page.goto(`${srv.url}${path}`);
    await page.getByText(long.name.slice(0, 30)).first().waitFor();
    expect({ path, width: await page.evaluate("document.documentElement.scrollWidth") }).toEqual({ path, width: PHONE.width });
  }
  expect(consoleErrors).toEqual([]);
}, 25_000);
