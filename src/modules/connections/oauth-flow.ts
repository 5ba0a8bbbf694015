// Finishing an OAuth web flow, once for connectors and integrations: what a pending state is bound to (for the
// confirmation page), and completing it (consume the state → re-check the starter → exchange the code → save the
// connection sealed and audit it in one transaction).
import { and, eq } from "drizzle-orm";
import { assertRole, type Ctx, type Role } from "../../lib/context";
import { PermissionError } from "../../lib/errors";
import type { Store } from "../../store/db";
import { writeAudit } from "../../store/audit";
import { apiKeys, memberships, users, workspaces } from "../../store/schema";
import type { ConsumedState, OAuthStates } from "./oauth-states";
import type { ConnectionKind, ConnectionStore } from "./store";

/** What the confirmation page names: where the connection will land and who asked for it. */
export interface PendingOAuth {
  workspaceName: string;
  startedBy: string;
  viaApiKey: boolean;
}

export interface Obtained {
  account: string | null;
  credentials: Record<string, string> | null;
  settings?: Record<string, unknown>;
}

export interface CompleteInput {
  kind: ConnectionKind;
  provider: string;
  state: string;
  code: string;
  /** The user whose session cookie the confirming browser carries, if any. */
  signedInUserId: number | null;
  requestId: string;
  ip?: string | null;
  userAgent?: string | null;
  /** The provider's half: trades the code for credentials, acting for ctx (the starter, re-checked). */
  exchange: (ctx: Ctx) => Promise<Obtained>;
}

/** What the confirming browser posts back, and who it is signed in as (from its session cookie, if any). */
export interface OAuthConfirmation {
  state: string;
  code: string;
  signedInUserId: number | null;
}

export interface OAuthCallbackMeta {
  baseUrl: string;
  requestId: string;
  ip?: string | null;
  userAgent?: string | null;
}

/** What the connectors and integrations services each offer the one callback route helper. */
export interface OAuthCallbacks {
  /** A name to show, even for an id this server does not know (the error page still says what failed). */
  serviceName(id: string): string;
  pending(id: string, state: string, signedInUserId: number | null): Promise<PendingOAuth & { service: string }>;
  complete(id: string, input: OAuthConfirmation, meta: OAuthCallbackMeta): Promise<{ service: string; account: string | null }>;
}

const what = (kind: ConnectionKind) => (kind === "connector" ? "connect connectors" : "connect integrations");

export function createOAuthFlow(d: { store: Store; oauthStates: OAuthStates; connections: ConnectionStore }) {
  const { store, oauthStates, connections } = d;
  const db = store.db;

  /** A browser signed in as someone else must not finish another person's flow (their token would land in the starter's workspace). */
  function assertSameBrowserUser(s: { actorUserId: number | null }, signedInUserId: number | null): void {
    if (signedInUserId !== null && s.actorUserId !== signedInUserId)
      throw new PermissionError("This browser is signed in as someone other than the person who started connecting; sign out or start connecting yourself", "OAUTH_OTHER_USER");
  }

  /**
   * The starter as they are now, not as they were when the flow began: still a member, still owner or admin,
   * and the key they used not revoked. Runs again inside the saving transaction.
   */
  async function starterCtx(s: ConsumedState, meta: { requestId: string; ip?: string | null; userAgent?: string | null }): Promise<Ctx> {
    if (s.actorUserId === null) throw new PermissionError("This connection was started by no person", "ROLE_REQUIRED");
    const actorUserId = s.actorUserId;
    const [m] = await db
      .select({ role: memberships.role })
      .from(memberships)
      .where(and(eq(memberships.workspaceId, s.workspaceId), eq(memberships.userId, actorUserId)));
    if (!m) throw new PermissionError("The person who started connecting is no longer in this workspace", "ROLE_REQUIRED");
    if (s.actorApiKeyId !== null) {
      const [k] = await db.select({ revokedAt: apiKeys.revokedAt, workspaceId: apiKeys.workspaceId }).from(apiKeys).where(eq(apiKeys.id, s.actorApiKeyId));
      if (!k || k.revokedAt !== null || k.workspaceId !== s.workspaceId) throw new PermissionError("The API key that started connecting has been revoked", "KEY_REVOKED");
    }
    const ctx: Ctx = {
      workspaceId: s.workspaceId,
      actor: s.actorApiKeyId !== null ? { kind: "apiKey", userId: actorUserId, apiKeyId: s.actorApiKeyId } : { kind: "user", userId: actorUserId },
      role: m.role as Role,
      requestId: meta.requestId,
      ip: meta.ip,
      userAgent: meta.userAgent,
    };
    assertRole(ctx, "admin", what(s.kind));
    return ctx;
  }

  return {
    /** For the confirmation page: refuses an unknown, used or expired state and a browser signed in as someone else; consumes nothing. */
    async pending(kind: ConnectionKind, provider: string, state: string, signedInUserId: number | null): Promise<PendingOAuth> {
      const s = await oauthStates.peek(state, kind, provider);
      assertSameBrowserUser(s, signedInUserId);
      const [ws] = await db.select({ name: workspaces.name }).from(workspaces).where(eq(workspaces.id, s.workspaceId));
      const [u] = s.actorUserId === null ? [] : await db.select({ name: users.name, email: users.email }).from(users).where(eq(users.id, s.actorUserId));
      const who = u ? (u.email && u.email !== u.name ? `${u.name} <${u.email}>` : u.name) : "an agent";
      return { workspaceName: ws?.name ?? "(deleted workspace)", startedBy: who, viaApiKey: s.actorApiKeyId !== null };
    },

    /** The confirmed callback: the state is used up here, whatever follows. Answers the saved account. */
    async complete(input: CompleteInput): Promise<{ account: string | null; workspaceId: number }> {
      const s = await oauthStates.consume(input.state, input.kind, input.provider);
      assertSameBrowserUser(s, input.signedInUserId);
      const ctx = await starterCtx(s, input);
      // The provider's exchange is network: outside any transaction.
      const got = await input.exchange(ctx);
      await store.tx(async () => {
        // Checked again: the starter may have been demoted or their key revoked while the provider answered.
        const now = await starterCtx(s, input);
        await connections.save(s.workspaceId, input.kind, input.provider, { account: got.account, credentials: got.credentials, settings: got.settings, userId: s.actorUserId });
        await writeAudit(store, now, { action: `${input.kind}.connect`, resourceType: input.kind, resourceId: input.provider, metadata: { account: got.account, via: "oauth" } });
      });
      return { account: got.account, workspaceId: s.workspaceId };
    },
  };
}

export type OAuthFlow = ReturnType<typeof createOAuthFlow>;
