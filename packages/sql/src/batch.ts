import type { PageSet } from './commit-entry.js';
import { Layer } from './page-file.js';
import { withChangeCounter } from './page1.js';

/** Internal: the batch a transaction belonged to could not commit; run the transaction again. */
export class RetrySignal extends Error {
  constructor() {
    super('the transaction must run again');
    this.name = 'RetrySignal';
  }
}

interface Member {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Transactions committed locally, one after another, waiting to go out together as one log record
 * (group commit). Keeps what validation needs: every page the members read or wrote, the image of
 * page 1 they started from, and the pages that other writers' records changed meanwhile.
 */
export class Batch {
  readonly layer: Layer;
  readonly touched = new Set<number>();
  readonly basePage1: Uint8Array | null;
  readonly foreignChanged = new Set<number>();
  readonly members: Member[] = [];
  /** Commit ids of this batch's append attempts, to recognise its record when it is seen. */
  readonly attempts = new Map<string, PageSet>();
  /** Tickets of the members that run again if the batch fails (transaction(), statements). */
  readonly tickets: number[] = [];
  /** The last local commit in this batch (names the head view's content); 0: only read-only members. */
  lastSeq = 0;
  /** A batch without writes: its members' reads were confirmed at the tail. */
  confirmed = false;
  settled = false;
  /** The batch will never commit (its members run again or fail). */
  failed = false;

  constructor(pageCount: number, basePage1: Uint8Array | null) {
    this.layer = new Layer(pageCount);
    this.basePage1 = basePage1;
  }

  get hasWrites(): boolean {
    return this.layer.pages.size > 0;
  }

  /** Adds a transaction's writes and reads; the promise settles with the batch. */
  add(txn: Layer, reads: Iterable<number>, pageSize: number, ticket?: number): Promise<void> {
    this.layer.absorb(txn, pageSize);
    if (ticket !== undefined) this.tickets.push(ticket);
    for (const p of reads) this.touched.add(p);
    for (const p of txn.pages.keys()) this.touched.add(p);
    return new Promise((resolve, reject) => this.members.push({ resolve, reject }));
  }

  /** Whether nothing this batch read or wrote was changed by other writers (page 1 judged apart). */
  valid(page1Unchanged: boolean): boolean {
    if (!page1Unchanged) return false;
    for (const p of this.foreignChanged) if (p !== 1 && this.touched.has(p)) return false;
    return true;
  }

  /** The record entry for a commit whose predecessor's page 1 has change counter `counter`. */
  pageSet(pageSize: number, counter: number): PageSet {
    const pages = new Map(this.layer.pages);
    const page1 = pages.get(1);
    if (page1) pages.set(1, withChangeCounter(page1, counter + 1));
    return { pageSize, pageCount: this.layer.pageCount, pages };
  }

  resolve(): void {
    this.settled = true;
    for (const m of this.members) m.resolve();
  }

  reject(error: unknown): void {
    this.settled = true;
    this.failed = true;
    for (const m of this.members) m.reject(error);
  }
}
