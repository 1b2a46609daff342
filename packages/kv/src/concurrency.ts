import { setTimeout as delay } from 'node:timers/promises';
import { KvError } from './errors.js';

/** Maps `items` with at most `concurrency` calls in flight; results keep the input order. */
export async function mapConcurrent<I, O>(
  items: readonly I[],
  concurrency: number,
  fn: (item: I, index: number) => Promise<O>,
): Promise<O[]> {
  checkConcurrency(concurrency);
  const results = new Array<O>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as I, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

export function checkConcurrency(concurrency: number): void {
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new KvError('InvalidArgument', `concurrency must be a positive integer, got ${String(concurrency)}`);
  }
}

export interface BackoffOptions {
  /** Cap of the first delay in ms; doubles per attempt (default 2). */
  baseMs?: number;
  /** Largest delay in ms (default 500). */
  capMs?: number;
  /** Uniform in [0, 1); injected so runs replay. */
  random?: () => number;
}

/**
 * "Full jitter" exponential backoff between compare-and-swap attempts: contenders that wait the
 * same time collide again, so the spread matters more than the mean.
 */
export async function backoff(attempt: number, options: BackoffOptions = {}): Promise<void> {
  const { baseMs = 2, capMs = 500, random = Math.random } = options;
  const ms = random() * Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  if (ms >= 1) await delay(ms);
}
