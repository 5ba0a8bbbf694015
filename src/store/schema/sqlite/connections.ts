// Connections to outside services (connectors and integrations) and OAuth web-flow states.
// Times are epoch milliseconds; ids are integers, prefixed only at the API edge.
import { sqliteTable, integer, text, blob, index, uniqueIndex } from "drizzle-orm/sqlite-core";
import { workspaces } from "./workspaces";

/**
 * A workspace's link to an outside service: a connector (a source a skill reads: github, local, remote) or an
 * integration (a service a skill or workflow acts on: slack, github, email, webhook). Credentials are sealed
 * with the master key (never returned); `account` is what the service says we are (login, team, URL host).
 */
export const connections = sqliteTable(
  "connections",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: integer("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["connector", "integration"] }).notNull(),
    provider: text("provider").notNull(),
    account: text("account"),
    /** Sealed JSON of the credentials ({token}, {url, secret}, …), AAD bound to workspace, kind and provider. */
    ciphertext: blob("ciphertext", { mode: "buffer" }),
    /** Non-secret settings (allowed recipients, default channel, …). */
    settings: text("settings", { mode: "json" }).$type<Record<string, unknown>>(),
    createdByUserId: integer("created_by_user_id"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("connections_ws_kind_provider").on(t.workspaceId, t.kind, t.provider)],
);

/** OAuth web-flow states: single use, bound to the workspace and the person or key that started the flow. */
export const oauthStates = sqliteTable(
  "oauth_states",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    stateHash: text("state_hash").notNull().unique(),
    workspaceId: integer("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: ["connector", "integration"] }).notNull(),
    provider: text("provider").notNull(),
    actorUserId: integer("actor_user_id"),
    actorApiKeyId: integer("actor_api_key_id"),
    expiresAt: integer("expires_at").notNull(),
    usedAt: integer("used_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("oauth_states_expires").on(t.expiresAt)],
);
