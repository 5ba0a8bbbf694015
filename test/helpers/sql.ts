// Direct SQL against a running server's store, for states no API can reach (demotions, expiries, removals).
import { Database } from "bun:sqlite";
import { join } from "node:path";
import type { TestServer } from "./server";

/**
 * Runs one statement on the server's database: <dataDir>/clanker.db (waiting out the server's locks), or its
 * PostgreSQL database (DATABASE_URL) with the `?` placeholders numbered $1, $2, …; returns the rows changed.
 */
export async function runSql(srv: TestServer, statement: string, ...params: (string | number)[]): Promise<number> {
  const url = srv.env.DATABASE_URL;
  if (url && /^postgres(ql)?:\/\//i.test(url)) {
    const { default: postgres } = await import("postgres");
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      return (await sql.unsafe(numbered(statement), params)).count;
    } finally {
      await sql.end({ timeout: 5 });
    }
  }
  const db = new Database(join(srv.dataDir, "clanker.db"));
  try {
    db.run("PRAGMA busy_timeout = 5000");
    return db.query(statement).run(...params).changes;
  } finally {
    db.close();
  }
}

/** One query on the server's store (as runSql reaches it); its rows. */
export async function querySql(srv: TestServer, statement: string, ...params: (string | number)[]): Promise<Record<string, unknown>[]> {
  const url = srv.env.DATABASE_URL;
  if (url && /^postgres(ql)?:\/\//i.test(url)) {
    const { default: postgres } = await import("postgres");
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      return [...(await sql.unsafe(numbered(statement), params))];
    } finally {
      await sql.end({ timeout: 5 });
    }
  }
  const db = new Database(join(srv.dataDir, "clanker.db"), { readonly: true });
  try {
    return db.query<Record<string, unknown>, (string | number)[]>(statement).all(...params);
  } finally {
    db.close();
  }
}

/** `?` → `$n` outside single-quoted literals. */
function numbered(statement: string): string {
  let n = 0;
  let quoted = false;
  let out = "";
  for (const ch of statement) {
    if (ch === "'") quoted = !quoted;
    out += ch === "?" && !quoted ? `$${++n}` : ch;
  }
  return out;
}

/** The store's table names: <dataDir>/clanker.db's, or those of the PostgreSQL database in env.DATABASE_URL. */
export async function tableNames(s: { dataDir: string; env: Record<string, string> }): Promise<string[]> {
  const url = s.env.DATABASE_URL;
  if (url && /^postgres(ql)?:\/\//i.test(url)) {
    const { default: postgres } = await import("postgres");
    const sql = postgres(url, { max: 1, onnotice: () => {} });
    try {
      return (await sql<{ name: string }[]>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'`).map((t) => t.name);
    } finally {
      await sql.end({ timeout: 5 });
    }
  }
  const db = new Database(join(s.dataDir, "clanker.db"), { readonly: true });
  try {
    return db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table'").all().map((t) => t.name);
  } finally {
    db.close();
  }
}
