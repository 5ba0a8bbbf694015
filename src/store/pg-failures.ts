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

/**
 * postgres.js, when PostgreSQL goes away mid-write (a restart, a failover), can call its socket's write from a timer
 * once the socket is gone: a TypeError thrown into the event loop, which ended the whole process (every stream and
 * MCP session on it, and a crash loop while PostgreSQL was still down). That connection is closed already and its
 * queries fail with it, so the error is logged, not fatal; any other uncaught error still ends the process.
 */
export function isClientSocketRace(e: unknown): boolean {
  // By the client's function, not its file: inside dist/clanker the stack names /$bunfs/root/… chunks, not
  // node_modules/postgres/src/connection.js (the build keeps names: --minify-syntax only).
  return e instanceof TypeError && /socket\.write/.test(e.message) && /\bnextWrite\b/.test(e.stack ?? "");
}

let guarded = false;
export function surviveClientSocketRaces(warn: (message: string) => void): void {
  if (guarded) return;
  guarded = true;
  process.on("uncaughtException", (e) => {
    if (isClientSocketRace(e)) return warn(`the PostgreSQL client lost a connection mid-write (${(e as Error).message}); its queries failed, the others go on`);
    console.error(e);
    process.exit(1);
  });
}

/** Reconnect waits between tries: postgres.js's own grow to 20 s, so a replica answered 8–40 s after PostgreSQL was back. */
export const reconnectBackoff = (retries: number): number => (0.5 + Math.random() / 2) * Math.min(3 ** retries / 100, 1);
