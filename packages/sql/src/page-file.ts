import type { CommittedPages } from './committed-pages.js';
import type { VfsFile } from './vfs.js';

const IOERR_READ = 266;
const IOERR_WRITE = 778;
const SHORT_READ = 522;
const READONLY = 8;

/** Pages written on top of the committed file, by a transaction or a batch awaiting its record. */
export class Layer {
  readonly pages = new Map<number, Uint8Array>();
  pageCount: number;
  /** Pages above this were truncated away by this layer: absent from `pages`, they read as zeros. */
  floor = Number.POSITIVE_INFINITY;

  constructor(pageCount: number) {
    this.pageCount = pageCount;
  }

  /** A copy that does not see later changes to this layer. */
  copy(): Layer {
    const layer = new Layer(this.pageCount);
    for (const [pgno, image] of this.pages) layer.pages.set(pgno, image);
    layer.floor = this.floor;
    return layer;
  }

  /** Puts `top` (written after this layer) into this one. */
  absorb(top: Layer, pageSize: number): void {
    top.normalize(pageSize);
    for (const pgno of [...this.pages.keys()]) if (pgno > top.pageCount) this.pages.delete(pgno);
    for (const [pgno, image] of top.pages) this.pages.set(pgno, image);
    this.pageCount = top.pageCount;
  }

  /** Makes truncate-then-extend explicit as zero pages, so `pages` + `pageCount` say everything. */
  normalize(pageSize: number): void {
    for (let p = this.floor + 1; p <= this.pageCount; p++) {
      if (!this.pages.has(p)) this.pages.set(p, new Uint8Array(pageSize));
    }
    this.floor = Number.POSITIVE_INFINITY;
  }
}

/**
 * The database file SQLite sees: the committed pages, then the layers of batches awaiting their
 * record, then the running transaction's layer. Records every page read (the read set), and the
 * pages that were not resident: such a read fails with an I/O error, the Database fetches them and
 * runs the statement again ("restart on miss").
 */
export class PageFile implements VfsFile {
  readonly #committed: CommittedPages;
  /** Layers below the transaction, oldest first; empty for reads of committed state. */
  below: Layer[] = [];
  /** Where writes go; undefined while running read-only statements. */
  txn: Layer | undefined;
  readonly reads = new Set<number>();
  readonly misses = new Set<number>();
  /**
   * For a snapshot that outlives the committed state it started from (an interactive
   * transaction): pages changed since. Reading one from the committed state fails like a miss and
   * lands in `stale`: the snapshot's image of it is gone, and the transaction cannot commit anyway.
   */
  changed: Set<number> | undefined;
  readonly stale = new Set<number>();
  /** Where `read` has spilled pages read back (copied out at once), so a scan makes no garbage per page. */
  #scratch: Uint8Array | undefined;

  constructor(committed: CommittedPages) {
    this.#committed = committed;
  }

  get pageSize(): number {
    return this.#committed.pageSize;
  }

  /** The page count of the current view. */
  get pageCount(): number {
    return (this.txn ?? this.below.at(-1))?.pageCount ?? this.#committed.pageCount;
  }

  /**
   * The image of page `pgno` in the current view; null when it reads as zeros; undefined on a miss.
   * `scratch`: see `PageCache.get`.
   */
  page(pgno: number, scratch?: Uint8Array): Uint8Array | null | undefined {
    const layers = this.txn ? [this.txn, ...this.below.slice().reverse()] : this.below.slice().reverse();
    for (const layer of layers) {
      const image = layer.pages.get(pgno);
      if (image) return image;
      if (pgno > layer.floor || pgno > layer.pageCount) return null;
    }
    if (this.changed?.has(pgno)) {
      this.stale.add(pgno);
      return undefined;
    }
    const committed = this.#committed;
    if (pgno > committed.pageCount) return null;
    if (pgno === 1 && committed.page1) return committed.page1;
    const cached = committed.cache.get(pgno, scratch);
    if (cached) return cached;
    return committed.source(pgno).kind === 'zero' ? null : undefined;
  }

  read(dest: Uint8Array, offset: number): number {
    const ps = this.pageSize;
    const size = this.pageCount * ps;
    let missed = false;
    if (this.#scratch?.length !== ps) this.#scratch = new Uint8Array(ps);
    for (let at = offset; at < offset + dest.length && at < size; at = (Math.floor(at / ps) + 1) * ps) {
      const pgno = Math.floor(at / ps) + 1;
      this.reads.add(pgno);
      const image = this.page(pgno, this.#scratch);
      const from = at % ps;
      const n = Math.min(ps - from, offset + dest.length - at);
      if (image === undefined) {
        this.misses.add(pgno);
        missed = true;
      } else if (image === null) {
        dest.fill(0, at - offset, at - offset + n);
      } else {
        dest.set(image.subarray(from, from + n), at - offset);
      }
    }
    if (missed) return IOERR_READ;
    if (offset + dest.length > size) {
      dest.fill(0, Math.max(0, size - offset));
      return SHORT_READ;
    }
    return 0;
  }

  write(src: Uint8Array, offset: number): number {
    const txn = this.txn;
    if (!txn) return READONLY;
    const ps = this.pageSize;
    if (offset % ps !== 0 || src.length !== ps) return IOERR_WRITE;
    const pgno = offset / ps + 1;
    txn.pages.set(pgno, src);
    txn.pageCount = Math.max(txn.pageCount, pgno);
    return 0;
  }

  truncate(size: number): number {
    const txn = this.txn;
    if (!txn) return READONLY;
    const n = Math.ceil(size / this.pageSize);
    for (const pgno of [...txn.pages.keys()]) if (pgno > n) txn.pages.delete(pgno);
    txn.pageCount = n;
    txn.floor = Math.min(txn.floor, n);
    return 0;
  }

  size(): number {
    return this.pageCount * this.pageSize;
  }

  resetTracking(): void {
    this.reads.clear();
    this.misses.clear();
    this.stale.clear();
  }
}
