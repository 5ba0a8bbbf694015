// src/lib/lru.ts: the bound every in-memory cache relies on (rate windows, idempotency answers, auth keys, once-locks)
// holds in entries, the least recently used leave first, an entry lives for its ttl, and every entry that leaves is
// disposed of (the authenticator's index of cached keys depends on it).
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

  test("has() answers without making the entry recent; set() of a held key makes it the most recent", () => {
    const c = lru<string, number>(2);
    c.set("a", 1).set("b", 2);
    expect(c.has("a")).toBe(true);
    c.set("c", 3); // a was only asked about: it is still the least recently used
    expect([...c.keys()]).toEqual(["b", "c"]);
    c.set("b", 20).set("d", 4); // b was set again: c leaves
    expect([...c.keys()]).toEqual(["b", "d"]);
    expect(c.get("b")).toBe(20);
    expect(c.has("zzz")).toBe(false);
    expect(c.get("zzz")).toBeUndefined();
  });

  test("reading the most recent entry again, then others, keeps the order of use", () => {
    const c = lru<string, number>(2);
    c.set("a", 1).set("b", 2);
    c.get("a");
    c.get("a"); // already the most recent
    c.set("c", 3); // b is the least recently used
    expect([...c.keys()]).toEqual(["a", "c"]);
    c.get("a"); // c was the most recent: a moves past it
    c.set("d", 4);
    expect([...c.keys()]).toEqual(["a", "d"]);
    c.delete("d");
    c.get("a");
    c.set("e", 5).set("f", 6);
    expect([...c.keys()]).toEqual(["e", "f"]);
  });

  test("an entry lives for its ttl (the cache's, or its own set's), then reads as absent and leaves", async () => {
    const gone: string[] = [];
    const c = lru<string, number>(10, { ttl: 30, dispose: (_v, k) => gone.push(k) });
    c.set("short", 1).set("long", 2, { ttl: 10_000 });
    expect(c.get("short")).toBe(1);
    await Bun.sleep(60);
    expect(c.has("short")).toBe(false);
    expect(c.get("short")).toBeUndefined();
    expect(c.get("long")).toBe(2);
    expect(gone).toEqual(["short"]);
    expect(c.size).toBe(1);
  });

  test("dispose runs for every entry that leaves: evicted, deleted, replaced by another value, cleared", () => {
    const gone: [string, number][] = [];
    const c = lru<string, number>(2, { dispose: (v, k) => gone.push([k, v]) });
    c.set("a", 1).set("b", 2).set("c", 3);
    expect(gone).toEqual([["a", 1]]); // evicted
    expect(c.delete("b")).toBe(true);
    expect(c.delete("b")).toBe(false);
    expect(gone).toEqual([["a", 1], ["b", 2]]);
    c.set("c", 3); // the same value again: nothing left
    c.set("c", 30); // another value: the old one left
    expect(gone).toEqual([["a", 1], ["b", 2], ["c", 3]]);
    c.set("d", 4);
    c.clear();
    expect(gone.slice(3).sort()).toEqual([["c", 30], ["d", 4]]);
    expect(c.size).toBe(0);
  });

  test("dispose may touch the cache (the authenticator's unindex reads its own maps): eviction still holds the bound", () => {
    const c = lru<number, number>(5, { dispose: (_v, k) => void c.has(k) });
    for (let i = 0; i < 100; i++) c.set(i, i);
    expect(c.size).toBe(5);
    expect([...c.keys()]).toEqual([95, 96, 97, 98, 99]);
  });
});
