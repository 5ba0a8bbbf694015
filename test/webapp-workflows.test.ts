// The web app's /workflows and /workflows/runs/:id pages, and the /executions skill filter and paging, in a
// real browser (Debian chromium via playwright-core) against the server and a fake model: the bundled approval
// workflow launched from its generated form, its suspended step approved (or rejected) in the page, the run
// seen completing live; a missing required input refused in words; every input kind of the generated form;
// more than 50 executions paged by cursor and filtered by skill. Every page: no console errors, no
// serious/critical axe violations, screenshots at desktop and phone width in test-artifacts/screens/.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import { closeSuite, DESKTOP, expectAccessible, PHONE, screenshot, signInThroughPage, startSignedIn, until } from "./helpers/browser";
import { client, uniqueEmail, type TestServer } from "./helpers/server";
import type { FakeModel } from "./helpers/fake-models";

const APPROVAL = "Research, draft, approve, summarize";

let srv: TestServer, fake: FakeModel, browser: Browser, context: BrowserContext, page: Page, api: ReturnType<typeof client>;
let email: string;
const consoleErrors: string[] = [];

/** Signs in again on the same page (this suite signs itself out on purpose) and lands on `next`. */
async function signIn(next: string): Promise<void> {
  ({ api } = await signInThroughPage(page, srv, email, next));
}

beforeAll(async () => {
  ({ srv, fake, browser, context, page, api, email } = await startSignedIn({ email: uniqueEmail("webappwf"), next: "/workflows", errors: consoleErrors, timeout: 15_000 }));
}, 40_000);

afterAll(() => closeSuite({ context, browser, srv, fake }));

const axe = (name: string) => expectAccessible(page, name);
const shot = (name: string) => screenshot(page, name);
const definition = (name: string) => page.getByRole("region", { name });

async function launchForm(name: string) {
  const region = definition(name);
  await region.getByText("Launch…", { exact: true }).click();
  return region;
}

test("the approval workflow: launched from its generated form (a missing required input refused in words), approved in the page, completes live", async () => {
  await page.goto(`${srv.url}/workflows`);
  await page.getByText("No workflow runs yet").waitFor();
  const form = await launchForm(APPROVAL);
  expect(await form.getByText("(required)").count()).toBe(1);
  await axe("workflows (launch form open)");
  await shot("workflows-desktop");

  // The required input left empty: said next to the field, and nothing is launched.
  await form.getByRole("button", { name: "Launch", exact: true }).click();
  await form.getByText("Intent is required.").waitFor();
  expect(await form.getByLabel("Intent").getAttribute("aria-invalid")).toBe("true");
  await form.getByText("Fix the fields marked above").waitFor();
  expect((await api("GET", "/api/v1/workflows/runs")).body.data).toEqual([]);

  await form.getByLabel("Intent").fill("solar panels for flats");
  await form.getByRole("button", { name: "Launch", exact: true }).click();
  await page.waitForURL(/\/workflows\/runs\/run_/);
  const runId = decodeURIComponent(new URL(page.url()).pathname.split("/")[3]!);
  expect((await api("GET", `/api/v1/workflows/runs/${runId}`)).body.trigger).toBe("web");
  await page.locator('#status-badge[data-status="suspended"]').waitFor();
  await page.locator('#steps li[data-step="approval"][data-status="suspended"]').waitFor();
  await page.locator('#steps li[data-step="draft"][data-status="completed"]').waitFor();
  expect(await page.locator('#steps li[data-step="publish"]').getAttribute("data-status")).toBe("pending");
  const waiting = page.getByRole("region", { name: "Waiting for you" });
  await waiting.getByText("Approve this draft for publishing").waitFor();
  // A step's input and output are folded until asked for.
  await page.getByText("Output of draft").click();
  await page.locator('#steps li[data-step="draft"] pre', { hasText: /^Fake answer for: Draft/ }).waitFor();
  await axe("workflow run (suspended)");
  await shot("workflow-run-suspended-desktop");

  // Approve with notes, generated from the resumeSchema (the required boolean is the Approve/Reject pair).
  await page.evaluate("window.__noReload = true");
  await waiting.getByLabel("Notes").fill("Ship it");
  await waiting.getByRole("button", { name: "Approve" }).click();
  await page.locator('#status-badge[data-status="completed"]').waitFor();
  await page.locator('#steps li[data-step="publish"][data-status="completed"]').waitFor();
  expect(await page.evaluate("window.__noReload")).toBe(true);
  expect(await waiting.isHidden()).toBe(true);
  const run = (await api("GET", `/api/v1/workflows/runs/${runId}`)).body;
  expect(run.status).toBe("completed");
  expect(run.steps.approval.output).toEqual({ approved: true, notes: "Ship it" });
  expect(run.steps.revise?.status ?? "pending").not.toBe("completed");
  await page.getByText("Output of publish").click();
  await page.locator('#steps li[data-step="publish"] pre', { hasText: /^Fake answer for: Write the publish-ready/ }).waitFor();
  // The step's output is still open after a live re-render (opened state kept).
  await axe("workflow run (completed)");
  await shot("workflow-run-completed-desktop");
  await page.setViewportSize(PHONE);
  await shot("workflow-run-completed-phone");
  await page.goto(`${srv.url}/workflows`);
  await page.locator(`#wf-runs li[data-id="${runId}"][data-status="completed"]`).waitFor();
  await axe("workflows (phone)");
  await shot("workflows-phone");
  await page.setViewportSize(DESKTOP);
}, 60_000);

test("reject: the run goes down the else branch; a run launched elsewhere appears in /workflows live; cancel from the page", async () => {
  await page.goto(`${srv.url}/workflows`);
  await page.getByText("Live", { exact: true }).waitFor();
  await page.evaluate("window.__noReload = true");
  const launched = await api("POST", "/api/v1/workflows/research-draft-approve/launch", { body: { inputData: { intent: "heat pumps" } } });
  expect(launched.status).toBe(200);
  const id: string = launched.body.id;
  await page.locator(`#wf-runs li[data-id="${id}"][data-status="suspended"]`).waitFor();
  expect(await page.evaluate("window.__noReload")).toBe(true);
  await page.getByLabel("Run status").selectOption("completed");
  await page.locator(`#wf-runs li[data-id="${id}"]`).waitFor({ state: "detached" });
  await page.getByLabel("Run status").selectOption("suspended");
  await page.locator(`#wf-runs li[data-id="${id}"]`).getByRole("link").click();
  await page.waitForURL(`${srv.url}/workflows/runs/${id}`);

  const waiting = page.getByRole("region", { name: "Waiting for you" });
  await waiting.getByLabel("Notes").fill("Needs sources");
  await waiting.getByRole("button", { name: "Reject" }).click();
  await page.locator('#status-badge[data-status="completed"]').waitFor();
  await page.locator('#steps li[data-step="revise"][data-status="completed"]').waitFor();
  const run = (await api("GET", `/api/v1/workflows/runs/${id}`)).body;
  expect(run.steps.approval.output).toEqual({ approved: false, notes: "Needs sources" });
  expect(run.steps.publish?.status ?? "pending").not.toBe("completed");

  // Cancel a suspended run from its page.
  const other = await api("POST", "/api/v1/workflows/research-draft-approve/launch", { body: { inputData: { intent: "to be cancelled" } } });
  await page.goto(`${srv.url}/workflows/runs/${other.body.id}`);
  await page.locator('#status-badge[data-status="suspended"]').waitFor();
  await page.getByRole("button", { name: "Cancel run" }).click();
  await page.locator('#status-badge[data-status="cancelled"]').waitFor();
  expect(await page.getByRole("region", { name: "Waiting for you" }).isHidden()).toBe(true);
  expect((await api("GET", `/api/v1/workflows/runs/${other.body.id}`)).body.status).toBe("cancelled");
}, 60_000);

test("a running skill step's text shows as the model writes it; cancelling the running run from its page", async () => {
  const launched = await api("POST", "/api/v1/workflows/research-draft-approve/launch", { body: { inputData: { intent: "[[slow:400]] watched step by step" } } });
  await page.goto(`${srv.url}/workflows/runs/${launched.body.id}`);
  const live = page.getByLabel("Output of research so far");
  await live.getByText(/^Fake answer/).waitFor();
  expect(await page.locator('#steps li[data-step="research"]').getAttribute("data-status")).toBe("running");
  await axe("workflow run (running)");
  await shot("workflow-run-running-desktop");
  await page.getByRole("button", { name: "Cancel run" }).click();
  await page.locator('#status-badge[data-status="cancelled"]').waitFor();
  expect((await api("GET", `/api/v1/workflows/runs/${launched.body.id}`)).body.status).toBe("cancelled");
}, 60_000);

test("the generated form: every input kind sent with its type; bad JSON and a wrong resume answer said in words", async () => {
  const def = {
    id: "form-kinds",
    name: "Form kinds",
    input: {
      required: ["title", "tone"],
      properties: {
        title: { type: "string", title: "Title", description: "What the piece is called" },
        tone: { type: "string", enum: ["calm", "loud"] },
        count: { type: "number", description: "How many" },
        urgent: { type: "boolean" },
        tags: { type: "array", items: { type: "string" } },
        extra: { type: "object" },
      },
    },
    steps: [{ id: "pick", kind: "approval", message: "Pick one", resumeSchema: { required: ["choice"], properties: { choice: { type: "string", enum: ["a", "b"] }, score: { type: "number" } } } }],
  };
  expect((await api("POST", "/api/v1/workflows/definitions", { body: def })).status).toBe(200);
  await page.goto(`${srv.url}/workflows`);
  const form = await launchForm("Form kinds");
  await form.getByLabel("Title").fill("Weekly note");
  await form.getByLabel("Tone").selectOption("loud");
  await form.getByLabel("Count").fill("3.5");
  await form.getByLabel("Urgent").check();
  await form.getByLabel("Tags").fill("one\n two \n\nthree");
  await form.getByLabel("Extra").fill("[1, 2]");
  await form.getByRole("button", { name: "Launch", exact: true }).click();
  await form.getByText("Extra must be a JSON object").waitFor();
  await form.getByLabel("Extra").fill("{not json");
  await form.getByRole("button", { name: "Launch", exact: true }).click();
  await form.getByText("Extra is not valid JSON").waitFor();
  await form.getByLabel("Extra").fill('{"a": {"b": 1}}');
  await form.getByRole("button", { name: "Launch", exact: true }).click();
  await page.waitForURL(/\/workflows\/runs\/run_/);
  const runId = decodeURIComponent(new URL(page.url()).pathname.split("/")[3]!);
  await page.locator('#status-badge[data-status="suspended"]').waitFor();
  const run = (await api("GET", `/api/v1/workflows/runs/${runId}`)).body;
  expect(run.input).toEqual({ title: "Weekly note", tone: "loud", count: 3.5, urgent: true, tags: ["one", "two", "three"], extra: { a: { b: 1 } } });

  // No required boolean in this resumeSchema: a generated form with Continue.
  const waiting = page.getByRole("region", { name: "Waiting for you" });
  expect(await waiting.getByRole("button", { name: "Approve" }).count()).toBe(0);
  await waiting.getByLabel("Choice").selectOption("b");
  await waiting.getByLabel("Score").fill("7");
  await waiting.getByRole("button", { name: "Continue" }).click();
  await page.locator('#status-badge[data-status="completed"]').waitFor();
  expect((await api("GET", `/api/v1/workflows/runs/${runId}`)).body.steps.pick.output).toEqual({ choice: "b", score: 7 });
}, 60_000);

/** Waits until the executions list shows exactly n rows (polled: the page's CSP refuses eval'd predicates). */
const rowCount = (n: number) => until(() => page.locator("#runs li").count(), n, 15_000);

test("/executions: more than 50 runs paged with Load more; the skill filter asks the API for that skill only", async () => {
  const SKILL = "ab-test-setup";
  const started = await Promise.all(Array.from({ length: 53 }, (_, i) => api("POST", `/api/v1/skills/${SKILL}/run`, { body: { input: `paging run ${i}` } })));
  expect(started.map((r) => r.status)).toEqual(started.map(() => 200));
  await page.goto(`${srv.url}/executions`);
  const rows = page.locator("#runs li");
  await page.getByRole("button", { name: "Load more" }).waitFor();
  expect(await rows.count()).toBe(50);
  const total = (await api("GET", "/api/v1/executions?limit=100")).body.data.length;
  expect(total).toBeGreaterThan(53);
  await page.getByRole("button", { name: "Load more" }).click();
  await rowCount(Math.min(total, 100));

  // The skill filter: only that skill's runs, 50 and then the other 3.
  await page.getByLabel("Skill").selectOption(SKILL);
  await rowCount(50);
  expect(new URL(page.url()).searchParams.get("skill")).toBe(SKILL);
  await page.getByRole("button", { name: "Load more" }).click();
  await rowCount(53);
  await page.getByRole("button", { name: "Load more" }).waitFor({ state: "hidden" });
  const ids = await Promise.all((await rows.all()).map((r) => r.getAttribute("data-id")));
  expect(new Set(ids)).toEqual(new Set(started.map((r) => r.body.executionId)));
  await axe("executions (skill filter, paged)");
  await shot("executions-skill-filter-desktop");
  await page.setViewportSize(PHONE);
  await shot("executions-skill-filter-phone");
  await page.setViewportSize(DESKTOP);

  // The filter is in the URL: a reload keeps it.
  await page.reload();
  await rowCount(50);
  expect(await page.getByLabel("Skill").inputValue()).toBe(SKILL);
}, 90_000);

test("/executions/:id: cancel and rerun say in words why they failed (here: the session was signed out elsewhere)", async () => {
  const before = consoleErrors.length;
  const slow = await api("POST", "/api/v1/skills/summarize/run", { body: { input: "[[slow:2500]] cancel refused" } });
  await page.goto(`${srv.url}/executions/${slow.body.executionId}`);
  await page.getByRole("button", { name: "Cancel" }).waitFor();
  expect((await api("POST", "/api/v1/auth/logout", { body: {} })).status).toBe(200);
  await page.getByRole("button", { name: "Cancel" }).click();
  const err = page.locator("#action-error");
  // Said as a person can act on it, not as the API's words to a client without a key.
  await err.getByText(/^Could not cancel: Your session ended: sign in again/).waitFor();
  expect(await err.getAttribute("role")).toBe("alert");
  await signIn(`/executions/${slow.body.executionId}`);
  await page.locator('#status-badge[data-status="completed"]').waitFor({ timeout: 30_000 });
  expect((await api("POST", "/api/v1/auth/logout", { body: {} })).status).toBe(200);
  await page.getByRole("button", { name: "Run again" }).click();
  await err.getByText(/^Could not run it again: Your session ended: sign in again/).waitFor();
  expect(page.url()).toBe(`${srv.url}/executions/${slow.body.executionId}`);
  await signIn("/workflows");
  // The browser logs the refused (401) requests of this test itself; nothing else may be logged.
  const logged = consoleErrors.splice(before);
  expect(logged.filter((e) => !/\b401\b/.test(e))).toEqual([]);
}, 60_000);

test("no console errors on any page visited", () => {
  expect(consoleErrors).toEqual([]);
});
