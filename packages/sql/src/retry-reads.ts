import { backoff, isStoreError } from '@bucketdb/store';

/**
 * Runs a read (GET or LIST: repeating it changes nothing) again after errors the store calls
 * retryable, with jittered exponential backoff. Writes are never retried here: the log resolves
 * their ambiguity by commit id.
 */
export async function retryReads<T>(read: () => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (error) {
      if (attempt >= attempts || !isStoreError(error) || !error.retryable) throw error;
      await backoff(attempt, { baseMs: 5, capMs: 200 });
    }
  }
}
