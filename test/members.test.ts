// Changing who is in a workspace, over real HTTP: roles changed (only owners make or change owners, a workspace keeps
// an owner), members removed or leaving (their keys bound there revoked, their open streams ended at once),
// invitations listed and withdrawn; each change audited, and taking effect on the very next request.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cleanup, client, startServer, uniqueEmail, type TestServer } from "./helpers/server";
import { expectError } from "./helpers/api";
import { outboxLatest } from "./helpers/mail";
import { makeTeam, teamMember, type Team } from "./helpers/team";

let srv: TestServer;
beforeAll(async () => {
  srv = await startServer({ env: { CLANKER_RATE_LIMIT_PER_MINUTE: "10000", CLANKER_PUBLIC_RATE_LIMIT_PER_MINUTE: "10000" } });
});
afterAll(async () => {
  await srv?.stop();
  if (srv) cleanup(srv);
});

const userIdOf = async (call: ReturnType<typeof client>) => (await call("GET", "/api/v1/profile")).body.id as string;
const actions = async (t: Team, n: number) => (await t.owner("GET", `/api/v1/audit-logs?limit=${n}`)).body.data.map((a: any) => [a.action, a.resource_id ?? a.resourceId, a.metadata]);
/** A key of `session`'s person, bound to the team. */
async function teamKey(t: Team, session: string): Promise<string> {
  const made = await client(srv, { session, workspace: t.id })("POST", "/api/v1/api-keys", { body: { name: "team key" } });
  expect(made.status).toBe(200);
  return made.body.key;
}

describe("roles", () => {
  test("an owner makes a member an admin: audited, and the member's cached key holds the role on its next request; back to member, it does not", async () => {
    const t = await makeTeam(srv, "Roles");
    const m = await teamMember(t, "member");
    const key = client(srv, { apiKey: await teamKey(t, m.session) });
    const id = await userIdOf(m.call);
    expectError(await key("GET", "/api/v1/webhooks/secret"), 403, "permission_error", "ROLE_REQUIRED");
    const made = await t.owner("PATCH", `/api/v1/workspaces/${t.id}/members/${id}`, { body: { role: "admin" } });
    expect(made.status).toBe(200);
    expect(made.body).toMatchObject({ id, role: "admin" });
    expect((await key("GET", "/api/v1/webhooks/secret")).status).toBe(200);
    expect((await actions(t, 1))[0]).toEqual(["member.update", id, { email: expect.any(String), from: "member", to: "admin" }]);
    expect((await t.owner("PATCH", `/api/v1/workspaces/${t.id}/members/${id}`, { body: { role: "member" } })).body.role).toBe("member");
    expectError(await key("GET", "/api/v1/webhooks/secret"), 403, "permission_error", "ROLE_REQUIRED");
    const listed = (await t.owner("GET", `/api/v1/workspaces/${t.id}/members`)).body.data.find((x: any) => x.id === id);
    expect(listed.role).toBe("member");
  });

  test("owners are the owners' business; a workspace keeps an owner; a member changes no role; bad input names itself", async () => {
    const t = await makeTeam(srv, "Owners");
    const admin = await teamMember(t, "admin");
    const member = await teamMember(t, "member");
    const [ownerId, adminId, memberId] = [await userIdOf(t.owner), await userIdOf(admin.call), await userIdOf(member.call)];
    const path = (id: string) => `/api/v1/workspaces/${t.id}/members/${id}`;
    expectError(await admin.call("PATCH", path(memberId), { body: { role: "owner" } }), 403, "permission_error", "ROLE_REQUIRED");
    expectError(await admin.call("PATCH", path(ownerId), { body: { role: "member" } }), 403, "permission_error", "ROLE_REQUIRED");
    expectError(await admin.call("PATCH", path(adminId), { body: { role: "owner" } }), 403, "permission_error", "ROLE_REQUIRED");
    expectError(await member.call("PATCH", path(memberId), { body: { role: "admin" } }), 403, "permission_error", "ROLE_REQUIRED");
    const last = await t.owner("PATCH", path(ownerId), { body: { role: "admin" } });
    expectError(last, 409, "conflict_error", "LAST_OWNER");
    expect(last.body.error.message).toContain("make another member an owner first");
    expectError(await t.owner("PATCH", path(memberId), { body: { role: "boss" } }), 400, "invalid_request_error");
    expectError(await t.owner("PATCH", path("usr_999999"), { body: { role: "admin" } }), 404, "not_found_error");
    // Someone who is not a member here is not found either, as another workspace's objects are not.
    const stranger = await userIdOf(client(srv, { session: await srv.createSession(uniqueEmail("stranger")) }));
    expectError(await t.owner("PATCH", path(stranger), { body: { role: "admin" } }), 404, "not_found_error");
    // Two owners: then either may step down.
    expect((await t.owner("PATCH", path(adminId), { body: { role: "owner" } })).body.role).toBe("owner");
    expect((await t.owner("PATCH", path(ownerId), { body: { role: "member" } })).body.role).toBe("member");
    expectError(await admin.call("PATCH", path(adminId), { body: { role: "admin" } }), 409, "conflict_error", "LAST_OWNER");
  });

  test("a personal workspace has its one owner", async () => {
    const session = await srv.createSession(uniqueEmail("solo"));
    const me = client(srv, { session });
    const ws = (await me("GET", "/api/v1/workspaces/current")).body;
    expect(ws.personal).toBe(true);
    expectError(await me("PATCH", `/api/v1/workspaces/${ws.id}/members/${await userIdOf(me)}`, { body: { role: "member" } }), 409, "conflict_error", "LAST_OWNER");
    const leave = await me("DELETE", `/api/v1/workspaces/${ws.id}/members/${await userIdOf(me)}`);
    expectError(leave, 409, "conflict_error", "LAST_OWNER");
    expect(leave.body.error.message).toBe("A personal workspace keeps its owner: you cannot leave your own");
  });
});

describe("removal", () => {
  test("an admin removes a member: their key bound here is revoked at once (an open stream ends), their session no longer reaches it; audited", async () => {
    const t = await makeTeam(srv, "Removal");
    const admin = await teamMember(t, "admin");
    const m = await teamMember(t, "member");
    const id = await userIdOf(m.call);
    const key = await teamKey(t, m.session);
    const ctl = new AbortController();
    const stream = await fetch(`${srv.url}/api/events`, { headers: { "x-api-key": key }, signal: ctl.signal });
    expect(stream.status).toBe(200);
    const reading = new Response(stream.body).text();
    await Bun.sleep(200);

    const removed = await admin.call("DELETE", `/api/v1/workspaces/${t.id}/members/${id}`);
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ id, deleted: true, keysRevoked: 1 });
    const heard = await Promise.race([reading, Bun.sleep(3000).then(() => null)]);
    ctl.abort();
    expect(heard).toContain('"code":"KEY_REVOKED"');
    expectError(await client(srv, { apiKey: key })("GET", "/api/v1/profile"), 401, "authentication_error", "KEY_REVOKED");
    expectError(await m.call("GET", "/api/v1/workspaces/current"), 404, "not_found_error");
    const members = (await t.owner("GET", `/api/v1/workspaces/${t.id}/members`)).body.data.map((x: any) => x.id);
    expect(members).not.toContain(id);
    const [entry] = await actions(t, 1);
    expect(entry[0]).toBe("member.remove");
    expect(entry[2]).toMatchObject({ role: "member", keysRevoked: [expect.stringMatching(/^key_\d+$/)] });
    // Their own workspace is untouched.
    expect((await client(srv, { session: m.session })("GET", "/api/v1/workspaces/current")).status).toBe(200);
    // Invited again, they are a member again, but the revoked key stays revoked.
    const back = await teamMember(t, "member", (await m.call("GET", "/api/v1/profile")).body.email);
    expect((await back.call("GET", "/api/v1/workspaces/current")).body.id).toBe(t.id);
    expectError(await client(srv, { apiKey: key })("GET", "/api/v1/profile"), 401, "authentication_error", "KEY_REVOKED");
  });

  test("only owners remove owners; a member removes nobody but may leave; the last owner may not leave", async () => {
    const t = await makeTeam(srv, "Leaving");
    const admin = await teamMember(t, "admin");
    const m = await teamMember(t, "member");
    const other = await teamMember(t, "member");
    const [ownerId, adminId, mId, otherId] = [await userIdOf(t.owner), await userIdOf(admin.call), await userIdOf(m.call), await userIdOf(other.call)];
    const path = (id: string) => `/api/v1/workspaces/${t.id}/members/${id}`;
    expectError(await admin.call("DELETE", path(ownerId)), 403, "permission_error", "ROLE_REQUIRED");
    expectError(await m.call("DELETE", path(otherId)), 403, "permission_error", "ROLE_REQUIRED");
    expectError(await t.owner("DELETE", path(ownerId)), 409, "conflict_error", "LAST_OWNER");
    const left = await m.call("DELETE", path(mId));
    expect(left.body).toEqual({ id: mId, deleted: true, keysRevoked: 0 });
    expect((await actions(t, 1))[0].slice(0, 2)).toEqual(["member.leave", mId]);
    expectError(await m.call("DELETE", path(mId)), 404, "not_found_error");
    const sentByAdmin = await admin.call("POST", `/api/v1/workspaces/${t.id}/invitations`, { body: { email: uniqueEmail("from-admin") } });
    expect(sentByAdmin.status).toBe(200);
    expect((await t.owner("DELETE", path(adminId))).status).toBe(200);
    // What they sent admits nobody now: withdrawn with them, not left listed as pending.
    expect((await t.owner("GET", `/api/v1/workspaces/${t.id}/invitations`)).body.data.map((i: any) => i.id)).not.toContain(sentByAdmin.body.id);
    expect((await actions(t, 2))[1]).toEqual(["invitation.revoke", sentByAdmin.body.id, { email: sentByAdmin.body.email, reason: "its sender was removed" }]);
    expectError(await admin.call("GET", "/api/v1/workspaces/current"), 404, "not_found_error");
  });
});

describe("keys of others", () => {
  test("an admin revokes a member's or another admin's key, not an owner's (an owner's own keys and agents are the owners' business); an owner revokes any", async () => {
    const t = await makeTeam(srv, "Keys");
    const admin = await teamMember(t, "admin");
    const admin2 = await teamMember(t, "admin");
    const m = await teamMember(t, "member");
    const keyOf = async (call: typeof t.owner) => (await call("POST", "/api/v1/api-keys", { body: { name: "k" } })).body.id as string;
    const [ownerKey, admin2Key, memberKey, adminKey] = [await keyOf(t.owner), await keyOf(admin2.call), await keyOf(m.call), await keyOf(admin.call)];
    const revoke = (call: typeof t.owner, id: string) => call("POST", `/api/v1/api-keys/${id}/revoke`);
    const refused = await revoke(admin.call, ownerKey);
    expectError(refused, 403, "permission_error", "ROLE_REQUIRED");
    expect(refused.body.error.message).toBe("Only an owner can revoke a workspace owner's key");
    expect((await t.owner("GET", "/api/v1/api-keys?limit=100")).body.data.find((k: any) => k.id === ownerKey).status).toBe("active");
    expect((await revoke(admin.call, admin2Key)).body.status).toBe("revoked");
    expect((await revoke(admin.call, memberKey)).body.status).toBe("revoked");
    expect((await revoke(t.owner, adminKey)).body.status).toBe("revoked");
    expect((await revoke(t.owner, ownerKey)).body.status).toBe("revoked");
  });
});

describe("approvals given before a removal", () => {
  test("a device code or an OAuth code a member approved, then removed, yields no key: denied, and nothing for an invitation later to bring back", async () => {
    const t = await makeTeam(srv, "Approvals");
    const m = await teamMember(t, "member");
    const id = await userIdOf(m.call);
    const anon = client(srv);
    const device = (await anon("POST", "/api/v1/activate")).body.code as string;
    expect((await m.call("POST", "/api/v1/activate/confirm", { body: { code: device } })).status).toBe(200);
    const reg = await anon("POST", "/oauth/register", { body: { client_name: "Agent", redirect_uris: ["http://127.0.0.1:9/cb"] } });
    const verifier = "v".repeat(50);
    const challenge = new Bun.CryptoHasher("sha256").update(verifier).digest("base64url");
    const approved = await m.call("POST", "/api/v1/oauth/authorize", {
      body: { decision: "approve", response_type: "code", client_id: reg.body.client_id, redirect_uri: "http://127.0.0.1:9/cb", code_challenge: challenge, code_challenge_method: "S256" },
    });
    const code = new URL(approved.body.redirect_to).searchParams.get("code")!;

    expect((await t.owner("DELETE", `/api/v1/workspaces/${t.id}/members/${id}`)).status).toBe(200);
    const polled = await anon("POST", "/api/v1/activate/poll", { body: { code: device } });
    expectError(polled, 400, "invalid_request_error", "access_denied");
    expect(polled.body.error.message).toBe("The person who approved this code is no longer a member of that workspace; request a new code");
    expectError(await anon("POST", "/api/v1/activate/poll", { body: { code: device } }), 400, "invalid_request_error", "access_denied");
    const token = await anon("POST", "/oauth/token", {
      raw: new URLSearchParams({ grant_type: "authorization_code", code, code_verifier: verifier, client_id: reg.body.client_id, redirect_uri: "http://127.0.0.1:9/cb" }).toString(),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect({ status: token.status, error: token.body.error, says: token.body.error_description }).toEqual({ status: 400, error: "invalid_grant", says: "The person who approved this app is no longer a member of that workspace; sign in again" });
    // Invited back: still no key of theirs made after the removal.
    await teamMember(t, "member", (await m.call("GET", "/api/v1/profile")).body.email);
    const created = (await t.owner("GET", "/api/v1/audit-logs?limit=50")).body.data.filter((e: any) => e.action === "api_key.create");
    expect(created).toEqual([]);
  });
});

describe("invitations", () => {
  test("owners and admins list pending ones and withdraw one: its token then admits nobody, saying so; twice is harmless; an accepted one is not withdrawn", async () => {
    const t = await makeTeam(srv, "Invites");
    const member = await teamMember(t, "member");
    const email = uniqueEmail("withdrawn");
    const inv = await t.owner("POST", `/api/v1/workspaces/${t.id}/invitations`, { body: { email, role: "admin" } });
    expect(inv.status).toBe(200);
    const token = /\binv_[A-Za-z0-9_-]+/.exec(outboxLatest(srv.dataDir, email)!.text)![0];
    const list = await t.owner("GET", `/api/v1/workspaces/${t.id}/invitations`);
    expect(list.status).toBe(200);
    expect(list.body.data.map((i: any) => [i.id, i.email, i.role, i.status])).toEqual([[inv.body.id, email, "admin", "pending"]]);
    expectError(await member.call("GET", `/api/v1/workspaces/${t.id}/invitations`), 403, "permission_error", "ROLE_REQUIRED");
    expectError(await member.call("DELETE", `/api/v1/workspaces/${t.id}/invitations/${inv.body.id}`), 403, "permission_error", "ROLE_REQUIRED");

    const withdrawn = await t.owner("DELETE", `/api/v1/workspaces/${t.id}/invitations/${inv.body.id}`);
    expect(withdrawn.body).toMatchObject({ id: inv.body.id, status: "revoked" });
    expect((await actions(t, 1))[0]).toEqual(["invitation.revoke", inv.body.id, { email, reason: "withdrawn" }]);
    expect((await t.owner("DELETE", `/api/v1/workspaces/${t.id}/invitations/${inv.body.id}`)).body.status).toBe("revoked");
    expect((await actions(t, 1))[0][2].reason).toBe("withdrawn");
    expect((await t.owner("GET", `/api/v1/workspaces/${t.id}/invitations`)).body.data).toEqual([]);
    const accepting = client(srv, { session: await srv.createSession(email) });
    const refused = await accepting("POST", "/api/v1/invitations/accept", { body: { token } });
    expectError(refused, 403, "permission_error", "INVITATION_WITHDRAWN");
    expect(refused.body.error.message).toContain("invite you again");

    // One accepted is a member now: removed as one, not withdrawn.
    const joined = uniqueEmail("joined");
    await teamMember(t, "member", joined);
    const accepted = (await t.owner("GET", `/api/v1/audit-logs?limit=50`)).body.data.find((a: any) => a.action === "member.add" && a.metadata.email === joined);
    const used = await t.owner("DELETE", `/api/v1/workspaces/${t.id}/invitations/${accepted.metadata.invitationId}`);
    expectError(used, 409, "conflict_error", "INVITATION_USED");
    // Another workspace's invitation is not found here.
    const elsewhere = await makeTeam(srv, "Elsewhere");
    expectError(await elsewhere.owner("DELETE", `/api/v1/workspaces/${elsewhere.id}/invitations/${inv.body.id}`), 404, "not_found_error");
  });
});

/** A new address invited to `t`: the invitation, its mailed token, and that person signed in. */
async function invited(t: Team, tag: string, role: "admin" | "member") {
  const email = uniqueEmail(tag);
  const inv = await t.owner("POST", `/api/v1/workspaces/${t.id}/invitations`, { body: { email, role } });
  expect(inv.status).toBe(200);
  const token = /\binv_[A-Za-z0-9_-]+/.exec(outboxLatest(srv.dataDir, email)?.text ?? "")![0];
  return { email, inv, token, me: client(srv, { session: await srv.createSession(email) }) };
}

/** `me` removed from `t` by its owner. */
async function removed(t: Team, me: ReturnType<typeof client>) {
  const userId = (await me("GET", "/api/v1/profile")).body.id;
  expect((await t.owner("DELETE", `/api/v1/workspaces/${t.id}/members/${userId}`)).status).toBe(200);
}

describe("accepting again", () => {
  test("the invitee accepting a second time (a lost answer) gets the same answer, adds nothing; once removed, the used token is refused", async () => {
    const t = await makeTeam(srv, "Accept twice");
    const { email, token, me } = await invited(t, "twice", "member");
    const first = await me("POST", "/api/v1/invitations/accept", { body: { token } });
    expect(first.status).toBe(200);
    const again = await me("POST", "/api/v1/invitations/accept", { body: { token } });
    expect({ status: again.status, body: again.body }).toEqual({ status: 200, body: first.body });
    const adds = (await t.owner("GET", "/api/v1/audit-logs?limit=50&action=member.add")).body.data.filter((a: any) => a.metadata.email === email);
    expect(adds).toHaveLength(1);
    // Someone else with the token, or the invitee once removed: the token is used.
    expectError(await client(srv, { session: await srv.createSession(uniqueEmail("other")) })("POST", "/api/v1/invitations/accept", { body: { token } }), 409, "conflict_error", "INVITATION_USED");
    await removed(t, me);
    expectError(await me("POST", "/api/v1/invitations/accept", { body: { token } }), 409, "conflict_error", "INVITATION_USED");
  });
});

describe("reading an invitation before accepting it", () => {
  test("the invitee reads the workspace, role and sender; anyone else, an API key, a used or withdrawn one is refused as accepting would be", async () => {
    const ownerEmail = uniqueEmail("sender");
    const t = await makeTeam(srv, "Preview Team", ownerEmail);
    const { email, inv, token, me } = await invited(t, "preview", "admin");
    const seen = await me("POST", "/api/v1/invitations/preview", { body: { token } });
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ id: inv.body.id, role: "admin", status: "pending", email, workspace: { id: t.id, name: "Preview Team" }, invitedBy: { email: ownerEmail } });
    const intruder = await client(srv, { session: await srv.createSession(uniqueEmail("nosy")) })("POST", "/api/v1/invitations/preview", { body: { token } });
    expectError(intruder, 403, "permission_error", "WRONG_RECIPIENT");
    expect(intruder.text).not.toContain("Preview Team");
    expectError(await t.owner("POST", "/api/v1/invitations/preview", { body: { token: "inv_nope" } }), 404, "not_found_error");
    // Reading changed nothing: it is still there to accept; once accepted, its invitee reads it as accepted, and
    // anyone else (or the invitee once removed) as used.
    expect((await me("POST", "/api/v1/invitations/accept", { body: { token } })).status).toBe(200);
    expect((await me("POST", "/api/v1/invitations/preview", { body: { token } })).body).toMatchObject({ status: "accepted", workspace: { id: t.id } });
    await removed(t, me);
    expectError(await me("POST", "/api/v1/invitations/preview", { body: { token } }), 409, "conflict_error", "INVITATION_USED");
  });
});

describe("invitation mail is bounded", () => {
  test("a workspace mails an address at most 3 in an hour, a person sends at most 20: then 429 with when to try again; another workspace is not held back; the mail names who sent it", async () => {
    const victim = uniqueEmail("victim");
    const a = await makeTeam(srv, "FREE PRIZE");
    const b = await makeTeam(srv, "Another");
    for (const i of [1, 2, 3]) expect([i, (await a.owner("POST", `/api/v1/workspaces/${a.id}/invitations`, { body: { email: victim } })).status]).toEqual([i, 200]);
    const sender = (await a.owner("GET", "/api/v1/profile")).body;
    const mail = outboxLatest(srv.dataDir, victim)!;
    expect(mail.subject).toBe('You are invited to "FREE PRIZE" on Clanker');
    expect(mail.text).toStartWith(`${sender.name} (${sender.email}) invited you to join the workspace "FREE PRIZE" as member`);
    const fourth = await a.owner("POST", `/api/v1/workspaces/${a.id}/invitations`, { body: { email: victim } });
    expectError(fourth, 429, "rate_limit_error", "RATE_LIMITED");
    expect(fourth.body.error.message).toContain(`${victim} was already invited to this workspace 3 times in the last hour`);
    expect(Number(fourth.headers.get("retry-after"))).toBeGreaterThan(3500);
    expect((await a.owner("GET", "/api/v1/audit-logs?limit=50")).body.data.filter((e: any) => e.action === "invitation.create" && e.metadata.email === victim)).toHaveLength(3);
    // Another workspace's invitations are its own (a stranger's three kept every workspace from inviting that address).
    expect((await b.owner("POST", `/api/v1/workspaces/${b.id}/invitations`, { body: { email: victim } })).status).toBe(200);

    // Sent together, they are counted together.
    const together = uniqueEmail("together");
    const sent = await Promise.all([1, 2, 3, 4, 5].map(() => b.owner("POST", `/api/v1/workspaces/${b.id}/invitations`, { body: { email: together } })));
    expect(sent.map((r) => r.status).sort()).toEqual([200, 200, 200, 429, 429]);

    const busy = await makeTeam(srv, "Busy");
    for (let i = 0; i < 20; i++) expect((await busy.owner("POST", `/api/v1/workspaces/${busy.id}/invitations`, { body: { email: uniqueEmail(`many${i}`) } })).status).toBe(200);
    const twentyFirst = await busy.owner("POST", `/api/v1/workspaces/${busy.id}/invitations`, { body: { email: uniqueEmail("one-more") } });
    expectError(twentyFirst, 429, "rate_limit_error", "RATE_LIMITED");
    expect(twentyFirst.body.error.message).toContain("You sent 20 invitations in the last hour");
  });
});

describe("a key bound to one workspace, naming another", () => {
  test("one its person belongs to (made with this very key, as the spec's walkthrough does) is 403 KEY_BOUND_TO_OTHER_WORKSPACE saying what to do; anyone else's stays a 404", async () => {
    const email = uniqueEmail("walkthrough");
    const key = client(srv, { apiKey: await srv.createKey({ email }) });
    const own = (await key("GET", "/api/v1/workspaces/current")).body.id as string;
    const made = await key("POST", "/api/v1/workspaces", { body: { name: "Second" } });
    expect(made.status).toBe(200);
    const second = made.body.id as string;
    expect((await key("GET", "/api/v1/workspaces?limit=100")).body.data.find((w: any) => w.id === second)).toMatchObject({ role: "owner" });
    for (const [method, path, body] of [
      ["GET", `/api/v1/workspaces/${second}/members`, undefined],
      ["POST", `/api/v1/workspaces/${second}/invitations`, { email: uniqueEmail("invitee"), role: "member" }],
    ] as const) {
      const r = await key(method, path, { body });
      expectError(r, 403, "permission_error", "KEY_BOUND_TO_OTHER_WORKSPACE");
      expect(r.body.error.message).toBe(
        `This API key is bound to workspace ${own} and acts there only. To act in ${second}: move this key there with PUT /api/v1/workspaces/current {"workspace":"${second}"}, use a key made in ${second} (POST /api/v1/api-keys from a session with x-workspace-id: ${second}), or a session with x-workspace-id: ${second}`,
      );
    }
    // A workspace the person is not in: the 404 it always was, saying nothing of why.
    const stranger = await makeTeam(srv, "Strangers");
    const foreign = await key("GET", `/api/v1/workspaces/${stranger.id}/members`);
    expectError(foreign, 404, "not_found_error");
    expect(foreign.body.error.message).toBe(`No workspace found with id '${stranger.id}'`);
    // The advice works: rebound, the key manages the new workspace.
    expect((await key("PUT", "/api/v1/workspaces/current", { body: { workspace: second } })).status).toBe(200);
    expect((await key("GET", `/api/v1/workspaces/${second}/members`)).status).toBe(200);
  });
});
