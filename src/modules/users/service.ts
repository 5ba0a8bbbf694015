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

/** A slug free in this store, made from `base`. */
export function freeSlug(taken: (slug: string) => boolean, base: string): string {
  const root =
    base
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40) || "workspace";
  // A random suffix, not a counter: a counter would probe every taken slug before finding a free one.
  for (let slug = root; ; slug = `${root}-${randomToken(4).toLowerCase().replace(/[^a-z0-9]/g, "x")}`) {
    if (!taken(slug)) return slug;
  }
}

export function createUsersService(store: Store) {
  const slugQuery = store.db.select({ id: workspaces.id }).from(workspaces).where(eq(workspaces.slug, sql.placeholder("slug"))).prepare();
  const slugTaken = (slug: string): boolean => slugQuery.get({ slug }) !== undefined;

  /** Inside a tx: a user with a personal workspace they own. */
  function createUser(input: { email: string | null; name: string }): User {
    const now = Date.now();
    const user = store.db.insert(users).values({ email: input.email, name: input.name, createdAt: now, updatedAt: now }).returning().get();
    const base = input.email ? input.email.split("@")[0]! : input.name;
    const ws = store.db
      .insert(workspaces)
      .values({ name: `${input.name}'s workspace`, slug: freeSlug(slugTaken, base), personal: true, createdByUserId: user.id, createdAt: now })
      .returning()
      .get();
    store.db.insert(memberships).values({ workspaceId: ws.id, userId: user.id, role: "owner", createdAt: now }).run();
    return user;
  }

  return {
    createUser,
    slugTaken,
    freeSlug: (base: string) => freeSlug(slugTaken, base),

    byEmail(email: string): User | undefined {
      return store.db.select().from(users).where(eq(users.email, email)).get();
    },

    byId(id: number): User | undefined {
      return store.db.select().from(users).where(eq(users.id, id)).get();
    },

    /** The server's first user: who owns a fresh install. */
    owner(): User | undefined {
      return store.db.select().from(users).orderBy(asc(users.id)).limit(1).get();
    },

    /** Finds the user by email, or creates them (and their personal workspace). */
    ensure(input: { email: string | null; name?: string }): { user: User; created: boolean } {
      return store.tx(() => {
        const existing = input.email ? this.byEmail(input.email) : this.owner();
        if (existing) return { user: existing, created: false };
        const name = input.name ?? (input.email ? input.email.split("@")[0]! : "Owner");
        return { user: createUser({ email: input.email, name }), created: true };
      });
    },

    count(): number {
      return store.db.select({ n: count() }).from(users).get()!.n;
    },
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
