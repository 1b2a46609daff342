import { AmbiguousWriteError, isStoreError } from '../errors.js';
import { md5Etag } from '../keys.js';
import type { ObjectStore, PutOptions } from '../object-store.js';
import { PREV_WRITE_ID_META, WRITE_ID_META } from './compare-and-swap.js';
import { retry } from './retry.js';

export interface PutResolvedOptions extends Omit<PutOptions, 'ifMatch' | 'ifNoneMatch'> {
  /** This write's unique id, stored in metadata under `writeIdMeta`. */
  writeId: string;
  /** Metadata key of the write id (default `WRITE_ID_META`). */
  writeIdMeta?: string;
  /**
   * Metadata key under which every writer of the key records the write id of the object it
   * replaced (default `PREV_WRITE_ID_META`): a newer object naming ours proves ours landed.
   */
  prevWriteIdMeta?: string;
  /** Attempts after throttling, which changes nothing (default 8). */
  maxAttempts?: number;
  /** Longest wait between attempts in ms. */
  capMs?: number;
}

/** `superseded`: ours landed and a later write already replaced it; `etag` is then our body's MD5. */
export interface PutResolvedOutcome {
  etag: string;
  superseded?: true;
}

/**
 * An unconditional write whose outcome is known, or reported as unknown (AmbiguousWriteError),
 * never guessed. It is sent again only after throttling: resending a write that may have landed
 * could apply its value a second time, after a later write. After an unknown outcome (and after
 * Transient, which some stores answer to a write that landed) the key's metadata decides: our write
 * id means ours is there; a later object that recorded ours as the one it replaced means ours
 * landed first. Conditional writes go through `compareAndSwap`.
 */
export async function putResolved(
  store: ObjectStore,
  key: string,
  body: Uint8Array,
  options: PutResolvedOptions,
): Promise<PutResolvedOutcome> {
  const { writeId, writeIdMeta = WRITE_ID_META, prevWriteIdMeta = PREV_WRITE_ID_META } = options;
  const { maxAttempts = 8, capMs, signal } = options;
  const request: PutOptions = {
    metadata: { ...options.metadata, [writeIdMeta]: writeId },
    ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
    ...(options.contentLength === undefined ? {} : { contentLength: options.contentLength }),
    ...(signal ? { signal } : {}),
  };
  try {
    const { etag } = await retry(() => store.put(key, body, request), {
      maxAttempts,
      isRetryable: (error) => isStoreError(error, 'Throttled'),
      ...(capMs === undefined ? {} : { capMs }),
      ...(signal ? { signal } : {}),
    });
    return { etag };
  } catch (error) {
    if (!isStoreError(error, 'AmbiguousWrite') && !isStoreError(error, 'Transient')) throw error;
    const stored = await store.head(key).catch(() => undefined);
    if (stored?.metadata[writeIdMeta] === writeId) return { etag: stored.etag };
    if (stored?.metadata[prevWriteIdMeta] === writeId) return { etag: md5Etag(body), superseded: true };
    throw new AmbiguousWriteError(key, { cause: error });
  }
}
