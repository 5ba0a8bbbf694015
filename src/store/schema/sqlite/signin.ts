// Sign-in: mailed one-time codes, device activation, agent registrations and invitations.
// Times are epoch milliseconds; ids are integers, prefixed only at the API edge.
import { sqliteTable, integer, text, index } from "drizzle-orm/sqlite-core";
import { workspaces } from "./workspaces";

/** One-time codes sent by mail (sign-in, agent claims), stored as hashes with an attempt budget. */
export const otpCodes = sqliteTable(
  "otp_codes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    purpose: text("purpose", { enum: ["signin", "agent_claim"] }).notNull(),
    email: text("email").notNull(),
    codeHash: text("code_hash").notNull(),
    subjectId: integer("subject_id"),
    attempts: integer("attempts").notNull().default(0),
    expiresAt: integer("expires_at").notNull(),
    consumedAt: integer("consumed_at"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("otp_lookup").on(t.purpose, t.email, t.id)],
);

export const deviceCodes = sqliteTable("device_codes", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  codeHash: text("code_hash").notNull().unique(),
  status: text("status", { enum: ["pending", "approved", "consumed", "denied"] }).notNull(),
  userId: integer("user_id"),
  workspaceId: integer("workspace_id"),
  lastPolledAt: integer("last_polled_at"),
  expiresAt: integer("expires_at").notNull(),
  createdAt: integer("created_at").notNull(),
});

export const agentRegistrations = sqliteTable("agent_registrations", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  kind: text("kind", { enum: ["anonymous", "identity_assertion"] }).notNull(),
  claimTokenHash: text("claim_token_hash").notNull().unique(),
  email: text("email"),
  status: text("status", { enum: ["pending", "active", "claimed"] }).notNull(),
  apiKeyId: integer("api_key_id"),
  workspaceId: integer("workspace_id"),
  userId: integer("user_id"),
  claimExpiresAt: integer("claim_expires_at").notNull(),
  createdAt: integer("created_at").notNull(),
  claimedAt: integer("claimed_at"),
});

export const invitations = sqliteTable(
  "invitations",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    workspaceId: integer("workspace_id").notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    role: text("role", { enum: ["admin", "member"] }).notNull(),
    tokenHash: text("token_hash").notNull().unique(),
    invitedByUserId: integer("invited_by_user_id"),
    status: text("status", { enum: ["pending", "accepted", "revoked"] }).notNull(),
    expiresAt: integer("expires_at").notNull(),
    createdAt: integer("created_at").notNull(),
    acceptedAt: integer("accepted_at"),
  },
  (t) => [index("invitations_ws").on(t.workspaceId, t.id)],
);

/**
 * OAuth clients that registered themselves (RFC 7591: MCP clients such as desktop apps and IDEs). Public clients:
 * no secret; what binds a code to its client is the exact redirect URI and PKCE.
 */
export const oauthClients = sqliteTable("oauth_clients", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  clientId: text("client_id").notNull().unique(),
  name: text("name").notNull(),
  /** JSON array of the exact redirect URIs registered. */
  redirectUris: text("redirect_uris").notNull(),
  createdAt: integer("created_at").notNull(),
  /** The last authorization a person approved for it; a client never approved is forgotten after a day. */
  lastAuthorizedAt: integer("last_authorized_at"),
});

/** Authorization codes a person approved (stored as keyed hashes), each spent by one token request. */
export const oauthCodes = sqliteTable("oauth_codes", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  codeHash: text("code_hash").notNull().unique(),
  clientId: text("client_id").notNull(),
  userId: integer("user_id").notNull(),
  workspaceId: integer("workspace_id").notNull(),
  redirectUri: text("redirect_uri").notNull(),
  codeChallenge: text("code_challenge").notNull(),
  resource: text("resource"),
  expiresAt: integer("expires_at").notNull(),
  createdAt: integer("created_at").notNull(),
  usedAt: integer("used_at"),
  /** The key the token request minted: revoked if the code is presented again (RFC 6749 §4.1.2). */
  apiKeyId: integer("api_key_id"),
});
