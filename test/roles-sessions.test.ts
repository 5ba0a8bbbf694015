// Roles (issue 10, item 7): only owners and admins read or rotate the webhook signing secret, install or uninstall
// skills, and cancel runs someone else started — over REST and MCP. MCP sessions (item 8) act as each request's
// caller, not as the one that sent `initialize`: a rebound key acts in its new workspace, a demoted or removed
// member loses rights, all within the open session.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { cleanup, client, startServer, uniqueEmail, type ApiResponse, type TestServer } from "./helpers/server";
import { runSql } from "./helpers/sql";
import { expectError } from "./helpers/api";
import { outboxMessages } from "./helpers/mail";
import { joinTeam, makeTeam, type Team } from "./helpers/team";
import { callTool, connectMcp, toolError, toolOk, type HttpKind } from "./helpers/mcp-client";

type Call = ReturnType<typeof client>;

let srv: TestServer;
// A model that answers with headers and then nothing: runs stay running until cancelled.
let model: ReturnType<typeof Bun.serve>;
const clients: Client[] = [];

let teamFixture: Team;
let team: string; // ws_…: the owner's team workspace
let owner: Call; // its owner, acting in the team
const memberEmail = uniqueEmail("member");
let member: Call; // a plain member of the team (session + x-workspace-id)
let memberSession: string;

const numeric = (id: string) => Number(id.replace(/^[a-z]+_/, ""));

function expectRoleRefusal(r: ApiResponse) {
  expect({ status: r.status, type: r.body?.error?.type, code: r.body?.error?.code, text: r.text }).toMatchObject({ status: 403, type: "permission_error", code: "ROLE_REQUIRED" });
}

async function expectToolRoleRefusal(c: Client, name: string, args: Record<string, unknown>) {
  const err = await toolError(c, name, args);
  expect({ name, type: err.type, code: err.code }).toEqual({ name, type: "permission_error", code: "ROLE_REQUIRED" });
}

async function mcp(kind: HttpKind, headers: Record<string, string>): Promise<Client> {
  const c = await connectMcp(srv.url, kind, headers);
  clients.push(c);
  return c;
}

async function startHangingRun(call: Call): Promise<string> {
  const r = await call("POST", "/api/v1/skills/summarize/run", { body: { input: "Never answered" } });
  expect(r.status).toBe(200);
  return r.body.executionId;
}

beforeAll(async () => {
  model = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    fetch: () => new Response(new ReadableStream({ start() {} }), { headers: { "content-type": "text/event-stream" } }),
  });
  srv = await startServer({
    env: {
      CLANKER_RATE_LIMIT_PER_MINUTE: "10000",
      CLANKER_WORKERS: "8",
      CLANKER_WORKSPACE_CONCURRENCY: "50",
      ANTHROPIC_API_KEY: "sk-ant-roles-test-00000000000000000",
      ANTHROPIC_BASE_URL: `http://127.0.0.1:${model.port}`,
    },
  });
  teamFixture = await makeTeam(srv);
  ({ id: team, owner } = teamFixture);
  memberSession = await joinTeam(teamFixture, memberEmail, "member");
  member = client(srv, { session: memberSession, workspace: team });
}, 30_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.close()));
  await srv?.stop();
  if (srv) cleanup(srv);
  model?.stop(true);
});

describe("roles over REST", () => {
  test("a run's callback URL is whole to who started it and to owners and admins; another member sees its origin only (its path is often a token)", async () => {
    const hook = "http://127.0.0.1:9/services/T000/B000/CALLBACK-TOKEN?token=SECRET-Q";
    const run = await owner("POST", "/api/v1/skills/summarize/run", { body: { input: "With a callback", callbackUrl: hook } });
    expect(run.status).toBe(200);
    const id = run.body.executionId;
    expect((await owner("GET", `/api/v1/executions/${id}/status`)).body.callbackUrl).toBe(hook);
    expect((await member("GET", `/api/v1/executions/${id}/status`)).body.callbackUrl).toBe("http://127.0.0.1:9/…");
    const listed = (await member("GET", "/api/v1/executions?limit=100")).body.data.find((e: { executionId: string }) => e.executionId === id);
    expect(listed.callbackUrl).toBe("http://127.0.0.1:9/…");
    // The member's own run's URL is theirs to see.
    const mine = await member("POST", "/api/v1/skills/summarize/run", { body: { input: "Mine", callbackUrl: hook } });
    expect((await member("GET", `/api/v1/executions/${mine.body.executionId}/status`)).body.callbackUrl).toBe(hook);
    for (const e of [id, mine.body.executionId]) await owner("POST", `/api/v1/executions/${e}/cancel`);
    // Rerun by the member: theirs, without the owner's callback (which they would then see whole, and post to).
    const rerun = await member("POST", `/api/v1/executions/${id}/rerun`, { body: {} });
    expect(rerun.status).toBe(200);
    expect((await member("GET", `/api/v1/executions/${rerun.body.executionId}/status`)).body.callbackUrl).toBeNull();
    await owner("POST", `/api/v1/executions/${rerun.body.executionId}/cancel`);
    // The owner's own rerun keeps it.
    const again = await owner("POST", `/api/v1/executions/${id}/rerun`, { body: {} });
    expect((await owner("GET", `/api/v1/executions/${again.body.executionId}/status`)).body.callbackUrl).toBe(hook);
    await owner("POST", `/api/v1/executions/${again.body.executionId}/cancel`);
    const workflow = await owner("POST", "/api/v1/workflows/research-draft-approve/launch", { body: { inputData: { intent: "x" }, callbackUrl: hook } });
    expect((await member("GET", `/api/v1/workflows/runs/${workflow.body.runId}`)).body.callbackUrl).toBe("http://127.0.0.1:9/…");
    expect((await owner("GET", `/api/v1/workflows/runs/${workflow.body.runId}`)).body.callbackUrl).toBe(hook);
    await owner("POST", `/api/v1/workflows/runs/${workflow.body.runId}/cancel`);
  });

  test("a member can neither read nor rotate the webhook signing secret; the owner can", async () => {
    const before = await owner("GET", "/api/v1/webhooks/secret");
    expect(before.status).toBe(200);
    expectRoleRefusal(await member("GET", "/api/v1/webhooks/secret"));
    expectRoleRefusal(await member("POST", "/api/v1/webhooks/secret/rotate"));
    expect((await owner("GET", "/api/v1/webhooks/secret")).body.secret).toBe(before.body.secret);
    const rotated = await owner("POST", "/api/v1/webhooks/secret/rotate");
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(before.body.secret);
  });

  test("a member cannot install or uninstall skills; the owner can", async () => {
    expectRoleRefusal(await member("POST", "/api/v1/skills/summarize/install"));
    expect((await owner("GET", "/api/v1/skills")).body.data).toEqual([]);
    expect((await owner("POST", "/api/v1/skills/summarize/install")).status).toBe(200);
    expectRoleRefusal(await member("POST", "/api/v1/skills/summarize/uninstall"));
    expect((await member("GET", "/api/v1/skills")).body.data.map((s: { slug: string }) => s.slug)).toEqual(["summarize"]);
    expect((await owner("POST", "/api/v1/skills/summarize/uninstall")).status).toBe(200);
  });

  test("what is not in the workspace is a 404 to a member too, before their role is asked: a trigger's secret, a definition, a binding", async () => {
    // Another workspace's, or nobody's: the same answer, whoever asks (an owner would not see them either).
    expectError(await member("GET", "/api/v1/triggers/trg_999999/secret"), 404, "not_found_error");
    expectError(await member("POST", "/api/v1/triggers/trg_999999/rotate"), 404, "not_found_error");
    expectError(await member("DELETE", "/api/v1/workflows/definitions/no-such-flow"), 404, "not_found_error");
    const flow = { id: "no-such-flow", name: "n", steps: [{ id: "a", kind: "skill", skill: "summarize", input: "x" }] };
    expectError(await member("PUT", "/api/v1/workflows/definitions/no-such-flow", { body: flow }), 404, "not_found_error");
    expectError(await member("DELETE", "/api/v1/skills/summarize/secrets/bnd_999999"), 404, "not_found_error");
    // The workspace's own definition: the role is what refuses.
    expect((await owner("POST", "/api/v1/workflows/definitions", { body: { ...flow, id: "team-flow" } })).status).toBe(200);
    expectRoleRefusal(await member("DELETE", "/api/v1/workflows/definitions/team-flow"));
    expectRoleRefusal(await member("PUT", "/api/v1/workflows/definitions/team-flow", { body: { ...flow, id: "team-flow" } }));
  });

  test("a member cancels their own run but not the owner's; the owner cancels anyone's", async () => {
    const ownersRun = await startHangingRun(owner);
    const membersRun = await startHangingRun(member);
    const membersOther = await startHangingRun(member);
    // Each run says who started it, so a client can tell which ones a member may cancel.
    const [ownerId, memberId] = [(await owner("GET", "/api/v1/profile")).body.id, (await member("GET", "/api/v1/profile")).body.id];
    expect(ownerId).not.toBe(memberId);
    expect((await member("GET", `/api/v1/executions/${ownersRun}/status`)).body.startedBy).toMatchObject({ userId: ownerId });
    expect((await member("GET", `/api/v1/executions/${membersRun}/status`)).body.startedBy).toEqual({ userId: memberId, apiKeyId: null });
    expect((await member("GET", "/api/v1/executions?limit=100")).body.data.find((e: { id: string }) => e.id === membersOther).startedBy.userId).toBe(memberId);
    expectRoleRefusal(await member("POST", `/api/v1/executions/${ownersRun}/cancel`));
    expect(["queued", "running"]).toContain((await owner("GET", `/api/v1/executions/${ownersRun}/status`)).body.status);
    const own = await member("POST", `/api/v1/executions/${membersRun}/cancel`);
    expect({ status: own.status, run: own.body.status }).toEqual({ status: 200, run: "cancelled" });
    expect((await owner("POST", `/api/v1/executions/${membersOther}/cancel`)).body.status).toBe("cancelled");
    expect((await owner("POST", `/api/v1/executions/${ownersRun}/cancel`)).body.status).toBe("cancelled");
  });
  test("workflow runs: a member cancels their own (its running step ends with it) but not the owner's", async () => {
    const launch = async (call: Call) => {
      const r = await call("POST", "/api/v1/workflows/research-draft-approve/launch", { body: { inputData: { intent: "tides" } } });
      expect(r.status).toBe(200);
      return r.body.runId;
    };
    const ownersRun = await launch(owner);
    const membersRun = await launch(member);
    // The first step's execution exists once the engine has started it.
    let stepExecution: string | undefined;
    for (let i = 0; i < 100 && !stepExecution; i++) {
      const run = (await member("GET", `/api/v1/workflows/runs/${membersRun}`)).body;
      stepExecution = Object.values(run.steps ?? {}).map((st: any) => st.executionId).find(Boolean);
      if (!stepExecution) await Bun.sleep(20);
    }
    expect(stepExecution).toBeTruthy();
    const memberId = (await member("GET", "/api/v1/profile")).body.id;
    expect((await member("GET", `/api/v1/workflows/runs/${membersRun}`)).body.startedBy).toEqual({ userId: memberId, apiKeyId: null });
    expect((await member("GET", `/api/v1/workflows/runs/${ownersRun}`)).body.startedBy.userId).not.toBe(memberId);
    expectRoleRefusal(await member("POST", `/api/v1/workflows/runs/${ownersRun}/cancel`));
    expect((await owner("GET", `/api/v1/workflows/runs/${ownersRun}`)).body.status).toBe("running");
    const own = await member("POST", `/api/v1/workflows/runs/${membersRun}/cancel`);
    expect({ status: own.status, run: own.body.status }).toEqual({ status: 200, run: "cancelled" });
    expect((await member("GET", `/api/v1/executions/${stepExecution}/status`)).body.status).toBe("cancelled");
    expect((await owner("POST", `/api/v1/workflows/runs/${ownersRun}/cancel`)).body.status).toBe("cancelled");
    const audit = (await owner("GET", "/api/v1/audit-logs?action=workflow.cancel")).body.data;
    expect(audit.length).toBeGreaterThanOrEqual(2);
  });
});

describe("/workspaces/:id with a session: the path names the workspace", () => {
  test("a person lists and invites in any workspace they belong to without x-workspace-id, with the role they hold there", async () => {
    // The owner's session alone acts in their personal workspace; the team is named by the path only.
    const bare = client(srv, { session: teamFixture.ownerSession });
    expect((await bare("GET", "/api/v1/workspaces/current")).body.id).not.toBe(team);
    const members = await bare("GET", `/api/v1/workspaces/${team}/members`);
    expect(members.status).toBe(200);
    expect(members.body.data.map((m: { email: string }) => m.email)).toContain(memberEmail);
    const invitee = uniqueEmail("path-invitee");
    const inv = await bare("POST", `/api/v1/workspaces/${team}/invitations`, { body: { email: invitee, role: "member" } });
    expect({ status: inv.status, text: inv.text }).toMatchObject({ status: 200 });
    expect(inv.body.workspaceId).toBe(team);
    expect((await owner("GET", "/api/v1/audit-logs?action=invitation.create")).body.data.map((e: { resourceId: string }) => e.resourceId)).toContain(inv.body.id);
    // A member of the team, asked by path from their own workspace, has the team's member role there: no inviting.
    const memberBare = client(srv, { session: memberSession });
    expect((await memberBare("GET", `/api/v1/workspaces/${team}/members`)).status).toBe(200);
    const refused = await memberBare("POST", `/api/v1/workspaces/${team}/invitations`, { body: { email: uniqueEmail("nope"), role: "member" } });
    expect({ status: refused.status, code: refused.body.error?.code }).toEqual({ status: 403, code: "ROLE_REQUIRED" });
    // A workspace they do not belong to is still a 404.
    const stranger = client(srv, { session: await srv.createSession(uniqueEmail("stranger")) });
    expect((await stranger("GET", `/api/v1/workspaces/${team}/members`)).status).toBe(404);
    expect((await stranger("POST", `/api/v1/workspaces/${team}/invitations`, { body: { email: uniqueEmail("x"), role: "member" } })).status).toBe(404);
  });
});

describe("the word current in /workspaces/:id paths", () => {
  test("means the caller's active workspace, as GET /workspaces/current does; no workspace can take it, or a number, as its slug", async () => {
    const session = await srv.createSession(uniqueEmail("current-word"));
    const call = client(srv, { session });
    const active = (await call("GET", "/api/v1/workspaces/current")).body.id;
    for (const slug of ["current", "2024", "7"]) {
      const r = await call("POST", "/api/v1/workspaces", { body: { name: `named ${slug}`, slug } });
      expect({ slug, status: r.status, code: r.body.error?.code, param: r.body.error?.param }).toEqual({ slug, status: 400, code: "SLUG_RESERVED", param: "slug" });
      expect(r.body.error?.message).toEndWith(slug === "current" ? "choose another" : "choose one with a letter in it");
    }
    // A name that would make such a slug gets a suffixed one.
    for (const name of ["Current", "2024"]) {
      const made = await call("POST", "/api/v1/workspaces", { body: { name } });
      expect(made.status).toBe(200);
      expect(made.body.slug).toMatch(new RegExp(`^${name.toLowerCase()}-[a-z0-9]{6}$`));
    }
    // A workspace left with the slug by an older version is not what the word names.
    const other = await call("POST", "/api/v1/workspaces", { body: { name: "would-be current" } });
    await runSql(srv, "UPDATE workspaces SET slug = 'current' WHERE id = ?", numeric(other.body.id));
    const members = await call("GET", "/api/v1/workspaces/current/members");
    expect(members.status).toBe(200);
    const invited = await call("POST", "/api/v1/workspaces/current/invitations", { body: { email: uniqueEmail("current-invitee"), role: "member" } });
    expect({ status: invited.status, workspaceId: invited.body.workspaceId }).toEqual({ status: 200, workspaceId: active });
  });
});

describe("an invitation for someone already a member", () => {
  test("is refused with ALREADY_MEMBER and changes nothing (their role stays; the invitation stays unused)", async () => {
    const email = uniqueEmail("already");
    const session = await srv.createSession(email);
    const inv = await owner("POST", `/api/v1/workspaces/${team}/invitations`, { body: { email, role: "admin" } });
    expect(inv.status).toBe(200);
    const token = /\binv_[A-Za-z0-9_-]+/.exec(outboxMessages(srv.dataDir, email).at(-1)!.text)![0];
    // A member by then some other way (two invitations accepted at once, say): straight into the table.
    const me = (await client(srv, { session })("GET", "/api/v1/profile")).body.id;
    await runSql(srv, "INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES (?, ?, 'member', ?)", numeric(team), numeric(me), Date.now());
    expectError(await client(srv, { session })("POST", "/api/v1/invitations/accept", { body: { token } }), 409, "conflict_error", "ALREADY_MEMBER");
    expect((await client(srv, { session, workspace: team })("GET", "/api/v1/workspaces/current")).body.role).toBe("member");
    // Still pending: the no-op update finds it as such.
    expect(await runSql(srv, "UPDATE invitations SET status = status WHERE id = ? AND status = 'pending'", numeric(inv.body.id))).toBe(1);
  });
});

describe("an invitation whose sender is no longer an owner or admin", () => {
  test("admits nobody: 403 INVITATION_WITHDRAWN, no membership, the invitation unused", async () => {
    const adminEmail = uniqueEmail("fading-admin");
    const adminSession = await srv.createSession(adminEmail);
    expect((await owner("POST", `/api/v1/workspaces/${team}/invitations`, { body: { email: adminEmail, role: "admin" } })).status).toBe(200);
    const adminToken = /\binv_[A-Za-z0-9_-]+/.exec(outboxMessages(srv.dataDir, adminEmail).at(-1)!.text)![0];
    expect((await client(srv, { session: adminSession })("POST", "/api/v1/invitations/accept", { body: { token: adminToken } })).body.role).toBe("admin");
    const guestEmail = uniqueEmail("late-guest");
    const inv = await client(srv, { session: adminSession, workspace: team })("POST", `/api/v1/workspaces/${team}/invitations`, { body: { email: guestEmail, role: "admin" } });
    expect(inv.status).toBe(200);
    const guestToken = /\binv_[A-Za-z0-9_-]+/.exec(outboxMessages(srv.dataDir, guestEmail).at(-1)!.text)![0];
    // The sender made a member (no route does this yet: straight into the table, as an operator would).
    const adminId = (await client(srv, { session: adminSession })("GET", "/api/v1/profile")).body.id;
    expect(await runSql(srv, "UPDATE memberships SET role = 'member' WHERE workspace_id = ? AND user_id = ?", numeric(team), numeric(adminId))).toBe(1);
    const guest = client(srv, { session: await srv.createSession(guestEmail) });
    expectError(await guest("POST", "/api/v1/invitations/accept", { body: { token: guestToken } }), 403, "permission_error", "INVITATION_WITHDRAWN");
    expect((await guest("GET", "/api/v1/workspaces")).body.data.map((w: { id: string }) => w.id)).not.toContain(team);
    expect(await runSql(srv, "UPDATE invitations SET status = status WHERE id = ? AND status = 'pending'", numeric(inv.body.id))).toBe(1);
  });
});

describe("a second invitation to the same address", () => {
  test("replaces the first (a corrected role counts, the old token is refused, whichever order they are used in); the answer, the membership and the audit rows agree", async () => {
    const inviteTwice = async (email: string, roles: ["admin" | "member", "admin" | "member"], order: [0 | 1, 0 | 1]) => {
      const ids: string[] = [];
      for (const role of roles) {
        const r = await owner("POST", `/api/v1/workspaces/${team}/invitations`, { body: { email, role } });
        expect(r.status).toBe(200);
        ids.push(r.body.id);
      }
      const tokens = outboxMessages(srv.dataDir, email).map((m) => /\binv_[A-Za-z0-9_-]+/.exec(m.text)?.[0]);
      expect(tokens).toHaveLength(2);
      const session = await srv.createSession(email);
      const accept = (token: string) => client(srv, { session })("POST", "/api/v1/invitations/accept", { body: { token } });
      const answers = [];
      for (const i of order) answers.push(await accept(tokens[i]!));
      const current = await client(srv, { session, workspace: team })("GET", "/api/v1/workspaces/current");
      return { ids, answers, current };
    };
    const corrected = uniqueEmail("corrected");
    // The second to join signs in first: joining order and sign-up order differ.
    const keptEmail = uniqueEmail("kept");
    await srv.createSession(keptEmail);
    // Invited as admin, then corrected to member: the admin token is refused before and after the member one is used.
    const c = await inviteTwice(corrected, ["admin", "member"], [0, 1]);
    expectError(c.answers[0]!, 409, "conflict_error", "INVITATION_REPLACED");
    expect(c.answers[1]!.body).toMatchObject({ id: team, role: "member" });
    expect(c.current.body.role).toBe("member");
    const k = await inviteTwice(keptEmail, ["member", "admin"], [1, 0]);
    expect(k.answers[0]!.body).toMatchObject({ id: team, role: "admin" });
    expectError(k.answers[1]!, 409, "conflict_error", "INVITATION_REPLACED");
    expect(k.current.body.role).toBe("admin");
    const audit = (await owner("GET", "/api/v1/audit-logs?limit=100")).body.data.filter((a: any) => JSON.stringify(a.metadata).includes(corrected));
    expect(audit.map((a: any) => a.action).sort()).toEqual(["invitation.create", "invitation.create", "invitation.revoke", "member.add"]);
    expect(audit.find((a: any) => a.action === "invitation.revoke")).toMatchObject({ resourceId: c.ids[0], metadata: { replacedBy: c.ids[1] } });
    expect(audit.find((a: any) => a.action === "member.add").metadata).toMatchObject({ role: "member", invitationId: c.ids[1] });
    // Members are listed newest first, by when they joined (not by when they first signed in), and page by user id.
    const members = (await owner("GET", `/api/v1/workspaces/${team}/members?limit=100`)).body.data;
    expect(members.slice(0, 2).map((m: any) => m.email)).toEqual([keptEmail, corrected]);
    const joined = members.map((m: any) => Date.parse(m.joinedAt));
    expect(joined).toEqual([...joined].sort((x: number, y: number) => y - x));
    const next = (await owner("GET", `/api/v1/workspaces/${team}/members?limit=1&after_id=${members[0].id}`)).body;
    expect(next.data.map((m: any) => m.email)).toEqual([corrected]);
    expect((await owner("GET", `/api/v1/workspaces/${team}/members?limit=1&before_id=${members[1].id}`)).body.data.map((m: any) => m.email)).toEqual([keptEmail]);
    // A correction still being mailed (its row written, its mail not yet gone, the earlier one not yet withdrawn)
    // already counts: the earlier token is refused, and stays usable only if that mail fails.
    const mailing = uniqueEmail("mailing");
    const first = await owner("POST", `/api/v1/workspaces/${team}/invitations`, { body: { email: mailing, role: "admin" } });
    expect(first.status).toBe(200);
    const firstToken = /\binv_[A-Za-z0-9_-]+/.exec(outboxMessages(srv.dataDir, mailing)[0]!.text)![0];
    expect(await runSql(srv, "INSERT INTO invitations (workspace_id, email, role, token_hash, invited_by_user_id, status, expires_at, created_at) SELECT workspace_id, email, 'member', 'being-mailed', invited_by_user_id, 'pending', expires_at, created_at FROM invitations WHERE id = ?", numeric(first.body.id))).toBe(1);
    const mailer = client(srv, { session: await srv.createSession(mailing) });
    expectError(await mailer("POST", "/api/v1/invitations/accept", { body: { token: firstToken } }), 409, "conflict_error", "INVITATION_REPLACED");
    expect(await runSql(srv, "UPDATE invitations SET status = 'revoked' WHERE token_hash = 'being-mailed'")).toBe(1);
    expect((await mailer("POST", "/api/v1/invitations/accept", { body: { token: firstToken } })).body).toMatchObject({ id: team, role: "admin" });
  });
});

describe("idempotency keys belong to their caller", () => {
  test("another member sending the same key and body gets an answer of their own, never the owner's new API key", async () => {
    const headers = { "idempotency-key": `shared-${Date.now()}` };
    const first = await owner("POST", "/api/v1/api-keys", { body: { name: "same name" }, headers });
    expect(first.status).toBe(200);
    const other = await member("POST", "/api/v1/api-keys", { body: { name: "same name" }, headers });
    expect(other.status).toBe(200);
    expect(other.headers.get("idempotency-replayed")).toBeNull();
    expect(other.body.key).not.toBe(first.body.key);
    expect(other.body.id).not.toBe(first.body.id);
    // The owner's own retry still replays the owner's answer.
    const again = await owner("POST", "/api/v1/api-keys", { body: { name: "same name" }, headers });
    expect({ replayed: again.headers.get("idempotency-replayed"), key: again.body.key }).toEqual({ replayed: "true", key: first.body.key });
  });
});

describe("roles over MCP", () => {
  test("a member's session: install, uninstall and cancelling the owner's run are refused; cancelling their own works", async () => {
    const c = await mcp("streamable", { "x-auth-token": memberSession, "x-workspace-id": team });
    await expectToolRoleRefusal(c, "install-skill", { slug: "summarize" });
    await expectToolRoleRefusal(c, "uninstall-skill", { slug: "summarize" });
    const ownersRun = await startHangingRun(owner);
    await expectToolRoleRefusal(c, "cancel-execution", { id: ownersRun });
    const membersRun = await startHangingRun(member);
    expect((await toolOk(c, "cancel-execution", { id: membersRun })).status).toBe("cancelled");
    expect((await owner("POST", `/api/v1/executions/${ownersRun}/cancel`)).status).toBe(200);
  });
});

describe("MCP sessions act as each request's caller", () => {
  for (const kind of ["streamable", "sse"] as const) {
    test(`${kind}: after PUT /workspaces/current the open session ends at once; a new one acts in the new workspace, with the new role`, async () => {
      const teamNote = `team memo ${kind}`;
      expect((await owner("PUT", "/api/v1/memory", { body: { content: teamNote } })).status).toBe(200);
      const key = await srv.createKey({ email: memberEmail, name: `member key ${kind}` });
      const c = await mcp(kind, { "x-api-key": key });
      await toolOk(c, "write-memory", { content: `personal ${kind}`, mode: "overwrite" });
      expect((await toolOk(c, "read-memory")).content).toBe(`personal ${kind}`);
      await toolOk(c, "install-skill", { slug: "summarize" }); // owner of their personal workspace

      const rebind = await client(srv, { apiKey: key })("PUT", "/api/v1/workspaces/current", { body: { workspace: team } });
      expect(rebind.body).toMatchObject({ id: team, role: "member" });

      // Never an answer from either workspace through the session opened in the other.
      expect(await callTool(c, "read-memory").then(() => "answered", () => "refused")).toBe("refused");
      const again = await mcp(kind, { "x-api-key": key });
      expect((await toolOk(again, "read-memory")).content).toBe(teamNote);
      await expectToolRoleRefusal(again, "install-skill", { slug: "summarize" });
    });
  }

  test("a demoted admin loses admin rights within the open session; a removed one loses the session", async () => {
    const email = uniqueEmail("admin");
    const session = await joinTeam(teamFixture, email, "admin");
    const c = await mcp("streamable", { "x-auth-token": session, "x-workspace-id": team });
    expect((await toolOk(c, "install-skill", { slug: "code-review" })).installed).toBe(true);

    const me = await client(srv, { session, workspace: team })("GET", "/api/v1/profile");
    expect(await runSql(srv, "UPDATE memberships SET role = 'member' WHERE user_id = ? AND workspace_id = ?", numeric(me.body.id), numeric(team))).toBe(1);
    await expectToolRoleRefusal(c, "uninstall-skill", { slug: "code-review" });
    expect((await toolOk(c, "read-memory")).content).toEqual(expect.any(String)); // still a member

    expect(await runSql(srv, "DELETE FROM memberships WHERE user_id = ? AND workspace_id = ?", numeric(me.body.id), numeric(team))).toBe(1);
    expect(await callTool(c, "read-memory").then(() => "answered", () => "refused")).toBe("refused");
    expect((await owner("GET", "/api/v1/skills")).body.data.map((s: { slug: string }) => s.slug)).toContain("code-review");
  });
});
