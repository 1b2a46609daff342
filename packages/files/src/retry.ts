import { backoff, isStoreError } from '@bucketdb/store';

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
  const attempts = options.attempts ?? 6;
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await run();
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (!isStoreError(error) || !error.retryable || attempt + 1 >= attempts) throw error;
      options.onRetry?.(error, attempt);
      await backoff(attempt, {
        baseMs: options.baseMs ?? 50,
        capMs: options.capMs ?? 2_000,
        ...(options.random ? { random: options.random } : {}),
      });
    }
  }
}
