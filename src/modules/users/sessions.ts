// Session tokens (x-auth-token): random, stored as SHA-256 hashes, expiring.
import { randomToken, sha256Hex } from "../../lib/crypto";
import type { Store } from "../../store/db";
import { sessions } from "../../store/schema";

export const SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;

/** Inside a tx: a new session for the user; returns the token (only its hash is stored). */
export async function issueSession(store: Store, userId: number): Promise<string> {
  const token = `cks_${randomToken(32)}`;
  const now = Date.now();
  await store.db.insert(sessions).values({ userId, tokenHash: sha256Hex(token), createdAt: now, expiresAt: now + SESSION_TTL_MS });
  return token;
}
