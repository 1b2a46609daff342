import { type Checkpoint, collectLogGarbage, type LogGcReport } from '@bucketdb/log';
import type { ObjectStore } from '@bucketdb/store';
import { decodeManifest, Segment } from './checkpoint-format.js';
import { parseDuration } from './duration.js';

/** Versions committed within this window stay readable (time travel, restore) by default. */
export const DEFAULT_RETENTION = '7d';
/** Garbage is deleted this long after it became garbage, by default. */
export const DEFAULT_GRACE = '1h';

export interface GcOptions {
  prefix?: string;
  /** `7d`, `12h`, … or ms (default 7 days). */
  retention?: string | number;
  /** `1h`, … or ms, at least one minute (default 1 hour). */
  grace?: string | number;
  dryRun?: boolean;
  clock?: () => number;
  /** Called before each delete (fault injection in tests). */
  beforeDelete?: (key: string) => Promise<void> | void;
  /**
   * Stops the pass before its next delete (or before it starts): it rejects with the signal's
   * reason. What it deleted was garbage; what it left is collected by a later pass.
   */
  signal?: AbortSignal;
}

export type GcReport = LogGcReport;

/**
 * Deletes what no version inside the retention window needs: records below the oldest retained
 * checkpoint, chunks and segments no retained checkpoint references, abandoned checkpoint
 * attempts; each only a grace period after it became garbage. See docs/design/sql-gc.md.
 */
export async function collectGarbage(store: ObjectStore, options: GcOptions = {}): Promise<GcReport> {
  const { signal, beforeDelete } = options;
  signal?.throwIfAborted();
  const segments = new Map<string, string[]>();
  const referencedBy = async (c: Checkpoint): Promise<string[]> => {
    const manifest = decodeManifest(c.manifest, `checkpoint ${c.version}`);
    const keys: string[] = [];
    for (const key of manifest.segments) {
      let chunks = segments.get(key);
      if (!chunks) {
        const seg = Segment.decode((await store.get(key)).body, `page-map segment ${key}`);
        chunks = [...seg.chunkKeys];
        segments.set(key, chunks);
      }
      keys.push(key, ...chunks);
    }
    return keys;
  };
  return collectLogGarbage(store, {
    prefix: options.prefix ?? '',
    retentionMs: parseDuration(options.retention ?? DEFAULT_RETENTION, 'retention'),
    graceMs: parseDuration(options.grace ?? DEFAULT_GRACE, 'grace'),
    referencedBy,
    dryRun: options.dryRun ?? false,
    ...(options.clock ? { clock: options.clock } : {}),
    ...(beforeDelete || signal
      ? {
          beforeDelete: async (key: string) => {
            signal?.throwIfAborted();
            await beforeDelete?.(key);
          },
        }
      : {}),
  });
}
