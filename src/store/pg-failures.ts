// Which PostgreSQL failures a store.tx runs again (whole): SQLSTATEs, raw from postgres.js or wrapped by drizzle.

/** SQLSTATEs after which the whole transaction may succeed if run again: serialization_failure, deadlock_detected. */
const RETRYABLE = new Set(["40001", "40P01"]);
const DEADLOCK = new Set(["40P01"]);

/** A serialization failure or deadlock. */
export const retryable = (e: unknown): boolean => hasCode(e, RETRYABLE);

/** A deadlock: two transactions took the same locks in opposite orders (counted apart: a bug, not contention). */
export const deadlocked = (e: unknown): boolean => hasCode(e, DEADLOCK);

/** An error with one of these SQLSTATEs, raw from postgres.js or wrapped by drizzle (DrizzleQueryError.cause). */
function hasCode(e: unknown, codes: ReadonlySet<string>): boolean {
  for (let c = e, depth = 0; c && depth < 5; c = (c as { cause?: unknown }).cause, depth++) {
    const code = (c as { code?: unknown }).code;
    if (typeof code === "string" && codes.has(code)) return true;
  }
  return false;
}
