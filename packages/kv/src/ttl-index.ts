import { isStoreError, mapConcurrent } from '@bucketdb/store';
import type { KvContext } from './context.js';
import { expiryOf, isExpired } from './ttl.js';

export interface DueMarker {
  /** The marker object. */
  path: string;
  expiresAtMs: number;
  encoded: string;
  key: string;
}

/** Marker prefixes listed at once. */
const LIST_CONCURRENCY = 4;

/**
 * Calls `onPage` with the TTL markers due at `now`, up to 1000 at a time, listing each marker
 * prefix (`paths.ttlDirs`). Markers sort by expiry within a prefix, so on a store that lists
 * sorted each listing stops at its first marker still in the future: the cost follows what is
 * due, not the store size. Unsorted (directory buckets), every marker is listed.
 */
export async function forEachDueMarkerPage(
  ctx: KvContext,
  now: number,
  sorted: boolean,
  onPage: (page: DueMarker[]) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  await mapConcurrent(ctx.paths.ttlDirs, LIST_CONCURRENCY, async (dir) => {
    let page: DueMarker[] = [];
    for await (const entry of ctx.store.list({ prefix: dir, ...(signal ? { signal } : {}) })) {
      signal?.throwIfAborted();
      if (entry.kind !== 'object') continue;
      const marker = ctx.paths.parseTtlMarker(entry.key);
      if (marker === undefined) continue;
      if (marker.expiresAtMs > now) {
        if (sorted) break;
        continue;
      }
      page.push({ path: entry.key, ...marker });
      if (page.length === 1000) {
        await onPage(page);
        page = [];
      }
    }
    if (page.length > 0) await onPage(page);
  });
}

/**
 * The data objects, among those with a due marker whose key passes `wanted`, that really are
 * expired at `now` (markers are a superset: a re-put without TTL leaves a stale one). One HEAD
 * per candidate; `sweep()` keeps the candidates few.
 */
export async function expiredDataPaths(
  ctx: KvContext,
  now: number,
  wanted: (key: string) => boolean,
  concurrency = 16,
  signal?: AbortSignal,
): Promise<Set<string>> {
  const expired = new Set<string>();
  const { sortedList } = await ctx.capabilities();
  await forEachDueMarkerPage(
    ctx,
    now,
    sortedList,
    async (page) => {
      const candidates = [...new Set(page.filter((m) => wanted(m.key)).map((m) => ctx.paths.data(m.encoded)))];
      await mapConcurrent(candidates, concurrency, async (path) => {
        try {
          const info = await ctx.store.head(path, signal ? { signal } : {});
          if (isExpired(expiryOf(info.metadata), now)) expired.add(path);
        } catch (error) {
          if (!isStoreError(error, 'NotFound')) throw error;
        }
      });
    },
    signal,
  );
  return expired;
}
