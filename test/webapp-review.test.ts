// Findings of an outside review of the web app, each in a real browser (Debian chromium via playwright-core)
// against the real server and a fake model: what a person saw before, and what they see now.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { type Browser, type BrowserContext, type Locator, type Page } from "playwright-core";
import { closeSuite, openSignedIn, screenshot, setTabHidden, signInThroughPage, startSignedIn } from "./helpers/browser";
import { outboxLatest } from "./helpers/mail";
import { runSql } from "./helpers/sql";
import { client, uniqueEmail, type TestServer } from "./helpers/server";
import { makeTeam, teamMember } from "./helpers/team";
import type { FakeModel } from "./helpers/fake-models";

let srv: TestServer, fake: FakeModel, browser: Browser, context: BrowserContext, page: Page, api: ReturnType<typeof client>;
const consoleErrors: string[] = [];

beforeAll(async () => {
  ({ srv, fake, browser, context, page, api } = await startSignedIn({ next: "/workflows", errors: consoleErrors, timeout: 15_000 }));
}, 40_000);

afterAll(() => closeSuite({ context, browser, srv, fake }));

test("a workflow run that has ended shows a step it never took as not run; while it runs, as pending", async () => {
  const launched = await api("POST", "/api/v1/workflows/research-draft-approve/launch", { body: { inputData: { intent: "branch not taken" } } });
  expect(launched.status).toBe(200);
  const id: string = launched.body.id;
  await page.goto(`${srv.url}/workflows/runs/${id}`);
  await page.locator('#status-badge[data-status="suspended"]').waitFor();
  const publish = page.locator('#steps li[data-step="publish"]');
  expect(await publish.getAttribute("data-status")).toBe("pending");
  expect(await publish.locator(".badge").textContent()).toBe("pending");

  // Rejected: the else branch runs, publish never will.
  const resumed = await api("POST", `/api/v1/workflows/runs/${id}/resume`, { body: { step: "approval", resumeData: { approved: false } } });
  expect(resumed.status).toBe(200);
  await page.locator('#status-badge[data-status="completed"]').waitFor();
  await page.locator('#steps li[data-step="publish"][data-status="skipped"]').waitFor();
  expect(await publish.locator(".badge").textContent()).toBe("not run");
  expect(await page.locator('#steps li[data-status="pending"]').count()).toBe(0);
}, 30_000);

/** A second person signed in on their own page, in `workspaces` workspaces (the switcher shows from two). */
async function personIn(workspaces: number, next: string) {
  const other = await openSignedIn(srv, browser, { next, errors: consoleErrors });
  for (let i = 1; i < workspaces; i++) expect((await other.api("POST", "/api/v1/workspaces", { body: { name: `Team ${i}` } })).status).toBe(200);
  return other;
}

/** How many lines the first text of `selector`'s element takes (a word broken in two takes two). */
const linesOf = (p: Page, selector: string) =>
  p.evaluate((sel) => {
    const doc = (globalThis as any).document;
    const range = doc.createRange();
    range.selectNodeContents(doc.querySelector(sel).firstChild);
    return new Set([...range.getClientRects()].map((r: any) => Math.round(r.top))).size;
  }, selector);

test("at phone width the workspace switcher's label and button keep their words whole", async () => {
  const other = await personIn(2, "/settings");
  try {
    await other.page.setViewportSize({ width: 375, height: 812 });
    await other.page.reload();
    await other.page.locator("#ws-wrap:not([hidden])").waitFor();
    expect(await linesOf(other.page, "#ws-wrap label")).toBe(1);
    expect(await linesOf(other.page, "#ws-switch")).toBe(1);
    expect(await linesOf(other.page, "#sign-out")).toBe(1);
    // The select shrinks rather than run under the button beside it.
    const select = (await other.page.locator("#ws-select").boundingBox())!, button = (await other.page.locator("#ws-switch").boundingBox())!;
    expect(select.x + select.width <= button.x || select.y + select.height <= button.y).toBe(true);
    expect(await other.page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(375);
    await screenshot(other.page, "review-switcher-phone");
  } finally {
    await other.context.close();
  }
}, 30_000);

test("a page whose object is not found says so; the advice to switch workspace only to a person who has the switcher", async () => {
  // One workspace: no switcher, so no word of it (the run is for the second person, in a workspace not theirs).
  const notTheirs = await api("POST", "/api/v1/workflows/research-draft-approve/launch", { body: { inputData: { intent: "x" } } });
  await page.goto(`${srv.url}/executions/exec_999999`);
  const error = page.locator("#page-error");
  await error.getByText("This execution was not found: it may have been deleted, or be in another workspace.", { exact: true }).waitFor();
  await page.goto(`${srv.url}/artifacts/art_999999`);
  await error.getByText("This artifact was not found: it may have been deleted, or be in another workspace.", { exact: true }).waitFor();
  expect(await page.locator("#ws-wrap").isHidden()).toBe(true);

  // Several: the switcher shows, and the page points at it.
  const other = await personIn(2, "/library");
  try {
    await other.page.goto(`${srv.url}/workflows/runs/${notTheirs.body.id}`);
    await other.page.locator("#page-error", { hasText: "This workflow run was not found: it may have been deleted, or be in another workspace. If it is in another of yours, choose that one under Workspace above and press Switch." }).waitFor();
    expect(await other.page.locator("#ws-wrap").isVisible()).toBe(true);
  } finally {
    await other.context.close();
  }
}, 30_000);

test("/executions after the session ends: the live note says live updates stopped and to sign in again, not Reconnecting… for good", async () => {
  const other = await personIn(1, "/executions");
  try {
    const note = other.page.locator("#live-note");
    await note.getByText("Live", { exact: true }).waitFor();
    expect((await other.api("POST", "/api/v1/auth/logout", { body: {} })).status).toBe(200);
    // The tab goes behind another and comes back: it lets go of its stream and opens it again, refused now.
    await setTabHidden(other.page, true);
    await setTabHidden(other.page, false);
    await note.getByText("Live updates stopped: your session ended. Sign in again (reload this page) to see new changes.", { exact: true }).waitFor();
  } finally {
    await other.context.close();
  }
}, 30_000);

test("the skill page cancels the run it started, and after a reload still links to it while it runs", async () => {
  await page.goto(`${srv.url}/skills/summarize`);
  await page.getByLabel("Text (required)").fill("[[slow:400]] cancelled from the skill page");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await page.locator("#output", { hasText: "Fake answer" }).waitFor();
  const executionId = (await page.getByRole("link", { name: "Open this execution" }).getAttribute("href"))!.split("/").pop()!;
  await page.getByRole("button", { name: "Cancel run", exact: true }).click();
  await page.getByText("Cancelled.", { exact: true }).waitFor();
  expect((await api("GET", `/api/v1/executions/${executionId}/status`)).body.status).toBe("cancelled");
  expect(await page.getByRole("button", { name: "Cancel run", exact: true }).isHidden()).toBe(true);
  // Ended: a reload offers nothing.
  await page.reload();
  await page.locator("#title", { hasText: "Summarize" }).waitFor();
  expect(await page.locator("#earlier-run").isHidden()).toBe(true);

  // A reload in the middle of a run: the page links to it.
  await page.getByLabel("Text (required)").fill("[[slow:2000]] still going after a reload");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await page.locator('#result[data-status="running"]').waitFor();
  const second = (await page.getByRole("link", { name: "Open this execution" }).getAttribute("href"))!;
  await page.reload();
  const earlier = page.locator("#earlier-run");
  await earlier.getByText("A run you started from this page is still going").waitFor();
  expect(await earlier.getByRole("link", { name: "open it" }).getAttribute("href")).toBe(second);
  expect((await api("POST", `/api/v1/executions/${second.split("/").pop()}/cancel`, { body: {} })).status).toBe(200);
}, 40_000);

/** Where the field labelled `field` and its label sit: the label on top, the control as wide as the form around it. */
async function layoutOf(p: Page, field: string, form: Locator) {
  const input = p.getByLabel(field, { exact: true });
  const control = (await input.boundingBox())!;
  const label = (await p.locator(`label[for="${await input.getAttribute("id")}"]`).boundingBox())!;
  const width = (await form.boundingBox())!.width;
  return { labelOnTop: label.y + label.height <= control.y, fullWidth: control.width >= width - 2 };
}

test("the skill run form lays out its text fields as the workflow launch form does: label on top, full width", async () => {
  await page.goto(`${srv.url}/workflows`);
  const approval = page.getByRole("region", { name: "Research, draft, approve, summarize" });
  await approval.getByText("Launch…", { exact: true }).click();
  expect(await layoutOf(page, "Intent (required)", approval.locator("form"))).toEqual({ labelOnTop: true, fullWidth: true });
  await page.goto(`${srv.url}/skills/summarize`);
  await page.getByLabel("Text (required)").waitFor();
  expect(await layoutOf(page, "Text (required)", page.locator("#fields"))).toEqual({ labelOnTop: true, fullWidth: true });
  expect(await layoutOf(page, "Length (optional)", page.locator("#fields"))).toEqual({ labelOnTop: true, fullWidth: true });
  // Still named by its label alone, and a missing one is named in the message.
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await page.getByText("Fill in Text (required) first.").waitFor();
}, 30_000);

test("/settings/keys says whose each key is and marks the reader's own; the keys API gives each key's owner", async () => {
  const ownerEmail = uniqueEmail("keyowner"), memberEmail = uniqueEmail("keymember");
  const team = await makeTeam(srv, "Keys team", ownerEmail);
  const member = await teamMember(team, "member", memberEmail);
  const ownersKey = await team.owner("POST", "/api/v1/api-keys", { body: { name: "owner's deploy key" } });
  expect(ownersKey.status).toBe(200);
  expect(ownersKey.body.owner).toEqual({ name: expect.any(String), email: ownerEmail });
  const membersKey = await member.call("POST", "/api/v1/api-keys", { body: { name: "member's laptop" } });
  // REST: every key of the workspace, with the person it acts as, the fields it had kept.
  const listed = (await member.call("GET", "/api/v1/api-keys?limit=100")).body.data as { id: string; userId: string; owner: { email: string } }[];
  expect(listed.find((k) => k.id === ownersKey.body.id)).toMatchObject({ userId: ownersKey.body.userId, prefix: ownersKey.body.prefix, last4: ownersKey.body.last4, owner: { email: ownerEmail } });
  expect(listed.find((k) => k.id === membersKey.body.id)?.owner.email).toBe(memberEmail);
  const revoked = await member.call("POST", `/api/v1/api-keys/${membersKey.body.id}/revoke`, { body: {} });
  expect(revoked.body).toMatchObject({ status: "revoked", owner: { email: memberEmail } });

  const other = await openSignedIn(srv, browser, { email: memberEmail, next: "/settings", errors: consoleErrors });
  try {
    await other.context.addCookies([{ name: "clanker_workspace", value: team.id, url: srv.url }]);
    await other.page.goto(`${srv.url}/settings/keys`);
    await other.page.locator(`#keys li[data-key-id="${membersKey.body.id}"]`).getByText("Yours", { exact: true }).waitFor();
    await other.page.locator(`#keys li[data-key-id="${ownersKey.body.id}"]`).getByText(new RegExp(`^Owner: .*${ownerEmail.replace(/[.]/g, "\\.")}`)).waitFor();
  } finally {
    await other.context.close();
  }
}, 30_000);

test("/settings makes a new workspace (a refusal said in words), then the page acts in it", async () => {
  const other = await personIn(1, "/settings");
  try {
    const p = other.page;
    // Labelled "Name" under its heading: "Workspace" labels the header's switcher.
    const newWorkspace = p.locator("#new-ws-form");
    await newWorkspace.getByLabel("Name", { exact: true }).fill("   ");
    await p.getByRole("button", { name: "Create workspace" }).click();
    await p.locator("#new-ws-status.err", { hasText: "Could not create the workspace: The workspace's name must not be blank" }).waitFor();
    expect((await other.api("GET", "/api/v1/workspaces")).body.data.length).toBe(1);

    await newWorkspace.getByLabel("Name", { exact: true }).fill("Review team");
    await p.getByRole("button", { name: "Create workspace" }).click();
    await p.locator("#ws-wrap:not([hidden])").waitFor();
    const made = ((await other.api("GET", "/api/v1/workspaces")).body.data as { id: string; name: string; role: string }[]).find((w) => w.name === "Review team");
    expect(made?.role).toBe("owner");
    expect(await p.locator("#ws-select").inputValue()).toBe(made!.id);
    await p.getByText("You are an owner of this workspace.").waitFor();
    expect((await other.context.cookies(srv.url)).find((c) => c.name === "clanker_workspace")?.value).toBe(encodeURIComponent(made!.id));
  } finally {
    await other.context.close();
  }
}, 30_000);

test("invitation: signed in as someone else, sign out and continue as the invitee keeps the token; after Join a reload says they joined", async () => {
  const team = await makeTeam(srv, "Invite team");
  const invitee = uniqueEmail("invitee");
  expect((await team.owner("POST", `/api/v1/workspaces/${team.id}/invitations`, { body: { email: invitee, role: "member" } })).status).toBe(200);
  const link = /https?:\/\/\S+\/invitations\/accept#token=inv_[A-Za-z0-9_-]+/.exec(outboxLatest(srv.dataDir, invitee)?.text ?? "")![0];
  const path = link.slice(srv.url.length);
  const other = await personIn(1, "/settings");
  try {
    const p = other.page;
    await p.goto(link);
    await p.locator("#accept-status", { hasText: `This invitation is for ${invitee}; sign in with that address` }).waitFor();
    await p.getByRole("button", { name: `Sign out and continue as ${invitee}` }).click();
    // Signed out, at sign-in, with the way back to the invitation (its token in the fragment) kept.
    const [page_, fragment] = path.split("#") as [string, string];
    await p.waitForURL(`${srv.url}/login?next=${encodeURIComponent(page_)}#${fragment}`);
    expect((await other.api("GET", "/api/v1/profile")).status).toBe(401);
    await signInThroughPage(p, srv, invitee, path);
    await p.getByRole("button", { name: "Join Invite team" }).click();
    await p.locator("#accept-status", { hasText: "You are now a member of Invite team." }).waitFor();

    await p.reload();
    await p.locator("#accept-status.ok", { hasText: "You are now a member of Invite team." }).waitFor();
    await p.getByRole("link", { name: "Go to the workspace" }).waitFor();
    expect(await p.locator("#page-error").isHidden()).toBe(true);
  } finally {
    await other.context.close();
  }
}, 40_000);

test("/settings/billing names the welcome grant's tier by its name, for grants written before too", async () => {
  const other = await personIn(1, "/settings/billing");
  try {
    const grant = other.page.locator("#transactions li", { hasText: "Welcome grant" });
    await grant.getByText("Welcome grant for a new workspace (Pay as you go)", { exact: true }).waitFor();
    const described = async () => ((await other.api("GET", "/api/v1/billing/transactions")).body.data as { kind: string; description: string }[]).find((t) => t.kind === "grant")?.description;
    expect(await described()).toBe("Welcome grant for a new workspace (Pay as you go)");
    // As a grant was written before: with the tier's id.
    expect(await runSql(srv, "UPDATE credit_transactions SET description = ? WHERE description = ?", "Welcome grant for a new workspace (paygmode)", "Welcome grant for a new workspace (Pay as you go)")).toBeGreaterThan(0);
    expect(await described()).toBe("Welcome grant for a new workspace (Pay as you go)");
    await other.page.reload();
    await grant.getByText("Welcome grant for a new workspace (Pay as you go)", { exact: true }).waitFor();
    expect(await other.page.locator("#transactions").textContent()).not.toContain("paygmode");
  } finally {
    await other.context.close();
  }
}, 30_000);
