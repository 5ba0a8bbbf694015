// Reading a data dir byte by byte, for tests that prove a secret is stored nowhere in plaintext.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Every file under dir, recursively, as raw bytes. */
export function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  const out: { path: string; bytes: Buffer }[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push({ path: p, bytes: readFileSync(p) });
  }
  return out;
}
