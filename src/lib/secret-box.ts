// AES-256-GCM sealing for secrets at rest: iv (12) ‖ tag (16) ‖ ciphertext, with associated data binding
// each value to its owner so a row copied to another workspace will not open.
import { hmacSha256, randomBytes } from "./crypto";

/** node:crypto (a few ms to load, see ./crypto), required by the first seal or open rather than by every start. */
const aes = () => require("node:crypto") as typeof import("node:crypto");

export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error("the master key must be 32 bytes");
  }

  seal(plaintext: string, aad: string): Buffer {
    const iv = randomBytes(12);
    const cipher = aes().createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(aad));
    const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), data]);
  }

  /** A keyed hash for short codes: without the master key a stolen table cannot be brute-forced offline. */
  mac(value: string): string {
    return hmacSha256(this.key).update(value).digest("hex");
  }

  open(sealed: Buffer, aad: string): string {
    const decipher = aes().createDecipheriv("aes-256-gcm", this.key, sealed.subarray(0, 12));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(sealed.subarray(12, 28));
    return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString("utf8");
  }
}
