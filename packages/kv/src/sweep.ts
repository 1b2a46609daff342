import { isStoreError, mapConcurrent } from '@bucketdb/store';
import type { KvContext } from './context.js';
import { requireCapability } from './capabilities.js';
import { checkConcurrency, KvError } from './errors.js';
import { expiryOf } from './ttl.js';
import { type DueMarker, forEachDueMarkerPage } from './ttl-index.js';

export interface SweepOptions {
  /**
   * A marker whose value is gone or was re-put is removed only this long after its expiry
   * (default 600 s), so a put still between writing its marker and its value keeps its marker.
   */
  graceSeconds?: number;
  /** Requests in flight (default 16). */
  concurrency?: number;
  signal?: AbortSignal;
}

export interface SweepResult {
  /** Expired values deleted. */
  deleted: number;
  /** TTL markers removed (for deleted values, or stale past the grace period). */
  markersRemoved: number;
  /** Due markers left for a later sweep (a concurrent write, or within the grace period). */
  markersKept: number;
}

/**
 * Deletes expired values and their TTL markers. Each value is deleted with `If-Match` on the ETag
 * seen carrying the expiry; every write has its own ETag (write-id.ts), so a concurrent re-put,
 * even of the same bytes, survives: only the exact entry that expired is deleted.
 */
export async function sweepExpired(ctx: KvContext, options: SweepOptions = {}): Promise<SweepResult> {
  const { graceSeconds = 600, concurrency = 16, signal } = options;
  checkConcurrency(concurrency);
  if (!Number.isFinite(graceSeconds) || graceSeconds < 0) {
    throw new KvError('InvalidArgument', `graceSeconds must be a non-negative number, got ${String(graceSeconds)}`);
  }
  signal?.throwIfAborted();
  await ctx.beforeRead();
  requireCapability(await ctx.capabilities(), 'conditionalDelete', 'sweep()');
  const request = signal ? { signal } : {};
  const now = ctx.clock();
  const result: SweepResult = { deleted: 0, markersRemoved: 0, markersKept: 0 };
  const removeMarker = async (marker: DueMarker) => {
    await ctx.store.delete(marker.path, request);
    result.markersRemoved++;
  };

  const sweepOne = async (marker: DueMarker) => {
    signal?.throwIfAborted();
    const path = ctx.paths.data(marker.encoded);
    const info = await ctx.store.head(path, request).catch((error: unknown) => {
      if (isStoreError(error, 'NotFound')) return undefined;
      throw error;
    });
    if (info !== undefined && expiryOf(info.metadata) === marker.expiresAtMs) {
      try {
        await ctx.store.delete(path, { ...request, ifMatch: info.etag });
      } catch (error) {
        // Re-put (or deleted) since the HEAD, or an outcome the store could not tell: leave the
        // marker for the next sweep to look at.
        if (!isStoreError(error)) throw error;
        const kept = ['PreconditionFailed', 'NotFound', 'ConflictInFlight', 'AmbiguousWrite', 'Transient', 'Throttled'];
        if (!kept.includes(error.code)) throw error;
        result.markersKept++;
        return;
      } finally {
        ctx.forget(marker.encoded);
      }
      result.deleted++;
      await removeMarker(marker);
    } else if (marker.expiresAtMs <= now - graceSeconds * 1000) {
      await removeMarker(marker);
    } else {
      result.markersKept++;
    }
  };

  const { sortedList } = await ctx.capabilities();
  await forEachDueMarkerPage(
    ctx,
    now,
    sortedList,
    async (page) => {
      await mapConcurrent(page, concurrency, sweepOne);
    },
    signal,
  );
  return result;
}
