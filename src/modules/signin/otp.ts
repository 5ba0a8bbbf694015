// One-time codes: 6 digits, stored as keyed hashes, 10 minutes, at most 5 tries, at most 5 sent per email
// per 15 minutes, at most 25 wrong tries per email per day (sign-in and agent claims together). Error codes follow
// the auth.md agent-registration protocol.
import { and, desc, eq, gt, inArray, isNull, lt, or, sql } from "drizzle-orm";
import { randomInt } from "../../lib/crypto";
import { ApiError, InvalidRequestError } from "../../lib/errors";
import type { SecretBox } from "../../lib/secret-box";
import type { Store } from "../../store/db";
import { otpCodes } from "../../store/schema";

export const OTP_TTL_MS = 10 * 60 * 1000;
export const OTP_MAX_ATTEMPTS = 5;
const SEND_WINDOW_MS = 15 * 60 * 1000;
const SENDS_PER_WINDOW = 5;
/**
 * Wrong tries an address may spend in a day, whatever the code and the purpose. Each code's own 5 alone let anyone
 * guess 50 times per 15 minutes (5 codes × 5 tries, sign-in and claim apart), ~13 % odds of a key to someone's
 * account in a month; 25 a day make that ~0.08 %.
 */
const WRONG_PER_DAY = 25;
const DAY_MS = 24 * 3600 * 1000;

const PURPOSES = ["signin", "agent_claim"] as const;
/** consumed_at of a code whose mail is still going out (see mail()): counted, not yet valid. */
const SENDING = 0;
type Purpose = (typeof PURPOSES)[number];

/** `retryAfterMs`: when the budget that refused frees up (the header says so, in whole seconds). */
export function rateLimited(message: string, retryAfterMs = 60_000): ApiError {
  return new ApiError("rate_limit_error", message, { code: "rate_limited", headers: { "retry-after": String(Math.max(1, Math.ceil(retryAfterMs / 1000))) } });
}

export function createOtpService(store: Store, box: SecretBox) {
  const db = store.db;
  const hash = (purpose: Purpose, email: string, subjectId: number | null, code: string) => box.mac(`otp:${purpose}:${email}:${subjectId ?? ""}:${code}`);

  const ofAddress = (email: string, since: number) => and(inArray(otpCodes.purpose, [...PURPOSES]), eq(otpCodes.email, email), gt(otpCodes.createdAt, since));
  /**
   * The codes a new one replaces and a check reads: those of the same purpose, address and subject. Two agents' claims
   * mailed to one person are two registrations: the second code cancelled the first, and the first agent could not be
   * claimed. A sign-in (no subject) has one code at a time, the newest.
   */
  const sameCodes = (purpose: Purpose, email: string, subjectId: number | null) =>
    and(eq(otpCodes.purpose, purpose), eq(otpCodes.email, email), subjectId === null ? isNull(otpCodes.subjectId) : eq(otpCodes.subjectId, subjectId));

  /** Refuses an address that spent its day's wrong tries, saying when the oldest of them leaves the day. */
  async function assertTriesLeft(email: string, now: number): Promise<void> {
    const [spent] = await db
      .select({ wrong: sql<number>`coalesce(sum(${otpCodes.attempts}), 0)`.mapWith(Number), since: sql<number | null>`min(${otpCodes.createdAt})`.mapWith(Number) })
      .from(otpCodes)
      .where(and(ofAddress(email, now - DAY_MS), gt(otpCodes.attempts, 0)));
    if (spent!.wrong >= WRONG_PER_DAY)
      throw rateLimited(
        `Too many wrong codes for ${email} today (someone may be guessing): codes work again after the time in retry-after; meanwhile a browser still signed in keeps working, and the server's operator can make a session with clanker sessions create --email ${email}`,
        spent!.since! + DAY_MS - now,
      );
  }

  return {
    /**
     * Mails a fresh code for this email (`send` delivers it), then makes it the one that counts. Until its mail has
     * gone it is held (SENDING): counted against the address's budget, taken in the same transaction as the count so
     * that requests arriving together cannot all pass it, but not yet valid, and the codes before it still are. A
     * mail that fails frees its place (a failure spends none of the budget, nor replaces the code mailed before); one
     * that outran the mailer's deadline and goes out after all is made valid then.
     */
    async mail(purpose: Purpose, email: string, subjectId: number | null, send: (code: string) => Promise<void>): Promise<void> {
      const now = Date.now();
      const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
      // Writes go through store.tx, never bare: a bare statement would join an open group-commit batch and share its fate.
      const id = await store.tx(async () => {
        await assertTriesLeft(email, now);
        const [counted] = await db
          .select({ n: sql<number>`count(*)`.mapWith(Number), since: sql<number | null>`min(${otpCodes.createdAt})`.mapWith(Number) })
          .from(otpCodes)
          .where(ofAddress(email, now - SEND_WINDOW_MS));
        if (counted!.n >= SENDS_PER_WINDOW) throw rateLimited(`Too many codes sent to ${email}; wait a few minutes`, counted!.since! + SEND_WINDOW_MS - now);
        const [row] = await db
          .insert(otpCodes)
          .values({ purpose, email, subjectId, codeHash: hash(purpose, email, subjectId, code), expiresAt: now + OTP_TTL_MS, createdAt: now, consumedAt: SENDING })
          .returning({ id: otpCodes.id });
        return row!.id;
      });
      const mailed = () =>
        store.tx(async () => {
          await db
            .update(otpCodes)
            .set({ consumedAt: Date.now() })
            .where(and(sameCodes(purpose, email, subjectId), isNull(otpCodes.consumedAt), lt(otpCodes.id, id)));
          await db.update(otpCodes).set({ consumedAt: null }).where(and(eq(otpCodes.id, id), eq(otpCodes.consumedAt, SENDING)));
        });
      const unsent = () => store.tx(async () => void (await db.delete(otpCodes).where(and(eq(otpCodes.id, id), eq(otpCodes.consumedAt, SENDING)))));
      try {
        await send(code);
      } catch (e) {
        const late = (e as { stillSending?: Promise<void> }).stillSending;
        if (late) late.then(mailed, unsent).catch(() => {});
        else await unsent();
        throw e;
      }
      await mailed();
    },

    /** Forgets codes a day past their expiry (run by the scheduler); the send budget looks back 15 minutes only. */
    async prune(now = Date.now()): Promise<void> {
      await store.tx(async () => {
        await db.delete(otpCodes).where(lt(otpCodes.expiresAt, now - 24 * 3600 * 1000));
      });
    },

    /**
     * Checks a code; a wrong one uses up a try (committed even though this throws). Read, check and write in one
     * transaction: two requests racing with the same code cannot both spend it, nor both use the last try.
     */
    async verify(purpose: Purpose, email: string, typed: string, subjectId: number | null = null): Promise<void> {
      const now = Date.now();
      // A code copied with a space around it, or typed in two halves ("123 456", "123-456"), is still the six digits:
      // read as a wrong try, it spent one of the address's few.
      const code = typed.replace(/[\s-]/g, "");
      // The field the code came in: sign-in's `code`, an agent claim's `otp`.
      const param = purpose === "agent_claim" ? "otp" : "code";
      const wrong = await store.tx(async () => {
        await assertTriesLeft(email, now);
        const [row] = await db
          .select()
          .from(otpCodes)
          .where(and(sameCodes(purpose, email, subjectId), or(isNull(otpCodes.consumedAt), gt(otpCodes.consumedAt, SENDING))))
          .orderBy(desc(otpCodes.id))
          .limit(1);
        if (!row || row.consumedAt !== null)
          throw new InvalidRequestError("That code is not valid; request a new one", param, "otp_invalid");
        if (row.attempts >= OTP_MAX_ATTEMPTS) throw rateLimited("Too many wrong codes; request a new one");
        if (row.expiresAt <= now) throw new InvalidRequestError("That code has expired; request a new one", param, "otp_expired");
        if (!/^\d{6}$/.test(code) || hash(purpose, email, subjectId, code) !== row.codeHash) {
          await db.update(otpCodes).set({ attempts: row.attempts + 1 }).where(eq(otpCodes.id, row.id));
          return { left: OTP_MAX_ATTEMPTS - row.attempts - 1 };
        }
        await db.update(otpCodes).set({ consumedAt: now }).where(eq(otpCodes.id, row.id));
        return null;
      });
      if (!wrong) return;
      // Thrown after the commit, so the used-up try stays.
      const { left } = wrong;
      if (left <= 0) throw rateLimited("Too many wrong codes; request a new one");
      throw new InvalidRequestError(`That code is not right; ${left} ${left === 1 ? "try" : "tries"} left`, param, "otp_invalid");
    },
  };
}

export type OtpService = ReturnType<typeof createOtpService>;
