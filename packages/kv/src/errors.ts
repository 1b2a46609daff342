import { isStoreError } from '@bucketdb/store';

/**
 * The closed set of KV error codes, and what a caller should do about each:
 *
 * - `InvalidKey`: empty or not well-formed Unicode (a lone surrogate). Fix the key.
 * - `KeyTooLong`: the encoded key does not fit S3's 1024-byte limit (see docs/design/kv.md).
 * - `ValueTooLarge`: the encoded value exceeds `maxValueBytes`.
 * - `InvalidValue`: the codec cannot encode the value (BigInt, a cycle, a Map, ...), or the
 *   content type does not fit the value.
 * - `InvalidArgument`: a bad option (negative TTL, limit, concurrency, ...).
 * - `VersionMismatch`: `ifVersion` did not match (or the key is gone). Re-read and decide.
 * - `Exists`: `ifAbsent` and the key exists.
 * - `Conflict`: another conditional write raced ours (S3 409), or `update` ran out of attempts.
 *   Nothing was written by the failed attempt; retrying later may succeed.
 * - `Ambiguous`: the store could not tell whether a write took effect, and neither reading back
 *   nor the write ids (ours, and the one each write replaced) could decide it. Re-read before
 *   retrying a non-idempotent change.
 * - `Unavailable`: the store kept failing (throttled, unreachable) and this call's value was not
 *   written. Retry later.
 * - `Unsupported`: the operation needs another layout (ordered scan on the hashed layout) or a
 *   capability the store lacks (sorted LIST, StartAfter, conditional DELETE).
 * - `LayoutMismatch`: the store was created with another layout.
 * - `Corrupt`: a stored value or the layout file cannot be decoded.
 * - `Closed`: the KvStore was closed.
 */
export const KV_ERROR_CODES = [
  'InvalidKey',
  'KeyTooLong',
  'ValueTooLarge',
  'InvalidValue',
  'InvalidArgument',
  'VersionMismatch',
  'Exists',
  'Conflict',
  'Ambiguous',
  'Unavailable',
  'Unsupported',
  'LayoutMismatch',
  'Corrupt',
  'Closed',
] as const;
export type KvErrorCode = (typeof KV_ERROR_CODES)[number];

export interface KvErrorOptions {
  /** The user key the error is about, when there is one. */
  key?: string;
  cause?: unknown;
}

export class KvError extends Error {
  readonly code: KvErrorCode;
  readonly key: string | undefined;

  constructor(code: KvErrorCode, message: string, options: KvErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KvError';
    this.code = code;
    this.key = options.key;
  }
}

export function isKvError(error: unknown, code?: KvErrorCode): error is KvError {
  return error instanceof KvError && (code === undefined || error.code === code);
}

/** How a failed conditional write was conditioned, to name the failure precisely. */
export type WriteCondition = 'ifVersion' | 'ifAbsent' | 'none';

/**
 * The one place store errors of a write become KV errors. A 412 or a 404 under `If-Match` is a
 * failed condition; S3's 409 is `Conflict`; a store that keeps failing is `Unavailable`. Errors
 * that may hide a landed write (AmbiguousWrite, Transient) are resolved by the caller first.
 */
export function translateWriteError(error: unknown, key: string, condition: WriteCondition): never {
  if (condition !== 'none' && (isStoreError(error, 'PreconditionFailed') || isStoreError(error, 'NotFound'))) {
    if (condition === 'ifAbsent') throw new KvError('Exists', `key ${show(key)} exists`, { key, cause: error });
    throw new KvError('VersionMismatch', `key ${show(key)} is not at the expected version`, { key, cause: error });
  }
  if (isStoreError(error, 'ConflictInFlight')) {
    throw new KvError('Conflict', `a concurrent conditional write to ${show(key)} was in flight`, {
      key,
      cause: error,
    });
  }
  if (isStoreError(error) && error.retryable) {
    throw new KvError('Unavailable', `the write to ${show(key)} failed: ${error.message}`, { key, cause: error });
  }
  throw error;
}

/** A key for a message: quoted and cut short. */
export function show(key: string): string {
  return JSON.stringify(key.length > 100 ? `${key.slice(0, 100)}…` : key);
}

export function checkConcurrency(concurrency: number): void {
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new KvError('InvalidArgument', `concurrency must be a positive integer, got ${String(concurrency)}`);
  }
}
