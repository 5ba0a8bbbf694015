// Installed skills, secrets (sealed), their bindings to skills, and BYOK keys.
// Times are epoch milliseconds; ids are integers, prefixed only at the API edge.
import { sqliteTable, integer, text, blob, index, uniqueIndex } from "drizzle-orm/sqlite-core";
import { workspaces } from "./workspaces";

export const installedSkills = sqliteTable(
  "installed_skills",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: integer("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    slug: text("slug").notNull(),
    installedAt: integer("installed_at").notNull(),
    /** Set by an uninstall: the row stays, so a list cursor naming the skill still finds its place. */
    uninstalledAt: integer("uninstalled_at"),
  },
  (t) => [uniqueIndex("installed_skills_ws_slug").on(t.workspaceId, t.slug)],
);

/** Values are AES-256-GCM ciphertext (iv ‖ tag ‖ data), bound to the workspace as associated data. */
export const secrets = sqliteTable(
  "secrets",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: integer("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    ciphertext: blob("ciphertext", { mode: "buffer" }).notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("secrets_ws_name").on(t.workspaceId, t.name), index("secrets_ws").on(t.workspaceId, t.id)],
);

export const skillSecretBindings = sqliteTable(
  "skill_secret_bindings",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: integer("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    skillSlug: text("skill_slug").notNull(),
    secretId: integer("secret_id").notNull().references(() => secrets.id, { onDelete: "cascade" }),
    envVar: text("env_var").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("bindings_ws_skill_env").on(t.workspaceId, t.skillSlug, t.envVar), index("bindings_secret").on(t.secretId)],
);

export const byokKeys = sqliteTable("byok_keys", {
  workspaceId: integer("workspace_id").primaryKey().references(() => workspaces.id, { onDelete: "cascade" }),
  provider: text("provider").notNull(),
  ciphertext: blob("ciphertext", { mode: "buffer" }).notNull(),
  last4: text("last4").notNull(),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});
