import { CodedError } from './kernel/coded-error.js';

/**
 * The closed set of store error codes. Every backend translates its native errors (ENOENT,
 * NoSuchKey, HTTP 412, ...) into exactly one of these, in exactly one function.
 */
export const STORE_ERROR_CODES = [
  'NotFound',
  'PreconditionFailed',
  'ConflictInFlight',
  'Throttled',
  'Transient',
  'AmbiguousWrite',
  'InvalidKey',
  'InvalidRange',
  'InvalidArgument',
  'Corrupt',
  'Closed',
] as const;
export type StoreErrorCode = (typeof STORE_ERROR_CODES)[number];

export interface StoreErrorOptions {
  key?: string;
  cause?: unknown;
}

export class StoreError extends CodedError<StoreErrorCode> {
  readonly key: string | undefined;

  constructor(code: StoreErrorCode, message: string, options: StoreErrorOptions = {}) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = `${code}Error`;
    this.key = options.key;
  }

  /** Whether retrying the same request later may succeed. */
  override get retryable(): boolean {
    return this.code === 'Throttled' || this.code === 'Transient' || this.code === 'ConflictInFlight';
  }
}

/** The object does not exist (S3 404 NoSuchKey). */
export class NotFoundError extends StoreError {
  constructor(key: string, options: Omit<StoreErrorOptions, 'key'> = {}) {
    super('NotFound', `no object at key ${JSON.stringify(key)}`, { ...options, key });
  }
}

/** A conditional request's condition did not hold (S3 412). */
export class PreconditionFailedError extends StoreError {
  constructor(key: string, detail: string, options: Omit<StoreErrorOptions, 'key'> = {}) {
    super('PreconditionFailed', `precondition failed for ${JSON.stringify(key)}: ${detail}`, {
      ...options,
      key,
    });
  }
}

/** Another conditional write to the same key was in flight (S3 409 ConditionalRequestConflict). */
export class ConflictInFlightError extends StoreError {
  constructor(key: string, options: Omit<StoreErrorOptions, 'key'> = {}) {
    super('ConflictInFlight', `a concurrent conditional write to ${JSON.stringify(key)} was in flight`, {
      ...options,
      key,
    });
  }
}

/** The store asked us to slow down (S3 503 SlowDown). */
export class ThrottledError extends StoreError {
  constructor(message = 'request rate too high (SlowDown)', options: StoreErrorOptions = {}) {
    super('Throttled', message, options);
  }
}

/** A failure that did not change stored state and may pass if retried (network error, 500). */
export class TransientError extends StoreError {
  constructor(message: string, options: StoreErrorOptions = {}) {
    super('Transient', message, options);
  }
}

/**
 * A write whose outcome is unknown: it may or may not have taken effect (a timeout after the body
 * was sent, a 5xx, a retry answering 412 after the first attempt may have landed). The caller must
 * resolve it, for example by reading the object back and comparing a unique id it wrote.
 */
export class AmbiguousWriteError extends StoreError {
  constructor(key: string, options: Omit<StoreErrorOptions, 'key'> = {}) {
    super('AmbiguousWrite', `the outcome of the write to ${JSON.stringify(key)} is unknown`, {
      ...options,
      key,
    });
  }
}

export class InvalidKeyError extends StoreError {
  constructor(key: string, reason: string) {
    super('InvalidKey', `invalid object key ${JSON.stringify(key.slice(0, 100))}: ${reason}`, { key });
  }
}

/** The requested byte range lies outside the object (S3 416). */
export class InvalidRangeError extends StoreError {
  constructor(key: string, detail: string) {
    super('InvalidRange', `range not satisfiable for ${JSON.stringify(key)}: ${detail}`, { key });
  }
}

export class InvalidArgumentError extends StoreError {
  constructor(message: string, options: StoreErrorOptions = {}) {
    super('InvalidArgument', message, options);
  }
}

/** Stored bytes failed an integrity check, or a format could not be read. */
export class CorruptError extends StoreError {
  constructor(message: string, options: StoreErrorOptions = {}) {
    super('Corrupt', message, options);
  }
}

export class ClosedError extends StoreError {
  constructor(what = 'store') {
    super('Closed', `the ${what} is closed`);
  }
}

export function isStoreError(error: unknown, code?: StoreErrorCode): error is StoreError {
  return error instanceof StoreError && (code === undefined || error.code === code);
}
