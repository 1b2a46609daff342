import { AmbiguousWriteError, isStoreError } from '../errors.js';
import type { ObjectStore } from '../object-store.js';
import { type BackoffOptions, backoff } from '../backoff.js';

export interface PutIfAbsentOptions extends BackoffOptions {
  /** Whether the object found at the key is the one we tried to write (e.g. same commit id). */
  isOurs(existing: Uint8Array): boolean;
  /** Attempts that end in a retryable or unknown outcome before giving up. */
  maxAttempts?: number;
}

export type PutIfAbsentOutcome =
  | { created: true }
  /** The key holds someone else's object (`existing`). */
  | { created: false; existing: Uint8Array };

/**
 * Creates `key` with `body` unless it exists, and says for certain whether *this call* created it.
 *
 * - 412: the key exists; read it, since a retried request can answer 412 to our own landed write.
 * - AmbiguousWrite (outcome unknown) or ConflictInFlight (someone's write is in flight): read the
 *   key with backoff. Found: compare with `isOurs`. Absent: PUT the same bytes again. Because every
 *   attempt writes identical bytes, whichever attempt lands is the one commit: a late-arriving
 *   earlier attempt then fails its own If-None-Match and can never apply twice.
 * - Throttled / Transient (nothing changed): PUT again after backoff.
 *
 * After `maxAttempts` unresolved tries it throws the store's error, as AmbiguousWriteError if any
 * attempt may have landed: never a clean failure for a write that might exist.
 */
export async function putIfAbsent(
  store: ObjectStore,
  key: string,
  body: Uint8Array,
  options: PutIfAbsentOptions,
): Promise<PutIfAbsentOutcome> {
  const maxAttempts = options.maxAttempts ?? 8;
  let mayHaveLanded = false;
  let mustRead = false;
  let failures = 0;
  let preconditionRounds = 0;
  for (;;) {
    let error: unknown;
    if (mustRead) {
      try {
        const existing = (await store.get(key)).body;
        return options.isOurs(existing) ? { created: true } : { created: false, existing };
      } catch (e) {
        if (!isStoreError(e, 'NotFound')) error = e;
      }
    }
    if (error === undefined) {
      try {
        await store.put(key, body, { ifNoneMatch: '*' });
        return { created: true };
      } catch (e) {
        // Bounded: only a key deleted between our 412 and our read brings us back here.
        if (isStoreError(e, 'PreconditionFailed') && ++preconditionRounds <= maxAttempts) {
          mustRead = true;
          continue;
        }
        error = e;
      }
    }
    if (isStoreError(error, 'AmbiguousWrite')) mayHaveLanded = true;
    const resolvable = isStoreError(error) && (error.retryable || error.code === 'AmbiguousWrite');
    if (!resolvable || ++failures >= maxAttempts) {
      // A store error after a possible landing is still an unknown outcome; a corrupt slot is itself.
      if (mayHaveLanded && isStoreError(error) && error.code !== 'AmbiguousWrite') {
        throw new AmbiguousWriteError(key, { cause: error });
      }
      throw error;
    }
    if (isStoreError(error, 'AmbiguousWrite') || isStoreError(error, 'ConflictInFlight') || mayHaveLanded) {
      mustRead = true;
    }
    await backoff(failures - 1, options);
  }
}
