// Sign-in: mailed one-time codes, device activation, agent registrations and invitations.
// The PostgreSQL twin of ../sqlite/signin.ts: the same tables, columns, indexes and row types (see ../index.ts).
import { pgTable, bigint, text, index } from "drizzle-orm/pg-core";
import { workspaces } from "./workspaces";

/** One-time codes sent by mail (sign-in, agent claims), stored as hashes with an attempt budget. */
export const otpCodes = pgTable(
  "otp_codes",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    purpose: text("purpose", { enum: ["signin", "agent_claim"] }).notNull(),
    email: text("email").notNull(),
    codeHash: text("code_hash").notNull(),
    subjectId: bigint("subject_id", { mode: "number" }),
    attempts: bigint("attempts", { mode: "number" }).notNull().default(0),
    expiresAt: bigint("expires_at", { mode: "number" }).notNull(),
    consumedAt: bigint("consumed_at", { mode: "number" }),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
  },
  (t) => [index("otp_lookup").on(t.purpose, t.email, t.id)],
);

export const deviceCodes = pgTable("device_codes", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
  codeHash: text("code_hash").notNull().unique(),
  status: text("status", { enum: ["pending", "approved", "consumed", "denied"] }).notNull(),
  userId: bigint("user_id", { mode: "number" }),
  workspaceId: bigint("workspace_id", { mode: "number" }),
  lastPolledAt: bigint("last_polled_at", { mode: "number" }),
  expiresAt: bigint("expires_at", { mode: "number" }).notNull(),
  createdAt: bigint("created_at", { mode: "number" }).notNull(),
});

export const agentRegistrations = pgTable("agent_registrations", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
  kind: text("kind", { enum: ["anonymous", "identity_assertion"] }).notNull(),
  claimTokenHash: text("claim_token_hash").notNull().unique(),
  email: text("email"),
  status: text("status", { enum: ["pending", "active", "claimed"] }).notNull(),
  apiKeyId: bigint("api_key_id", { mode: "number" }),
  workspaceId: bigint("workspace_id", { mode: "number" }),
  userId: bigint("user_id", { mode: "number" }),
  claimExpiresAt: bigint("claim_expires_at", { mode: "number" }).notNull(),
  createdAt: bigint("created_at", { mode: "number" }).notNull(),
  claimedAt: bigint("claimed_at", { mode: "number" }),
});

export const invitations = pgTable(
  "invitations",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    workspaceId: bigint("workspace_id", { mode: "number" }).notNull().references(() => workspaces.id, { onDelete: "cascade" }),
    email: text("email").notNull(),
    role: text("role", { enum: ["admin", "member"] }).notNull(),
    tokenHash: text("token_hash").notNull().unique(),
    invitedByUserId: bigint("invited_by_user_id", { mode: "number" }),
    status: text("status", { enum: ["pending", "accepted", "revoked"] }).notNull(),
    expiresAt: bigint("expires_at", { mode: "number" }).notNull(),
    createdAt: bigint("created_at", { mode: "number" }).notNull(),
    acceptedAt: bigint("accepted_at", { mode: "number" }),
  },
  (t) => [index("invitations_ws").on(t.workspaceId, t.id)],
);

/**
 * OAuth clients that registered themselves (RFC 7591: MCP clients such as desktop apps and IDEs). Public clients:
 * no secret; what binds a code to its client is the exact redirect URI and PKCE.
 */
export const oauthClients = pgTable("oauth_clients", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
  clientId: text("client_id").notNull().unique(),
  name: text("name").notNull(),
  /** JSON array of the exact redirect URIs registered. */
  redirectUris: text("redirect_uris").notNull(),
  createdAt: bigint("created_at", { mode: "number" }).notNull(),
  /** The last authorization a person approved for it; a client never approved is forgotten after a day. */
  lastAuthorizedAt: bigint("last_authorized_at", { mode: "number" }),
});

/** Authorization codes a person approved (stored as keyed hashes), each spent by one token request. */
export const oauthCodes = pgTable("oauth_codes", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
  codeHash: text("code_hash").notNull().unique(),
  clientId: text("client_id").notNull(),
  userId: bigint("user_id", { mode: "number" }).notNull(),
  workspaceId: bigint("workspace_id", { mode: "number" }).notNull(),
  redirectUri: text("redirect_uri").notNull(),
  codeChallenge: text("code_challenge").notNull(),
  resource: text("resource"),
  expiresAt: bigint("expires_at", { mode: "number" }).notNull(),
  createdAt: bigint("created_at", { mode: "number" }).notNull(),
  usedAt: bigint("used_at", { mode: "number" }),
  /** The key the token request minted: revoked if the code is presented again (RFC 6749 §4.1.2). */
  apiKeyId: bigint("api_key_id", { mode: "number" }),
});
