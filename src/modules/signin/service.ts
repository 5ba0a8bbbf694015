// People sign in with an emailed one-time code and get a session (x-auth-token, and a cookie for the pages).
// The first person to sign in on an empty server owns it.
import { and, eq } from "drizzle-orm";
import type { Caller, Ctx } from "../../lib/context";
import { ApiError, InvalidRequestError } from "../../lib/errors";
import { encodeId } from "../../lib/ids";
import { sha256Hex } from "../../lib/crypto";
import { toIso } from "../../lib/clock";
import type { Store } from "../../store/db";
import { writeAudit } from "../../store/audit";
import { sessions } from "../../store/schema";
import { issueSession, SESSION_TTL_MS } from "../users/sessions";
import { normalizeEmail, type UsersService } from "../users/service";
import { MailError, type Mailer } from "./mailer";
import { storeUnavailable } from "../../http/errors";
import { OTP_TTL_MS, type OtpService } from "./otp";

export const SESSION_COOKIE = "clanker_session";

export async function deliver(mailer: Mailer, mail: Parameters<Mailer["send"]>[0]): Promise<void> {
  try {
    await mailer.send(mail);
  } catch (e) {
    // The outbox on a full or read-only disk: the store's failure (503, retry later), not the mail's.
    const down = storeUnavailable(e);
    if (down) throw down;
    if (e instanceof MailError && e.recipientRefused)
      throw new InvalidRequestError(`The mail server refused ${mail.to} (SMTP ${e.responseCode}): check the address, or use another`, "email", "EMAIL_REFUSED");
    // The mailer's own words only (it logged the cause): anything else thrown is not said to a client at all.
    const why = e instanceof MailError ? e.message : "the server's log says why";
    // The mail server is a service outside this one, unable to take the mail now: 503 (retry later), not a bug's 500.
    // What may still go out travels on (see otp.mail): a code mailed late is made valid when its mail has gone.
    const failed = new ApiError("overloaded_error", `Could not send mail to ${mail.to}: ${why}. Retry in a minute; if it goes on, the server's operator should check CLANKER_SMTP_URL`, { code: "MAIL_FAILED", headers: { "retry-after": "30" } });
    throw Object.assign(failed, { stillSending: e instanceof MailError ? e.stillSending : undefined });
  }
}

/**
 * `adoptLocalOwner`: whether the first address to sign in becomes the local owner that `clanker mcp` (no key) or
 * `clanker keys create` (no --email) made without one. Only on a server bound to loopback, where whoever signs in
 * first could already have owned an empty server; bound elsewhere, a stranger signing in first must not take over the
 * operator's local account.
 */
export function createSigninService(
  store: Store,
  users: UsersService,
  otp: OtpService,
  mailer: Mailer,
  adoptLocalOwner: boolean,
  auth: { forgetUser(userId: number): void; sessionEnded(): void },
) {
  return {
    /** `base` is null when the server cannot name itself safely (see mailBaseUrl): the mail then has no link. */
    async start(rawEmail: string, base: string | null) {
      const email = normalizeEmail(rawEmail);
      await otp.mail("signin", email, null, (code) =>
        deliver(mailer, {
          to: email,
          subject: `Your Clanker sign-in code: ${code}`,
          text: `Your code to sign in to Clanker${base ? ` at ${base}` : ""} is ${code}.\nIt expires in 10 minutes. If you did not ask for it, ignore this message.`,
        }),
      );
      return { sent: true, email, expires_in: OTP_TTL_MS / 1000 };
    },

    async verify(rawEmail: string, code: string, caller: Caller) {
      const email = normalizeEmail(rawEmail);
      // Its own transaction, committed before the session's: a wrong code uses up a try even though this throws.
      await otp.verify("signin", email, code);
      return store.tx(async () => {
        const adopted = adoptLocalOwner ? await users.adoptLocalOwner(email) : null;
        // The local owner's row (no address) is cached for its keys: it has one now.
        if (adopted) store.afterCommit(() => auth.forgetUser(adopted.user.id));
        const { user, created } = adopted ?? (await users.ensure({ email }));
        const token = await issueSession(store, user.id, caller, "email");
        const owner = await users.owner();
        return {
          token,
          expires_at: toIso(Date.now() + SESSION_TTL_MS)!,
          user: { id: encodeId("user", user.id), email: user.email, name: user.name, created, serverOwner: owner?.id === user.id },
        };
      });
    },

    async logout(ctx: Ctx, token: string | null) {
      if (ctx.actor.kind !== "user" || !token) return { signedOut: false };
      await store.tx(async () => {
        await store.db.update(sessions).set({ revokedAt: Date.now() }).where(and(eq(sessions.tokenHash, sha256Hex(token)), eq(sessions.userId, ctx.actor.userId!)));
        await writeAudit(store, ctx, { action: "session.revoke", resourceType: "session", resourceId: ctx.actor.kind === "user" && ctx.actor.sessionId ? encodeId("session", ctx.actor.sessionId) : null });
        store.afterCommit(() => auth.sessionEnded());
      });
      return { signedOut: true };
    },
  };
}

export type SigninService = ReturnType<typeof createSigninService>;
