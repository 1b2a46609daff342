import type { StoreCapabilities } from './capabilities.js';
import type { Codec } from './codec.js';
import type { Layout } from './paths.js';
import type { Clock } from './ttl.js';
import type { CacheOptions } from './value-cache.js';

export interface KvOpenOptions<T> {
  /** Where in the store the KV data lives (default: the root). */
  prefix?: string;
  /** Default: the layout the store was created with, else `ordered`. */
  layout?: Layout;
  /** Default: `autoCodec` (bytes, strings and JSON, told apart by content type). */
  codec?: Codec<T>;
  /** A local LRU of values, revalidated with conditional GETs (default: off). */
  cache?: boolean | CacheOptions;
  /** Largest encoded value accepted by `put` (default 4 MiB, at most 5 GiB). */
  maxValueBytes?: number;
  /** Milliseconds since the epoch; decides expiry (default `Date.now`). */
  clock?: Clock;
  /** Uniform in [0, 1), for retry jitter (default `Math.random`). */
  random?: () => number;
  /**
   * What the store can do; by default probed once (a few requests under `p/`) before the first
   * scan, count or sweep. Give it to skip the probe.
   */
  capabilities?: StoreCapabilities;
  /** The most participants' clocks may disagree, for leases (default 1000 ms; see docs/design/kv.md). */
  maxClockSkewMs?: number;
}

export interface KvLeaseOptions {
  /** How long the grant is valid, from the start of the call (fractions allowed). */
  ttlSeconds: number;
  /** Recorded in the lease object, for humans inspecting it. */
  holder?: string;
  /**
   * `acquire` only: while the lease is held, try again (with backoff, at most 1 s apart) for up to
   * this long before `LeaseHeld` (default 0: fail at once). `signal` ends the wait.
   */
  waitSeconds?: number;
  signal?: AbortSignal;
}

export interface KvEntry<T> {
  value: T;
  /** The object's ETag: pass it as `ifVersion` for compare-and-swap. */
  version: string;
  expiresAt?: Date;
  contentType?: string;
}

export interface KvPutOptions {
  /** Write only if the current version is this one (compare-and-swap). */
  ifVersion?: string;
  /** Write only if the key is absent (an expired entry counts as absent). */
  ifAbsent?: boolean;
  /** The entry expires this many seconds from now. */
  ttlSeconds?: number;
  /** Stored content type; must fit the codec (e.g. `text/*` for strings under `autoCodec`). */
  contentType?: string;
  signal?: AbortSignal;
}

export interface KvDeleteOptions {
  ifVersion?: string;
  signal?: AbortSignal;
}

export interface KvUpdateOptions {
  /** Give the entry this TTL; by default an update keeps the entry's expiry. */
  ttlSeconds?: number;
  contentType?: string;
  /** Attempts before failing with `Conflict` (default 50). */
  maxAttempts?: number;
  /** Stops retrying (and the requests in flight): the call rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface KvScanEntry<T> {
  key: string;
  version: string;
  size: number;
  /** Pass as `scan({ cursor })` to resume after this entry (pagination). */
  cursor: string;
  /** Present when the scan fetched values. */
  value?: T;
  expiresAt?: Date;
}

/** Returns the new value; `undefined` deletes the key. May run more than once: no side effects. */
export type Updater<T> = (
  current: T | undefined,
  entry: KvEntry<T> | undefined,
) => T | undefined | Promise<T | undefined>;

/** A change `watch` reports: the entry's new state, or its deletion (expiry included). */
export type KvChange<T> = { type: 'put'; key: string; entry: KvEntry<T> } | { type: 'delete'; key: string };
