import { type BackoffOptions, backoff } from '../backoff.js';
import { InvalidArgumentError } from '../errors.js';
import { CodedError } from './coded-error.js';

export interface RetryOptions extends BackoffOptions {
  /** Attempts in total, the first included (default 8). */
  maxAttempts?: number;
  /** Whether `error` is worth another attempt (default: a CodedError whose `retryable` is true). */
  isRetryable?: (error: unknown) => boolean;
  /** Stops waiting and attempting: the abort reason is thrown. */
  signal?: AbortSignal;
}

export function isRetryableError(error: unknown): boolean {
  return error instanceof CodedError && error.retryable;
}

/**
 * Calls `attempt` until it succeeds, throws an error that is not retryable, or has been called
 * `maxAttempts` times; waits the shared `backoff` (full jitter, `random` injected) in between.
 * The last error is thrown as it is: the caller's error family stays intact.
 */
export async function retry<T>(attempt: (n: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { maxAttempts = 8, isRetryable = isRetryableError, signal } = options;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw new InvalidArgumentError(`maxAttempts must be a positive integer, got ${String(maxAttempts)}`);
  }
  for (let n = 0; ; n++) {
    signal?.throwIfAborted();
    try {
      return await attempt(n);
    } catch (error) {
      if (signal?.aborted || n + 1 >= maxAttempts || !isRetryable(error)) throw error;
    }
    await backoff(n, options);
  }
}
