import { parseDuration } from './duration.js';
import { DEFAULT_GRACE, DEFAULT_RETENTION } from './gc.js';
import type { Migration } from './migrations.js';
import type { FetchOptions } from './page-fetcher.js';

export interface OpenOptions extends FetchOptions {
  /** Where the database lives in the store (a key prefix such as `db/main`); default: the store's root. */
  prefix?: string;
  /** Page size of a new database (default 4096); an existing one keeps its own. */
  pageSize?: number;
  /** Bytes of committed pages kept in memory (default 64 MiB). */
  cacheBytes?: number;
  /**
   * A directory for an on-disk cache of the database's immutable objects (records, checkpoint
   * page maps and chunks) that survives restarts: a warm open then reads them from disk and asks
   * the bucket only whether anything changed. Several processes may share it. Default: none.
   */
  cacheDir?: string;
  /** Bytes the cache directory is kept under, least recently used files first out (default 1 GiB). */
  cacheDirBytes?: number;
  /** Databases up to this size are downloaded whole at open, with parallel GETs (default 16 MiB). */
  prefetchBelowBytes?: number;
  /** `strong` (default): each read first confirms the log's tail (one GET); `snapshot`: no request. */
  reads?: 'strong' | 'snapshot';
  /**
   * With `reads: 'snapshot'`: a read confirms the log's tail first when the last confirmation is
   * older than this (ms), so answers are at most this stale. Default: never (call `refresh()`).
   */
  maxStalenessMs?: number;
  /**
   * ms since the epoch (default Date.now); injected for deterministic tests. It times staleness,
   * checkpoints, and GC's retention, grace and floor re-reads.
   */
  clock?: () => number;
  /** Automatic re-runs of `transaction(fn)` after conflicts before ConflictError (default 32). */
  maxRetries?: number;
  /** Slots one group commit tries before its transactions re-run (default 64). */
  maxAppendAttempts?: number;
  /** Write a checkpoint after this many records since the last one (default 1000; 0: never). */
  checkpointEveryRecords?: number;
  /** … or after this many bytes of records (default 64 MiB; 0: never). */
  checkpointEveryBytes?: number;
  /**
   * … or at the first commit this long after the last checkpoint (ms; 0: never). Default: an
   * eighth of `retention`, at least 10 minutes (7d: 21 h). Every checkpoint inside the retention
   * window is kept with the chunks it wrote, so checkpoints far more frequent than the window
   * needs cost storage (docs/design/sql-gc.md, "Checkpoint cadence"); an eighth keeps the floor's
   * lag behind the window, and so the records kept beyond it, at about 1/8 of the window.
   */
  checkpointEveryMs?: number;
  /**
   * A writer rewrites the open hint (`_open_hint`: what a cold open needs in one GET) once this many
   * records passed since its last one, and after each checkpoint it writes (default 32; 0: never).
   * A cold open also probes this many slots after the hint's version at once.
   */
  openHintEveryRecords?: number;
  /** Pages per page-map segment in new checkpoints (default 4096). */
  segmentPages?: number;
  /** Compressed bytes per chunk object in checkpoints (default 1 MiB). */
  chunkBytes?: number;
  /** A checkpoint rewrites the live pages of chunks whose live share fell below this (default 0.5; 0: never). */
  repackBelow?: number;
  /** Time travel: open read-only as of this version, or as of this time (see time-travel.ts). */
  at?: number | Date;
  /** GC keeps every version committed within this window readable: `7d` (default), `36h`, or ms. */
  retention?: string | number;
  /** GC deletes garbage only this long after it became garbage: `1h` (default), at least `1m`. */
  gcGrace?: string | number;
  /**
   * Automatic GC (default false): after each checkpoint this handle writes, and from the
   * maintenance timer once `gcEveryMs` passed since its last GC (so an idle database's raised
   * floor still comes into force and its garbage goes).
   */
  autoGc?: boolean;
  /** With `autoGc`: the longest time between two GC passes of this handle (default: `gcGrace`). */
  gcEveryMs?: number;
  /**
   * Every this many ms (default 60000; 0: never) the handle runs `maintain()` in the background:
   * it moves to a newer checkpoint if another handle wrote one (so it stops needing older records
   * and chunks, which GC can then delete), and runs automatic GC when due. The timer does not
   * keep the process alive.
   */
  maintenanceEveryMs?: number;
  /** Schema migrations applied (each exactly once, across processes) before `open` returns. */
  migrations?: readonly Migration[];
  /** Stops opening: `open` rejects with the signal's reason and releases what it had opened. */
  signal?: AbortSignal;
}

export type ResolvedOptions = Required<
  Omit<OpenOptions, keyof FetchOptions | 'at' | 'migrations' | 'maxStalenessMs' | 'signal' | 'cacheDir' | 'gcEveryMs'>
> &
  FetchOptions & { maxStalenessMs?: number; cacheDir?: string; gcEveryMs: number };

export function resolveOptions(o: OpenOptions): ResolvedOptions {
  return {
    ...o,
    prefix: o.prefix ?? '',
    pageSize: o.pageSize ?? 4096,
    cacheBytes: o.cacheBytes ?? 64 * 2 ** 20,
    cacheDirBytes: o.cacheDirBytes ?? 2 ** 30,
    prefetchBelowBytes: o.prefetchBelowBytes ?? 16 * 2 ** 20,
    reads: o.reads ?? 'strong',
    clock: o.clock ?? Date.now,
    maxRetries: o.maxRetries ?? 32,
    maxAppendAttempts: o.maxAppendAttempts ?? 64,
    checkpointEveryRecords: o.checkpointEveryRecords ?? 1000,
    checkpointEveryBytes: o.checkpointEveryBytes ?? 64 * 2 ** 20,
    checkpointEveryMs:
      o.checkpointEveryMs ?? Math.max(600_000, parseDuration(o.retention ?? DEFAULT_RETENTION, 'retention') / 8),
    openHintEveryRecords: o.openHintEveryRecords ?? 32,
    segmentPages: o.segmentPages ?? 4096,
    chunkBytes: o.chunkBytes ?? 2 ** 20,
    repackBelow: o.repackBelow ?? 0.5,
    retention: o.retention ?? DEFAULT_RETENTION,
    gcGrace: o.gcGrace ?? DEFAULT_GRACE,
    autoGc: o.autoGc ?? false,
    gcEveryMs: o.gcEveryMs ?? parseDuration(o.gcGrace ?? DEFAULT_GRACE, 'gcGrace'),
    maintenanceEveryMs: o.maintenanceEveryMs ?? 60_000,
  };
}
