import type { LogRecord } from '@bucketdb/log';
import { backoffDelay, type Clock, isStoreError } from '@bucketdb/store';
import type { RecordSource } from './record-source.js';

export interface PollOptions {
  /** First wait after the tail was reached (default 10 ms); doubles while nothing new arrives... */
  pollMinMs?: number;
  /**
   * ...up to this (default 200 ms). A new record resets the wait to none. While records arrive
   * at a steady pace the wait is also capped at a quarter of the usual gap between them, so a
   * busy subscriber polls fast around the moment the next record is due (see `pollCap`).
   */
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
  options: PollOptions & { clock: Clock; random?: () => number },
  signal: AbortSignal,
): AsyncGenerator<LogRecord> {
  const min = options.pollMinMs ?? 10;
  const max = Math.max(min, options.pollMaxMs ?? 200);
  let next = after + 1;
  let live = false;
  let wait = 0;
  let failures = 0;
  let lastHit: number | undefined;
  let gap: number | undefined;
  while (!signal.aborted) {
    let record: LogRecord | undefined;
    try {
      if (!live) {
        for await (const r of source.after(next - 1)) {
          if (signal.aborted) return;
          next = r.version + 1;
          yield r;
        }
        live = true;
        continue;
      }
      record = await source.tryRead(next);
      failures = 0;
    } catch (error) {
      // A failed read changes nothing: the same slot is read again after a pause.
      if (!isStoreError(error) || !error.retryable || signal.aborted) throw error;
      await pause(options.clock, backoffDelay(failures++, options.random ? { random: options.random } : {}), signal);
      continue;
    }
    if (signal.aborted) return;
    if (record) {
      next++;
      wait = 0;
      const now = options.clock.now();
      if (lastHit !== undefined) gap = gap === undefined ? now - lastHit : 0.7 * gap + 0.3 * (now - lastHit);
      lastHit = now;
      yield record;
      continue;
    }
    const cap = pollCap(min, max, gap, lastHit === undefined ? undefined : options.clock.now() - lastHit);
    wait = wait === 0 ? min : Math.min(cap, wait * 2);
    await pause(options.clock, wait, signal);
  }
}

async function pause(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  try {
    await clock.sleep(ms, signal);
  } catch (error) {
    if (!signal.aborted) throw error;
  }
}

/**
 * The longest poll wait now: `max`, unless records have been arriving every `gap` ms (a moving
 * average) and the last one came `sinceLast` ms ago; then a quarter of the larger of the two, so
 * the wait stays short while the next record is due and grows back to `max` as the silence lasts.
 */
export function pollCap(min: number, max: number, gap: number | undefined, sinceLast: number | undefined): number {
  if (gap === undefined || sinceLast === undefined) return max;
  return Math.max(min, Math.min(max, Math.max(gap, sinceLast) / 4));
}
