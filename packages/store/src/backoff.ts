import { setTimeout as delay } from 'node:timers/promises';

export interface BackoffOptions {
  /** Delay cap for the first retry, in ms; doubles per attempt. */
  baseMs?: number;
  /** Upper bound of any one delay, in ms. */
  capMs?: number;
  /** Uniform in [0, 1); injected so tests replay. */
  random?: () => number;
  /** Ends the wait early (without throwing: the caller decides what an abort means at that point). */
  signal?: AbortSignal;
}

/**
 * "Full jitter" exponential backoff: uniform in [0, min(cap, base * 2^attempt)]. Spreading
 * contenders out randomly matters more than the mean: writers racing for one key or slot that all
 * wait the same time collide again. The one backoff every package uses.
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const { baseMs = 2, capMs = 250, random = Math.random } = options;
  return random() * Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
}

export async function backoff(attempt: number, options: BackoffOptions = {}): Promise<void> {
  const ms = backoffDelay(attempt, options);
  const { signal } = options;
  if (ms < 1 || signal?.aborted) return;
  await delay(ms, undefined, signal ? { signal } : {}).catch((error: unknown) => {
    if (!signal?.aborted) throw error;
  });
}
