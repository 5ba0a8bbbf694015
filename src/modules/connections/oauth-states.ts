// OAuth web-flow states: a random single-use value, stored only as a hash, bound to the workspace, the provider
// and the person or key that started the flow, valid 10 minutes. The callback page only looks at it (peek); the
// confirmation consumes it exactly once.
import { and, eq, isNull, lt } from "drizzle-orm";
import type { Ctx } from "../../lib/context";
import { randomToken, sha256Hex } from "../../lib/crypto";
import { InvalidRequestError } from "../../lib/errors";
import type { Store } from "../../store/db";
import { oauthStates } from "../../store/schema";
import type { ConnectionKind } from "./store";

export const OAUTH_STATE_TTL_MS = 10 * 60 * 1000;

export interface ConsumedState {
  workspaceId: number;
  kind: ConnectionKind;
  provider: string;
  actorUserId: number | null;
  actorApiKeyId: number | null;
}

type Row = typeof oauthStates.$inferSelect;

function checked(row: Row | undefined, kind: ConnectionKind, provider: string, now = Date.now()): ConsumedState {
  if (!row) throw new InvalidRequestError("Unknown or already used OAuth state; start connecting again", "state", "OAUTH_STATE_INVALID");
  if (row.expiresAt <= now) throw new InvalidRequestError("This OAuth state has expired (10 minutes); start connecting again", "state", "OAUTH_STATE_EXPIRED");
  return { workspaceId: row.workspaceId, kind, provider, actorUserId: row.actorUserId, actorApiKeyId: row.actorApiKeyId };
}

export function createOAuthStates(store: Store) {
  const db = store.db;
  return {
    /** A new state for ctx's workspace (in its own tx, or a savepoint of the caller's). */
    async issue(ctx: Ctx, kind: ConnectionKind, provider: string): Promise<string> {
      const state = randomToken(24);
      const now = Date.now();
      const a = ctx.actor;
      await store.tx(async () => {
        await db.insert(oauthStates).values({
          stateHash: sha256Hex(state),
          workspaceId: ctx.workspaceId,
          kind,
          provider,
          actorUserId: a.userId,
          actorApiKeyId: a.kind === "apiKey" || a.kind === "agent" ? a.apiKeyId : null,
          expiresAt: now + OAUTH_STATE_TTL_MS,
          createdAt: now,
        });
      });
      return state;
    },

    /** What an unused, unexpired state is bound to, without using it up; otherwise the same 400s as consume. */
    async peek(state: string, kind: ConnectionKind, provider: string): Promise<ConsumedState> {
      const [row] = await db
        .select()
        .from(oauthStates)
        .where(and(eq(oauthStates.stateHash, sha256Hex(state)), isNull(oauthStates.usedAt), eq(oauthStates.kind, kind), eq(oauthStates.provider, provider)));
      return checked(row, kind, provider);
    },

    /** Marks the state used and answers what it was bound to; an unknown, used, expired or other-provider state is a 400. */
    async consume(state: string, kind: ConnectionKind, provider: string): Promise<ConsumedState> {
      const now = Date.now();
      const [row] = await store.tx(async () =>
        db
          .update(oauthStates)
          .set({ usedAt: now })
          .where(and(eq(oauthStates.stateHash, sha256Hex(state)), isNull(oauthStates.usedAt), eq(oauthStates.kind, kind), eq(oauthStates.provider, provider)))
          .returning(),
      );
      return checked(row, kind, provider, now);
    },

    /** Forgets states past their time (run by the scheduler). */
    async prune(now = Date.now()): Promise<number> {
      const gone = await store.tx(async () => db.delete(oauthStates).where(lt(oauthStates.expiresAt, now - OAUTH_STATE_TTL_MS)).returning({ id: oauthStates.id }));
      return gone.length;
    },
  };
}

export type OAuthStates = ReturnType<typeof createOAuthStates>;
