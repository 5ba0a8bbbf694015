// People and their personal workspaces: created on first sign-in or by the CLI.
import { asc, count, eq, sql } from "drizzle-orm";
import type { Store } from "../../store/db";
import { memberships, users, workspaces } from "../../store/schema";
import { InvalidRequestError } from "../../lib/errors";
import { randomToken } from "../../lib/crypto";

export type User = typeof users.$inferSelect;

const EMAIL_RE = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

export function normalizeEmail(raw: string): string {
  const email = raw.trim().toLowerCase();
  if (!EMAIL_RE.test(email)) throw new InvalidRequestError(`'${raw}' is not a valid email address`, "email");
  return email;
}

/**
 * Writes a row under a free slug made from `base`: `insert(slug)` inserts unless the slug is taken (ON CONFLICT
 * (slug) DO NOTHING … RETURNING) and gives the row, or undefined if it was. The probe is the insert, not a SELECT
 * first: under PostgreSQL's SERIALIZABLE a SELECT on the slug index takes a predicate lock on its page that every
 * concurrent workspace insert lands in, and the transactions that crossed so were rolled back and run again.
 */
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

export function createUsersService(store: Store) {
  /** Inside a tx: a user with a personal workspace they own. */
  async function createUser(input: { email: string | null; name: string }): Promise<User> {
    const now = Date.now();
    const [user] = await store.db.insert(users).values({ email: input.email, name: input.name, createdAt: now, updatedAt: now }).returning();
    const base = input.email ? input.email.split("@")[0]! : input.name;
    const ws = await insertUnderFreeSlug(base, async (slug) => {
      const [row] = await store.db
        .insert(workspaces)
        .values({ name: `${input.name}'s workspace`, slug, personal: true, createdByUserId: user!.id, createdAt: now })
        .onConflictDoNothing({ target: workspaces.slug })
        .returning();
      return row;
    });
    await store.db.insert(memberships).values({ workspaceId: ws.id, userId: user!.id, role: "owner", createdAt: now });
    return user!;
  }

  async function byEmail(email: string): Promise<User | undefined> {
    const [row] = await store.db.select().from(users).where(eq(users.email, email));
    return row;
  }

  /** The server's first user: who owns a fresh install. */
  async function owner(): Promise<User | undefined> {
    const [row] = await store.db.select().from(users).orderBy(asc(users.id)).limit(1);
    return row;
  }

  return {
    createUser,
    byEmail,

    async byId(id: number): Promise<User | undefined> {
      const [row] = await store.db.select().from(users).where(eq(users.id, id));
      return row;
    },

    owner,

    /** Finds the user by email, or creates them (and their personal workspace). */
    ensure(input: { email: string | null; name?: string }): Promise<{ user: User; created: boolean }> {
      return store.tx(async () => {
        const existing = input.email ? await byEmail(input.email) : await owner();
        if (existing) return { user: existing, created: false };
        const name = input.name ?? (input.email ? input.email.split("@")[0]! : "Owner");
        return { user: await createUser({ email: input.email, name }), created: true };
      });
    },

    async count(): Promise<number> {
      const [row] = await store.db.select({ n: count() }).from(users);
      return row!.n;
    },
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
