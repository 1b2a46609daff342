import { MemoryStore, RoundTripStore } from '@bucketdb/store';
import { expect, test } from 'vitest';
import { CommitLog } from './commit-log.js';
import { bytes, text } from './fixtures/deterministic.js';

/** A log of `n` records written straight to the store (one PUT each, no reads). */
async function logOf(n: number): Promise<MemoryStore> {
  const store = new MemoryStore(`scan-${n}`);
  const log = await CommitLog.open(store);
  for (let v = 1; v <= n; v++) await log.tryAppend([bytes(`r${v}`)], v);
  return store;
}

test.each([
  [0, 0, 1],
  [7, 0, 2],
  [999, 0, 2],
  [1000, 0, 4],
  [1001, 0, 4],
  [3000, 1200, 4],
  [5000, 0, 4],
])(
  'scan of a log of %i records after %i: every record once, in a few rounds of requests',
  async (n, after, rounds) => {
    const trips = new RoundTripStore(await logOf(n));
    const log = await CommitLog.open(trips, { version: after });
    const records = await log.scan(after);
    expect(records.map((r) => r.version)).toEqual(Array.from({ length: n - after }, (_, i) => after + i + 1));
    expect(records.map((r) => text(r.entries[0] as Uint8Array))).toEqual(records.map((r) => `r${r.version}`));
    // One LIST page, then parallel GETs: the number of dependent rounds grows with the log of the
    // lag, the requests stay close to one per record.
    expect(trips.depth).toBeLessThanOrEqual(rounds);
    expect(trips.requests).toBeLessThanOrEqual(n - after + 1 + (n - after >= 1000 ? 160 : 0));
    expect(await log.accept(records)).toBe(true);
    expect(log.version).toBe(n);
  },
  60_000,
);

test('a scan over a hole (GC deleted the first records) returns the run after it; accept reports the gap', async () => {
  const store = await logOf(20);
  for (let v = 1; v <= 5; v++) await store.delete(`log/${String(v).padStart(20, '0')}`);
  const log = await CommitLog.open(store, { version: 2 });
  const records = await log.scan(2);
  expect(records.map((r) => r.version)).toEqual(Array.from({ length: 15 }, (_, i) => i + 6));
  expect(await log.accept(records)).toBe(false);
  expect(log.version).toBe(2);
});
