import { isStoreError, retry } from '@bucketdb/store';

export interface RetryOptions {
  /** Attempts per request, the first included (default 6), on top of any retries the store makes. */
  attempts?: number;
  baseMs?: number;
  capMs?: number;
  /** Uniform in [0, 1), injected so that chaos runs replay. */
  random?: () => number;
  /** Called before each retry: for progress displays and tests. */
  onRetry?: (error: Error, attempt: number) => void;
}

/**
 * Runs one part's request until it succeeds, fails for good or runs out of attempts. Only errors
 * the store calls retryable (Throttled, Transient) are retried, with full-jitter backoff; a part is
 * idempotent, so re-sending it is always safe.
 */
export async function withRetries<T>(
  run: () => Promise<T>,
  options: RetryOptions = {},
  signal?: AbortSignal,
): Promise<T> {
  let attempt = 0;
  try {
    return await retry(
      (n) => {
        attempt = n;
        return run();
      },
      {
        maxAttempts: options.attempts ?? 6,
        baseMs: options.baseMs ?? 50,
        capMs: options.capMs ?? 2_000,
        ...(options.random ? { random: options.random } : {}),
        ...(signal ? { signal } : {}),
        // Asked only when another attempt remains, so this is the moment to announce the retry.
        isRetryable: (error) => {
          if (!isStoreError(error) || !error.retryable) return false;
          options.onRetry?.(error, attempt);
          return true;
        },
      },
    );
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw error;
  }
}
