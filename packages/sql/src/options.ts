import type { FetchOptions } from './page-fetcher.js';

export interface OpenOptions extends FetchOptions {
  /** Where the database lives in the store (a key prefix such as `db/main`); default: the store's root. */
  prefix?: string;
  /** Page size of a new database (default 4096); an existing one keeps its own. */
  pageSize?: number;
  /** Bytes of committed pages kept in memory (default 64 MiB). */
  cacheBytes?: number;
  /** Databases up to this size are downloaded whole at open, with parallel GETs (default 16 MiB). */
  prefetchBelowBytes?: number;
  /** `strong` (default): each read first confirms the log's tail (one GET); `snapshot`: no request. */
  reads?: 'strong' | 'snapshot';
  /**
   * With `reads: 'snapshot'`: a read confirms the log's tail first when the last confirmation is
   * older than this (ms), so answers are at most this stale. Default: never (call `refresh()`).
   */
  maxStalenessMs?: number;
  /** ms since the epoch; injected for deterministic tests (default Date.now). */
  clock?: () => number;
  /** Automatic re-runs of `transaction(fn)` after conflicts before ConflictError (default 32). */
  maxRetries?: number;
  /** Slots one group commit tries before its transactions re-run (default 64). */
  maxAppendAttempts?: number;
  /** Write a checkpoint after this many records since the last one (default 1000; 0: never). */
  checkpointEveryRecords?: number;
  /** … or after this many bytes of records (default 64 MiB; 0: never). */
  checkpointEveryBytes?: number;
  /** Pages per page-map segment in new checkpoints (default 4096). */
  segmentPages?: number;
  /** Compressed bytes per chunk object in checkpoints (default 1 MiB). */
  chunkBytes?: number;
}

export type ResolvedOptions = Required<Omit<OpenOptions, keyof FetchOptions | 'maxStalenessMs'>> &
  FetchOptions & { maxStalenessMs?: number };

export function resolveOptions(o: OpenOptions): ResolvedOptions {
  return {
    ...o,
    prefix: o.prefix ?? '',
    pageSize: o.pageSize ?? 4096,
    cacheBytes: o.cacheBytes ?? 64 * 2 ** 20,
    prefetchBelowBytes: o.prefetchBelowBytes ?? 16 * 2 ** 20,
    reads: o.reads ?? 'strong',
    clock: o.clock ?? Date.now,
    maxRetries: o.maxRetries ?? 32,
    maxAppendAttempts: o.maxAppendAttempts ?? 64,
    checkpointEveryRecords: o.checkpointEveryRecords ?? 1000,
    checkpointEveryBytes: o.checkpointEveryBytes ?? 64 * 2 ** 20,
    segmentPages: o.segmentPages ?? 4096,
    chunkBytes: o.chunkBytes ?? 2 ** 20,
  };
}
