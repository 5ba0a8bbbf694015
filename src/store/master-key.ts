// The master key for secrets at rest: CLANKER_MASTER_KEY (32 bytes as base64 or hex), else a 0600
// data/master.key made on first start. Losing it makes stored secrets unreadable: back it up with the db. A check
// made with it in the database makes a replica (or a restore) with another key refuse to start.
import { existsSync, readFileSync, writeFileSync, mkdirSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { bytesEqual, hmacSha256, randomBytes } from "../lib/crypto";
import { inArray } from "drizzle-orm";
import { SecretBox } from "../lib/secret-box";
import { decodeMasterKey, MasterKeyError } from "../lib/master-key-text";
import type { Store } from "./db";
import { files } from "./schema";

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

/** The key this data dir and environment name, without making one (doctor): null when there is none yet. */
export function findMasterKey(dataDir: string, env: Record<string, string | undefined> = process.env): { key: Buffer; source: string } | null {
  if (env.CLANKER_MASTER_KEY) return { key: decodeMasterKey(env.CLANKER_MASTER_KEY, "CLANKER_MASTER_KEY"), source: "CLANKER_MASTER_KEY" };
  const file = join(dataDir, "master.key");
  return existsSync(file) ? { key: decodeMasterKey(readFileSync(file, "utf8"), file), source: file } : null;
}

/**
 * Rows of `files` (outside the data-dir paths the FileStore uses), in the database on both dialects. The check is an
 * HMAC of a constant under the key: a start verifies it with Bun's hasher instead of loading node:crypto for AES
 * (../lib/crypto.ts). Data dirs made before it hold only the constant sealed with the key; their first start
 * opens that once and adds the MAC.
 */
const MAC_PATH = "meta/master-key-mac";
const SEALED_PATH = "meta/master-key-check";
const CHECK_TEXT = "clanker master key check v1";

const keyMac = (key: Buffer): Buffer => hmacSha256(key).update(CHECK_TEXT).digest();

type CheckState = "new" | "ok" | "wrong";

async function readCheck(store: Pick<Store, "db">, key: Buffer): Promise<{ state: CheckState; hasMac: boolean }> {
  const rows = await store.db.select({ path: files.path, content: files.content }).from(files).where(inArray(files.path, [MAC_PATH, SEALED_PATH]));
  const mac = rows.find((r) => r.path === MAC_PATH);
  if (mac) return { state: bytesEqual(Buffer.from(mac.content), keyMac(key)) ? "ok" : "wrong", hasMac: true };
  const sealed = rows.find((r) => r.path === SEALED_PATH);
  if (!sealed) return { state: "new", hasMac: false };
  try {
    return { state: new SecretBox(key).open(Buffer.from(sealed.content), SEALED_PATH) === CHECK_TEXT ? "ok" : "wrong", hasMac: false };
  } catch {
    return { state: "wrong", hasMac: false };
  }
}

/** What the stored check says of this key: "new" (no check yet), "ok", or "wrong" (made with another key). */
export async function masterKeyCheck(store: Pick<Store, "db">, key: Buffer): Promise<CheckState> {
  return (await readCheck(store, key)).state;
}

/**
 * At start: stores the check the first time; afterwards a key that does not match it (a replica with another
 * CLANKER_MASTER_KEY, a restored backup without its key) stops the start with one line instead of serving secrets
 * and BYOK keys it cannot decrypt.
 */
export async function verifyMasterKey(store: Store, key: Buffer, source = "CLANKER_MASTER_KEY"): Promise<void> {
  let { state, hasMac } = await readCheck(store, key);
  if (state === "new" || (state === "ok" && !hasMac)) {
    const mac = keyMac(key);
    // Replicas starting together: the first insert wins and everyone checks against it.
    await store.db.insert(files).values({ path: MAC_PATH, content: mac, size: mac.length, createdAt: Date.now() }).onConflictDoNothing();
    ({ state } = await readCheck(store, key));
  }
  if (state === "wrong") throw new MasterKeyError(wrongKeyMessage(source));
}

export function wrongKeyMessage(source: string): string {
  const from = source === "CLANKER_MASTER_KEY" ? "CLANKER_MASTER_KEY" : `the master key in ${source}`;
  return `${from} cannot open the secrets stored in this database (they were sealed with another key): set CLANKER_MASTER_KEY to the key the database was first started with, the same on every replica`;
}

/** The start-up check: this process's key (made on a first start without CLANKER_MASTER_KEY) against the database's. */
export async function checkStartKey(store: Store, dataDir: string, env: Record<string, string | undefined> = process.env): Promise<void> {
  // A database whose key is gone: a new master.key would only leave a wrong key on disk for the next start to trip on.
  if (!findMasterKey(dataDir, env) && (await masterKeyCheck(store, randomBytes(32))) !== "new") throw new MasterKeyError(missingKeyMessage(dataDir));
  const key = loadMasterKey(dataDir, env);
  const source = env.CLANKER_MASTER_KEY ? "CLANKER_MASTER_KEY" : join(dataDir, "master.key");
  try {
    await verifyMasterKey(store, key, source);
  } catch (e) {
    // The data dir's own key may be the right one, shadowed by the variable: say to unset it.
    if (e instanceof MasterKeyError && source === "CLANKER_MASTER_KEY" && existsSync(join(dataDir, "master.key")))
      throw new MasterKeyError(`${wrongKeyMessage(source)}; or, if ${join(dataDir, "master.key")} is this database's key, unset CLANKER_MASTER_KEY`);
    throw e;
  }
}

/** No key anywhere, but the database holds secrets sealed with one (doctor says the same). */
export function missingKeyMessage(dataDir: string): string {
  return `there is no ${join(dataDir, "master.key")} and CLANKER_MASTER_KEY is not set, but this database's secrets were sealed with a key: put master.key back (from the backup it came with) or set CLANKER_MASTER_KEY to that key`;
}
