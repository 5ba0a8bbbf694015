// Who this process is among the replicas of one deployment, and how long its claims on shared work last.
import { randomBytes } from "./crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

/**
 * Made once per process: the host and pid say which replica holds a claim (for an operator reading the rows), the
 * random part keeps a restarted process that got the same pid from taking its predecessor's claims as its own.
 */
export const replicaId = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;

let leaseMs = 30_000;

/** CLANKER_LEASE_SECONDS, set once at start (the runner does, from the config); read when a claim is made. */
export function setLeaseSeconds(seconds: number): void {
  leaseMs = seconds * 1000;
}

/** How long a claim holds without renewal; owners renew every third of it. */
export function leaseMillis(): number {
  return leaseMs;
}

let predecessor: string | null = null;

/**
 * The server holding this data dir's lock (one live process per data dir) takes over its dead predecessor's id:
 * the claims that id still holds are orphans and need not wait for their leases to run out. Returns it (or null
 * for a fresh data dir) and records this process's id for the next start. Only `serve` calls this, under the lock,
 * before the runner recovers and before it listens.
 */
export function takeOverDataDir(dataDir: string): string | null {
  const file = join(dataDir, "replica-id");
  const previous = existsSync(file) ? readFileSync(file, "utf8").trim() || null : null;
  writeFileSync(file, `${replicaId}\n`, { mode: 0o600 });
  predecessor = previous && previous !== replicaId ? previous : null;
  return predecessor;
}

/** The id the previous server on this data dir ran under, once takeOverDataDir has run (null otherwise). */
export function predecessorId(): string | null {
  return predecessor;
}

/**
 * SQLite: whether the process holding a claim (`owner`, a replicaId) is gone. On one machine its pid says (in the
 * rare case another process took that pid since, the claim waits for that one to end); a claim made elsewhere (a
 * data dir on a volume two hosts mount) is gone once its lease ran out.
 */
export function holderGone(owner: string | null, expiresAt: number | null, now: number): boolean {
  if (owner === null) return true;
  if (owner === replicaId) return false;
  if (owner === predecessor) return true;
  const parts = owner.split(":");
  const pid = Number(parts.at(-2));
  if (parts.slice(0, -2).join(":") !== hostname() || !Number.isSafeInteger(pid)) return expiresAt === null || expiresAt < now;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    // EPERM: alive, run by another user.
    return (e as NodeJS.ErrnoException).code !== "EPERM";
  }
}
