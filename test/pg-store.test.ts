// The PostgreSQL store (issue 15): migrations under the advisory lock, store.tx's all-or-nothing, savepoints,
// afterCommit, serialization-failure retries and the db proxy, against a fresh database on a real PostgreSQL.
// Runs when CLANKER_TEST_DATABASE_URL is set (source .ci/services.sh); the schema checks always run.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { and, eq, sql } from "drizzle-orm";
import type { PostgresJsDatabase } from "drizzle-orm/postgres-js";
import * as lite from "../src/store/schema/sqlite";
import * as pg from "../src/store/schema/pg";
import * as picked from "../src/store/schema";
import { MIGRATIONS_PG } from "../src/store/migrations-pg";
import { LOCK_SPACES } from "../src/store/db";
import { PgStore } from "../src/store/pg-store";
import { isClientSocketRace } from "../src/store/pg-failures";
import { prepared } from "../src/store/prepared";
import type { Db } from "../src/store/db";
import { insertUnderFreeSlug } from "../src/modules/workspaces/insert";

const ADMIN = process.env.CLANKER_TEST_DATABASE_URL;
const tables = (m: object) => Object.keys(m).filter((k) => k !== "bytea").sort();

test("the schema index names every table of both dialects, and the PostgreSQL migrations list matches drizzle-kit's journal", () => {
  expect(tables(picked)).toEqual(tables(lite));
  expect(tables(pg)).toEqual(tables(lite));
  const dir = join(import.meta.dir, "../src/store/migrations-pg");
  const journal = JSON.parse(readFileSync(join(dir, "meta/_journal.json"), "utf8")) as { entries: { tag: string }[] };
  expect(MIGRATIONS_PG.map((m) => m.tag)).toEqual(journal.entries.map((e) => e.tag));
});

describe.skipIf(!ADMIN)("PostgreSQL store (needs CLANKER_TEST_DATABASE_URL: source .ci/services.sh)", () => {
  const name = `ck_store_${process.pid}_${Date.now()}`;
  let url = "";
  let admin: postgres.Sql;
  let store: PgStore;
  let db: PostgresJsDatabase<typeof pg>;
  const stores: PgStore[] = [];
  const open = () => {
    const s = new PgStore(url);
    stores.push(s);
    return s;
  };
  /** A user row to write: the users table has no foreign keys. */
  const user = (n: string) => ({ name: n, email: `${n}-${Date.now()}-${Math.random()}@example.test`, createdAt: 1, updatedAt: 1 });
  /** The SQLSTATE of a postgres.js error, raw or wrapped by drizzle (DrizzleQueryError.cause). */
  const codeOf = (e: unknown): unknown => (e as { code?: unknown })?.code ?? (e as { cause?: { code?: unknown } })?.cause?.code;
  const count = async (like: string) =>
    Number((await store.client<{ n: string }[]>`SELECT count(*) AS n FROM users WHERE name LIKE ${like}`)[0]!.n);

  beforeAll(async () => {
    admin = postgres(ADMIN!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE DATABASE "${name}"`);
    const u = new URL(ADMIN!);
    u.pathname = `/${name}`;
    url = u.toString();
  });

  afterAll(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {});
    await admin.end();
  });

  test("two stores migrating at once both succeed: one applies every migration, the other waits on the lock and finds none", async () => {
    const [a, b] = [open(), open()];
    const results = await Promise.all([a.migrate(), b.migrate()]);
    const all = MIGRATIONS_PG.map((m) => m.tag);
    expect(results.map((r) => r.length).sort()).toEqual([0, all.length]);
    expect(results.flat()).toEqual(all);
    expect(await a.migrate()).toEqual([]);
    const rows = await a.client<{ tag: string }[]>`SELECT tag FROM _migrations ORDER BY tag`;
    expect(rows.map((r) => r.tag)).toEqual(all);
    const t = await a.client`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public' AND table_name = 'users'`;
    expect(t[0]!.n).toBe(1);
    store = a;
    db = a.db as unknown as PostgresJsDatabase<typeof pg>;
  });

  test("a tx that throws leaves nothing behind, and its afterCommit hook never runs", async () => {
    let ran = false;
    const err = await store
      .tx(async () => {
        await db.insert(pg.users).values(user("rollback-a"));
        await db.insert(pg.users).values(user("rollback-a"));
        store.afterCommit(() => (ran = true));
        throw new Error("boom");
      })
      .catch((e: Error) => e);
    expect((err as Error).message).toBe("boom");
    expect(await count("rollback-a")).toBe(0);
    await Bun.sleep(10);
    expect(ran).toBe(false);
  });

  test("afterCommit runs once, after COMMIT (the row is visible from another connection by then); outside a tx it runs at once", async () => {
    const seen: number[] = [];
    const other = open();
    const result = await store.tx(async () => {
      await db.insert(pg.users).values(user("after-commit"));
      store.afterCommit(() => {
        void other.client`SELECT count(*)::int AS n FROM users WHERE name = 'after-commit'`.then((r) => seen.push(r[0]!.n));
      });
      await store.tx(async () => store.afterCommit(() => seen.push(-1)));
      expect(seen).toEqual([]);
      return "ok";
    });
    expect(result).toBe("ok");
    await Bun.sleep(100);
    expect(seen.sort()).toEqual([-1, 1]);
    let now = false;
    store.afterCommit(() => (now = true));
    expect(now).toBe(true);
  });

  test("a nested tx that throws rolls back to its savepoint (and drops its hooks); the outer tx commits the rest", async () => {
    const hooks: string[] = [];
    await store.tx(async () => {
      await db.insert(pg.users).values(user("outer-kept"));
      await store
        .tx(async () => {
          await db.insert(pg.users).values(user("inner-dropped"));
          store.afterCommit(() => hooks.push("inner"));
          throw new Error("inner");
        })
        .catch(() => {});
      await store.tx(async () => {
        await db.insert(pg.users).values(user("inner-kept"));
      });
      store.afterCommit(() => hooks.push("outer"));
    });
    expect(await count("outer-kept")).toBe(1);
    expect(await count("inner-dropped")).toBe(0);
    expect(await count("inner-kept")).toBe(1);
    expect(hooks).toEqual(["outer"]);
  });

  test("a nested tx with join runs in the outer transaction (no savepoint: a caught throw keeps its writes); alone it is a tx", async () => {
    const hooks: string[] = [];
    await store.tx(async () => {
      await store
        .tx(
          async () => {
            await db.insert(pg.users).values(user("joined-kept"));
            store.afterCommit(() => hooks.push("joined"));
            throw new Error("joined");
          },
          { join: true },
        )
        .catch(() => {});
      await db.insert(pg.users).values(user("after-joined"));
    });
    expect(await count("joined-kept")).toBe(1);
    expect(await count("after-joined")).toBe(1);
    expect(hooks).toEqual(["joined"]);
    // Thrown on through the outer tx, the joined writes go with the rest of it.
    const failed = store.tx(async () => {
      await store.tx(async () => void (await db.insert(pg.users).values(user("joined-dropped"))), { join: true });
      throw new Error("outer");
    });
    await expect(failed).rejects.toThrow("outer");
    expect(await count("joined-dropped")).toBe(0);
    const alone = store.tx(
      async () => {
        await db.insert(pg.users).values(user("alone-dropped"));
        throw new Error("alone");
      },
      { join: true },
    );
    await expect(alone).rejects.toThrow("alone");
    expect(await count("alone-dropped")).toBe(0);
  });

  test("inside a tx store.db sees the tx's uncommitted rows; outside it (another async path) does not", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inside = -1;
    const tx = store.tx(async () => {
      await db.insert(pg.users).values(user("proxy-row"));
      inside = (await db.select().from(pg.users).where(eq(pg.users.name, "proxy-row"))).length;
      await gate;
    });
    while (inside < 0) await Bun.sleep(5);
    expect(inside).toBe(1);
    // This async path is not inside the tx: the proxy gives it the pool, which cannot see the uncommitted row.
    expect((await db.select().from(pg.users).where(eq(pg.users.name, "proxy-row"))).length).toBe(0);
    release();
    await tx;
    expect((await db.select().from(pg.users).where(eq(pg.users.name, "proxy-row"))).length).toBe(1);
  });

  test("a prepared query runs on the current tx's connection, wherever it was first built: it sees the tx's rows, and rolls back with it", async () => {
    // Built with PostgreSQL's tables (this process's picked schema may be SQLite's), typed as the services see them.
    const byName = prepared((d: Db) => (d as unknown as typeof db).select().from(pg.users).where(eq(pg.users.name, sql.placeholder("name"))) as never);
    // Built once (like SQLite's), so whatever differs per row is a placeholder: the email is unique.
    const insertUser = prepared((d: Db) => (d as unknown as typeof db).insert(pg.users).values({ ...user("x"), name: sql.placeholder("name"), email: sql.placeholder("email") }).returning() as never);
    const insert = (s: PgStore, p: { name: string }) => insertUser(s, { ...p, email: user(p.name).email });
    await expect(
      store.tx(async () => {
        await insert(store, { name: "prepared-row" });
        expect(await byName(store, { name: "prepared-row" })).toHaveLength(1);
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    expect((await byName(store, { name: "prepared-row" })) as unknown[]).toEqual([]);
    const rows = (await insert(store, { name: "prepared-row" })) as unknown as { name: string }[];
    expect(rows.map((r) => r.name)).toEqual(["prepared-row"]);
    expect(await count("prepared-row")).toBe(1);
    // Built once, by its first call: here outside a tx, on the pool. Inside the next tx it still runs on that tx's
    // connection, where the uncommitted row is.
    const named = prepared((d: Db) => (d as unknown as typeof db).select({ name: pg.users.name }).from(pg.users).where(eq(pg.users.name, sql.placeholder("name"))) as never);
    expect((await named(store, { name: "built-outside" })) as unknown[]).toEqual([]);
    await expect(
      store.tx(async () => {
        await insert(store, { name: "built-outside" });
        expect((await named(store, { name: "built-outside" })) as unknown[]).toEqual([{ name: "built-outside" }]);
        throw new Error("roll back");
      }),
    ).rejects.toThrow("roll back");
    expect(await count("built-outside")).toBe(0);
  });

  test("a drizzle query with parameters runs as a named prepared statement, kept on its connection, in a tx and outside one", async () => {
    // Unnamed, postgres.js sends such a query as two round trips (Parse + Describe, then Bind + Execute); named, it is
    // one once its connection has it. PostgreSQL lists a session's named statements in pg_prepared_statements.
    const prepared = (d: PostgresJsDatabase<typeof pg>, text: string) =>
      d.execute(sql`SELECT count(*)::int AS n FROM pg_prepared_statements WHERE statement LIKE ${`%${text}%`}`).then((rows) => (rows as unknown as { n: number }[])[0]!.n);
    // Shapes no other test runs, so each connection starts without them.
    const inTx = await store.tx(async () => {
      const before = await prepared(db, '"users"."updated_at" = $1 and "users"."name" = $2');
      for (const name of ["a", "b"]) await db.select({ id: pg.users.id }).from(pg.users).where(and(eq(pg.users.updatedAt, 7), eq(pg.users.name, name)));
      return [before, await prepared(db, '"users"."updated_at" = $1 and "users"."name" = $2')];
    });
    expect(inTx).toEqual([0, 1]);
    // Outside a tx, on a pool of one connection: the next query asks the session that ran the ones before.
    const single = new PgStore(url, { max: 1 });
    stores.push(single);
    const sdb = single.db as unknown as PostgresJsDatabase<typeof pg>;
    expect(await prepared(sdb, '"users"."created_at" = $1 and "users"."email" = $2')).toBe(0);
    for (const email of ["a@example.test", "b@example.test"]) await sdb.select().from(pg.users).where(and(eq(pg.users.createdAt, 7), eq(pg.users.email, email)));
    expect(await prepared(sdb, '"users"."created_at" = $1 and "users"."email" = $2')).toBe(1);
  });

  test("two concurrent txs that read then write the same row both end correctly: the loser of the serialization conflict is run again", async () => {
    const [row] = await db.insert(pg.users).values(user("counter")).returning();
    const before = store.retries;
    // Each reads updated_at, waits so both have read, then writes read+1: without SERIALIZABLE and the retry one
    // increment would be lost (both write 2); with them the second is rejected (40001) and runs again on 2.
    let arrived = 0;
    const bump = () =>
      store.tx(async () => {
        const [r] = await db.select().from(pg.users).where(eq(pg.users.id, row!.id));
        arrived++;
        while (arrived < 2) await Bun.sleep(5);
        await db.update(pg.users).set({ updatedAt: r!.updatedAt + 1 }).where(eq(pg.users.id, row!.id));
      });
    await Promise.all([bump(), bump()]);
    const [after] = await db.select().from(pg.users).where(eq(pg.users.id, row!.id));
    expect(after!.updatedAt).toBe(3);
    expect(store.retries).toBeGreaterThan(before);
  });

  test("tx with a lock: 30 concurrent read-then-write txs on one row queue on it and all land, with no retry", async () => {
    const [row] = await db.insert(pg.users).values(user("locked-counter")).returning();
    const before = store.retries;
    const bump = () =>
      store.tx(
        async () => {
          const [r] = await db.select().from(pg.users).where(eq(pg.users.id, row!.id));
          await Bun.sleep(1);
          await db.update(pg.users).set({ updatedAt: r!.updatedAt + 1 }).where(eq(pg.users.id, row!.id));
        },
        { lock: [LOCK_SPACES.memory, row!.id] },
      );
    await Promise.all(Array.from({ length: 30 }, bump));
    const [after] = await db.select().from(pg.users).where(eq(pg.users.id, row!.id));
    expect(after!.updatedAt).toBe(row!.updatedAt + 30);
    expect(store.retries).toBe(before);
  });

  test("two workspaces made at once under one taken name: the slug probe (insertUnderFreeSlug) makes them conflict no more", async () => {
    const base = `probe ${Date.now()}`;
    await db.insert(pg.workspaces).values({ name: base, slug: base.replace(" ", "-"), createdAt: 1 });
    // Both txs have probed (found the name's slug taken) before either writes its own: the crossing that a SELECT
    // probe turned into a serialization failure, as the second half shows.
    const make = async (probe: "insert" | "select") => {
      let arrived = 0;
      const one = () =>
        store.tx(async () => {
          let first = true;
          return insertUnderFreeSlug(base, async (slug) => {
            if (probe === "select" && (await db.select({ id: pg.workspaces.id }).from(pg.workspaces).where(eq(pg.workspaces.slug, slug))).length) {
              arrived++;
              while (arrived < 2) await Bun.sleep(5);
              return undefined;
            }
            const [row] = await db.insert(pg.workspaces).values({ name: base, slug, createdAt: 1 }).onConflictDoNothing({ target: pg.workspaces.slug }).returning();
            if (first) {
              first = false;
              arrived++;
              while (arrived < 2) await Bun.sleep(5);
            }
            return row;
          });
        });
      const before = store.retries;
      const made = await Promise.all([one(), one()]);
      expect(new Set(made.map((w) => w.slug)).size).toBe(2);
      return store.retries - before;
    };
    expect(await make("insert")).toBe(0);
    // Without the probe the two usually collide on the same free slug, but the interleaving is the scheduler's: a
    // few rounds (bounded) show the conflict the probe avoids.
    let selectRetries = 0;
    for (let round = 0; round < 5 && selectRetries === 0; round++) selectRetries += await make("select");
    expect(selectRetries).toBeGreaterThan(0);
  });

  test("lockInTx: taken once per transaction, held to its end, and taken again after a rolled-back savepoint released it", async () => {
    const space = LOCK_SPACES.events;
    const key = 900_000 + (process.pid % 10_000);
    // From another connection: may the lock be had now? (An autocommit probe lets go of it at once.)
    const free = async (k: number) => ((await store.client`SELECT pg_try_advisory_xact_lock(${space}, ${k}) AS got`) as unknown as { got: boolean }[])[0]!.got;
    await store.tx(async () => {
      await store.tx(async () => {
        await store.lockInTx(space, key);
        throw new Error("undo");
      }).catch(() => {});
      // PostgreSQL let go of it with the savepoint: taking it now must really take it, not count it as held.
      expect(await free(key)).toBe(true);
      // Held by the time the tx's next statement has run (lockInTx does not wait for it: see the next test).
      await store.lockInTx(space, key);
      await db.execute(sql`SELECT 1`);
      expect(await free(key)).toBe(false);
      // Released savepoints keep theirs; asking again changes nothing.
      await store.tx(() => store.lockInTx(space, key + 1));
      await store.lockInTx(space, key + 1);
      await db.execute(sql`SELECT 1`);
      expect(await free(key + 1)).toBe(false);
    });
    expect(await free(key)).toBe(true);
    expect(await free(key + 1)).toBe(true);
  });

  test("lockInTx is not waited for: the tx's next statement waits on the lock in PostgreSQL, behind the tx holding it", async () => {
    const space = LOCK_SPACES.events;
    const key = 910_000 + (process.pid % 10_000);
    const order: string[] = [];
    let locked!: () => void;
    const holding = new Promise<void>((r) => (locked = r));
    const first = store.tx(async () => {
      await store.lockInTx(space, key);
      await db.execute(sql`SELECT 1`);
      locked();
      await db.execute(sql`SELECT pg_sleep(0.3)`);
      order.push("first ends");
    });
    await holding;
    const t0 = performance.now();
    let returnedAfter = -1;
    const second = store.tx(async () => {
      await store.lockInTx(space, key);
      returnedAfter = performance.now() - t0;
      await db.execute(sql`SELECT 1`);
      order.push("second runs");
    });
    await Promise.all([first, second]);
    expect(returnedAfter).toBeLessThan(100);
    expect(order).toEqual(["first ends", "second runs"]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(250);
  });

  test("a tx is SERIALIZABLE (READ COMMITTED with a lock, or asked for), and a query error fn caught still fails it with that error", async () => {
    const level = async () => ((await db.execute(sql`SHOW transaction_isolation`)) as unknown as { transaction_isolation: string }[])[0]!.transaction_isolation;
    expect(await store.tx(level)).toBe("serializable");
    expect(await store.tx(level, { lock: [LOCK_SPACES.memory, 0] })).toBe("read committed");
    expect(await store.tx(level, { readCommitted: true })).toBe("read committed");
    // Nested: the outer transaction decides.
    expect(await store.tx(() => store.tx(level, { readCommitted: true }))).toBe("serializable");
    // PostgreSQL aborted the tx at the failed insert: a COMMIT now would answer ROLLBACK without an error.
    const [taken] = await db.insert(pg.users).values(user("caught")).returning();
    const name = `caught-${Date.now()}`;
    const err = await store
      .tx(async () => {
        await db.insert(pg.users).values(user(name));
        await db.insert(pg.users).values({ ...user(name), email: taken!.email }).catch(() => {});
        return "fine";
      })
      .catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe("23505");
    expect(await count(name)).toBe(0);
  });

  test("a pipelined write is not waited for: it goes out ahead of the tx's next statements, which see it, and its COMMIT settles it", async () => {
    const name = `piped-${Date.now()}`;
    const t0 = performance.now();
    let returnedAfter = -1;
    const seen = await store.tx(async () => {
      // A write PostgreSQL takes 300 ms over: pipeline() returns at once, and the COMMIT waits for it.
      await store.pipeline(db.execute(sql`SELECT pg_sleep(0.3)`));
      await store.pipeline(db.insert(pg.users).values(user(name)).execute());
      returnedAfter = performance.now() - t0;
      return db.select().from(pg.users).where(eq(pg.users.name, name));
    });
    expect(returnedAfter).toBeLessThan(150);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(seen.map((u) => u.name)).toEqual([name]);
    expect(await count(name)).toBe(1);
    // Outside a tx, there is nothing to go out with: it is awaited, and its failure is the caller's.
    const [taken] = await db.insert(pg.users).values(user(`${name}-x`)).returning();
    await store.pipeline(db.insert(pg.users).values(user(`${name}-y`)).execute());
    expect(await count(`${name}-y`)).toBe(1);
    const err = await store.pipeline(db.insert(pg.users).values({ ...user(name), email: taken!.email }).execute()).catch((e: unknown) => e);
    expect(codeOf(err)).toBe("23505");
  });

  test("a pipelined write that fails fails its tx at COMMIT with its own error: nothing of the tx is kept, its hooks never run", async () => {
    const [taken] = await db.insert(pg.users).values(user("piped-taken")).returning();
    const name = `piped-fail-${Date.now()}`;
    let ran = false;
    let tries = 0;
    const err = await store
      .tx(async () => {
        tries++;
        await db.insert(pg.users).values(user(name));
        await store.pipeline(db.insert(pg.users).values({ ...user(name), email: taken!.email }).execute());
        store.afterCommit(() => (ran = true));
        return "answered";
      })
      .catch((e: unknown) => e);
    expect(codeOf(err)).toBe("23505");
    expect(tries).toBe(1);
    expect(await count(name)).toBe(0);
    await Bun.sleep(10);
    expect(ran).toBe(false);
    // In a nested tx: once its savepoint is let go, the write's failure is the outer tx's. A nested tx that throws
    // takes its pipelined writes back with it, and the outer tx commits the rest.
    const nested = await store
      .tx(async () => {
        await store.tx(() => store.pipeline(db.insert(pg.users).values({ ...user(name), email: taken!.email }).execute()));
        return "answered";
      })
      .catch((e: unknown) => e);
    expect(codeOf(nested)).toBe("23505");
    await store.tx(async () => {
      await store
        .tx(async () => {
          await store.pipeline(db.insert(pg.users).values(user(`${name}-dropped`)).execute());
          throw new Error("inner");
        })
        .catch(() => {});
      await store.pipeline(db.insert(pg.users).values(user(`${name}-kept`)).execute());
    });
    expect(await count(`${name}-dropped`)).toBe(0);
    expect(await count(`${name}-kept`)).toBe(1);
  });

  test("close() with a tx in flight lets it commit and ends at once, not after end()'s 5 s timeout", async () => {
    const other = open();
    const name = `closing-${Date.now()}`;
    const running = other.tx(async () => {
      await other.db.insert(pg.users as never).values(user(name) as never);
      await Bun.sleep(100);
    });
    await Bun.sleep(20);
    const t0 = performance.now();
    await other.close();
    await running;
    expect(performance.now() - t0).toBeLessThan(2_000);
    expect(await count(name)).toBe(1);
  });

  test("close() also waits for a tx that began while it was waiting (a timer's last work), and still ends at once", async () => {
    const other = open();
    const first = `closing-a-${Date.now()}`;
    const second = `closing-b-${Date.now()}`;
    let later: Promise<unknown> = Promise.resolve();
    const running = other.tx(async () => {
      await other.db.insert(pg.users as never).values(user(first) as never);
      await Bun.sleep(50);
    });
    await Bun.sleep(10);
    const t0 = performance.now();
    const closing = other.close();
    // Begins after close() was called, before the first tx ends: its reserved connection must not hold end() up.
    // It sits idle on its connection while the first ends: the moment the old close() called end().
    setTimeout(() => {
      later = other.tx(async () => {
        await other.db.insert(pg.users as never).values(user(second) as never);
        await Bun.sleep(150);
      });
    }, 20);
    await closing;
    await running;
    await later;
    expect(performance.now() - t0).toBeLessThan(1_500);
    expect(await count(first)).toBe(1);
    expect(await count(second)).toBe(1);
  });

  test("rows come back in the SQLite types: numbers for bigint, booleans, Buffers for bytea, JSON with its key order", async () => {
    const [u] = await db.insert(pg.users).values(user("types")).returning();
    const [w] = await db.insert(pg.workspaces).values({ name: "W", slug: `w-${Date.now()}`, createdAt: Date.now() }).returning();
    expect(typeof u!.id).toBe("number");
    expect(w!.personal).toBe(false);
    const blob = Buffer.from([0, 1, 2, 255]);
    const [s] = await db.insert(pg.secrets).values({ workspaceId: w!.id, name: "S", ciphertext: blob, createdAt: 1, updatedAt: 1 }).returning();
    expect(Buffer.isBuffer(s!.ciphertext)).toBe(true);
    expect(Buffer.compare(s!.ciphertext, blob)).toBe(0);
    const metadata = { z: 1, a: { y: 2, b: 3 } };
    await db.insert(pg.auditLogs).values({ workspaceId: w!.id, actorType: "system", requestId: "r", action: "x", resourceType: "t", metadata, createdAt: 1 });
    const [a] = await db.select().from(pg.auditLogs).where(eq(pg.auditLogs.workspaceId, w!.id));
    expect(JSON.stringify(a!.metadata)).toBe(JSON.stringify(metadata));
    const [{ n }] = (await db.select({ n: sql`count(*)`.mapWith(Number) }).from(pg.users)) as [{ n: number }];
    expect(typeof n).toBe("number");
  });
});

test("the PostgreSQL client's write on a socket already gone is told apart by its function (the compiled binary's stack names no file of it); other errors are not", () => {
  let socket: { write(x: string): void } | null = null;
  // As postgres.js names it (src/connection.js); dist/clanker keeps names (--minify-syntax only).
  const nextWrite = () => socket!.write("x");
  const thrown = (fn: () => void) => {
    try {
      fn();
    } catch (e) {
      return e;
    }
  };
  expect(isClientSocketRace(thrown(nextWrite))).toBe(true);
  socket = null;
  const otherWrite = () => socket!.write("x");
  expect(isClientSocketRace(thrown(otherWrite))).toBe(false);
  expect(isClientSocketRace(new TypeError("socket.write is not a function"))).toBe(false);
});
