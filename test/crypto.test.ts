// src/lib/crypto.ts stands in for node:crypto (a few ms of every start to load): its HMAC and hash agree with
// node:crypto's byte for byte, its random integers cover their whole range and nothing outside it.
import { describe, expect, test } from "bun:test";
import { createHash, createHmac } from "node:crypto";
import { bytesEqual, hmacSha256, randomBytes, randomInt, randomToken, sha256Hex } from "../src/lib/crypto";

describe("lib/crypto", () => {
  test("HMAC-SHA256 and SHA-256 equal node:crypto's, for string and byte keys and inputs, fed in parts", () => {
    const keys = ["whsec_secret", Buffer.from("00ff10aa", "hex"), randomBytes(32)];
    const parts = ["1733400000.", Buffer.from('{"a":1,"é":"ü"}'), ""];
    for (const key of keys) {
      const ours = hmacSha256(key);
      const theirs = createHmac("sha256", key);
      for (const p of parts) {
        ours.update(p);
        theirs.update(p);
      }
      expect(ours.digest("hex")).toBe(theirs.digest("hex"));
    }
    expect(hmacSha256("k").update("v").digest("base64")).toBe(createHmac("sha256", "k").update("v").digest("base64"));
    expect(Buffer.from(hmacSha256("k").update("v").digest())).toEqual(createHmac("sha256", "k").update("v").digest());
    for (const v of ["", "abc", Buffer.from([0, 1, 2, 255])]) expect(sha256Hex(v)).toBe(createHash("sha256").update(v).digest("hex"));
  });

  test("randomInt(min, max) draws every value of [min, max) and none outside it", () => {
    const seen = new Map<number, number>();
    for (let i = 0; i < 20_000; i++) {
      const n = randomInt(3, 13);
      expect(Number.isInteger(n) && n >= 3 && n < 13).toBe(true);
      seen.set(n, (seen.get(n) ?? 0) + 1);
    }
    expect([...seen.keys()].sort((a, b) => a - b)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    // ~2,000 each; a biased or stuck draw would be far off.
    for (const count of seen.values()) expect(count).toBeGreaterThan(1_500);
    // The range may be the whole 2³².
    const wide = randomInt(0, 2 ** 32);
    expect(wide >= 0 && wide < 2 ** 32).toBe(true);
  });

  test("random bytes and tokens are the length asked for and differ; bytesEqual compares contents", () => {
    const a = randomBytes(24);
    expect(a).toBeInstanceOf(Buffer);
    expect(a.length).toBe(24);
    expect(bytesEqual(a, randomBytes(24))).toBe(false);
    expect(bytesEqual(a, Buffer.from(a))).toBe(true);
    expect(bytesEqual(a, a.subarray(0, 23))).toBe(false);
    expect(randomToken(24)).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });
});
