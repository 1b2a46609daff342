/** Pages a slab holds: 1 MiB of 4 KiB pages. */
const SLAB_PAGES = 256;

/**
 * Storage for the page cache's resident images: slots in large buffers, reused as pages come and
 * go, instead of one small buffer per page. A scan moves every page of the database through the
 * cache; with a buffer per page, each evicted or spilled page left 4 KiB for the garbage collector,
 * which V8 frees only after tens of MiB of them have accumulated, and the allocator kept that high
 * water mark (docs/design/sql.md, "Page misses and scans"). Slabs are allocated as the resident
 * bytes grow and kept for reuse; pages of another size than the first one stored are kept as given.
 *
 * `store` returns a view of the page's slot: valid until that page is freed (its slot then holds
 * another page). Whoever keeps a page image past the cache's next change copies it.
 */
export class PageSlab {
  #pageSize = 0;
  readonly #slabs: Uint8Array[] = [];
  readonly #free: number[] = [];
  readonly #slotOf = new Map<number, number>();

  /** Copies `page` into a free slot for `pgno` (whose previous slot the caller freed) and returns the slot. */
  store(pgno: number, page: Uint8Array): Uint8Array {
    if (this.#pageSize === 0) this.#pageSize = page.length;
    if (page.length !== this.#pageSize) return page;
    const slot = this.#free.pop() ?? this.#grow();
    const at = (slot % SLAB_PAGES) * this.#pageSize;
    const view = (this.#slabs[Math.floor(slot / SLAB_PAGES)] as Uint8Array).subarray(at, at + this.#pageSize);
    view.set(page);
    this.#slotOf.set(pgno, slot);
    return view;
  }

  /** Returns `pgno`'s slot, if it has one, to the free list. */
  free(pgno: number): void {
    const slot = this.#slotOf.get(pgno);
    if (slot === undefined) return;
    this.#slotOf.delete(pgno);
    this.#free.push(slot);
  }

  clear(): void {
    for (const slot of this.#slotOf.values()) this.#free.push(slot);
    this.#slotOf.clear();
  }

  /** A new slab: its first slot, the others free. */
  #grow(): number {
    const base = this.#slabs.length * SLAB_PAGES;
    this.#slabs.push(new Uint8Array(SLAB_PAGES * this.#pageSize));
    for (let i = SLAB_PAGES - 1; i > 0; i--) this.#free.push(base + i);
    return base;
  }
}
