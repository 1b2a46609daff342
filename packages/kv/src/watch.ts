import { setTimeout as sleep } from 'node:timers/promises';
import { isStoreError } from '@bucketdb/store';
import type { Fetched, KvContext } from './context.js';
import { KvError } from './errors.js';
import { scanRaw } from './scan.js';
import { isExpired } from './ttl.js';

export interface WatchOptions {
  /** Milliseconds between polls (default 1000). Each poll is one request per watched key, or one LIST per 1000 keys of the prefix. */
  intervalMs?: number;
  /** Stops the watch: the iteration ends (no error). */
  signal?: AbortSignal;
}

/** What to watch: one key, or every key starting with a prefix. */
export type WatchTarget = { key: string } | { prefix: string };

/** A change as the watch saw it: the entry now, or undefined for a deleted (or expired) one. */
export interface RawChange {
  key: string;
  fetched: Fetched | undefined;
}

/** How `watch` reads one key: a conditional GET against what it saw last. */
export type FetchSince = (
  encoded: string,
  path: string,
  last: Fetched | undefined,
  signal?: AbortSignal,
) => Promise<Fetched | undefined>;

const DEFAULT_INTERVAL_MS = 1000;

/**
 * Polls for changes. The first poll reports every live entry as a put; later polls report what
 * changed since: a new version (put), a key gone or expired (delete). Changes between two polls
 * are coalesced (a key written twice is reported once, at its newer version). A poll that fails
 * with a retryable store error is tried again at the next interval.
 */
export async function* watchChanges(
  ctx: KvContext,
  fetchSince: FetchSince,
  target: WatchTarget,
  options: WatchOptions = {},
): AsyncIterable<RawChange> {
  const { intervalMs = DEFAULT_INTERVAL_MS, signal } = options;
  if (!Number.isFinite(intervalMs) || intervalMs < 0) {
    throw new KvError('InvalidArgument', `intervalMs must be a non-negative number, got ${String(intervalMs)}`);
  }
  const poll = 'key' in target ? keyPoller(ctx, fetchSince, target.key) : prefixPoller(ctx, fetchSince, target.prefix);
  while (!signal?.aborted) {
    let changes: RawChange[];
    try {
      changes = await poll(signal);
    } catch (error) {
      if (signal?.aborted) return;
      if (!(isStoreError(error) && error.retryable)) throw error;
      changes = [];
    }
    for (const change of changes) yield change;
    try {
      await sleep(intervalMs, undefined, signal ? { signal } : {});
    } catch (error) {
      if (signal?.aborted) return;
      throw error;
    }
  }
}

type Poll = (signal: AbortSignal | undefined) => Promise<RawChange[]>;

/** One key: a GET with If-None-Match on the version seen last (304, no body, while unchanged). */
function keyPoller(ctx: KvContext, fetchSince: FetchSince, key: string): Poll {
  const item: Seen = { key, encoded: ctx.paths.encode(key), fetched: undefined, reported: undefined };
  return async (signal) => {
    await ctx.beforeRead();
    item.fetched = await fetchSince(item.encoded, ctx.paths.data(item.encoded), item.fetched, signal);
    const changes: RawChange[] = [];
    report(item, ctx.clock(), changes);
    return changes;
  };
}

interface Seen {
  key: string;
  encoded: string;
  fetched: Fetched | undefined;
  /** The version last reported live; undefined when last reported deleted (or never reported). */
  reported: string | undefined;
}

/**
 * A prefix: one keys-only LIST (per 1000 keys; every shard on the hashed layout), then a GET for
 * each key whose version changed. Expiry comes from those GETs, so the TTL index is not listed.
 */
function prefixPoller(ctx: KvContext, fetchSince: FetchSince, prefix: string): Poll {
  const seen = new Map<string, Seen>();
  return async (signal) => {
    const changes: RawChange[] = [];
    const listed = new Set<string>();
    const options = { prefix, unordered: true, ...(signal ? { signal } : {}) };
    for await (const entry of scanRaw(ctx, options, { ttlIndex: false })) {
      listed.add(entry.encoded);
      let item = seen.get(entry.encoded);
      if (item === undefined) {
        item = { key: entry.key, encoded: entry.encoded, fetched: undefined, reported: undefined };
        seen.set(entry.encoded, item);
      }
      if (item.fetched?.etag !== entry.version) {
        item.fetched = await fetchSince(entry.encoded, ctx.paths.data(entry.encoded), item.fetched, signal);
      }
      report(item, ctx.clock(), changes);
    }
    for (const [encoded, item] of seen) {
      if (listed.has(encoded)) continue;
      item.fetched = undefined;
      report(item, ctx.clock(), changes);
      seen.delete(encoded);
    }
    return changes;
  };
}

/** Adds the change since what was last reported for `item`, if any. */
function report(item: Seen, now: number, changes: RawChange[]): void {
  const { fetched } = item;
  if (fetched !== undefined && !isExpired(fetched.expiresAt, now)) {
    if (fetched.etag === item.reported) return;
    item.reported = fetched.etag;
    changes.push({ key: item.key, fetched });
  } else if (item.reported !== undefined) {
    item.reported = undefined;
    changes.push({ key: item.key, fetched: undefined });
  }
}
