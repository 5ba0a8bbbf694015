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

/**
 * Everything a server keeps at rest, as raw bytes: every file of its data dir and, on PostgreSQL, every row of
 * every table of its database (one entry per table; text and bytea values as they are, the rest as JSON).
 */
export async function storedBytes(srv: { dataDir: string; env: Record<string, string> }): Promise<{ path: string; bytes: Buffer }[]> {
  const out = filesUnder(srv.dataDir);
  const url = srv.env.DATABASE_URL;
  if (!url || !/^postgres(ql)?:\/\//i.test(url)) return out;
  const { default: postgres } = await import("postgres");
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const tables = await sql<{ name: string }[]>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'`;
    for (const { name } of tables) {
      const parts: Buffer[] = [];
      for (const row of await sql.unsafe(`SELECT * FROM "${name}"`))
        for (const v of Object.values(row))
          parts.push(Buffer.isBuffer(v) ? v : Buffer.from(typeof v === "string" ? v : (JSON.stringify(v) ?? "null")));
      out.push({ path: `postgres:${name}`, bytes: Buffer.concat(parts) });
    }
  } finally {
    await sql.end({ timeout: 5 });
  }
  return out;
}
