// A workspace and its owner's membership: the one way a new user's personal workspace and POST /workspaces write them.
import { sql } from "drizzle-orm";
import { randomToken } from "../../lib/crypto";
import type { Store } from "../../store/db";
import { prepared } from "../../store/prepared";
import { memberships, workspaces } from "../../store/schema";

export type WorkspaceRow = typeof workspaces.$inferSelect;

// Creating a workspace is the bench's audited POST: both inserts are prepared. The workspace insert is also the slug
// probe (no row back: the slug is taken), see insertUnderFreeSlug.
const ph = sql.placeholder;
const insertWorkspace = prepared((db) =>
  db
    .insert(workspaces)
    .values({ name: ph("name"), slug: ph("slug"), personal: ph("personal"), createdByUserId: ph("userId"), createdAt: ph("now") })
    .onConflictDoNothing({ target: workspaces.slug })
    .returning(),
);
const insertOwner = prepared((db) => db.insert(memberships).values({ workspaceId: ph("workspaceId"), userId: ph("userId"), role: "owner", createdAt: ph("now") }));

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
  const insert = async (slug: string) => (await insertWorkspace(store, { ...ws, slug }))[0];
  const row = "slug" in ws ? await insert(ws.slug) : await insertUnderFreeSlug(ws.slugFrom, insert);
  if (row) await store.pipeline(insertOwner(store, { workspaceId: row.id, userId: ws.userId, now: ws.now }));
  return row;
}

/** Writes a row under a free slug made from `base`: `insert(slug)` gives the row, or undefined if the slug was taken. */
export async function insertUnderFreeSlug<R>(base: string, insert: (slug: string) => Promise<R | undefined>): Promise<R> {
  const root =
    base
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40) || "workspace";
  // A random suffix, not a counter: a counter would probe every taken slug before finding a free one.
  for (let slug = root; ; slug = `${root}-${randomToken(4).toLowerCase().replace(/[^a-z0-9]/g, "x")}`) {
    const row = await insert(slug);
    if (row !== undefined) return row;
  }
}
