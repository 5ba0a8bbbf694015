// Inbound event triggers (issue 11): webhook and github triggers declared in a definition get their own hook URL and
// secret; a signed delivery to POST /hooks/:triggerId launches the workflow with the body (or the GitHub event) as
// input; bad or stale signatures and unknown triggers launch nothing; secrets are for owners and admins.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { connect as tcpConnect } from "node:net";
import { join, resolve } from "node:path";
import { cleanup, client, readResponse, startServer, type ApiResponse, type TestServer } from "./helpers/server";
import { clankerSig, fire, githubSig, nowS } from "./helpers/hooks";
import { expectError } from "./helpers/api";
import { runSql } from "./helpers/sql";
import { makeTeam, teamMember } from "./helpers/team";
import { connectMcp, toolError, toolOk } from "./helpers/mcp-client";

type Call = ReturnType<typeof client>;
let srv: TestServer;
let owner: Call;
let member: Call;
let other: Call; // another workspace's owner
let team: string;
let ownerSession: string;
const clients: Client[] = [];

// Approval-only steps: runs need no model, and the suspended step's message shows the input was templated.
const definition = (id: string, triggers: unknown[]) => ({
  id,
  name: `Triggered ${id}`,
  steps: [{ id: "look", kind: "approval", message: "Seen: {{input.title}}{{input.pull_request.title}} by {{input.sender}}" }],
  triggers,
});

/**
 * Over a raw socket: the request's headers and the first 32 KiB of its body, the rest never sent. Resolves with what
 * the server answered within 5 s (a server that reads the whole body first answers nothing).
 */
function answerToPartialBody(hookUrl: string, headers: Record<string, string>): Promise<string> {
  const url = new URL(hookUrl);
  const chunked = !("content-length" in headers);
  const piece = `{"title":"${"x".repeat(32 * 1024)}`;
  const head = Object.entries({ host: url.host, "content-type": "application/json", ...(chunked ? { "transfer-encoding": "chunked" } : {}), ...headers }).map(([k, v]) => `${k}: ${v}\r\n`);
  return new Promise((done, fail) => {
    const socket = tcpConnect(Number(url.port), url.hostname, () => {
      socket.write(`POST ${url.pathname} HTTP/1.1\r\n${head.join("")}\r\n${chunked ? `${piece.length.toString(16)}\r\n${piece}\r\n` : piece}`);
    });
    let got = "";
    const timer = setTimeout(() => (socket.destroy(), done(got)), 5_000);
    socket.on("data", (b) => {
      got += b.toString();
      // Headers and a JSON body in full: the answer is in.
      if (/\r\n\r\n[\s\S]*\}\s*$/.test(got)) (clearTimeout(timer), socket.destroy(), done(got));
    });
    socket.on("error", (e) => (clearTimeout(timer), fail(e)));
  });
}

/** POSTs a body with the content type given (null: none at all; a Uint8Array body makes fetch add none). */
async function fireAs(hookUrl: string, body: string | FormData, contentType: string | null, headers: Record<string, string>): Promise<ApiResponse> {
  const init: RequestInit = { method: "POST", headers: { ...(contentType ? { "content-type": contentType } : {}), ...headers } };
  init.body = typeof body === "string" ? new TextEncoder().encode(body) : body;
  return readResponse(await fetch(hookUrl, init));
}

async function runCount(call: Call): Promise<number> {
  const r = await call("GET", "/api/v1/workflows/runs?limit=100");
  expect(r.status).toBe(200);
  return r.body.data.length;
}

async function waitForRun(call: Call, id: string, ok: (r: any) => boolean): Promise<any> {
  const end = Date.now() + 10_000;
  for (;;) {
    const r = await call("GET", `/api/v1/workflows/runs/${id}`);
    if (ok(r.body) || Date.now() > end) return r.body;
    await Bun.sleep(30);
  }
}

async function triggersOf(call: Call, workflowId: string): Promise<any[]> {
  const r = await call("GET", "/api/v1/triggers?limit=100");
  expect(r.status).toBe(200);
  return r.body.data.filter((t: any) => t.workflowId === workflowId);
}

async function secretOf(id: string): Promise<{ secret: string; hookUrl: string }> {
  const r = await owner("GET", `/api/v1/triggers/${id}/secret`);
  expect(r.status).toBe(200);
  return r.body;
}

beforeAll(async () => {
  srv = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", CLANKER_PUBLIC_RATE_LIMIT_PER_MINUTE: "10000", CLANKER_MAX_BODY_BYTES: "65536" } });
  const t = await makeTeam(srv, "Triggers team");
  ({ id: team, ownerSession, owner } = t);
  member = (await teamMember(t)).call;
  other = client(srv, { apiKey: await srv.createKey() });

  const saved = await owner("POST", "/api/v1/workflows/definitions", {
    body: definition("on-events", [{ cron: "0 3 * * *" }, { webhook: {} }, { github: { events: ["pull_request", "issues"], repo: "octo/hello" } }]),
  });
  expect(saved.status).toBe(200);
}, 30_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await srv?.stop();
  if (srv) cleanup(srv);
});

describe("declaring and listing", () => {
  test("GET /api/v1/triggers lists cron, webhook and github triggers with their workflow, hook URL and settings, and no secret", async () => {
    const list = await triggersOf(owner, "on-events");
    // Cron triggers first; then the webhook and github rows newest first (the github one was declared last).
    expect(list.map((t) => t.kind)).toEqual(["cron", "github", "webhook"]);
    const [cron, github, webhook] = list;
    expect(cron).toMatchObject({ id: "on-events#0", hookUrl: null, settings: { cron: "0 3 * * *", timezone: "UTC" } });
    expect(webhook.hookUrl).toBe(`${srv.url}/hooks/${webhook.id}`);
    expect(webhook).toMatchObject({ id: expect.stringMatching(/^trg_\d+$/), enabled: true, settings: {} });
    expect(github.settings).toEqual({ events: ["pull_request", "issues"], repo: "octo/hello" });
    for (const t of list) expect(t.secret).toBeUndefined();
    const audit = (await owner("GET", "/api/v1/audit-logs?limit=100")).body.data.filter((a: any) => a.action === "trigger.create").map((a: any) => a.resourceId);
    expect(audit).toEqual(expect.arrayContaining([webhook.id, github.id]));
    const one = await member("GET", `/api/v1/triggers/${github.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(github);
    // A cron trigger is read by the id the list gives it, too; one the definition does not have is a 404.
    const byId = await member("GET", `/api/v1/triggers/${encodeURIComponent(cron.id)}`);
    expect({ status: byId.status, body: byId.body }).toEqual({ status: 200, body: cron });
    expectError(await member("GET", `/api/v1/triggers/${encodeURIComponent("on-events#7")}`), 404, "not_found_error");
    expectError(await member("GET", `/api/v1/triggers/${encodeURIComponent("no-such-workflow#0")}`), 404, "not_found_error");
  });

  test("the list pages like every list: cron triggers first, then webhook and github triggers newest first, by after_id and before_id", async () => {
    for (const [id, triggers] of [
      ["paging-a", [{ cron: "0 1 * * *" }, { webhook: {} }, { cron: "0 2 * * *" }, { webhook: {} }]],
      ["paging-b", [{ github: { events: ["push"] } }, { cron: "0 4 * * *" }]],
    ] as const)
      expect((await owner("POST", "/api/v1/workflows/definitions", { body: definition(id, [...triggers]) })).status).toBe(200);
    const all: any[] = (await owner("GET", "/api/v1/triggers?limit=100")).body.data;
    const crons = all.filter((t) => t.kind === "cron");
    expect(crons.length).toBeGreaterThanOrEqual(4);
    expect(all.slice(0, crons.length)).toEqual(crons);
    expect(crons.map((t) => t.id)).toEqual(crons.map((t) => t.id).sort());
    const events = all.slice(crons.length).map((t) => Number(t.id.slice(4)));
    expect(events.length).toBeGreaterThanOrEqual(5);
    expect(events).toEqual([...events].sort((a, b) => b - a));

    // Forward with after_id, then back with before_id, two at a time: the same list, each way.
    const forward: any[] = [];
    let page = (await owner("GET", "/api/v1/triggers?limit=2")).body;
    for (;;) {
      expect(page).toMatchObject({ first_id: page.data[0]?.id ?? null, last_id: page.data.at(-1)?.id ?? null });
      forward.push(...page.data);
      if (!page.has_more) break;
      page = (await owner("GET", `/api/v1/triggers?limit=2&after_id=${encodeURIComponent(page.last_id)}`)).body;
    }
    expect(forward).toEqual(all);
    const backward: any[] = [];
    page = (await owner("GET", `/api/v1/triggers?limit=3&before_id=${all.at(-1).id}`)).body;
    for (;;) {
      backward.unshift(...page.data);
      if (!page.has_more) break;
      page = (await owner("GET", `/api/v1/triggers?limit=3&before_id=${encodeURIComponent(page.first_id)}`)).body;
    }
    expect(backward).toEqual(all.slice(0, -1));
    // Crossing from the event triggers back into the crons, and a cursor that is not (or no longer) a trigger.
    const crossing = (await owner("GET", `/api/v1/triggers?limit=2&before_id=${all[crons.length].id}`)).body;
    expect(crossing).toMatchObject({ data: crons.slice(-2), has_more: crons.length > 2 });
    const past = (await owner("GET", "/api/v1/triggers?limit=100&after_id=trg_999999")).body;
    expect(past).toMatchObject({ data: all.slice(crons.length), has_more: false });
    expectError(await owner("GET", "/api/v1/triggers?after_id=junk"), 400, "invalid_request_error");
    expectError(await owner("GET", "/api/v1/triggers?after_id=trg_1&before_id=trg_2"), 400, "invalid_request_error");
    expectError(await owner("GET", "/api/v1/triggers?limit=0"), 400, "invalid_request_error");
    for (const id of ["paging-a", "paging-b"]) expect((await owner("DELETE", `/api/v1/workflows/definitions/${id}`)).status).toBe(200);
  });

  test("re-saving keeps each unchanged trigger's id and secret; a removed trigger's hook goes with it", async () => {
    const before = await triggersOf(owner, "on-events");
    const hooks = (l: any[]) => l.filter((t) => t.kind !== "cron");
    const secrets = await Promise.all(hooks(before).map((t) => secretOf(t.id)));
    const triggers = [{ cron: "0 3 * * *" }, { webhook: {} }, { github: { events: ["issues", "pull_request"], repo: "octo/hello" } }];
    expect((await owner("PUT", "/api/v1/workflows/definitions/on-events", { body: definition("on-events", triggers) })).status).toBe(200);
    const after = await triggersOf(owner, "on-events");
    expect(after.map((t) => t.id)).toEqual(before.map((t) => t.id));
    expect(await Promise.all(hooks(after).map((t) => secretOf(t.id)))).toEqual(secrets);

    expect((await owner("POST", "/api/v1/workflows/definitions", { body: definition("short-lived", [{ webhook: {} }]) })).status).toBe(200);
    const [hook] = await triggersOf(owner, "short-lived");
    const { secret } = await secretOf(hook.id);
    expect((await owner("PUT", "/api/v1/workflows/definitions/short-lived", { body: definition("short-lived", []) })).status).toBe(200);
    expect(await triggersOf(owner, "short-lived")).toEqual([]);
    const body = JSON.stringify({ title: "late" });
    const runs = await runCount(owner);
    expectError(await fire(hook.hookUrl, body, { "clanker-signature": clankerSig(secret, body) }), 404, "not_found_error");
    expect(await runCount(owner)).toBe(runs);
  });

  test("a bad trigger declaration is a 400 naming the field", async () => {
    const bad = async (triggers: unknown[], param: string) => {
      const r = await owner("POST", "/api/v1/workflows/definitions", { body: definition("bad-triggers", triggers) });
      expectError(r, 400, "invalid_request_error");
      expect(r.body.error.param).toBe(param);
    };
    await bad([{ github: { events: ["release"] } }], "triggers.0.github.events");
    await bad([{ github: { repo: "not a repo" } }], "triggers.0.github.repo");
    await bad([{ webhook: { url: "x" } }], "triggers.0.webhook.url");
    await bad([{ webhook: {}, cron: "* * * * *" }], "triggers.0");
    await bad([{ webhook: {}, enabled: "yes" }], "triggers.0.enabled");
    // A seconds field in front (croner takes one) firing more often than once a minute (CLANKER_CRON_MIN_INTERVAL_SECONDS).
    for (const cron of ["* * * * * *", "*/5 * * * * *", "0-9 0 9 * * *", "* * * *"]) await bad([{ cron }], "triggers.0.cron");
    const often = await owner("POST", "/api/v1/workflows/definitions", { body: definition("too-often", [{ cron: "*/5 * * * * *" }]) });
    expect(often.body.error.message).toContain("fires every 5 s at times, more often than this server allows (once every 60 s, CLANKER_CRON_MIN_INTERVAL_SECONDS)");
    // A pattern no date to come matches would be listed as enabled and never launch a run.
    for (const cron of ["0 0 30 2 *", "0 0 31 4 *", "0 0 0 1 1 * 2020"]) {
      const never = await owner("POST", "/api/v1/workflows/definitions", { body: definition("never", [{ cron }]) });
      expectError(never, 400, "invalid_request_error");
      expect({ param: never.body.error.param, message: never.body.error.message }).toEqual({ param: "triggers.0.cron", message: expect.stringContaining("never fires") });
    }
    for (const [i, cron] of ["0 9 * * 1", " */5 *  * * * ", "@daily", "0 */5 * * * *", "0 0 9 * * 1 2030"].entries())
      expect((await owner("POST", "/api/v1/workflows/definitions", { body: definition(`cron-ok-${i}`, [{ cron }]) })).status).toBe(200);
  });
});

describe("POST /hooks/:triggerId, webhook", () => {
  let hook: { id: string; hookUrl: string; secret: string };
  beforeAll(async () => {
    const t = (await triggersOf(owner, "on-events")).find((t) => t.kind === "webhook");
    hook = { id: t.id, ...(await secretOf(t.id)) };
  });

  test("a signed body launches the workflow with the body as its input, as the trigger", async () => {
    // Spacing and an escape a re-serialisation would change: the signature covers the exact bytes.
    const body = '{ "title" : "Caf\\u00e9 deploy",  "sender": "ci" }';
    const r = await fire(hook.hookUrl, body, { "clanker-signature": clankerSig(hook.secret, body) });
    expect(r.status).toBe(202);
    const runId: string = r.body.runId; // read first: bun's toMatchObject writes its matchers into the object
    expect(runId).toMatch(/^run_\d+$/);
    expect(r.body).toMatchObject({ received: true, workflowId: "on-events" });
    const run = await waitForRun(owner, runId, (x) => x.status === "suspended");
    expect(run).toMatchObject({ trigger: "webhook", input: { title: "Café deploy", sender: "ci" }, status: "suspended", startedBy: { userId: null, apiKeyId: null } });
    expect(run.steps.look.suspend.message).toBe("Seen: Café deploy by ci");
    const list = await triggersOf(owner, "on-events");
    expect(list.find((t) => t.id === hook.id).lastFiredAt).toEqual(expect.any(String));
    const audit = await owner("GET", "/api/v1/audit-logs?limit=100");
    expect(audit.body.data.find((a: any) => a.action === "workflow.launch" && a.resourceId === runId)).toMatchObject({ actor: { type: "system", userId: null }, metadata: { trigger: "webhook" } });
  });

  test("a delivery signed in no scheme (or each header misshapen) is 401 before its body is read: chunked or of a declared length", async () => {
    const cases: [Record<string, string>, string][] = [
      [{}, "SIGNATURE_MISSING"],
      [{ "content-length": "60000" }, "SIGNATURE_MISSING"],
      [{ "clanker-signature": "t=abc,v1=00" }, "SIGNATURE_INVALID"],
      [{ "x-hub-signature-256": "sha1=00" }, "SIGNATURE_INVALID"],
    ];
    for (const [headers, code] of cases) {
      const answer = await answerToPartialBody(hook.hookUrl, headers);
      expect({ headers, status: answer.split(" ", 2)[1], code: /"code":"(\w+)"/.exec(answer)?.[1] }).toEqual({ headers, status: "401", code });
    }
  });

  test("missing, forged, other-secret and stale signatures are 401 and launch nothing", async () => {
    const body = JSON.stringify({ title: "forged" });
    const runs = await runCount(owner);
    const cases: [Record<string, string>, string][] = [
      [{}, "SIGNATURE_MISSING"],
      [{ "clanker-signature": "t=abc,v1=00" }, "SIGNATURE_INVALID"],
      [{ "clanker-signature": clankerSig("whsec_not-the-secret", body) }, "SIGNATURE_INVALID"],
      [{ "clanker-signature": clankerSig(hook.secret, JSON.stringify({ title: "other body" })) }, "SIGNATURE_INVALID"],
      [{ "clanker-signature": clankerSig(hook.secret, body, nowS() - 301) }, "SIGNATURE_EXPIRED"],
      [{ "clanker-signature": clankerSig(hook.secret, body, nowS() + 600) }, "SIGNATURE_EXPIRED"],
    ];
    for (const [headers, code] of cases) {
      const r = await fire(hook.hookUrl, body, headers);
      expect({ headers, status: r.status, type: r.body?.error?.type, code: r.body?.error?.code }).toEqual({ headers, status: 401, type: "authentication_error", code });
    }
    expect(await runCount(owner)).toBe(runs);
  });

  test("the same signed delivery replayed launches once", async () => {
    const body = JSON.stringify({ title: "once" });
    const headers = { "clanker-signature": clankerSig(hook.secret, body) };
    const runs = await runCount(owner);
    expect((await fire(hook.hookUrl, body, headers)).status).toBe(202);
    const again = await fire(hook.hookUrl, body, headers);
    expect(again.status).toBe(202);
    expect(again.body.ignored).toContain("already received");
    expect(await runCount(owner)).toBe(runs + 1);
  });

  test("copies of one signed delivery arriving at once launch once (the launch awaits the store)", async () => {
    const body = JSON.stringify({ title: "at once" });
    const headers = { "clanker-signature": clankerSig(hook.secret, body) };
    const runs = await runCount(owner);
    const all = await Promise.all(Array.from({ length: 8 }, () => fire(hook.hookUrl, body, headers)));
    expect(all.map((r) => r.status)).toEqual(Array(8).fill(202));
    expect(all.filter((r) => r.body.runId).length).toBe(1);
    expect(all.filter((r) => r.body.ignored?.includes("already received")).length).toBe(7);
    expect(await runCount(owner)).toBe(runs + 1);
  });

  test("only JSON is taken: multipart, form-urlencoded and text bodies are 400 and launch nothing, whatever they were signed over", async () => {
    const runs = await runCount(owner);
    // A captured signed empty-body delivery must not carry a form as the input: the signature covers no form bytes.
    const form = new FormData();
    form.set("title", "attacker input");
    const multipart = await fireAs(hook.hookUrl, form, null, { "clanker-signature": clankerSig(hook.secret, "") });
    expectError(multipart, 400, "invalid_request_error", "UNSUPPORTED_CONTENT_TYPE");
    expect(multipart.body.error.param).toBe("content-type");
    const body = JSON.stringify({ title: "typed wrong" });
    for (const type of ["application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x", "application/jsonp"])
      expectError(await fireAs(hook.hookUrl, body, type, { "clanker-signature": clankerSig(hook.secret, body) }), 400, "invalid_request_error", "UNSUPPORTED_CONTENT_TYPE");
    expect(await runCount(owner)).toBe(runs);
  });

  test("JSON without a content type, or application/json with a charset, is taken and verified over its exact bytes", async () => {
    for (const [type, title] of [[null, "no type"], ["Application/JSON; charset=utf-8", "with charset"]] as const) {
      const body = JSON.stringify({ title });
      const r = await fireAs(hook.hookUrl, body, type, { "clanker-signature": clankerSig(hook.secret, body) });
      expect({ type, status: r.status }).toEqual({ type, status: 202 });
      expect((await waitForRun(owner, r.body.runId, (x) => x.status === "suspended")).input).toEqual({ title });
    }
  });

  test("a replayed delivery is recognised however its header is re-spelled: upper-case hex, spaces, an extra v1", async () => {
    const body = JSON.stringify({ title: "respelled" });
    const sig = clankerSig(hook.secret, body);
    const [t, v1] = sig.split(",") as [string, string];
    const runs = await runCount(owner);
    expect((await fire(hook.hookUrl, body, { "clanker-signature": sig })).status).toBe(202);
    for (const variant of [`${t},v1=${v1.slice(3).toUpperCase()}`, ` ${t} ,  ${v1} `, `${t},${v1},v1=${"0".repeat(64)}`, `${t},v1=${"f".repeat(64)},${v1}`]) {
      const r = await fire(hook.hookUrl, body, { "clanker-signature": variant });
      expect({ variant, status: r.status, ignored: r.body.ignored }).toEqual({ variant, status: 202, ignored: "this delivery was already received" });
    }
    expect(await runCount(owner)).toBe(runs + 1);
  });

  test("the signature header is parsed strictly: one t, v1 values of 64 hex digits, nothing else", async () => {
    const body = JSON.stringify({ title: "strict" });
    const sig = clankerSig(hook.secret, body);
    const [t, v1] = sig.split(",") as [string, string];
    const runs = await runCount(owner);
    for (const bad of [`${t},${t},${v1}`, `${t},t=${nowS() - 1},${v1}`, `${t},${v1}0`, `${t},${v1.slice(0, -1)}`, `${t},${v1},v1=xyz`, `${t},${v1},v0=abc`, `${t},,${v1}`, `${t},${v1}=`, `${t},v1=${v1.slice(3, 35)}g${v1.slice(36)}`, v1])
      expectError(await fire(hook.hookUrl, body, { "clanker-signature": bad }), 401, "authentication_error", "SIGNATURE_INVALID");
    expect(await runCount(owner)).toBe(runs);
  });

  test("unknown triggers are 404; a non-object body is 400; a body over the limit is 413; none launches", async () => {
    const runs = await runCount(owner);
    for (const id of ["trg_999999", "junk", "key_1"]) expectError(await fire(`${srv.url}/hooks/${id}`, "{}", { "clanker-signature": clankerSig(hook.secret, "{}") }), 404, "not_found_error");
    expectError(await fire(hook.hookUrl, "[1,2]", { "clanker-signature": clankerSig(hook.secret, "[1,2]") }), 400, "invalid_request_error");
    const big = JSON.stringify({ title: "x".repeat(70_000) });
    const tooBig = await fire(hook.hookUrl, big, { "clanker-signature": clankerSig(hook.secret, big) });
    expect(tooBig.status).toBe(413);
    expect(await runCount(owner)).toBe(runs);
  });

  test("a body the workflow's input schema refuses is a 400 naming the field, and launches nothing", async () => {
    const def = { ...definition("typed-hook", [{ webhook: {} }]), input: { required: ["title"], properties: { title: { type: "string" } } } };
    expect((await owner("POST", "/api/v1/workflows/definitions", { body: def })).status).toBe(200);
    const [t] = await triggersOf(owner, "typed-hook");
    const { secret } = await secretOf(t.id);
    const runs = await runCount(owner);
    const body = JSON.stringify({ title: 42 });
    const r = await fire(t.hookUrl, body, { "clanker-signature": clankerSig(secret, body) });
    expectError(r, 400, "invalid_request_error");
    // Named as the sender knows it (its body), in words a person reads ("a string", "an object").
    expect({ param: r.body.error.param, message: r.body.error.message }).toEqual({ param: "body.title", message: expect.stringContaining("must be a string") });
    const nested = JSON.stringify({ title: { x: 1 } });
    expect((await fire(t.hookUrl, nested, { "clanker-signature": clankerSig(secret, nested) })).body.error.param).toBe("body.title");
    expect(await runCount(owner)).toBe(runs);
  });

  test("a trigger whose workflow is gone is 404", async () => {
    expect((await owner("POST", "/api/v1/workflows/definitions", { body: definition("vanishing", [{ webhook: {} }]) })).status).toBe(200);
    const [t] = await triggersOf(owner, "vanishing");
    const { secret } = await secretOf(t.id);
    // Behind the server's back: the definition row goes, the trigger row stays.
    expect(await runSql(srv, "DELETE FROM workflow_definitions WHERE key = 'vanishing'")).toBe(1);
    const runs = await runCount(owner);
    expectError(await fire(t.hookUrl, "{}", { "clanker-signature": clankerSig(secret, "{}") }), 404, "not_found_error");
    expect(await runCount(owner)).toBe(runs);
  });

  test("a disabled trigger is 404", async () => {
    expect((await owner("POST", "/api/v1/workflows/definitions", { body: definition("paused-hook", [{ webhook: {}, enabled: false }]) })).status).toBe(200);
    const [t] = await triggersOf(owner, "paused-hook");
    expect(t.enabled).toBe(false);
    const { secret } = await secretOf(t.id);
    const runs = await runCount(owner);
    expectError(await fire(t.hookUrl, "{}", { "clanker-signature": clankerSig(secret, "{}") }), 404, "not_found_error");
    expect(await runCount(owner)).toBe(runs);
  });
});

describe("POST /hooks/:triggerId, github", () => {
  let hook: { id: string; hookUrl: string; secret: string };
  const pr = (action: string, repo = "octo/hello") =>
    JSON.stringify({
      action,
      number: 7,
      pull_request: { number: 7, title: "Add triggers", body: "Please review", html_url: `https://github.example/${repo}/pull/7`, state: "open", draft: false, user: { login: "mona" }, head: { ref: "feat", sha: "abc123" }, base: { ref: "main", sha: "def456" } },
      repository: { full_name: repo, private: false },
      sender: { login: "mona" },
    });
  const gh = (event: string, body: string, delivery = crypto.randomUUID()) => fire(hook.hookUrl, body, { "x-github-event": event, "x-github-delivery": delivery, "x-hub-signature-256": githubSig(hook.secret, body), "user-agent": "GitHub-Hookshot/test" });

  beforeAll(async () => {
    const t = (await triggersOf(owner, "on-events")).find((t) => t.kind === "github");
    hook = { id: t.id, ...(await secretOf(t.id)) };
  });

  test("a signed pull_request (opened) launches with the documented input", async () => {
    const r = await gh("pull_request", pr("opened"));
    expect(r.status).toBe(202);
    const run = await waitForRun(owner, r.body.runId, (x) => x.status === "suspended");
    expect(run.trigger).toBe("github");
    expect(run.input).toMatchObject({
      event: "pull_request",
      action: "opened",
      repository: "octo/hello",
      sender: "mona",
      pull_request: { number: 7, title: "Add triggers", body: "Please review", url: "https://github.example/octo/hello/pull/7", user: "mona", head: { ref: "feat", sha: "abc123" }, base: { ref: "main", sha: "def456" } },
    });
    expect(run.steps.look.suspend.message).toBe("Seen: Add triggers by mona");
    expect((await gh("pull_request", pr("synchronize"))).status).toBe(202);
  });

  test("ping is 200; other events, actions and repositories are 202 with a reason and launch nothing", async () => {
    const runs = await runCount(owner);
    const ping = await gh("ping", JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 }));
    expect(ping.status).toBe(200);
    expect(ping.body).toEqual({ received: true, event: "ping" });
    for (const [event, body, reason] of [
      ["pull_request", pr("closed"), "action 'closed'"],
      ["pull_request", pr("opened", "someone/else"), "someone/else"],
      ["push", JSON.stringify({ ref: "refs/heads/main", repository: { full_name: "octo/hello" } }), "does not listen to 'push'"],
      ["release", JSON.stringify({ action: "published", repository: { full_name: "octo/hello" } }), "'release'"],
    ] as const) {
      const r = await gh(event, body);
      expect({ event, status: r.status }).toEqual({ event, status: 202 });
      expect(r.body.ignored).toContain(reason);
    }
    expect(await runCount(owner)).toBe(runs);
  });

  test("a bad or missing X-Hub-Signature-256 is 401 and launches nothing; a redelivered id launches once", async () => {
    const runs = await runCount(owner);
    const body = pr("opened");
    const forged = await fire(hook.hookUrl, body, { "x-github-event": "pull_request", "x-hub-signature-256": githubSig("wrong", body) });
    expectError(forged, 401, "authentication_error", "SIGNATURE_INVALID");
    expectError(await fire(hook.hookUrl, body, { "x-github-event": "pull_request" }), 401, "authentication_error", "SIGNATURE_MISSING");
    // Our scheme is not GitHub's: a clanker-signature does not open a github trigger.
    expectError(await fire(hook.hookUrl, body, { "x-github-event": "pull_request", "clanker-signature": clankerSig(hook.secret, body) }), 401, "authentication_error", "SIGNATURE_MISSING");
    expect(await runCount(owner)).toBe(runs);
    const delivery = crypto.randomUUID();
    expect((await gh("issues", JSON.stringify({ action: "opened", issue: { number: 3, title: "Bug", labels: [{ name: "bug" }] }, repository: { full_name: "octo/hello" } }), delivery)).status).toBe(202);
    const again = await gh("issues", JSON.stringify({ action: "opened", issue: { number: 3, title: "Bug" }, repository: { full_name: "octo/hello" } }), delivery);
    expect(again.body.ignored).toContain("already received");
    expect(await runCount(owner)).toBe(runs + 1);
  });
});

describe("POST /hooks/:triggerId, github replays", () => {
  let hook: { hookUrl: string; secret: string };
  const issue = (n: number) => JSON.stringify({ action: "opened", issue: { number: n, title: `Issue ${n}` }, repository: { full_name: "octo/hello" } });
  beforeAll(async () => {
    const t = (await triggersOf(owner, "on-events")).find((t) => t.kind === "github");
    hook = await secretOf(t.id);
  });

  test("a replay is recognised by its body: without X-GitHub-Delivery, with a new one, or with the signature in upper case", async () => {
    const body = issue(41);
    const runs = await runCount(owner);
    const sig = githubSig(hook.secret, body);
    expect((await fire(hook.hookUrl, body, { "x-github-event": "issues", "x-hub-signature-256": sig })).status).toBe(202);
    for (const headers of [
      { "x-hub-signature-256": sig } as Record<string, string>,
      { "x-hub-signature-256": sig, "x-github-delivery": crypto.randomUUID() },
      { "x-hub-signature-256": `sha256=${sig.slice(7).toUpperCase()}`, "x-github-delivery": crypto.randomUUID() },
    ]) {
      const r = await fire(hook.hookUrl, body, { "x-github-event": "issues", ...headers });
      expect({ headers, status: r.status, ignored: r.body.ignored }).toEqual({ headers, status: 202, ignored: "this delivery was already received" });
    }
    expect(await runCount(owner)).toBe(runs + 1);
    // Another body is another delivery, with or without a delivery id.
    const other = issue(42);
    expect((await fire(hook.hookUrl, other, { "x-github-event": "issues", "x-hub-signature-256": githubSig(hook.secret, other) })).body.runId).toMatch(/^run_/);
    expect(await runCount(owner)).toBe(runs + 2);
  });

  test("a multipart or form-encoded GitHub delivery is 400 and launches nothing", async () => {
    const runs = await runCount(owner);
    const form = new FormData();
    form.set("payload", issue(43));
    expectError(await fireAs(hook.hookUrl, form, null, { "x-github-event": "issues", "x-hub-signature-256": githubSig(hook.secret, "") }), 400, "invalid_request_error", "UNSUPPORTED_CONTENT_TYPE");
    const encoded = `payload=${encodeURIComponent(issue(43))}`;
    expectError(
      await fireAs(hook.hookUrl, encoded, "application/x-www-form-urlencoded", { "x-github-event": "issues", "x-hub-signature-256": githubSig(hook.secret, encoded) }),
      400,
      "invalid_request_error",
      "UNSUPPORTED_CONTENT_TYPE",
    );
    expect(await runCount(owner)).toBe(runs);
  });
});

describe("POST /hooks/:triggerId, replays after a restart", () => {
  test("a delivery that launched once, sent again after the server restarted, launches nothing (ours within its window; GitHub's, which carry no time, for a day)", async () => {
    const triggers = await triggersOf(owner, "on-events");
    const ours = await secretOf(triggers.find((t) => t.kind === "webhook").id);
    const github = await secretOf(triggers.find((t) => t.kind === "github").id);
    const body = JSON.stringify({ title: "captured" });
    const signed = { "clanker-signature": clankerSig(ours.secret, body) };
    const issue = JSON.stringify({ action: "opened", issue: { number: 77, title: "Captured" }, repository: { full_name: "octo/hello" } });
    const ghHeaders = { "x-github-event": "issues", "x-hub-signature-256": githubSig(github.secret, issue), "x-github-delivery": crypto.randomUUID() };
    const runs = await runCount(owner);
    expect((await fire(ours.hookUrl, body, signed)).body.runId).toMatch(/^run_/);
    expect((await fire(github.hookUrl, issue, ghHeaders)).body.runId).toMatch(/^run_/);
    await srv.stop();
    await srv.restart();
    for (const [url, raw, headers] of [[ours.hookUrl, body, signed], [github.hookUrl, issue, ghHeaders], [github.hookUrl, issue, { ...ghHeaders, "x-github-delivery": crypto.randomUUID() }]] as const) {
      // The restarted server listens on another port.
      const r = await fire(srv.url + new URL(url).pathname, raw, headers);
      expect({ status: r.status, ignored: r.body.ignored }).toEqual({ status: 202, ignored: "this delivery was already received" });
    }
    expect(await runCount(owner)).toBe(runs + 2);
  });
});

describe("secrets and roles", () => {
  test("a member lists and reads triggers but cannot read or rotate a secret", async () => {
    const hook = (await triggersOf(member, "on-events")).find((t) => t.kind === "webhook");
    expectError(await member("GET", `/api/v1/triggers/${hook.id}/secret`), 403, "permission_error", "ROLE_REQUIRED");
    expectError(await member("POST", `/api/v1/triggers/${hook.id}/rotate`), 403, "permission_error", "ROLE_REQUIRED");
  });

  test("rotation: the old secret stops working, the new one launches, and it is audited", async () => {
    const t = (await triggersOf(owner, "on-events")).find((t) => t.kind === "webhook");
    const old = await secretOf(t.id);
    expect(old.secret).toMatch(/^whsec_/);
    expect(old).toMatchObject({ signatureHeader: "clanker-signature", hookUrl: t.hookUrl });
    const rotated = await owner("POST", `/api/v1/triggers/${t.id}/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(old.secret);
    const body = JSON.stringify({ title: "after rotation" });
    expectError(await fire(t.hookUrl, body, { "clanker-signature": clankerSig(old.secret, body) }), 401, "authentication_error", "SIGNATURE_INVALID");
    expect((await fire(t.hookUrl, body, { "clanker-signature": clankerSig(rotated.body.secret, body) })).status).toBe(202);
    const audit = await owner("GET", "/api/v1/audit-logs?limit=100");
    expect(audit.body.data.some((a: any) => a.action === "trigger.rotate" && a.resourceId === t.id)).toBe(true);
  });

  test("another workspace sees none of them: list, read, secret and rotate are 404", async () => {
    const t = (await triggersOf(owner, "on-events")).find((t) => t.kind === "webhook");
    expect((await other("GET", "/api/v1/triggers")).body.data).toEqual([]);
    for (const [m, p] of [["GET", ""], ["GET", "/secret"], ["POST", "/rotate"]]) expectError(await other(m!, `/api/v1/triggers/${t.id}${p}`), 404, "not_found_error");
    // Its own definition with the same id gets its own trigger, with another secret.
    expect((await other("POST", "/api/v1/workflows/definitions", { body: definition("on-events", [{ webhook: {} }]) })).status).toBe(200);
    const [mine] = (await other("GET", "/api/v1/triggers")).body.data;
    expect(mine.id).not.toBe(t.id);
    expect((await other("GET", `/api/v1/triggers/${mine.id}/secret`)).body.secret).not.toBe((await secretOf(t.id)).secret);
  });
});

describe("MCP and unclaimed agents", () => {
  test("list-integration-triggers over the SDK client answers what REST answers", async () => {
    const c = await connectMcp(srv.url, "streamable", { "x-auth-token": ownerSession, "x-workspace-id": team });
    clients.push(c);
    const rest = await owner("GET", "/api/v1/triggers?limit=100");
    const out = await toolOk(c, "list-integration-triggers", { limit: 100 });
    expect(out).toEqual(rest.body);
    expect(out.data.map((t: any) => t.kind)).toEqual(expect.arrayContaining(["cron", "webhook", "github"]));
    expect(JSON.stringify(out)).not.toContain("whsec_");
  });

  test("over stdio (`clanker mcp` on the server's data dir) the hook URLs name the running server, not the default port", async () => {
    const key = (await owner("POST", "/api/v1/api-keys", { body: { name: "stdio" } })).body.key;
    const c = new Client({ name: "triggers-stdio", version: "1.0.0" });
    clients.push(c);
    const main = join(resolve(import.meta.dir, ".."), "src/main.ts");
    await c.connect(new StdioClientTransport({ command: process.execPath, args: [main, "mcp", "--data", srv.dataDir, "--api-key", key], env: srv.env, stderr: "pipe" }));
    const out = await toolOk(c, "list-integration-triggers", { limit: 100 });
    expect(out.data.some((t: any) => t.hookUrl?.startsWith(`${srv.url}/hooks/trg_`))).toBe(true);
    expect(out).toEqual((await owner("GET", "/api/v1/triggers?limit=100")).body);
  });

  test("an unclaimed agent key is refused the triggers over REST and MCP", async () => {
    const reg = await client(srv)("POST", "/agent/auth", { body: { type: "anonymous" } });
    expect(reg.status).toBe(200);
    const agent = client(srv, { apiKey: reg.body.credential });
    expectError(await agent("GET", "/api/v1/triggers"), 403, "permission_error", "SCOPE_REQUIRED");
    expectError(await agent("GET", "/api/v1/triggers/trg_1/secret"), 403, "permission_error", "SCOPE_REQUIRED");
    const c = await connectMcp(srv.url, "streamable", { "x-api-key": reg.body.credential });
    clients.push(c);
    expect((await toolError(c, "list-integration-triggers")).code).toBe("SCOPE_REQUIRED");
  });
});
