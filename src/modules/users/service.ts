// People and their personal workspaces: created on first sign-in or by the CLI.
import { and, asc, count, eq, isNotNull, isNull, sql, type SQL } from "drizzle-orm";
import type { Store } from "../../store/db";
import { invitations, users } from "../../store/schema";
import { insertOwnedWorkspace } from "../workspaces/insert";
import { InvalidRequestError } from "../../lib/errors";
import { domainToASCII, domainToUnicode } from "node:url";

export type User = typeof users.$inferSelect;

const EMAIL_RE = /^[^\s@]{1,64}@[^\s@]{1,255}$/;
/**
 * The local part without what makes one mailbox read as several: no comment "(1)v", no brackets "<v>", no commas,
 * quotes or other RFC 5322 specials, no invisible, blank-looking (braille blank, Hangul fillers) or control
 * character, no look-alike @ ("admin＠victim.com@…"). Each of those reached the same mailbox as
 * "v@…" while it was an account of its own with its own budget of codes, or got a 500 from the mail server. Dots stay
 * free: "taro..yamada@" and "hanako.@" are live addresses at Japanese carriers.
 */
const LOCAL_REFUSED = /[\s()<>[\]:;@\\,"\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\u2800\u115F\u1160\u3164\uFFA0\uFE6B\uFF20]/u;
/** A host name's label as IDNA leaves it: letters, digits and inner hyphens, at most 63. */
const LABEL_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
/** An address literal ("[127.0.0.1]", "[IPv6:…]"), kept as typed. */
const LITERAL_RE = /^\[(?:ipv6:)?[0-9a-f.:]+\]$/;

/**
 * One mailbox, one account: the address in Unicode NFC, lower case, its domain as IDNA maps it (an xn-- form, its
 * Unicode form and a full-width spelling are one domain), in Unicode as people type it. Before, "üser@" in NFC and
 * in NFD, or "bücher.example" and "xn--bcher-kva.example", were separate users with separate code budgets.
 */
/** The server's owner, its first user, as a subquery (who may read the server's own folders, whom a fresh install belongs to). */
export const serverOwnerId = (): SQL<number> => sql<number>`(select min(${users.id}) from ${users})`;

export function normalizeEmail(raw: string): string {
  const email = raw.trim().normalize("NFC").toLowerCase();
  // Quoted as JSON: a control character or an invisible one shows as an escape.
  const invalid = () => new InvalidRequestError(`${JSON.stringify(raw.slice(0, 320))} is not a valid email address: expected name@example.com`, "email");
  if (!EMAIL_RE.test(email)) throw invalid();
  const at = email.lastIndexOf("@");
  const [local, domain] = [email.slice(0, at), email.slice(at + 1)];
  if (LOCAL_REFUSED.test(local)) throw invalid();
  if (LITERAL_RE.test(domain)) return email;
  const ascii = domainToASCII(domain);
  if (!ascii || !ascii.split(".").every((label) => LABEL_RE.test(label))) throw invalid();
  return `${local}@${domainToUnicode(ascii)}`;
}

export function createUsersService(store: Store) {
  /** Inside a tx: a user with a personal workspace they own. */
  async function createUser(input: { email: string | null; name: string }): Promise<User> {
    const now = Date.now();
    const [user] = await store.db.insert(users).values({ email: input.email, name: input.name, createdAt: now, updatedAt: now }).returning();
    const base = input.email ? input.email.split("@")[0]! : input.name;
    await insertOwnedWorkspace(store, { name: `${input.name}'s workspace`, slugFrom: base, personal: true, userId: user!.id, now });
    return user!;
  }

  async function byEmail(email: string): Promise<User | undefined> {
    const [row] = await store.db.select().from(users).where(eq(users.email, email));
    return row;
  }

  /** The server's first user: who owns a fresh install. */
  async function owner(): Promise<User | undefined> {
    const [row] = await store.db.select().from(users).where(eq(users.id, serverOwnerId()));
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

    /**
     * The local owner (the first user, made by the CLI or `clanker mcp` with no address) given `email` when this is the
     * first person: nobody has an address here yet (made by the CLI's --email, a sign-in, a claim) and nobody invited
     * this one (a guest). Before, anyone signing in after the operator, whose account the CLI had made, took the owner
     * over with what its agents made.
     */
    adoptLocalOwner(email: string): Promise<{ user: User; created: false } | null> {
      return store.tx(async () => {
        const [person] = await store.db.select({ id: users.id }).from(users).where(isNotNull(users.email)).limit(1);
        if (person) return null;
        const [invited] = await store.db.select({ id: invitations.id }).from(invitations).where(eq(invitations.email, email)).limit(1);
        if (invited) return null;
        const o = await owner();
        if (!o || o.email !== null) return null;
        const [user] = await store.db.update(users).set({ email, updatedAt: Date.now() }).where(and(eq(users.id, o.id), isNull(users.email))).returning();
        return user ? { user, created: false as const } : null;
      });
    },

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
