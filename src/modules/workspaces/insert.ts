// A workspace and its owner's membership: the one way a new user's personal workspace and POST /workspaces write them.
import { sql } from "drizzle-orm";
import type { Store } from "../../store/db";
import { prepared, sqliteStatement } from "../../store/prepared";
import { memberships, workspaces } from "../../store/schema";

export type WorkspaceRow = typeof workspaces.$inferSelect;

/** What /workspaces/:id reads as the caller's active workspace. */
export const CURRENT = "current";
/**
 * What a path would read `slug` as, if not a slug (`current`: the caller's active workspace; "7": ws_7), or null. Such
 * slugs are never given to a workspace.
 */
export const reservedSlug = (slug: string): string | null =>
  slug === CURRENT ? "the caller's current workspace" : /^\d+$/.test(slug) ? "a workspace id" : null;

// Creating a workspace is the bench's audited POST: both inserts are prepared, and on SQLite both are raw statements
// (drizzle's binding and mapping cost more than SQLite's work). The workspace insert is also the slug probe (no row
// back: the slug is taken), see insertUnderFreeSlug; on SQLite it has no RETURNING: the new row is what was written,
// under lastInsertRowid, and RETURNING with drizzle's mapping of its row cost more than the insert itself.
const ph = sql.placeholder;
const insertWorkspacePg = prepared((db) =>
  db
    .insert(workspaces)
    .values({ name: ph("name"), slug: ph("slug"), personal: ph("personal"), createdByUserId: ph("userId"), createdAt: ph("now") })
    .onConflictDoNothing({ target: workspaces.slug })
    .returning(),
);
const insertWorkspaceSqlite = sqliteStatement(
  "INSERT INTO workspaces (name, slug, personal, created_by_user_id, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (slug) DO NOTHING",
);
const insertOwnerPg = prepared((db) => db.insert(memberships).values({ workspaceId: ph("workspaceId"), userId: ph("userId"), role: "owner", createdAt: ph("now") }));
const insertOwnerSqlite = sqliteStatement("INSERT INTO memberships (workspace_id, user_id, role, created_at) VALUES (?, ?, 'owner', ?)");

/** The new workspace row, or undefined when its slug is taken. */
async function insertWorkspace(store: Store, ws: NewWorkspace & { slug: string }): Promise<WorkspaceRow | undefined> {
  const sqlite = store.sqlite;
  if (!sqlite) return (await insertWorkspacePg(store, { ...ws }))[0];
  const { changes, lastInsertRowid } = insertWorkspaceSqlite(sqlite).run(ws.name, ws.slug, ws.personal ? 1 : 0, ws.userId, ws.now);
  if (changes === 0) return undefined;
  return { id: Number(lastInsertRowid), name: ws.name, slug: ws.slug, personal: ws.personal, createdByUserId: ws.userId, createdAt: ws.now };
}

interface NewWorkspace {
  name: string;
  personal: boolean;
  userId: number;
  now: number;
}

/**
 * Inside a tx: the workspace under `slug`, or under a free slug made from `slugFrom`, owned by userId; undefined when
 * the given slug is taken. The probe is the insert, not a SELECT first: under PostgreSQL's SERIALIZABLE a SELECT on
 * the slug index takes a predicate lock on its page that every concurrent workspace insert lands in, and the
 * transactions that crossed so were rolled back and run again.
 */
export async function insertOwnedWorkspace(store: Store, ws: NewWorkspace & ({ slug: string } | { slugFrom: string })): Promise<WorkspaceRow | undefined> {
  const insert = (slug: string) => insertWorkspace(store, { ...ws, slug });
  const row = "slug" in ws ? await insert(ws.slug) : await insertUnderFreeSlug(ws.slugFrom, insert);
  if (!row) return undefined;
  if (store.sqlite) insertOwnerSqlite(store.sqlite).run(row.id, ws.userId, ws.now);
  else await store.pipeline(insertOwnerPg(store, { workspaceId: row.id, userId: ws.userId, now: ws.now }));
  return row;
}

/** Writes a row under a free slug made from `base`: `insert(slug)` gives the row, or undefined if the slug was taken. */
export async function insertUnderFreeSlug<R>(base: string, insert: (slug: string) => Promise<R | undefined>): Promise<R> {
  const name = slugRoot(base);
  // First a suffix that follows the clock, then random ones: a plain counter would probe every taken slug before
  // finding a free one (as after a restart, or on another replica, a clock suffix may).
  let suffix = clockSuffix;
  for (let slug = name.taken ? `${name.root}-${suffix()}` : name.root; ; slug = `${name.root}-${suffix()}`) {
    const row = await insert(slug);
    if (row !== undefined) return row;
    if (name.taken) suffix = randomSuffix;
    name.taken = true;
  }
}

// Names seen recently, their slug roots, and whether the bare root is taken. The same few names come back (a script's
// name, "Acme"): the two regular expressions were most of insertUnderFreeSlug's own time, and once the root is taken
// each create probed it first in vain. Nothing frees a slug (no workspace is deleted or renamed), so a root seen
// taken stays taken.
const roots = new Map<string, { root: string; taken: boolean }>();

const NON_ASCII = /[^\x00-\x7f]/;

function slugRoot(base: string): { root: string; taken: boolean } {
  let name = roots.get(base);
  if (name === undefined) {
    const root =
      // Accents off their letters ("Café" → "cafe"), however the name was composed: "Café" typed precomposed became
      // "caf", the same name decomposed "cafe". Only for a name that has any: normalizing cost an ASCII POST 2 %.
      (NON_ASCII.test(base) ? base.normalize("NFKD").replace(/\p{M}+/gu, "") : base)
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")
        .replace(/^-+|-+$/g, "")
        .slice(0, 40) || "workspace";
    if (roots.size >= 1000) roots.clear();
    // A reserved root ("current", "2024") is never given bare: it is suffixed as a taken one is.
    roots.set(base, (name = { root, taken: reservedSlug(root) !== null }));
  }
  return name;
}

const SUFFIX_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const SUFFIX_SPACE = 36 ** 6;
let lastClockSuffix = 0;

/**
 * Six base-36 digits of the milliseconds (mod 36⁶, ~25 days), one more than the last when they come faster: the slugs
 * made one after another sort one after another. The slug index is unique, so a random suffix put each new workspace
 * on a random page of it: with 150,000 workspaces that page was read and rewritten (to the WAL) for every insert,
 * and SQLite took 55 µs per audited POST where this one takes 30 (the same statements alone, in one process).
 */
function clockSuffix(): string {
  lastClockSuffix = Math.max(lastClockSuffix + 1, Date.now() % SUFFIX_SPACE) % SUFFIX_SPACE;
  return lastClockSuffix.toString(36).padStart(6, "0");
}

/** Six random characters of a-z and 0-9 (~31 bits). */
function randomSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  let s = "";
  for (const b of bytes) s += SUFFIX_ALPHABET[b % 36];
  return s;
}
