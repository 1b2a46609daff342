import type { CheckpointManifest, ChunkRef, Segment } from './checkpoint-format.js';
import type { PageSet } from './commit-entry.js';
import { PageCache } from './page-cache.js';

/** Where the committed image of a page can be found when it is not cached. */
export type PageSource =
  | { kind: 'zero' }
  | { kind: 'record'; version: number }
  | { kind: 'chunk'; ref: ChunkRef }
  /** In the checkpoint, described by a segment not loaded yet. */
  | { kind: 'segment'; segment: number };

export interface LoadedCheckpoint {
  version: number;
  manifest: CheckpointManifest;
}

/**
 * The database file as of the newest record this client has applied (`version`): page count,
 * page size, where each page lives (the checkpoint's chunks, or a newer log record), and the
 * cached images. Changed only by `apply` and `setCheckpoint`, both under the Database's mutex.
 */
export class CommittedPages {
  pageSize: number;
  pageCount = 0;
  version = 0;
  /** Page 1 (the header) is always kept: every transaction reads it and validation compares it. */
  page1: Uint8Array | null = null;
  readonly cache: PageCache;
  checkpoint: LoadedCheckpoint | undefined;
  /** Page maps of the checkpoint, loaded lazily. */
  readonly segments = new Map<number, Segment>();
  /** Pages changed after the checkpoint → the version of the record holding their image. */
  readonly recordPages = new Map<number, number>();
  /** Records and their entry bytes applied since the checkpoint (for automatic checkpoints). */
  recordsSinceCheckpoint = 0;
  bytesSinceCheckpoint = 0;

  /** `spillDir`: where pinned pages beyond `cacheBytes` go (see PageCache); none: they stay in memory. */
  constructor(pageSize: number, cacheBytes: number, spillDir?: string) {
    this.pageSize = pageSize;
    this.cache = new PageCache(cacheBytes, spillDir);
  }

  get sizeBytes(): number {
    return this.pageCount * this.pageSize;
  }

  setCheckpoint(checkpoint: LoadedCheckpoint): void {
    this.checkpoint = checkpoint;
    this.segments.clear();
    this.pageSize = checkpoint.manifest.pageSize;
    this.pageCount = checkpoint.manifest.pageCount;
    this.version = checkpoint.version;
    this.recordPages.clear();
    this.cache.clear();
    this.page1 = null;
    this.recordsSinceCheckpoint = 0;
    this.bytesSinceCheckpoint = 0;
  }

  source(pgno: number): PageSource {
    if (pgno < 1 || pgno > this.pageCount) return { kind: 'zero' };
    const version = this.recordPages.get(pgno);
    if (version !== undefined) return { kind: 'record', version };
    const manifest = this.checkpoint?.manifest;
    if (!manifest || pgno > manifest.pageCount) return { kind: 'zero' };
    const segment = Math.floor((pgno - 1) / manifest.segmentPages);
    const loaded = this.segments.get(segment);
    if (!loaded) return { kind: 'segment', segment };
    const ref = loaded.ref(pgno - loaded.firstPage);
    return ref ? { kind: 'chunk', ref } : { kind: 'zero' };
  }

  /** Applies the pages of record `version` (entries in order). */
  apply(version: number, sets: PageSet[], entryBytes: number): void {
    for (const set of sets) {
      this.pageSize = set.pageSize;
      if (set.pageCount < this.pageCount) {
        this.cache.truncate(set.pageCount);
        for (const pgno of [...this.recordPages.keys()]) if (pgno > set.pageCount) this.recordPages.delete(pgno);
      }
      this.pageCount = set.pageCount;
      for (const [pgno, image] of set.pages) {
        this.recordPages.set(pgno, version);
        this.cache.set(pgno, image);
        if (pgno === 1) this.page1 = image;
      }
    }
    this.version = version;
    this.recordsSinceCheckpoint++;
    this.bytesSinceCheckpoint += entryBytes;
  }
}
