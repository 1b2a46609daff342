import type { ObjectStore } from '@bucketdb/store';
import type { StoreCapabilities } from './capabilities.js';
import type { KvPaths } from './paths.js';
import type { Clock } from './ttl.js';

/** A stored value as fetched (or revalidated from the cache), still encoded. */
export interface Fetched {
  etag: string;
  body: Uint8Array;
  contentType: string | undefined;
  expiresAt: number | undefined;
  /** The write that produced it (undefined for objects other tools wrote). */
  writeId: string | undefined;
  /** The body is the cache's own buffer: copy before handing it out. */
  fromCache: boolean;
}

/** What the modules behind KvStore (scan, TTL index, sweep) share with it. */
export interface KvContext {
  readonly store: ObjectStore;
  /** The current layout's paths (a store opened before its first write may switch once). */
  readonly paths: KvPaths;
  /** Follows a layout recorded since open; call before listing. */
  beforeRead(): Promise<void>;
  /** What the store's LIST and DELETE can do (probed once, unless given at open). */
  capabilities(): Promise<StoreCapabilities>;
  readonly clock: Clock;
  /** GET through the cache; undefined when there is no object (expired ones are returned). */
  fetch(encoded: string, path: string, signal?: AbortSignal): Promise<Fetched | undefined>;
  /** Drops a key from the cache after a change this process made or saw. */
  forget(encoded: string): void;
}
