import { backoff, isStoreError } from '@bucketdb/store';
import { KvError } from './errors.js';

/**
 * Runs an idempotent request (a HEAD, an empty TTL marker, a read-back) again after failures that
 * may pass: throttling, transient errors, and ambiguous outcomes (repeating it changes nothing).
 * After `attempts` it fails with `Unavailable`, the store's last error as the cause.
 */
export async function retrying<T>(what: string, run: () => Promise<T>, attempts = 6): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      const passing = isStoreError(error) && (error.retryable || error.code === 'AmbiguousWrite');
      if (!passing) throw error;
      if (attempt + 1 >= attempts) {
        throw new KvError('Unavailable', `${what} kept failing: ${(error as Error).message}`, { cause: error });
      }
      await backoff(attempt, { capMs: 200 });
    }
  }
}
