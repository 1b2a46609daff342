import { randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { PageSet } from './page-set.js';
import { PageSlab } from './page-slab.js';

/**
 * Committed page images, least recently used first out, bounded in bytes. Pages touched by the
 * operation in progress are pinned until `unpinAll()`: a statement restarted after a miss must find
 * every page it fetched for earlier misses, or a working set larger than the cache would never
 * finish. (lru-cache has no pinning, and this is the whole of what is needed.)
 *
 * With `spillDir`, pinned pages beyond `maxBytes` go to a local file instead of staying in memory
 * (docs/design/sql.md, "Page misses and scans"): a restarted statement reads them back with a
 * synchronous `readSync` (VFS reads are synchronous, a local read can be too), so the pages held in
 * memory stay within `maxBytes` + one page whatever the operation's working set. The spill holds
 * only pages of the operation in progress: `unpinAll()` empties it (and frees its disk blocks).
 * Every change of a page (`set`, `delete`, `truncate`, `clear`) drops its spilled image too, so a
 * spilled image is always the one the committed state holds now, never a stale one.
 */
export class PageCache {
  /** Resident pages, least recently used first: not pinned, and pinned. */
  readonly #loose = new Map<number, Uint8Array>();
  readonly #pinned = new Map<number, Uint8Array>();
  /** Pinned pages whose image is in the spill file, at (pgno - 1) × `#slot`. */
  readonly #spilled = new PageSet();
  readonly #spillDir: string | undefined;
  #fd: number | undefined;
  #path: string | undefined;
  /** Bytes per page in the spill file, fixed by the first page spilled (0: nothing spilled yet). */
  #slot = 0;
  #bytes = 0;
  readonly maxBytes: number;
  hits = 0;
  misses = 0;
  /** The most page bytes resident at any moment (before eviction ran). */
  peakBytes = 0;
  /** Pages written to the spill file, and read back from it. */
  spills = 0;
  spillReads = 0;
  /** The last error writing the spill (pages then stay resident: over the limit, but nothing fails). */
  spillError: unknown;
  /** Where resident pages of the usual size live (see PageSlab). */
  readonly #slab = new PageSlab();

  constructor(maxBytes: number, spillDir?: string) {
    this.maxBytes = maxBytes;
    this.#spillDir = spillDir;
  }

  /** Page bytes resident in memory. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Pages resident in memory. */
  get size(): number {
    return this.#loose.size + this.#pinned.size;
  }

  /** Pages of the operation in progress that are in the spill file. */
  get spilled(): number {
    return this.#spilled.size;
  }

  /**
   * The page, marked most recently used (and pinned), or undefined. Counts hits and misses. A
   * spilled page is read into `scratch` if given (the caller copies it out before the next call:
   * no garbage per read), else into a buffer of its own. A resident page is a view of its slot
   * (PageSlab): a caller that keeps it past the cache's next change copies it.
   */
  get(pgno: number, scratch?: Uint8Array): Uint8Array | undefined {
    let page = this.#pinned.get(pgno);
    if (page !== undefined) this.#pinned.delete(pgno);
    else {
      page = this.#loose.get(pgno);
      if (page !== undefined) this.#loose.delete(pgno);
      else if (this.#spilled.has(pgno)) return this.#readSpilled(pgno, scratch);
    }
    if (page === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.#pinned.set(pgno, page);
    return page;
  }

  has(pgno: number): boolean {
    return this.#pinned.has(pgno) || this.#loose.has(pgno) || this.#spilled.has(pgno);
  }

  /** Stores `page`; pinned if `pin` or if the page it replaces was. */
  set(pgno: number, page: Uint8Array, pin = false): void {
    const pinned = pin || this.#pinned.has(pgno) || this.#spilled.has(pgno);
    this.delete(pgno);
    (pinned ? this.#pinned : this.#loose).set(pgno, this.#slab.store(pgno, page));
    this.#bytes += page.length;
    if (this.#bytes > this.peakBytes) this.peakBytes = this.#bytes;
    this.#evict();
  }

  delete(pgno: number): void {
    this.#spilled.delete(pgno);
    const old = this.#pinned.get(pgno) ?? this.#loose.get(pgno);
    if (old === undefined) return;
    this.#pinned.delete(pgno);
    this.#loose.delete(pgno);
    this.#slab.free(pgno);
    this.#bytes -= old.length;
  }

  /** The pages held in memory (spilled ones not included), without touching their order. */
  *entries(): IterableIterator<[number, Uint8Array]> {
    yield* this.#pinned.entries();
    yield* this.#loose.entries();
  }

  /** Drops every page numbered above `pageCount` (the database shrank). */
  truncate(pageCount: number): void {
    for (const pgno of [...this.#pinned.keys(), ...this.#loose.keys(), ...this.#spilled.above(pageCount)]) {
      if (pgno > pageCount) this.delete(pgno);
    }
  }

  /** Ends the operation: its pages become evictable (the most recently used last out), the spill empties. */
  unpinAll(): void {
    for (const [pgno, page] of this.#pinned) this.#loose.set(pgno, page);
    this.#pinned.clear();
    this.#emptySpill();
    this.#evict();
  }

  clear(): void {
    this.#loose.clear();
    this.#pinned.clear();
    this.#slab.clear();
    this.#bytes = 0;
    this.#emptySpill();
  }

  /** Closes (and removes) the spill file. The cache stays usable: a later spill opens a new one. */
  close(): void {
    this.clear();
    if (this.#fd !== undefined) closeSync(this.#fd);
    if (this.#path !== undefined) unlinkQuietly(this.#path);
    this.#fd = undefined;
    this.#path = undefined;
  }

  #evict(): void {
    for (const [pgno, page] of this.#loose) {
      if (this.#bytes <= this.maxBytes) return;
      this.#loose.delete(pgno);
      this.#slab.free(pgno);
      this.#bytes -= page.length;
    }
    if (this.#spillDir === undefined) return;
    for (const [pgno, page] of this.#pinned) {
      if (this.#bytes <= this.maxBytes || !this.#spill(pgno, page)) return;
      this.#pinned.delete(pgno);
      this.#slab.free(pgno);
      this.#bytes -= page.length;
      this.#spilled.add(pgno);
    }
  }

  /** Writes `page` to its slot in the spill file; false if it cannot (it then stays resident). */
  #spill(pgno: number, page: Uint8Array): boolean {
    try {
      if (this.#slot === 0) this.#slot = page.length;
      if (page.length !== this.#slot) return false;
      const fd = this.#fd ?? this.#openSpill();
      writeSync(fd, page, 0, page.length, (pgno - 1) * this.#slot);
      this.spills++;
      return true;
    } catch (error) {
      this.spillError = error;
      return false;
    }
  }

  #openSpill(): number {
    const dir = this.#spillDir as string;
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `bucketdb-spill-${process.pid}-${randomBytes(6).toString('hex')}`);
    this.#fd = openSync(path, 'wx+', 0o600);
    this.#path = path;
    // Unlinked at once where the OS allows it: the file then goes with the process, even if it dies.
    if (unlinkQuietly(path)) this.#path = undefined;
    return this.#fd;
  }

  /** A spilled page, read back; undefined (a miss: fetched again) if the read fails. */
  #readSpilled(pgno: number, scratch?: Uint8Array): Uint8Array | undefined {
    const page = scratch?.length === this.#slot ? scratch : new Uint8Array(this.#slot);
    try {
      if (readSync(this.#fd as number, page, 0, page.length, (pgno - 1) * this.#slot) === page.length) {
        this.hits++;
        this.spillReads++;
        return page;
      }
    } catch {}
    this.#spilled.delete(pgno);
    this.misses++;
    return undefined;
  }

  #emptySpill(): void {
    if (this.#spilled.size === 0 && this.#slot === 0) return;
    this.#spilled.clear();
    this.#slot = 0;
    try {
      if (this.#fd !== undefined) ftruncateSync(this.#fd, 0);
    } catch {}
  }
}

function unlinkQuietly(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}
