import { LRUCache } from 'lru-cache';

/** An encoded value as fetched, with the ETag that revalidates it. */
export interface CachedValue {
  etag: string;
  body: Uint8Array;
  contentType: string | undefined;
  expiresAt: number | undefined;
  writeId: string | undefined;
}

export interface CacheOptions {
  /** Most entries kept (default 10,000). */
  maxEntries?: number;
  /** Most body bytes kept (default 64 MiB). */
  maxBytes?: number;
}

/**
 * The local LRU of encoded values, keyed by encoded key. It never answers a read alone: a hit is
 * revalidated with a conditional GET, so it saves the body transfer, not the request. The content
 * type and expiry are those of the write the ETag names; since every write has its own ETag
 * (write-id.ts), a 304 can never pair them with another write's bytes (text "{}" vs JSON {}).
 */
export class ValueCache {
  readonly #lru: LRUCache<string, CachedValue>;

  constructor(options: CacheOptions = {}) {
    this.#lru = new LRUCache<string, CachedValue>({
      max: options.maxEntries ?? 10_000,
      maxSize: options.maxBytes ?? 64 * 2 ** 20,
      // lru-cache needs a positive size; count the key and ETag too so empty values weigh something.
      sizeCalculation: (value, key) => value.body.length + key.length + value.etag.length,
    });
  }

  get(encodedKey: string): CachedValue | undefined {
    return this.#lru.get(encodedKey);
  }

  set(encodedKey: string, value: CachedValue): void {
    this.#lru.set(encodedKey, value);
  }

  delete(encodedKey: string): void {
    this.#lru.delete(encodedKey);
  }

  clear(): void {
    this.#lru.clear();
  }

  get size(): number {
    return this.#lru.size;
  }
}
