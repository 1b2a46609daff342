import { CodedError } from '@bucketdb/store';

/**
 * The closed set of log error codes. Store errors (NotFound, AmbiguousWrite, Throttled, ...) are
 * never wrapped: they pass through with their own `code`.
 *
 * - `Corrupt`: a stored object failed its checksum, is truncated, or its content is invalid.
 *   Nothing from it is applied; an operator must look at the object named in the message.
 * - `UnsupportedFormat`: written by a newer bucketdb (a format version this one does not know).
 *   Upgrade the reader.
 * - `InvalidArgument`: a caller bug (a version that would leave a gap, a bad checkpoint name).
 * - `Closed`: the CommitLog or GroupCommitter was closed.
 * - `Contention`: a group commit lost the race for the next slot too many times in a row.
 *   Retrying later may succeed.
 * - `Collected`: the slot is at or below the GC floor (its record was, or may be, deleted): this
 *   client's view is older than the retention window. Nothing was written; reopen to continue.
 */
export const LOG_ERROR_CODES = [
  'Corrupt',
  'UnsupportedFormat',
  'InvalidArgument',
  'Closed',
  'Contention',
  'Collected',
] as const;
export type LogErrorCode = (typeof LOG_ERROR_CODES)[number];

export interface LogErrorOptions {
  /** The object key the error is about, when there is one. */
  key?: string;
  cause?: unknown;
}

export class LogError extends CodedError<LogErrorCode> {
  readonly key: string | undefined;

  constructor(code: LogErrorCode, message: string, options: LogErrorOptions = {}) {
    super(code, message, options.cause === undefined ? {} : { cause: options.cause });
    this.name = 'LogError';
    this.key = options.key;
  }

  /** Only lost races (Contention) may pass if tried again later. */
  override get retryable(): boolean {
    return this.code === 'Contention';
  }
}

export function isLogError(error: unknown, code?: LogErrorCode): error is LogError {
  return error instanceof LogError && (code === undefined || error.code === code);
}
