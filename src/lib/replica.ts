// Who this process is among the replicas of one deployment, and how long its claims on shared work last.
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";

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
