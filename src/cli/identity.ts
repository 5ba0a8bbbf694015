// `clanker keys create` and `clanker sessions create`: how a self-hoster (and the tests) get a first credential.
import type { Config } from "../config";
import type { Store } from "../store/db";
import { createUsersService } from "../modules/users/service";
import { systemCtx } from "../lib/context";
import { encodeId } from "../lib/ids";
import { ApiError } from "../lib/errors";
import { normalizeEmail } from "../modules/users/service";
import { KEY_NAME_MAX, mintApiKey } from "../modules/api-keys/service";
import { writeAudit } from "../store/audit";
import { and, count, eq } from "drizzle-orm";
import { apiKeys, memberships, sessions, workspaces } from "../store/schema";
import { ownPersonalWorkspace, SLUG_RE } from "../modules/workspaces/service";
import { reservedSlug } from "../modules/workspaces/insert";
import { issueSession } from "../modules/users/sessions";
import { Failure, usageError } from "./errors";
import { writeSync } from "node:fs";
import { sha256Hex } from "../lib/crypto";
import { keysCreateNextSteps } from "./next-steps";
import { isPlainLine } from "../lib/display-name";

interface Flags {
  name?: string;
  email?: string;
  workspace?: string;
}

function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ApiError) usageError(e.message);
    throw e;
  }
}

export async function runKeysCreate(store: Store, config: Config, flags: Flags): Promise<void> {
  const name = flags.name?.trim();
  if (!name) usageError("keys create needs --name NAME", "clanker keys create --help");
  if (!isPlainLine(name)) usageError("--name must be one line of visible text, without control, invisible or text-direction characters");
  if (name.length > KEY_NAME_MAX) usageError(`--name is ${name.length} characters; a key's name is at most ${KEY_NAME_MAX}`);
  if (flags.workspace !== undefined && !SLUG_RE.test(flags.workspace)) usageError(`--workspace must be a slug (a-z, 0-9, '-'), got '${flags.workspace}'`);
  const users = createUsersService(store);
  const email = flags.email === undefined ? null : guard(() => normalizeEmail(flags.email!));
  // One transaction: a key that cannot be made (not a member of --workspace) leaves no user or workspace behind.
  const { secret, line, keyId, workspaceId } = await store.tx(async () => {
    const { user, created } = await users.ensure({ email });
    if (created) store.afterCommit(() => console.log(`Created user ${encodeId("user", user.id)}${email ? ` (${email})` : ""} with a personal workspace`));
    let ws = flags.workspace
      ? (await store.db.select().from(workspaces).where(eq(workspaces.slug, flags.workspace)))[0]
      : await ownPersonalWorkspace(store, user.id);
    const now = Date.now();
    if (!ws && flags.workspace) {
      const reserved = reservedSlug(flags.workspace);
      if (reserved) usageError(`--workspace ${flags.workspace} would read as ${reserved} in /workspaces/:id paths: name a new workspace with a letter in its slug`);
      [ws] = await store.db.insert(workspaces).values({ name: flags.workspace, slug: flags.workspace, createdByUserId: user.id, createdAt: now }).returning();
      const made = `Created workspace ${flags.workspace} (${encodeId("workspace", ws!.id)})`;
      // Said once it exists: a tx may roll back (or, on PostgreSQL, run again).
      store.afterCommit(() => console.log(made));
    }
    if (!ws) usageError("the user has no personal workspace; pass --workspace SLUG");
    const [member] = await store.db.select().from(memberships).where(and(eq(memberships.workspaceId, ws.id), eq(memberships.userId, user.id)));
    if (!member) {
      if (!flags.workspace || (await store.db.select({ n: count() }).from(memberships).where(eq(memberships.workspaceId, ws.id)))[0]!.n > 0)
        usageError(`${user.email ?? "the owner"} is not a member of workspace '${ws.slug}': an owner or admin of it invites them first (POST /api/v1/workspaces/${encodeId("workspace", ws.id)}/invitations), or leave out --workspace for their own`);
      await store.db.insert(memberships).values({ workspaceId: ws.id, userId: user.id, role: "owner", createdAt: now });
    }
    const { row, secret } = await mintApiKey(store, { workspaceId: ws.id, userId: user.id, name });
    await writeAudit(store, systemCtx(ws.id, "cli"), { action: "api_key.create", resourceType: "api_key", resourceId: encodeId("apiKey", row.id), metadata: { name, via: "cli" } });
    return { secret, keyId: row.id, workspaceId: ws.id, line: `Created API key ${encodeId("apiKey", row.id)} for workspace ${ws.slug} (${encodeId("workspace", ws.id)}).` };
  });
  // The key stays alone on the last line (scripts read it there); what to do with it comes just before.
  await showOnce(`${[...keysCreateNextSteps(config), `${line} It is shown once:`, secret].join("\n")}\n`, "key", () =>
    store.tx(async () => {
      await store.db.update(apiKeys).set({ revokedAt: Date.now() }).where(eq(apiKeys.id, keyId));
      await writeAudit(store, systemCtx(workspaceId, "cli"), { action: "api_key.revoke", resourceType: "api_key", resourceId: encodeId("apiKey", keyId), metadata: { via: "cli", reason: "not shown: stdout could not take it" } });
    }),
  );
}

/**
 * Writes what holds a secret shown once. A stdout that cannot take it (a full disk, a closed pipe) left a working key
 * nobody ever saw, and the command said nothing and exited 0: the secret is revoked, and the command fails saying so.
 */
async function showOnce(text: string, what: string, revoke: () => Promise<unknown>): Promise<void> {
  try {
    writeSync(1, text);
  } catch (e) {
    await revoke();
    throw new Failure(`could not write the ${what} to stdout (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): it was revoked, since nobody could see it; run the command again with stdout to a terminal or a file`);
  }
}

export async function runSessionsCreate(store: Store, rawEmail: string): Promise<void> {
  const users = createUsersService(store);
  const email = guard(() => normalizeEmail(rawEmail));
  const { token, userId } = await store.tx(async () => {
    const { user } = await users.ensure({ email });
    return { token: await issueSession(store, user.id, { requestId: "cli" }, "cli"), userId: user.id };
  });
  await showOnce(`Session for ${email} (${encodeId("user", userId)}); send it as x-auth-token:\n${token}\n`, "session token", () =>
    store.tx(() => store.db.update(sessions).set({ revokedAt: Date.now() }).where(eq(sessions.tokenHash, sha256Hex(token)))),
  );
}
