// A workspace's connections to outside services (connectors and integrations alike): one row per provider,
// credentials sealed with the master key and bound to workspace, kind and provider, never returned. Callers
// audit in the same transaction (save/remove are for use inside the caller's store.tx).
import { and, eq } from "drizzle-orm";
import type { SecretBox } from "../../lib/secret-box";
import type { Store } from "../../store/db";
import { connections } from "../../store/schema";

export type ConnectionKind = "connector" | "integration";

export interface Connection {
  id: number;
  provider: string;
  account: string | null;
  credentials: Record<string, string> | null;
  settings: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

const aadOf = (workspaceId: number, kind: ConnectionKind, provider: string) => `connection:ws:${workspaceId}:${kind}:${provider}`;

export function createConnectionStore(store: Store, box: SecretBox) {
  const db = store.db;
  const where = (workspaceId: number, kind: ConnectionKind, provider: string) =>
    and(eq(connections.workspaceId, workspaceId), eq(connections.kind, kind), eq(connections.provider, provider));

  return {
    async get(workspaceId: number, kind: ConnectionKind, provider: string): Promise<Connection | null> {
      const [row] = await db.select().from(connections).where(where(workspaceId, kind, provider));
      if (!row) return null;
      return {
        id: row.id,
        provider: row.provider,
        account: row.account,
        credentials: row.ciphertext ? (JSON.parse(box.open(row.ciphertext, aadOf(workspaceId, kind, provider))) as Record<string, string>) : null,
        settings: row.settings ?? {},
        createdAt: row.createdAt,
        updatedAt: row.updatedAt,
      };
    },

    /** Every connection of a kind in a workspace, without credentials (for listings). */
    list(workspaceId: number, kind: ConnectionKind): Promise<{ provider: string; account: string | null; createdAt: number; updatedAt: number }[]> {
      return db
        .select({ provider: connections.provider, account: connections.account, createdAt: connections.createdAt, updatedAt: connections.updatedAt })
        .from(connections)
        .where(and(eq(connections.workspaceId, workspaceId), eq(connections.kind, kind)));
    },

    /** Creates or replaces the workspace's connection to this provider. */
    async save(
      workspaceId: number,
      kind: ConnectionKind,
      provider: string,
      c: { account: string | null; credentials: Record<string, string> | null; settings?: Record<string, unknown>; userId: number | null },
    ): Promise<void> {
      const now = Date.now();
      const ciphertext = c.credentials ? box.seal(JSON.stringify(c.credentials), aadOf(workspaceId, kind, provider)) : null;
      const values = { account: c.account, ciphertext, settings: c.settings ?? {}, updatedAt: now };
      await db
        .insert(connections)
        .values({ workspaceId, kind, provider, ...values, createdByUserId: c.userId, createdAt: now })
        .onConflictDoUpdate({ target: [connections.workspaceId, connections.kind, connections.provider], set: values });
    },

    /** Forgets the connection and its credentials; whether there was one. */
    async remove(workspaceId: number, kind: ConnectionKind, provider: string): Promise<boolean> {
      return (await db.delete(connections).where(where(workspaceId, kind, provider)).returning({ id: connections.id })).length > 0;
    },
  };
}

export type ConnectionStore = ReturnType<typeof createConnectionStore>;
