// How callbacks are signed: clanker-signature (t=…,v1=HMAC-SHA256(secret, "t.body")) and the Standard Webhooks
// headers beside it, with one signature per secret while a rotation's overlap lasts.
import { hmacSha256, randomBytes } from "../../lib/crypto";

/**
 * Bytes are accepted too: an inbound hook verifies the exact bytes it received. Several secrets (the new one and,
 * through a rotation's overlap, the one before it) give one `v1` each, as Stripe signs while a secret rolls.
 */
export function sign(secrets: string | string[], timestamp: number, body: string | Uint8Array): string {
  const v1 = [secrets].flat().map((secret) => `v1=${hmacSha256(secret).update(`${timestamp}.`).update(body).digest("hex")}`);
  return `t=${timestamp},${v1.join(",")}`;
}

/**
 * Standard Webhooks (standardwebhooks.com) sign with the bytes the secret encodes after `whsec_` (base64).
 * Secrets minted before these headers were base64url: Buffer reads both alphabets, so the bytes are the same.
 */
const standardKey = (secret: string): Buffer => Buffer.from(secret.replace(/^whsec_/, ""), "base64");

/** The secret as Standard Webhooks libraries take it (standard base64): the shown secret itself since they were added. */
export const standardSecret = (secret: string): string => `whsec_${standardKey(secret).toString("base64")}`;

/** webhook-signature: "v1,<base64 HMAC-SHA256 of '<id>.<t>.<body>'>" with the secret's bytes as the key; one per
 * secret, space-separated, as Standard Webhooks sends them while a secret rotates. */
export function signStandard(secrets: string | string[], msgId: string, timestamp: number, body: string): string {
  return [secrets]
    .flat()
    .map((secret) => `v1,${hmacSha256(standardKey(secret)).update(`${msgId}.${timestamp}.`).update(body).digest("base64")}`)
    .join(" ");
}

/** The longest a rotated-out secret may go on signing beside the new one (Stripe's longest roll: 7 days). */
export const MAX_OVERLAP_SECONDS = 7 * 24 * 3600;

// Standard base64, so the secret we show is also a valid Standard Webhooks secret as it is.
export const newSecret = (): string => `whsec_${randomBytes(24).toString("base64")}`;

export const SCHEME = "t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<raw body>'>; also Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature) signed with standardSecret";
