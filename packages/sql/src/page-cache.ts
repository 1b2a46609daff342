/**
 * Committed page images, least recently used first out, bounded in bytes. Pages touched by the
 * operation in progress are pinned until `unpinAll()`: a statement restarted after a miss must find
 * every page it fetched for earlier misses, or a working set larger than the cache would never
 * finish. (lru-cache has no pinning, and this is the whole of what is needed.)
 */
export class PageCache {
  readonly #pages = new Map<number, Uint8Array>();
  readonly #pinned = new Set<number>();
  #bytes = 0;
  readonly maxBytes: number;
  hits = 0;
  misses = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get size(): number {
    return this.#pages.size;
  }

  /** The page, marked most recently used (and pinned), or undefined. Counts hits and misses. */
  get(pgno: number): Uint8Array | undefined {
    const page = this.#pages.get(pgno);
    if (page === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.#pages.delete(pgno);
    this.#pages.set(pgno, page);
    this.#pinned.add(pgno);
    return page;
  }

  has(pgno: number): boolean {
    return this.#pages.has(pgno);
  }

  set(pgno: number, page: Uint8Array, pin = false): void {
    this.delete(pgno);
    this.#pages.set(pgno, page);
    this.#bytes += page.length;
    if (pin) this.#pinned.add(pgno);
    this.#evict();
  }

  delete(pgno: number): void {
    const old = this.#pages.get(pgno);
    if (old === undefined) return;
    this.#pages.delete(pgno);
    this.#bytes -= old.length;
  }

  /** The cached pages, least recently used first (without touching their order). */
  entries(): IterableIterator<[number, Uint8Array]> {
    return this.#pages.entries();
  }

  /** Drops every page numbered above `pageCount` (the database shrank). */
  truncate(pageCount: number): void {
    for (const pgno of [...this.#pages.keys()]) if (pgno > pageCount) this.delete(pgno);
  }

  unpinAll(): void {
    this.#pinned.clear();
    this.#evict();
  }

  clear(): void {
    this.#pages.clear();
    this.#pinned.clear();
    this.#bytes = 0;
  }

  #evict(): void {
    // Everything pinned (a large operation in progress): nothing to scan for.
    if (this.#bytes <= this.maxBytes || this.#pinned.size >= this.#pages.size) return;
    for (const [pgno, page] of this.#pages) {
      if (this.#bytes <= this.maxBytes) break;
      if (this.#pinned.has(pgno)) continue;
      this.#pages.delete(pgno);
      this.#bytes -= page.length;
    }
  }
}
