import { randomBytes } from 'node:crypto';
import { type BackoffOptions, backoff } from '../backoff.js';
import { AmbiguousWriteError, InvalidArgumentError, isStoreError } from '../errors.js';
import { etagsEqual, md5Etag } from '../keys.js';
import type { GetResult, ObjectStore, PutOptions } from '../object-store.js';
import { CodedError } from './coded-error.js';

/** Metadata key of the write id that `compareAndSwap` stores unless `isOurs` is given. */
export const WRITE_ID_META = 'bucketdb-write-id';
/** Metadata key of the write id of the object a write replaced, when `previousWriteId` is given. */
export const PREV_WRITE_ID_META = 'bucketdb-prev-write-id';
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
   * The write id of the object `expected` names, when known. It is stored with the write (under
   * `prevWriteIdMeta`), and decides outcomes left unknown when another writer replaced the key
   * meanwhile, provided every writer of the key records it: the object found replaced ours → ours
   * landed (`superseded`); it replaced the very object we were replacing → ours cannot have landed
   * (not swapped). Needs write ids (not `isOurs`).
   */
  previousWriteId?: string;
  /** Metadata key of the previous write id (default `PREV_WRITE_ID_META`). */
  prevWriteIdMeta?: string;
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
  /**
   * `superseded`: ours landed and another write has already replaced it (known from the previous
   * write id it recorded); `etag` is then the MD5 of our body, a version no condition can match.
   */
  | { swapped: true; etag: string; superseded?: true }
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
  const prevMeta = options.prevWriteIdMeta ?? PREV_WRITE_ID_META;
  // A write id only when it is what tells our write apart (callers with `isOurs` carry their own).
  const writeId = options.isOurs === undefined ? (options.writeId ?? randomBytes(12).toString('base64url')) : undefined;
  const isOurs = options.isOurs ?? ((current: GetResult) => current.metadata[writeIdMeta] === writeId);
  // Built field by field, no spreads: this runs once per log append (CPU per commit).
  const putOptions: PutOptions = expected === null ? { ifNoneMatch: '*' } : { ifMatch: expected };
  if (
    options.metadata !== undefined ||
    writeId !== undefined ||
    options.previousWriteId !== undefined ||
    epoch !== undefined
  ) {
    const metadata = { ...options.metadata };
    if (writeId !== undefined) metadata[writeIdMeta] = writeId;
    if (options.previousWriteId !== undefined) metadata[prevMeta] = options.previousWriteId;
    if (epoch !== undefined) metadata[EPOCH_META] = String(epoch);
    if (Object.keys(metadata).length > 0) putOptions.metadata = metadata;
  }
  if (options.contentType !== undefined) putOptions.contentType = options.contentType;
  if (signal) putOptions.signal = signal;

  let mayHaveLanded = false;
  /** What the object found at the key says about this call; undefined: the key still holds `expected`. */
  const decide = (current: GetResult | undefined): CompareAndSwapOutcome | undefined => {
    if (current !== undefined && isOurs(current)) return { swapped: true, etag: current.etag };
    if (holds(current, expected)) return undefined;
    if (mayHaveLanded && !options.immutable) {
      const replaced = current?.metadata[prevMeta];
      if (replaced !== undefined && options.isOurs === undefined && replaced === writeId) {
        return {
          swapped: true,
          etag: md5Etag(typeof body === 'string' ? encoder.encode(body) : body),
          superseded: true,
        };
      }
      if (replaced === undefined || replaced !== options.previousWriteId) throw new AmbiguousWriteError(key);
      // Another write replaced the object we were replacing: ours, conditional on it, never landed.
    }
    const newer = current === undefined ? undefined : epochOf(current);
    if (epoch !== undefined && newer !== undefined && newer > epoch) throw new FencedError(key, epoch, newer);
    return { swapped: false, current };
  };
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
        const decided = decide(current);
        if (decided !== undefined) return decided;
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
      // One last look before giving up on a write that may have landed: it may be decidable now.
      if (mayHaveLanded && !signal?.aborted) {
        const decided = await readCurrent(store, key)
          .then(decide, () => undefined)
          .catch((e: unknown) => {
            if (isStoreError(e, 'AmbiguousWrite')) return undefined; // still undecided: the error below says why
            throw e;
          });
        if (decided !== undefined) return decided;
      }
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

const encoder = new TextEncoder();

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
