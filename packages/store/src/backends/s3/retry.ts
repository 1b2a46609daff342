import { setTimeout as delay } from 'node:timers/promises';
import { AmbiguousWriteError, isStoreError, type StoreError, TransientError } from '../../errors.js';
import { retry } from '../../kernel/retry.js';
import { mayHaveLanded, toStoreError } from './s3-errors.js';

/**
 * What kind of request is retried. A read can always be retried. An unconditional write is
 * idempotent (the same bytes land again). A conditional write is not: if an earlier attempt may
 * have landed, a later 412 may be our own write, so the outcome becomes ambiguous.
 */
export type RequestKind = 'read' | 'write' | 'conditional-write';

export interface RetryPolicy {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Uniform in [0, 1); injected so that tests and chaos runs replay. */
  random: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 3,
  baseDelayMs: 50,
  maxDelayMs: 2_000,
  random: Math.random,
  sleep: (ms, signal) => delay(ms, undefined, signal === undefined ? undefined : { signal }),
};

/**
 * Runs `attempt` until it succeeds, fails for good, or runs out of attempts, and reports the
 * result under the rules of `kind`. Errors come out as store errors, except the caller's abort.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  kind: RequestKind,
  key: string,
  signal: AbortSignal | undefined,
  attempt: () => Promise<T>,
): Promise<T> {
  signal?.throwIfAborted();
  let uncertain = false;
  let cancelled = false;
  try {
    return await retry(
      async () => {
        try {
          return await attempt();
        } catch (raw) {
          if (signal?.aborted) {
            cancelled = true;
            // Cancelled mid-request: a conditional write may still have landed.
            if (kind === 'conditional-write') throw new AmbiguousWriteError(key, { cause: signal.reason });
            throw signal.reason;
          }
          const error = toStoreError(raw, key);
          uncertain ||= kind !== 'read' && mayHaveLanded(error);
          throw error;
        }
      },
      {
        maxAttempts: policy.maxAttempts,
        baseMs: policy.baseDelayMs,
        capMs: policy.maxDelayMs,
        random: policy.random,
        sleep: policy.sleep,
        ...(signal ? { signal } : {}),
      },
    );
  } catch (error) {
    if (!cancelled && uncertain && isStoreError(error)) throw outcomeUnknown(kind, key, error);
    throw error;
  }
}

/** An earlier attempt of a write may have landed, and no later attempt settled the question. */
function outcomeUnknown(kind: RequestKind, key: string, cause: StoreError): StoreError {
  if (kind === 'conditional-write') return new AmbiguousWriteError(key, { cause });
  if (kind === 'write' && cause.code === 'Transient') return cause;
  return new TransientError(`the outcome of the write to ${JSON.stringify(key)} is unknown: ${cause.message}`, {
    key,
    cause,
  });
}
