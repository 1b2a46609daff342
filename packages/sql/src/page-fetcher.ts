import type { CommitLog } from '@bucketdb/log';
import { CorruptError, type ObjectStore } from '@bucketdb/store';
import { decodeSegment } from './checkpoint-format.js';
import { decodeEntry } from './commit-entry.js';
import type { CommittedPages } from './committed-pages.js';
import { unpackPage } from './page-codec.js';

export interface FetchOptions {
  /** Pages fetched on an isolated miss (default 8). */
  readAheadMin?: number;
  /** Read-ahead doubles on each sequential miss up to this many pages (default 256). */
  readAheadMax?: number;
  /** GETs in flight when prefetching a whole database (default 8). */
  parallelGets?: number;
}

/**
 * Brings committed pages into the cache: from checkpoint chunks with ranged GETs (a window after
 * the missing page that grows while misses are sequential), or from the log record that holds a
 * page changed since the checkpoint. Runs under the Database's mutex, so the committed state does
 * not move while it works.
 */
export class PageFetcher {
  readonly #store: ObjectStore;
  readonly #log: CommitLog;
  readonly #committed: CommittedPages;
  readonly #min: number;
  readonly #max: number;
  readonly #parallel: number;
  #readAhead: number;
  #nextSequential = -1;
  /** Statement restarts caused by misses, for stats. */
  fetches = 0;

  constructor(store: ObjectStore, log: CommitLog, committed: CommittedPages, options: FetchOptions = {}) {
    this.#store = store;
    this.#log = log;
    this.#committed = committed;
    this.#min = options.readAheadMin ?? 8;
    this.#max = options.readAheadMax ?? 256;
    this.#parallel = options.parallelGets ?? 8;
    this.#readAhead = this.#min;
  }

  async fetch(pgnos: Iterable<number>): Promise<void> {
    for (const pgno of pgnos) {
      if (this.#committed.cache.has(pgno)) continue;
      this.fetches++;
      await this.#fetchOne(pgno);
    }
  }

  /** Loads every page of the database (parallel GETs of whole chunks and records). */
  async prefetchAll(): Promise<void> {
    const c = this.#committed;
    const manifest = c.checkpoint?.manifest;
    if (manifest) await this.#parallelDo([...manifest.segments.keys()], (s) => this.loadSegment(s));
    const byChunk = new Map<string, number[]>();
    const records = new Set<number>();
    for (let pgno = 1; pgno <= c.pageCount; pgno++) {
      if (c.cache.has(pgno)) continue;
      const src = c.source(pgno);
      if (src.kind === 'chunk') byChunk.set(src.ref.key, [...(byChunk.get(src.ref.key) ?? []), pgno]);
      else if (src.kind === 'record') records.add(src.version);
    }
    await this.#parallelDo([...byChunk], ([key, pages]) => this.#fetchRange(key, pages));
    await this.#parallelDo([...records], (v) => this.#fetchRecord(v, false));
  }

  async #fetchOne(pgno: number): Promise<void> {
    const c = this.#committed;
    let src = c.source(pgno);
    if (src.kind === 'segment') {
      await this.loadSegment(src.segment);
      src = c.source(pgno);
    }
    if (src.kind === 'record') return this.#fetchRecord(src.version, true);
    if (src.kind !== 'chunk') return;
    this.#readAhead = pgno === this.#nextSequential ? Math.min(this.#readAhead * 2, this.#max) : this.#min;
    const window = [pgno];
    for (let q = pgno + 1; q < pgno + this.#readAhead && q <= c.pageCount; q++) {
      const s = c.source(q);
      if (s.kind === 'chunk' && s.ref.key === src.ref.key && !c.cache.has(q)) window.push(q);
    }
    this.#nextSequential = pgno + this.#readAhead;
    await this.#fetchRange(src.ref.key, window, true);
  }

  /**
   * One ranged GET covering `pages` of chunk `key`. Pages fetched for a statement are pinned until
   * the operation ends: the statement re-runs from the start and needs them all again; the cache
   * may exceed its limit by one operation's working set meanwhile.
   */
  async #fetchRange(key: string, pages: number[], pin = false): Promise<void> {
    const c = this.#committed;
    const refs = pages.flatMap((pgno) => {
      const s = c.source(pgno);
      return s.kind === 'chunk' && s.ref.key === key ? [{ pgno, ref: s.ref }] : [];
    });
    if (refs.length === 0) return;
    const start = Math.min(...refs.map((r) => r.ref.offset));
    const end = Math.max(...refs.map((r) => r.ref.offset + r.ref.length));
    const { body } = await this.#store.get(key, { range: { offset: start, length: end - start } });
    for (const { pgno, ref } of refs) {
      const bytes = body.subarray(ref.offset - start, ref.offset - start + ref.length);
      const image = unpackPage(bytes, ref.crc, c.pageSize, `chunk ${key} page ${pgno}`);
      c.cache.set(pgno, image, pin);
      if (pgno === 1) c.page1 = image;
    }
  }

  async #fetchRecord(version: number, pin: boolean): Promise<void> {
    const c = this.#committed;
    const record = await this.#log.read(version);
    record.entries.forEach((entry, i) => {
      const set = decodeEntry(entry, `log record ${version} entry ${i}`);
      for (const [pgno, image] of set.pages) {
        if (c.recordPages.get(pgno) !== version) continue;
        c.cache.set(pgno, image, pin);
        if (pgno === 1) c.page1 = image;
      }
    });
  }

  async loadSegment(segment: number): Promise<void> {
    const c = this.#committed;
    const manifest = c.checkpoint?.manifest;
    const key = manifest?.segments[segment];
    if (!manifest || key === undefined || c.segments.has(segment)) return;
    const seg = decodeSegment((await this.#store.get(key)).body, `page-map segment ${key}`);
    const first = segment * manifest.segmentPages + 1;
    const count = Math.min(manifest.segmentPages, manifest.pageCount - first + 1);
    if (seg.firstPage !== first || seg.refs.length !== count) {
      throw new CorruptError(`page-map segment ${key} describes the wrong pages`);
    }
    c.segments.set(segment, seg);
  }

  async #parallelDo<T>(items: T[], task: (item: T) => Promise<void>): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < items.length) await task(items[next++] as T);
    };
    await Promise.all(Array.from({ length: Math.min(this.#parallel, items.length) }, worker));
  }
}
