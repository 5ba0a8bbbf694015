// src/lib/lru.ts: the bound every in-memory cache relies on (rate windows, idempotency answers, auth keys, once-locks)
// holds in entries, the least recently used leave first, and ttl and dispose pass through.
import { describe, expect, test } from "bun:test";
import { lru } from "../src/lib/lru";

describe("lru(entries)", () => {
  test("never holds more than `entries`; a read keeps an entry, the least recently used leaves", () => {
    const c = lru<string, number>(3);
    c.set("a", 1).set("b", 2).set("c", 3);
    expect(c.get("a")).toBe(1);
    c.set("d", 4);
    expect([...c.keys()].sort()).toEqual(["a", "c", "d"]);
    for (let i = 0; i < 1000; i++) c.set(`k${i}`, i);
    expect(c.size).toBe(3);
    expect([...c.keys()].sort()).toEqual(["k997", "k998", "k999"]);
  });

  test("ttl and dispose pass through to lru-cache", async () => {
    const gone: string[] = [];
    const c = lru<string, number>(2, { ttl: 20, dispose: (_v, k) => gone.push(k) });
    c.set("a", 1).set("b", 2).set("c", 3);
    expect(gone).toEqual(["a"]);
    await Bun.sleep(40);
    expect(c.get("b")).toBeUndefined();
  });
});
