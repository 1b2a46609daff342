import { isStoreError, retry } from '@bucketdb/store';
import { KvError } from './errors.js';

/** Failures after which an idempotent request may simply be sent again. */
export function mayPass(error: unknown): boolean {
  return isStoreError(error) && (error.retryable || error.code === 'AmbiguousWrite');
}

/**
 * Runs an idempotent request (a HEAD, an empty TTL marker, the layout file) with the kernel's
 * `retry`, also after ambiguous outcomes (repeating it changes nothing). When the store keeps
 * failing it throws `Unavailable`, the store's last error as the cause.
 */
export async function retrying<T>(what: string, run: () => Promise<T>, maxAttempts = 6): Promise<T> {
  try {
    return await retry(run, { maxAttempts, isRetryable: mayPass, capMs: 200 });
  } catch (error) {
    if (!mayPass(error)) throw error;
    throw new KvError('Unavailable', `${what} kept failing: ${(error as Error).message}`, { cause: error });
  }
}
