import type { CommitLog } from '@bucketdb/log';
import { CorruptError, mapConcurrent, type ObjectStore } from '@bucketdb/store';
import { type ChunkRef, Segment } from './checkpoint-format.js';
import { decodeEntry } from './commit-entry.js';
import type { CommittedPages } from './committed-pages.js';
import { unpackPage } from './page-codec.js';

export interface FetchOptions {
  /** Pages fetched on an isolated miss (default 8). */
  readAheadMin?: number;
  /**
   * The window doubles on each sequential miss up to this many pages (default: unbounded, so a scan
   * of n pages restarts O(log n) times and re-reads at most about n pages in all: linear).
   */
  readAheadMax?: number;
  /** GETs in flight when prefetching a whole database or a scan's window (default 8). */
  parallelGets?: number;
}

/** A page of a checkpoint chunk and where in the chunk it lies. */
interface ChunkPage {
  pgno: number;
  ref: ChunkRef;
}

/** A miss this close after the previous window still counts as sequential (interior pages interleave). */
const SEQUENTIAL_SLACK = 64;
/** Non-sequential misses in a row after which a scan is over. */
const MAX_STRIKES = 2;

/**
 * Brings committed pages into the cache: from checkpoint chunks with ranged GETs (a window after
 * the missing page that doubles while misses are sequential, fetched as one GET per chunk in
 * parallel), or from the log record that holds a page changed since the checkpoint. Runs under the
 * Database's mutex, so the committed state does not move while it works.
 */
export class PageFetcher {
  readonly #store: ObjectStore;
  readonly #log: CommitLog;
  readonly #committed: CommittedPages;
  readonly #min: number;
  readonly #max: number;
  readonly #parallel: number;
  #readAhead: number;
  /** The last window of the scan in progress (or of the last miss). */
  #lo = Number.NEGATIVE_INFINITY;
  #hi = Number.NEGATIVE_INFINITY;
  /** Non-sequential misses since the last sequential one. */
  #strikes = 0;
  /** Statement restarts caused by misses, for stats. */
  fetches = 0;

  constructor(store: ObjectStore, log: CommitLog, committed: CommittedPages, options: FetchOptions = {}) {
    this.#store = store;
    this.#log = log;
    this.#committed = committed;
    this.#min = options.readAheadMin ?? 8;
    this.#max = options.readAheadMax ?? Number.POSITIVE_INFINITY;
    this.#parallel = options.parallelGets ?? 8;
    this.#readAhead = this.#min;
  }

  /** Pages fetched on an isolated miss. */
  get readAheadMin(): number {
    return this.#min;
  }

  /** Whether the last miss continued a sequential run (a scan is going on). */
  get scanning(): boolean {
    return this.#readAhead > this.#min;
  }

  /** The last page of the scan's (or the last miss's) window: a scan's next window starts after it. */
  get windowEnd(): number {
    return this.#hi;
  }

  /** Brings `pgnos` (and the window after each) into the cache, pinned until `cache.unpinAll()`. */
  async fetch(pgnos: Iterable<number>): Promise<void> {
    for (const pgno of pgnos) {
      if (this.#committed.cache.has(pgno)) continue;
      this.fetches++;
      await this.#fetchOne(pgno);
    }
  }

  /** Loads every page of the database (parallel GETs of whole chunks and records). */
  async prefetchAll(): Promise<void> {
    await this.prefetch(1, this.#committed.pageCount);
  }

  /** Loads pages `from`…`to` from wherever each lives (chunks and records in parallel), unpinned. */
  async prefetch(from: number, to: number): Promise<void> {
    await this.#fetchSpan(from, Math.min(to, this.#committed.pageCount), false, true);
  }

  /** Loads scattered pages all at once (one GET per chunk page or record), unpinned. */
  async prefetchPages(pgnos: readonly number[]): Promise<void> {
    const c = this.#committed;
    const wanted = pgnos.filter((p) => p <= c.pageCount && !c.cache.has(p));
    const segments = new Set<number>();
    for (const p of wanted) {
      const src = c.source(p);
      if (src.kind === 'segment') segments.add(src.segment);
    }
    await Promise.all([...segments].map((s) => this.loadSegment(s)));
    const versions = new Set<number>();
    const chunkPages: ChunkPage[] = [];
    for (const pgno of wanted) {
      const src = c.source(pgno);
      if (src.kind === 'record') versions.add(src.version);
      else if (src.kind === 'chunk') chunkPages.push({ pgno, ref: src.ref });
    }
    await Promise.all([
      ...chunkPages.map((page) => this.#fetchRange(page.ref.key, [page])),
      ...[...versions].map((v) => this.#fetchRecord(v, false)),
    ]);
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
    // Forward: after the last window (the miss may be an interior page just past a gap of leaves,
    // so the window starts where the last one ended). Backward (integrity_check walks down): below it.
    const forward = pgno > this.#lo && pgno <= this.#hi + 1 + SEQUENTIAL_SLACK;
    const backward = pgno < this.#lo && pgno >= this.#lo - 1 - SEQUENTIAL_SLACK;
    let first: number;
    let last: number;
    if (forward || backward) {
      this.#strikes = 0;
      this.#readAhead = Math.min(this.#readAhead * 2, this.#max);
      if (forward) {
        first = Math.min(pgno, this.#hi + 1);
        last = Math.min(c.pageCount, Math.max(first + this.#readAhead, pgno + this.#min) - 1);
      } else {
        last = Math.max(pgno, this.#lo - 1);
        first = Math.max(1, Math.min(last - this.#readAhead, pgno - this.#min) + 1);
      }
      this.#lo = first;
      this.#hi = last;
    } else {
      first = pgno;
      last = Math.min(c.pageCount, pgno + this.#min - 1);
      // A scan also misses the odd interior page elsewhere in the file: that alone does not end
      // the scan (its window would start small again), a few such misses in a row do.
      if (!this.scanning || ++this.#strikes > MAX_STRIKES) {
        this.#readAhead = this.#min;
        this.#lo = first;
        this.#hi = last;
      }
    }
    // An isolated miss reads only from the missing page's chunk; a scan also reads the records
    // holding pages of its window (they would each cost a restart later).
    await this.#fetchSpan(first, last, true, this.scanning, this.scanning ? undefined : src.ref.key);
  }

  /**
   * Fetches the pages `from`…`to` that are not cached: one ranged GET per chunk (and, with
   * `records`, one GET per record), `parallelGets` at a time. `onlyChunk` keeps to one chunk.
   */
  async #fetchSpan(from: number, to: number, pin: boolean, records: boolean, onlyChunk?: string): Promise<void> {
    const c = this.#committed;
    const manifest = c.checkpoint?.manifest;
    if (manifest && from <= to) {
      const first = Math.floor((from - 1) / manifest.segmentPages);
      const last = Math.floor((Math.min(to, manifest.pageCount) - 1) / manifest.segmentPages);
      const segments = Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => first + i);
      await mapConcurrent(segments, this.#parallel, (s) => this.loadSegment(s));
    }
    const byChunk = new Map<string, ChunkPage[]>();
    const versions = new Set<number>();
    for (let pgno = from; pgno <= to; pgno++) {
      if (c.cache.has(pgno)) continue;
      const src = c.source(pgno);
      if (src.kind === 'chunk' && (onlyChunk === undefined || src.ref.key === onlyChunk)) {
        const page = { pgno, ref: src.ref };
        const pages = byChunk.get(src.ref.key);
        if (pages) pages.push(page);
        else byChunk.set(src.ref.key, [page]);
      } else if (src.kind === 'record' && records) versions.add(src.version);
    }
    // Chunks and records hold different pages: fetched at the same time.
    await Promise.all([
      mapConcurrent([...byChunk], this.#parallel, ([key, pages]) => this.#fetchRange(key, pages, pin)),
      mapConcurrent([...versions], this.#parallel, (v) => this.#fetchRecord(v, pin)),
    ]);
  }

  /**
   * One ranged GET covering `refs` (pages of chunk `key`, located by the caller under the same
   * lock). Pages fetched for a statement are pinned until the operation ends: the statement re-runs
   * from the start and needs them all again; the cache may exceed its limit by one operation's
   * working set meanwhile.
   */
  async #fetchRange(key: string, refs: ChunkPage[], pin = false): Promise<void> {
    const c = this.#committed;
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
    const seg = Segment.decode((await this.#store.get(key)).body, `page-map segment ${key}`);
    const first = segment * manifest.segmentPages + 1;
    const count = Math.min(manifest.segmentPages, manifest.pageCount - first + 1);
    if (seg.firstPage !== first || seg.count !== count) {
      throw new CorruptError(`page-map segment ${key} describes the wrong pages`);
    }
    c.segments.set(segment, seg);
  }
}
