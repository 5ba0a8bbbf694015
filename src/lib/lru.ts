// The one way this server makes a bounded in-memory cache.
import { LRUCache } from "lru-cache";

type Options<K extends {}, V extends {}> = Omit<LRUCache.Options<K, V, unknown>, "max" | "maxSize" | "sizeCalculation">;

/**
 * An LRU cache of at most `entries` entries, nothing allocated before it is used. lru-cache's `max` allocates its
 * arrays for every entry when the cache is made (the rate limiter's 200,000: ~4 ms and 6 MB, paid by the first
 * request); the same bound as a `maxSize` in entries grows as the cache fills, with the same eviction and speed.
 */
export function lru<K extends {}, V extends {}>(entries: number, options: Options<K, V> = {}): LRUCache<K, V> {
  return new LRUCache<K, V>({ ...options, maxSize: entries, sizeCalculation: () => 1 });
}
