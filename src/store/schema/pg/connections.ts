// Connections to outside services (connectors and integrations) and OAuth web-flow states.
// The PostgreSQL twin of ../sqlite/connections.ts: the same tables, columns, indexes and row types (see ../index.ts).
import { pgTable, bigint, text, json, index, uniqueIndex } from "drizzle-orm/pg-core";
import { bytea } from "./bytea";
import { workspaces } from "./workspaces";

/**
 * A workspace's link to an outside service: a connector (a source a skill reads: github, local, remote) or an
 * integration (a service a skill or workflow acts on: slack, github, email, webhook). Credentials are sealed
 * with the master key (never returned); `account` is what the service says we are (login, team, URL host).
 */
export const connections = pgTable(
  "connections",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    workspaceId: bigint("workspace_id", { mode: "number" }).notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["connector", "integration"] }).notNull(),
    provider: text("provider").notNull(),
    account: text("account"),
    /** Sealed JSON of the credentials ({token}, {url, secret}, …), AAD bound to workspace, kind and provider. */
    ciphertext: bytea("ciphertext"),
    /** Non-secret settings (allowed recipients, default channel, …). */
    settings: json("settings").$type<Record<string, unknown>>(),
    createdByUserId: bigint("created_by_user_id", { mode: "number" }),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
  },
  (t) => [uniqueIndex("connections_ws_kind_provider").on(t.workspaceId, t.kind, t.provider)],
);

/** OAuth web-flow states: single use, bound to the workspace and the person or key that started the flow. */
export const oauthStates = pgTable(
  "oauth_states",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    stateHash: text("state_hash").notNull().unique(),
    workspaceId: bigint("workspace_id", { mode: "number" }).notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["connector", "integration"] }).notNull(),
    provider: text("provider").notNull(),
    actorUserId: bigint("actor_user_id", { mode: "number" }),
    actorApiKeyId: bigint("actor_api_key_id", { mode: "number" }),
    expiresAt: bigint("expires_at", { mode: "number" }).notNull(),
    usedAt: bigint("used_at", { mode: "number" }),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
  },
  (t) => [index("oauth_states_expires").on(t.expiresAt)],
);
