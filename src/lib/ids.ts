// The one id codec: integer keys in the store, prefixed strings in the API; paths accept both.

export const PREFIX = {
  user: "usr",
  workspace: "ws",
  apiKey: "key",
  session: "ses",
  audit: "aud",
  execution: "exec",
  artifact: "art",
  secret: "sec",
  workflow: "wf",
  run: "run",
  invitation: "inv",
  transaction: "txn",
  binding: "bnd",
  registration: "agr",
  trigger: "trg",
} as const;

export type Entity = keyof typeof PREFIX;

export function encodeId(entity: Entity, id: number): string {
  return `${PREFIX[entity]}_${id}`;
}

/** "exec_42" or "42" → 42; anything else (another prefix, junk, ≤ 0) → null. */
export function decodeId(entity: Entity, raw: string): number | null {
  const prefix = `${PREFIX[entity]}_`;
  const digits = raw.startsWith(prefix) ? raw.slice(prefix.length) : raw;
  if (!/^[1-9][0-9]{0,15}$/.test(digits)) return null;
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : null;
}
