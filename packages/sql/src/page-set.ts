/**
 * A set of page numbers as a bitmap: a scan spills every page of the database, and a Set of them
 * cost ~30 bytes a page (about 8 MiB of heap per GiB of database) where this costs one bit.
 */
export class PageSet {
  #bits = new Uint8Array(0);
  size = 0;

  has(pgno: number): boolean {
    return ((this.#bits[pgno >>> 3] ?? 0) & (1 << (pgno & 7))) !== 0;
  }

  add(pgno: number): void {
    if (this.has(pgno)) return;
    const i = pgno >>> 3;
    if (i >= this.#bits.length) {
      const grown = new Uint8Array(Math.max(i + 1, this.#bits.length * 2));
      grown.set(this.#bits);
      this.#bits = grown;
    }
    this.#bits[i] = (this.#bits[i] as number) | (1 << (pgno & 7));
    this.size++;
  }

  delete(pgno: number): void {
    if (!this.has(pgno)) return;
    const i = pgno >>> 3;
    this.#bits[i] = (this.#bits[i] as number) & ~(1 << (pgno & 7));
    this.size--;
  }

  /** The members above `pgno`. */
  above(pgno: number): number[] {
    const out: number[] = [];
    for (let p = pgno + 1; p < this.#bits.length * 8; p++) if (this.has(p)) out.push(p);
    return out;
  }

  clear(): void {
    this.#bits = new Uint8Array(0);
    this.size = 0;
  }
}
