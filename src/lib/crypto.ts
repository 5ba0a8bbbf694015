// Hashing, MACs and randomness: keys and tokens are stored as SHA-256 hashes, never in the clear.
// All on Bun's hasher and Web Crypto, not node:crypto, whose load is ~6 ms of a bare start of the binary and ~2.5 ms
// of serve's (beside the built-ins serve loads anyway). Only SecretBox's AES-GCM needs it, and loads it on first use.

// Bun.SHA256.hash: one call, no hasher object (~0.16 µs a key against ~0.39; it runs on every authenticated request).
export function sha256Hex(value: string | Uint8Array): string {
  return Bun.SHA256.hash(value, "hex");
}

/** An HMAC-SHA256 to feed with update() and end with digest(): createHmac("sha256", key)'s shape. */
export function hmacSha256(key: string | Uint8Array): Bun.CryptoHasher {
  return new Bun.CryptoHasher("sha256", key);
}

export function randomBytes(n: number): Buffer {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(n)).buffer);
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

/** A uniform integer in [min, max) (max − min ≤ 2³²): draws above the last whole multiple of the range are redrawn. */
export function randomInt(min: number, max: number): number {
  const range = max - min;
  const limit = 2 ** 32 - (2 ** 32 % range);
  const draw = new Uint32Array(1);
  do crypto.getRandomValues(draw);
  while (draw[0]! >= limit);
  return min + (draw[0]! % range);
}

/** Constant-time string comparison for secrets of equal length. */
export function safeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** Constant-time comparison of digests (timingSafeEqual's, without its throw on unequal lengths). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
