// A model provider's words with the key a run sent taken out. A proxy or OpenAI-compatible server may repeat a refused
// key (whole, cut short, masked as "sk-proj-ab***…wxyz" or "sk-...WXYZ", or by its SHA-256 as LiteLLM does), and the
// message reaches members, callbacks, logs and the database. A workspace's own key (BYOK, a skill's bound key) is
// named by its last four, as everywhere else; the server's own by no part of it.
import { sha256Hex } from "../lib/crypto";

/** What a provider masks a key's middle with. */
const MASKED = /[\w-]*(?:\*{3,}|\.{3,}|…)[\w*.…-]*/g;
/** Words long enough to be taken for a fragment of the key when it holds them (shorter ones are common words). */
const WORDS = /[\w-]{12,}/g;

export function withoutKey(message: string, sent: string | null | undefined, byok: boolean): string {
  const key = sent?.trim();
  if (!key || key.length < 8) return message;
  const label = byok ? `…${key.slice(-4)}` : "[the server's key]";
  const hash = sha256Hex(key);
  return (
    message
      .split(key)
      .join(label)
      .replace(new RegExp(hash, "gi"), "[its hash]")
      // Cut short, or a long run of it: any word of 12+ characters found in the key.
      .replace(WORDS, (w) => (key.includes(w) ? label : w))
      .replace(MASKED, (m) => (isMaskOf(m, key) ? label : m))
  );
}

/** "sk-...WXYZ", "sk-proj-ab***wxyz": what shows on either side of the mask begins and ends the key, 4+ characters in all. */
function isMaskOf(masked: string, key: string): boolean {
  const [, head = "", tail = ""] = /^([\w-]*?)(?:[*.…]+)([\w-]*?)[*.…]*$/.exec(masked) ?? [];
  if (head.length + tail.length < 4) return false;
  return key.startsWith(head) && key.endsWith(tail);
}
