import type { LogRecord } from '@bucketdb/log';
import type { Clock } from '@bucketdb/store';
import type { RecordSource } from './record-source.js';

export interface PollOptions {
  /** First wait after the tail was reached (default 10 ms); doubles while nothing new arrives... */
  pollMinMs?: number;
  /** ...up to this (default 200 ms). A new record resets the wait to none. */
  pollMaxMs?: number;
  /** Time for the waits; injected so tests run on virtual time (default: real time). */
  clock?: Clock;
}

/**
 * Every record after `after`, in order and without gaps, forever: first the records present now
 * (one LIST, then GETs), then live by GETting the next slot. A hit fetches the slot after it at
 * once; a miss waits, doubling the wait from `pollMinMs` up to `pollMaxMs`. Slots fill in order,
 * so polling only the next one can never skip a record. Ends when `signal` aborts.
 */
export async function* follow(
  source: RecordSource,
  after: number,
  options: PollOptions & { clock: Clock },
  signal: AbortSignal,
): AsyncGenerator<LogRecord> {
  const min = options.pollMinMs ?? 10;
  const max = Math.max(min, options.pollMaxMs ?? 200);
  let next = after + 1;
  for await (const record of source.after(after)) {
    if (signal.aborted) return;
    yield record;
    next = record.version + 1;
  }
  let wait = 0;
  while (!signal.aborted) {
    const record = await source.tryRead(next);
    if (signal.aborted) return;
    if (record) {
      yield record;
      next++;
      wait = 0;
      continue;
    }
    wait = wait === 0 ? min : Math.min(max, wait * 2);
    try {
      await options.clock.sleep(wait, signal);
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
  }
}
