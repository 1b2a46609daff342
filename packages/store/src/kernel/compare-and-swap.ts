import { randomBytes } from 'node:crypto';
import { type BackoffOptions, backoff } from '../backoff.js';
import { AmbiguousWriteError, InvalidArgumentError, isStoreError } from '../errors.js';
import { etagsEqual } from '../keys.js';
import type { GetResult, ObjectStore } from '../object-store.js';
import { CodedError } from './coded-error.js';

/** Metadata key of the write id that `compareAndSwap` stores unless `isOurs` is given. */
export const WRITE_ID_META = 'bucketdb-write-id';
/** Metadata key of the writer's epoch, when `epoch` is given. */
export const EPOCH_META = 'bucketdb-epoch';

/** A writer found an object written under a newer epoch: it has been replaced and must stop writing. */
export class FencedError extends CodedError<'Fenced'> {
  readonly key: string;
  readonly epoch: number;
  readonly newerEpoch: number;

  constructor(key: string, epoch: number, newerEpoch: number) {
    super('Fenced', `epoch ${epoch} is fenced at ${JSON.stringify(key)}: a writer with epoch ${newerEpoch} took over`);
    this.key = key;
    this.epoch = epoch;
    this.newerEpoch = newerEpoch;
  }
}

export interface CompareAndSwapOptions extends BackoffOptions {
  /** The ETag the key must hold for the write to apply; `null`: the key must be absent. */
  expected: string | null;
  contentType?: string;
  /** User metadata to store; the write id and epoch are added to it. */
  metadata?: Record<string, string>;
  /** This write's unique id, stored in metadata under `writeIdMeta` (default: 96 random bits). */
  writeId?: string;
  /** Metadata key of the write id (default `WRITE_ID_META`). */
  writeIdMeta?: string;
  /**
   * Whether the object found at the key is the one this call wrote, e.g. by a commit id inside
   * the body. When given, no write id is added to the metadata: the caller's id decides.
   */
  isOurs?: (current: GetResult) => boolean;
  /**
   * Fencing: the writer's epoch (a lease generation). Stored in metadata under `EPOCH_META`; a
   * conflicting object from a newer epoch makes the call throw FencedError instead of reporting
   * a conflict the caller would retry.
   */
  epoch?: number;
  /** The epoch a found object was written under (default: its `EPOCH_META` metadata). */
  epochOf?: (current: GetResult) => number | undefined;
  /**
   * Objects at this key are never replaced or deleted once written (log slots): someone else's
   * object there proves ours never landed, even after an unknown outcome.
   */
  immutable?: boolean;
  /** Attempts that end in a retryable or unknown outcome before giving up (default 8). */
  maxAttempts?: number;
  signal?: AbortSignal;
}

export type CompareAndSwapOutcome =
  | { swapped: true; etag: string }
  /** The condition did not hold: `current` is what the key holds (undefined: nothing). */
  | { swapped: false; current: GetResult | undefined };

/**
 * Writes `body` at `key` only if the key holds `expected` (an ETag, or nothing), and says for
 * certain whether *this call* wrote it.
 *
 * - 412 (or 404 for a CAS on a key that is gone): read the key, since a retried request can
 *   answer 412 to our own landed write. Ours: swapped. Still `expected`: write again. Another
 *   writer's: not swapped (FencedError if that writer's epoch is newer).
 * - AmbiguousWrite (outcome unknown) or ConflictInFlight (someone's write is in flight): read the
 *   key with backoff and decide as above. Every attempt writes the same bytes and write id under
 *   the same condition, so whichever attempt lands is this one write, and a late-arriving earlier
 *   attempt fails its condition and can never apply twice.
 * - Throttled / Transient (nothing changed): write again after backoff.
 *
 * After an unknown outcome, another writer's object at the key does not prove ours failed (ours
 * may have landed and been replaced), so that case throws AmbiguousWriteError unless `immutable`.
 * After `maxAttempts` unresolved tries the store's error is thrown, as AmbiguousWriteError if any
 * attempt may have landed: never a clean failure for a write that might exist.
 */
export async function compareAndSwap(
  store: ObjectStore,
  key: string,
  body: Uint8Array | string,
  options: CompareAndSwapOptions,
): Promise<CompareAndSwapOutcome> {
  const { expected, signal, epoch } = options;
  const maxAttempts = options.maxAttempts ?? 8;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw new InvalidArgumentError(`maxAttempts must be a positive integer, got ${String(maxAttempts)}`);
  }
  if (epoch !== undefined && !(Number.isSafeInteger(epoch) && epoch >= 0)) {
    throw new InvalidArgumentError(`epoch must be a non-negative integer, got ${String(epoch)}`);
  }
  const writeIdMeta = options.writeIdMeta ?? WRITE_ID_META;
  const epochOf = options.epochOf ?? metadataEpoch;
  const metadata = { ...options.metadata };
  let isOurs = options.isOurs;
  if (isOurs === undefined) {
    // A write id only when it is what tells our write apart (callers with `isOurs` carry their own).
    const writeId = options.writeId ?? randomBytes(12).toString('base64url');
    metadata[writeIdMeta] = writeId;
    isOurs = (current: GetResult) => current.metadata[writeIdMeta] === writeId;
  }
  if (epoch !== undefined) metadata[EPOCH_META] = String(epoch);
  const putOptions = {
    ...(expected === null ? { ifNoneMatch: '*' as const } : { ifMatch: expected }),
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
    ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
    ...(signal ? { signal } : {}),
  };

  let mayHaveLanded = false;
  let mustRead = false;
  let failures = 0;
  let conditionRounds = 0;
  for (;;) {
    if (signal?.aborted) throw mayHaveLanded ? new AmbiguousWriteError(key, { cause: signal.reason }) : signal.reason;
    let error: unknown;
    if (mustRead) {
      let current: GetResult | undefined;
      try {
        current = await readCurrent(store, key, signal);
      } catch (e) {
        error = e;
      }
      if (error === undefined) {
        if (current !== undefined && isOurs(current)) return { swapped: true, etag: current.etag };
        if (!holds(current, expected)) {
          if (mayHaveLanded && !options.immutable) throw new AmbiguousWriteError(key);
          const newer = current === undefined ? undefined : epochOf(current);
          if (epoch !== undefined && newer !== undefined && newer > epoch) throw new FencedError(key, epoch, newer);
          return { swapped: false, current };
        }
        // The key still holds what we expect, so nothing of ours has landed: write again.
      }
    }
    if (error === undefined) {
      try {
        const { etag } = await store.put(key, body, putOptions);
        return { swapped: true, etag };
      } catch (e) {
        // Bounded: only a key that changes back to `expected` between our answer and our read returns here.
        if (conditionFailed(e, expected) && ++conditionRounds <= maxAttempts) {
          mustRead = true;
          continue;
        }
        error = e;
      }
    }
    if (isStoreError(error, 'AmbiguousWrite')) mayHaveLanded = true;
    if (signal?.aborted) throw mayHaveLanded ? new AmbiguousWriteError(key, { cause: signal.reason }) : error;
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

function conditionFailed(error: unknown, expected: string | null): boolean {
  return isStoreError(error, 'PreconditionFailed') || (expected !== null && isStoreError(error, 'NotFound'));
}

function holds(current: GetResult | undefined, expected: string | null): boolean {
  if (expected === null) return current === undefined;
  return current !== undefined && etagsEqual(current.etag, expected);
}

async function readCurrent(store: ObjectStore, key: string, signal?: AbortSignal): Promise<GetResult | undefined> {
  try {
    return await store.get(key, signal ? { signal } : {});
  } catch (e) {
    if (isStoreError(e, 'NotFound')) return undefined;
    throw e;
  }
}

function metadataEpoch(current: GetResult): number | undefined {
  const text = current.metadata[EPOCH_META];
  if (text === undefined) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}
