// Installed skills, secrets (sealed), their bindings to skills, and BYOK keys.
// The PostgreSQL twin of ../sqlite/skills.ts: the same tables, columns, indexes and row types (see ../index.ts).
import { pgTable, bigint, text, index, uniqueIndex } from "drizzle-orm/pg-core";
import { bytea } from "./bytea";
import { workspaces } from "./workspaces";

export const installedSkills = pgTable(
  "installed_skills",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    workspaceId: bigint("workspace_id", { mode: "number" }).notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    slug: text("slug").notNull(),
    installedAt: bigint("installed_at", { mode: "number" }).notNull(),
    /** Set by an uninstall: the row stays, so a list cursor naming the skill still finds its place. */
    uninstalledAt: bigint("uninstalled_at", { mode: "number" }),
  },
  (t) => [uniqueIndex("installed_skills_ws_slug").on(t.workspaceId, t.slug)],
);

/** Values are AES-256-GCM ciphertext (iv ‖ tag ‖ data), bound to the workspace as associated data. */
export const secrets = pgTable(
  "secrets",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    workspaceId: bigint("workspace_id", { mode: "number" }).notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    ciphertext: bytea("ciphertext").notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
  },
  (t) => [uniqueIndex("secrets_ws_name").on(t.workspaceId, t.name), index("secrets_ws").on(t.workspaceId, t.id)],
);

export const skillSecretBindings = pgTable(
  "skill_secret_bindings",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    workspaceId: bigint("workspace_id", { mode: "number" }).notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    skillSlug: text("skill_slug").notNull(),
    secretId: bigint("secret_id", { mode: "number" }).notNull().references(() => secrets.id, { onDelete: "cascade" }),
    envVar: text("env_var").notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
  },
  (t) => [uniqueIndex("bindings_ws_skill_env").on(t.workspaceId, t.skillSlug, t.envVar), index("bindings_secret").on(t.secretId)],
);

export const byokKeys = pgTable("byok_keys", {
  workspaceId: bigint("workspace_id", { mode: "number" }).primaryKey().references(() => workspaces.id, { onDelete: "cascade" }),
  provider: text("provider").notNull(),
  ciphertext: bytea("ciphertext").notNull(),
  last4: text("last4").notNull(),
  createdAt: bigint("created_at", { mode: "number" }).notNull(),
  updatedAt: bigint("updated_at", { mode: "number" }).notNull(),
});
