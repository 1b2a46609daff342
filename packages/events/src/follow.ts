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
 * GETs of the next slot in flight at once. The waits time the start of each probe, not the gap
 * after an answer: with a GET taking longer than the wait, a second probe is already on its way
 * when the record lands, so it is found about one wait after landing, not one GET plus one wait.
 */
export const MAX_PROBES = 2;

type Probe = { record: LogRecord | undefined } | { error: unknown };

/**
 * Every record after `after`, in order and without gaps, forever: first the records present now
 * (one LIST, then GETs), then live by GETting the next slot. A hit fetches the slot after it at
 * once; while the slot is empty, a new probe starts after each wait (doubling from `pollMinMs` up
 * to the cap), at most `MAX_PROBES` in flight. Slots fill in order, so polling only the next one
 * can never skip a record. Ends when `signal` aborts.
 */
export async function* follow(
  source: RecordSource,
  after: number,
  options: PollOptions & { clock: Clock; random?: () => number },
  signal: AbortSignal,
): AsyncGenerator<LogRecord> {
  const { clock } = options;
  const min = options.pollMinMs ?? 10;
  const max = Math.max(min, options.pollMaxMs ?? 200);
  const retryDelay = (failures: number) => backoffDelay(failures, options.random ? { random: options.random } : {});
  let next = after + 1;
  let failures = 0;
  // Catch-up: the records present now.
  for (;;) {
    try {
      for await (const r of source.after(next - 1)) {
        if (signal.aborted) return;
        next = r.version + 1;
        yield r;
      }
      break;
    } catch (error) {
      // A failed read changes nothing: the read goes on from the same slot after a pause.
      if (!isStoreError(error) || !error.retryable || signal.aborted) throw error;
      await pause(clock, retryDelay(failures++), signal);
    }
  }
  failures = 0;
  // Live: probes of slot `next`, oldest first; the first to find it wins (a slot is written once).
  let probes: Promise<Probe>[] = [];
  let wait = 0;
  let probeAt = clock.now();
  let lastHit: number | undefined;
  let gap: number | undefined;
  while (!signal.aborted) {
    if (probes.length < MAX_PROBES && clock.now() >= probeAt) {
      probes.push(
        source.tryRead(next).then(
          (record) => ({ record }),
          (error: unknown) => ({ error }),
        ),
      );
      const cap = pollCap(min, max, gap, lastHit === undefined ? undefined : clock.now() - lastHit);
      wait = wait === 0 ? min : Math.min(cap, wait * 2);
      probeAt = clock.now() + wait;
    }
    const settled = probes.map((p) => p.then((result) => ({ p, result })));
    const woke = await Promise.race([
      ...settled,
      probes.length < MAX_PROBES ? pause(clock, probeAt - clock.now(), signal) : new Promise<never>(() => {}),
    ]);
    if (signal.aborted) return;
    if (!woke) continue; // time for the next probe
    probes = probes.filter((p) => p !== woke.p);
    const result = woke.result;
    if ('error' in result) {
      if (!isStoreError(result.error) || !result.error.retryable) throw result.error;
      // A failed read changes nothing: the slot is probed again after a pause.
      probeAt = Math.max(probeAt, clock.now() + retryDelay(failures++));
      continue;
    }
    failures = 0;
    if (!result.record) continue;
    // The slot is filled: probes still in flight for it are dropped (their answers are stale).
    probes = [];
    next++;
    wait = 0;
    probeAt = clock.now();
    const now = clock.now();
    if (lastHit !== undefined) gap = gap === undefined ? now - lastHit : 0.7 * gap + 0.3 * (now - lastHit);
    lastHit = now;
    yield result.record;
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
