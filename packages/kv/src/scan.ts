import { compareKeys, type ListedObject, mapConcurrent } from '@bucketdb/store';
import type { Fetched, KvContext } from './context.js';
import { requireCapability } from './capabilities.js';
import { checkConcurrency, KvError } from './errors.js';
import { encodeKey, encodeKeyPrefix, inclusiveStartAfter } from './key-codec.js';
import { isExpired } from './ttl.js';
import { expiredDataPaths } from './ttl-index.js';
import { WRITE_ID_CHARS } from './write-id.js';

export interface ScanOptions {
  /** Only keys starting with this. */
  prefix?: string;
  /** Only keys at or after this one (inclusive). */
  start?: string;
  /** Only keys before this one (exclusive). */
  end?: string;
  /** Stop after this many entries. */
  limit?: number;
  /** Fetch values too: one GET per entry on top of one LIST per 1000 keys (default false). */
  values?: boolean;
  /** Required on the hashed layout, which has no key order: walk its shards one after another. */
  unordered?: boolean;
  /**
   * Resume after the entry whose `cursor` this is (pagination: keep the last entry's cursor, pass it
   * to the next scan with the same other options). Needs a store that lists sorted.
   */
  cursor?: string;
  /** Value GETs in flight (default 32). */
  concurrency?: number;
  signal?: AbortSignal;
}

export interface RawScanEntry {
  key: string;
  encoded: string;
  version: string;
  size: number;
  /** Where a later scan can resume (opaque). */
  cursor: string;
  /** Present when `values` was asked for. */
  fetched?: Fetched;
}

/**
 * Entries in key order (per shard on the hashed layout) over LIST, hiding expired ones: from the
 * GET's metadata when values are fetched, otherwise from the TTL index (see ttl-index.ts).
 */
export async function* scanRaw(
  ctx: KvContext,
  options: ScanOptions = {},
  /** `ttlIndex: false`: keys-only entries are not checked against the TTL index (`watch` tracks expiry itself). */
  { ttlIndex = true }: { ttlIndex?: boolean } = {},
): AsyncIterable<RawScanEntry> {
  const { prefix = '', start, end, limit = Number.POSITIVE_INFINITY, values = false, signal } = options;
  const concurrency = options.concurrency ?? 32;
  checkConcurrency(concurrency);
  if (limit !== Number.POSITIVE_INFINITY && (!Number.isSafeInteger(limit) || limit < 0)) {
    throw new KvError('InvalidArgument', `limit must be a non-negative integer, got ${String(limit)}`);
  }
  // Bounds are compared, never stored, so they are not held to the key length limit.
  const encodedPrefix = encodeKeyPrefix(prefix);
  const encodedStart = start === undefined ? undefined : encodeKey(start);
  const encodedEnd = end === undefined ? undefined : encodeKey(end);
  signal?.throwIfAborted();
  await ctx.beforeRead();
  if (ctx.paths.layout === 'hashed' && !options.unordered) {
    throw new KvError(
      'Unsupported',
      'the hashed layout has no key order: pass { unordered: true } to scan its shards one after another',
    );
  }
  if (limit === 0) return;
  const caps = await ctx.capabilities();
  if (!options.unordered) requireCapability(caps, 'sortedList', 'an ordered scan');
  const dirs = ctx.paths.shardDirs();
  let after: { dir: string; path: string } | undefined;
  if (options.cursor !== undefined) {
    requireCapability(caps, 'sortedList', 'a scan cursor');
    const path = Buffer.from(String(options.cursor), 'base64url').toString('utf8');
    const dir = dirs.find((d) => path.startsWith(d));
    if (dir === undefined)
      throw new KvError('InvalidArgument', `not a scan cursor of this store: ${String(options.cursor)}`);
    after = { dir, path };
  }

  const now = ctx.clock();
  const inRange = (key: string) =>
    key.startsWith(prefix) &&
    (start === undefined || compareKeys(key, start) >= 0) &&
    (end === undefined || compareKeys(key, end) < 0);
  const hidden = values || !ttlIndex ? undefined : await expiredDataPaths(ctx, now, inRange, 16, signal);

  let yielded = 0;
  for (const dir of dirs) {
    if (after !== undefined && compareKeys(dir, after.dir) < 0) continue;
    const resumeAfter = after?.dir === dir ? after.path : undefined;
    const endPath = encodedEnd === undefined ? undefined : dir + encodedEnd;
    const startPath = encodedStart === undefined ? undefined : dir + encodedStart;
    const wantedPrefix = dir + encodedPrefix;
    // What the store cannot do is done here: a `/`-terminated prefix and the bounds as filters.
    const listPrefix = caps.anyPrefix ? wantedPrefix : wantedPrefix.slice(0, wantedPrefix.lastIndexOf('/') + 1);
    const bound = [startPath === undefined ? undefined : inclusiveStartAfter(startPath), resumeAfter]
      .filter((b): b is string => b !== undefined)
      .sort(compareKeys)
      .at(-1);
    const listing = ctx.store.list({
      prefix: listPrefix,
      ...(bound === undefined || !caps.startAfter ? {} : { startAfter: bound }),
      ...(signal ? { signal } : {}),
    });
    let batch: { key: string; encoded: string; object: ListedObject }[] = [];
    const flush = async function* (): AsyncIterable<RawScanEntry> {
      const fetched = await mapConcurrent(batch, concurrency, (e) => ctx.fetch(e.encoded, e.object.key, signal));
      for (const [i, e] of batch.entries()) {
        const f = fetched[i];
        // Gone since the LIST, or expired: invisible.
        if (f === undefined || isExpired(f.expiresAt, ctx.clock())) continue;
        yield {
          key: e.key,
          encoded: e.encoded,
          version: f.etag,
          size: f.body.length,
          cursor: cursorOf(e.object.key),
          fetched: f,
        };
        if (++yielded >= limit) return;
      }
      batch = [];
    };
    for await (const entry of listing) {
      signal?.throwIfAborted();
      if (entry.kind !== 'object' || !entry.key.startsWith(wantedPrefix)) continue;
      if (startPath !== undefined && compareKeys(entry.key, startPath) < 0) continue;
      if (resumeAfter !== undefined && compareKeys(entry.key, resumeAfter) <= 0) continue;
      if (endPath !== undefined && compareKeys(entry.key, endPath) >= 0) {
        if (caps.sortedList) break;
        continue;
      }
      const encoded = entry.key.slice(dir.length);
      const key = ctx.paths.keyOf(entry.key, dir);
      if (key === undefined || hidden?.has(entry.key)) continue;
      if (!values) {
        yield { key, encoded, version: entry.etag, size: valueSize(entry.size), cursor: cursorOf(entry.key) };
        if (++yielded >= limit) return;
        continue;
      }
      batch.push({ key, encoded, object: entry });
      if (batch.length >= Math.min(concurrency, limit - yielded)) {
        yield* flush();
        if (yielded >= limit) return;
      }
    }
    yield* flush();
    if (yielded >= limit) return;
  }
}

/**
 * A value's size from its listed object size: the stored body ends with the 16-character write id
 * (write-id.ts). Objects of format-1 stores or other tools under the data prefix read 16 bytes short.
 */
function valueSize(objectSize: number): number {
  return Math.max(0, objectSize - WRITE_ID_CHARS);
}

function cursorOf(path: string): string {
  return Buffer.from(path, 'utf8').toString('base64url');
}
