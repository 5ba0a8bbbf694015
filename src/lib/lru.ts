// The one way this server makes a bounded in-memory cache: at most `entries` entries, the least recently used leave
// first, each optionally for a time only. A Map keeps insertion order, so a read that moves its entry to the end
// keeps the order of use, and the first key is the one to evict.
//
// Not lru-cache: its Node build imports node:diagnostics_channel, which Bun compiles when a process first imports it,
// and asks that channel for subscribers on every get and set. Loading both was ~3 ms of serve's first 200
// (test/bench/cold-start.ts, side by side); per request this is as fast (test/bench/ab.ts).

export interface LruOptions<K, V> {
  /** ms an entry lives after its set; a read past it finds nothing. Per set: `set(k, v, { ttl })`. */
  ttl?: number;
  /** Called when an entry leaves: evicted, deleted, cleared, expired, or replaced by another value. */
  dispose?: (value: V, key: K) => void;
}

interface Entry<V> {
  value: V;
  /** performance.now() past which the entry is gone; Infinity: no ttl. */
  expires: number;
}

export class Lru<K, V> {
  private readonly map = new Map<K, Entry<V>>();
  /** The most recently used key: a read of it (a busy client's rate window, its key) leaves the Map as it is. */
  private newest: K | undefined;

  constructor(
    private readonly entries: number,
    private readonly options: LruOptions<K, V> = {},
  ) {}

  get size(): number {
    return this.map.size;
  }

  /** The live value, now the most recently used; undefined if absent or expired (an expired entry leaves). */
  get(key: K): V | undefined {
    const e = this.live(key);
    if (e === undefined) return undefined;
    if (key !== this.newest) {
      this.map.delete(key);
      this.map.set(key, e);
      this.newest = key;
    }
    return e.value;
  }

  /** Whether a live value is held; the order of use does not change. */
  has(key: K): boolean {
    return this.live(key) !== undefined;
  }

  set(key: K, value: V, opts: { ttl?: number } = {}): this {
    const ttl = opts.ttl ?? this.options.ttl;
    const old = this.map.get(key);
    if (old !== undefined) {
      this.map.delete(key);
      if (old.value !== value) this.options.dispose?.(old.value, key);
    }
    this.map.set(key, { value, expires: ttl ? performance.now() + ttl : Infinity });
    this.newest = key;
    if (this.map.size > this.entries) {
      const oldest = this.map.keys().next().value as K;
      this.delete(oldest);
    }
    return this;
  }

  delete(key: K): boolean {
    const e = this.map.get(key);
    if (e === undefined) return false;
    this.map.delete(key);
    if (key === this.newest) this.newest = undefined;
    this.options.dispose?.(e.value, key);
    return true;
  }

  clear(): void {
    const dispose = this.options.dispose;
    const all = dispose ? [...this.map] : [];
    this.map.clear();
    this.newest = undefined;
    for (const [key, e] of all) dispose!(e.value, key);
  }

  /** The keys held, least recently used first (expired ones included until a read finds them). */
  keys(): IterableIterator<K> {
    return this.map.keys();
  }

  private live(key: K): Entry<V> | undefined {
    const e = this.map.get(key);
    if (e === undefined || e.expires === Infinity || e.expires > performance.now()) return e;
    this.delete(key);
    return undefined;
  }
}

/** A cache of at most `entries` entries (see Lru). */
export function lru<K, V>(entries: number, options: LruOptions<K, V> = {}): Lru<K, V> {
  return new Lru<K, V>(entries, options);
}
