// The master key for secrets at rest: CLANKER_MASTER_KEY (32 bytes as base64 or hex), else a 0600
// data/master.key made on first start. Losing it makes stored secrets unreadable: back it up with the db.
import { existsSync, readFileSync, writeFileSync, mkdirSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";

export class MasterKeyError extends Error {}

export function decodeMasterKey(raw: string, where: string): Buffer {
  const s = raw.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(s) ? Buffer.from(s, "hex") : Buffer.from(s, "base64");
  if (key.length !== 32) throw new MasterKeyError(`${where} must hold 32 bytes as 64 hex characters or base64`);
  return key;
}

export function loadMasterKey(dataDir: string, env: Record<string, string | undefined> = process.env): Buffer {
  if (env.CLANKER_MASTER_KEY) return decodeMasterKey(env.CLANKER_MASTER_KEY, "CLANKER_MASTER_KEY");
  const file = join(dataDir, "master.key");
  if (existsSync(file)) return decodeMasterKey(readFileSync(file, "utf8"), file);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32);
  try {
    writeFileSync(file, key.toString("base64") + "\n", { mode: 0o600, flag: "wx" });
  } catch (e) {
    // Another process (a CLI verb beside the server) made it first: use theirs.
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return decodeMasterKey(readFileSync(file, "utf8"), file);
    throw e;
  }
  chmodSync(file, 0o600);
  return key;
}
