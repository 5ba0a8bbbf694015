// Team fixture: an owner's team workspace, and people who join it by mailed invitation with a role.
import { expect } from "bun:test";
import { client, uniqueEmail, type TestServer } from "./server";
import { outboxLatest } from "./mail";

type Call = ReturnType<typeof client>;

export interface Team {
  srv: TestServer;
  /** ws_…: the team workspace. */
  id: string;
  ownerSession: string;
  /** Its owner, acting in the team. */
  owner: Call;
}

/** A new owner session and a workspace named `name` that it owns. */
export async function makeTeam(srv: TestServer, name = "Team", ownerEmail = uniqueEmail("owner")): Promise<Team> {
  const ownerSession = await srv.createSession(ownerEmail);
  const made = await client(srv, { session: ownerSession })("POST", "/api/v1/workspaces", { body: { name } });
  expect(made.status).toBe(200);
  return { srv, id: made.body.id, ownerSession, owner: client(srv, { session: ownerSession, workspace: made.body.id }) };
}

/** The owner invites `email` with `role`; that person accepts. `mailText` reads the invitation (default: the outbox). Returns their session. */
export async function joinTeam(t: Team, email: string, role: "admin" | "member", mailText?: (email: string) => Promise<string>): Promise<string> {
  const inv = await t.owner("POST", `/api/v1/workspaces/${t.id}/invitations`, { body: { email, role } });
  expect(inv.status).toBe(200);
  const text = mailText ? await mailText(email) : (outboxLatest(t.srv.dataDir, email)?.text ?? "");
  const token = /\binv_[A-Za-z0-9_-]+/.exec(text)?.[0];
  expect(token).toBeTruthy();
  const session = await t.srv.createSession(email);
  const acc = await client(t.srv, { session })("POST", "/api/v1/invitations/accept", { body: { token } });
  expect(acc.status).toBe(200);
  expect(acc.body).toMatchObject({ id: t.id, role });
  return session;
}

/** A member (or admin) who joined the team, as a client acting in it. */
export async function teamMember(t: Team, role: "admin" | "member" = "member", email = uniqueEmail(role)): Promise<{ session: string; call: Call }> {
  const session = await joinTeam(t, email, role);
  return { session, call: client(t.srv, { session, workspace: t.id }) };
}
