// Agent registration, after the public auth.md protocol: an anonymous agent gets a working key at once on a
// limited tier and a claim token; an agent asserting an email gets its key once the emailed code is confirmed.
// Claim tokens and codes are stored only as hashes.
import { and, eq, lt } from "drizzle-orm";
import { ConflictError, InvalidRequestError, PermissionError } from "../../lib/errors";
import { encodeId } from "../../lib/ids";
import { randomToken, sha256Hex } from "../../lib/crypto";
import { systemCtx, type Caller } from "../../lib/context";
// Scopes are enforced on every service verb (lib/scopes.ts); registration answers only report them.
import { ALL_SCOPES as POST_CLAIM_SCOPES, PRE_CLAIM_SCOPES } from "../../lib/scopes";
import { toIso } from "../../lib/clock";
import type { Store } from "../../store/db";
import { writeAudit } from "../../store/audit";
import { agentRegistrations, apiKeys, memberships, workspaces } from "../../store/schema";
import { mintApiKey } from "../api-keys/service";
import type { BillingService } from "../billing/service";
import { normalizeEmail, type UsersService } from "../users/service";
import { ownPersonalWorkspace, type KeyCache } from "../workspaces/service";
import type { Mailer } from "./mailer";
import { OTP_TTL_MS, type OtpService } from "./otp";
import { deliver } from "./service";

export const CLAIM_TTL_MS = 7 * 24 * 3600 * 1000;
export const ANONYMOUS_TIER = "anonymous";

export interface RegisterInput {
  type: "anonymous" | "identity_assertion";
  assertion_type?: "email" | "verified_email";
  email?: string;
  assertion?: string;
}

type Registration = typeof agentRegistrations.$inferSelect;

export function createAgentsService(d: { store: Store; users: UsersService; otp: OtpService; mailer: Mailer; billing: BillingService; keyCache: KeyCache; anonymousAgents: boolean; anonymousGrant: number }) {
  const { store, users, otp, mailer, billing } = d;
  const db = store.db;

  async function byToken(token: string): Promise<Registration> {
    const [r] = await db.select().from(agentRegistrations).where(eq(agentRegistrations.claimTokenHash, sha256Hex(token)));
    if (!r) throw new InvalidRequestError("Unknown claim token", "claim_token", "claim_invalid");
    if (r.status === "claimed") throw new ConflictError("This registration was already claimed", "previously_claimed");
    if (r.claimExpiresAt <= Date.now()) throw new InvalidRequestError("This claim token has expired; register again", "claim_token", "claim_expired");
    return r;
  }

  // mailBase: null when the server cannot name itself safely (see mailBaseUrl); never the client's Host.
  async function sendClaimCode(r: Registration, email: string, mailBase: string | null) {
    await otp.mail("agent_claim", email, r.id, (code) =>
      deliver(mailer, {
        to: email,
        subject: `Your Clanker agent claim code: ${code}`,
        text: `An agent asked to be linked to your Clanker account${mailBase ? ` at ${mailBase}` : ""}.\nIts code is ${code} (valid 10 minutes). Give it to the agent only if you started this.`,
      }),
    );
  }

  return {
    /** Forgets registrations by address a day past their claim's expiry, never claimed (run by the scheduler): they hold no key. */
    async prune(now = Date.now()): Promise<void> {
      await store.tx(async () => {
        await db
          .delete(agentRegistrations)
          .where(and(eq(agentRegistrations.kind, "identity_assertion"), eq(agentRegistrations.status, "pending"), lt(agentRegistrations.claimExpiresAt, now - 24 * 3600 * 1000)));
      });
    },

    async register(input: RegisterInput, base: string, mailBase: string | null, caller: Caller) {
      const claimToken = `clk_claim_${randomToken(24)}`;
      const now = Date.now();
      const common = { claim_token: claimToken, claim_token_expires: toIso(now + CLAIM_TTL_MS)!, post_claim_scopes: POST_CLAIM_SCOPES };
      if (input.type === "anonymous") {
        if (!d.anonymousAgents)
          throw new PermissionError(
            `Anonymous agent registration is off on this server. Get a key instead: register with {"type":"identity_assertion","assertion_type":"email","email":"<your person's address>"}, ` +
              `use device activation (POST ${base}/api/v1/activate), or ask the server's owner for an API key. See ${base}/auth.md.`,
            "ANONYMOUS_DISABLED",
          );
        const out = await store.tx(async () => {
          const [ws] = await db
            .insert(workspaces)
            .values({ name: "Agent workspace", slug: `agent-${randomToken(6).toLowerCase().replace(/[^a-z0-9]/g, "x")}`, personal: false, createdAt: now })
            .returning();
          await billing.account(ws!.id, { tier: ANONYMOUS_TIER, grantCredits: d.anonymousGrant });
          const { row: key, secret } = await mintApiKey(store, { workspaceId: ws!.id, userId: null, name: "Anonymous agent" });
          const [reg] = await db
            .insert(agentRegistrations)
            .values({ kind: "anonymous", claimTokenHash: sha256Hex(claimToken), status: "active", apiKeyId: key.id, workspaceId: ws!.id, claimExpiresAt: now + CLAIM_TTL_MS, createdAt: now })
            .returning();
          await writeAudit(store, { ...systemCtx(ws!.id), ...caller }, { action: "agent.register", resourceType: "agent_registration", resourceId: encodeId("registration", reg!.id), metadata: { type: "anonymous" } });
          return { reg: reg!, secret, ws: ws! };
        });
        return {
          registration_id: encodeId("registration", out.reg.id),
          type: "anonymous" as const,
          status: "active" as const,
          credential: out.secret,
          credential_type: "api_key",
          tier: ANONYMOUS_TIER,
          scopes: PRE_CLAIM_SCOPES,
          workspace_id: encodeId("workspace", out.ws.id),
          claim_uri: `${base}/agent/auth/claim`,
          ...common,
        };
      }
      if (input.assertion_type !== "email" && input.assertion_type !== "verified_email")
        throw new InvalidRequestError("assertion_type must be 'email' or 'verified_email'", "assertion_type");
      const raw = input.email ?? input.assertion;
      if (!raw) throw new InvalidRequestError("Give the address in email (or assertion)", "email");
      const email = normalizeEmail(raw);
      const [reg] = await store.tx(() =>
        db.insert(agentRegistrations).values({ kind: "identity_assertion", claimTokenHash: sha256Hex(claimToken), email, status: "pending", claimExpiresAt: now + CLAIM_TTL_MS, createdAt: now }).returning(),
      );
      try {
        await sendClaimCode(reg!, email, mailBase);
      } catch (e) {
        // No code went out (refused by the address's budget, or the mail failed): a registration nobody can claim is
        // not kept, or each refused request left a row behind. One whose mail may still arrive is kept (pruned if never claimed).
        if (!(e as { stillSending?: unknown }).stillSending) await store.tx(() => db.delete(agentRegistrations).where(eq(agentRegistrations.id, reg!.id)));
        throw e;
      }
      return {
        registration_id: encodeId("registration", reg!.id),
        type: "identity_assertion" as const,
        status: "pending" as const,
        email,
        claim_uri: `${base}/agent/auth/claim/complete`,
        otp_expires_in: OTP_TTL_MS / 1000,
        ...common,
      };
    },

    /** Anonymous agents: mail a code to the person who will own this agent. */
    async claim(input: { claim_token: string; email?: string }, base: string, mailBase: string | null) {
      const r = await byToken(input.claim_token);
      const email = input.email ? normalizeEmail(input.email) : r.email;
      if (!email) throw new InvalidRequestError("Give the email of the person claiming this agent", "email");
      if (r.kind === "identity_assertion" && email !== r.email) throw new InvalidRequestError("This registration is for another address", "email");
      if (r.email !== email)
        await store.tx(async () => {
          await db.update(agentRegistrations).set({ email }).where(eq(agentRegistrations.id, r.id));
        });
      await sendClaimCode(r, email, mailBase);
      return { status: "otp_sent" as const, email, otp_expires_in: OTP_TTL_MS / 1000, claim_complete_uri: `${base}/agent/auth/claim/complete` };
    },

    /** The emailed code binds the agent to that person: an anonymous one in its own workspace, now theirs. */
    async complete(input: { claim_token: string; otp: string }, caller: Caller) {
      const r = await byToken(input.claim_token);
      if (!r.email) throw new InvalidRequestError("Ask for a code first (POST /agent/auth/claim)", "claim_token", "otp_invalid");
      // Its own transaction: a wrong code uses up a try; a right one is spent, so only one claim gets past here.
      await otp.verify("agent_claim", r.email, input.otp, r.id);
      return store.tx(async () => {
        const { user } = await users.ensure({ email: r.email });
        let workspaceId = (await ownPersonalWorkspace(store, user.id))!.id;
        let credential: string | null = null;
        let keyId = r.apiKeyId;
        if (r.kind === "anonymous") {
          // The agent keeps its key and its workspace, now this person's: its runs, memory and artifacts stay where
          // it works (a run it is polling, an MCP session it holds), and the person finds the workspace among theirs.
          workspaceId = r.workspaceId!;
          await db.insert(memberships).values({ workspaceId, userId: user.id, role: "owner", createdAt: Date.now() }).onConflictDoNothing();
          const [key] = await db.update(apiKeys).set({ userId: user.id }).where(eq(apiKeys.id, r.apiKeyId!)).returning();
          const hash = key!.keyHash;
          d.keyCache.forgetKey(hash);
          // Again once committed: a reader between the eviction and the COMMIT may have cached the old binding.
          store.afterCommit(() => d.keyCache.forgetKey(hash));
          await billing.setTier(r.workspaceId!, "paygmode");
        } else {
          const minted = await mintApiKey(store, { workspaceId, userId: user.id, name: "Agent (email assertion)" });
          credential = minted.secret;
          keyId = minted.row.id;
        }
        await db.update(agentRegistrations).set({ status: "claimed", userId: user.id, apiKeyId: keyId, workspaceId, claimedAt: Date.now() }).where(eq(agentRegistrations.id, r.id));
        await writeAudit(store, { ...caller, workspaceId, actor: { kind: "user", userId: user.id }, role: "owner" }, {
          action: "agent.claim",
          resourceType: "agent_registration",
          resourceId: encodeId("registration", r.id),
          metadata: { type: r.kind, apiKeyId: keyId ? encodeId("apiKey", keyId) : null },
        });
        return {
          registration_id: encodeId("registration", r.id),
          status: "claimed" as const,
          ...(credential ? { credential, credential_type: "api_key" } : {}),
          api_key_id: keyId ? encodeId("apiKey", keyId) : null,
          user_id: encodeId("user", user.id),
          workspace_id: encodeId("workspace", workspaceId),
          scopes: POST_CLAIM_SCOPES,
        };
      });
    },
  };
}

export type AgentsService = ReturnType<typeof createAgentsService>;
