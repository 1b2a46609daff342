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

/**
 * Catch-up style reads (`confirmTail`, `catchUp`) that keep what they read before a failure: while
 * each failed round still moved `progress()` forward, try again with a fresh retry budget. A long
 * catch-up on a store that fails a few per cent of its GETs then always finishes; a store that
 * keeps failing without progress still fails the call.
 */
export async function retryCatchUp<T>(read: () => Promise<T>, progress: () => number): Promise<T> {
  for (;;) {
    const before = progress();
    try {
      return await retryReads(read);
    } catch (error) {
      if (progress() === before) throw error;
    }
  }
}
