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

/**
 * The TTL markers due at `now`, one LIST page at a time. Markers sort by expiry, so on a store
 * that lists sorted the listing stops at the first one still in the future: its cost follows what
 * is due, not the store size. Unsorted (directory buckets), every marker is listed.
 */
export async function* dueMarkers(
  ctx: KvContext,
  now: number,
  sorted: boolean,
  signal?: AbortSignal,
): AsyncIterable<DueMarker[]> {
  let page: DueMarker[] = [];
  for await (const entry of ctx.store.list({ prefix: ctx.paths.ttlDir, ...(signal ? { signal } : {}) })) {
    if (entry.kind !== 'object') continue;
    const marker = ctx.paths.parseTtlMarker(entry.key);
    if (marker === undefined) continue;
    if (marker.expiresAtMs > now) {
      if (sorted) break;
      continue;
    }
    page.push({ path: entry.key, ...marker });
    if (page.length === 1000) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
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
  for await (const page of dueMarkers(ctx, now, sortedList, signal)) {
    const candidates = [...new Set(page.filter((m) => wanted(m.key)).map((m) => ctx.paths.data(m.encoded)))];
    await mapConcurrent(candidates, concurrency, async (path) => {
      try {
        const info = await ctx.store.head(path, signal ? { signal } : {});
        if (isExpired(expiryOf(info.metadata), now)) expired.add(path);
      } catch (error) {
        if (!isStoreError(error, 'NotFound')) throw error;
      }
    });
  }
  return expired;
}
