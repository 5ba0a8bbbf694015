// The master key as people write it (CLANKER_MASTER_KEY, data/master.key, a backup's copy): 32 bytes, as 64 hex
// characters or base64. Apart from the store's key handling so that the config can check the variable's shape
// before anything touches the data dir.

export class MasterKeyError extends Error {}

export function decodeMasterKey(raw: string, where: string): Buffer {
  const s = raw.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(s) ? Buffer.from(s, "hex") : Buffer.from(s, "base64");
  if (key.length !== 32) throw new MasterKeyError(`${where} must hold 32 bytes as 64 hex characters or base64`);
  return key;
}
