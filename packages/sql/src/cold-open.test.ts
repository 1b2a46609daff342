import { latency, MemoryStore, Meter, metered, RoundTripStore } from '@bucketdb/store';
import { expect, test } from 'vitest';
import { Database } from './database.js';

/** A store whose every request takes 3 ms: requests issued together overlap, a dependent one waits. */
function slow(inner: MemoryStore) {
  return latency(inner, {
    name: 'fixed',
    firstByte: { read: { p50Ms: 3, p99Ms: 3 }, write: { p50Ms: 3, p99Ms: 3 }, list: { p50Ms: 3, p99Ms: 3 } },
    bytesPerSecond: 1e12,
  });
}

async function databaseWithLag(lag: number): Promise<MemoryStore> {
  const raw = new MemoryStore(`lag-${lag}`);
  await using db = await Database.create(raw, {
    checkpointEveryRecords: 0,
    checkpointEveryBytes: 0,
    checkpointEveryMs: 0,
  });
  await db.exec('create table t(id integer primary key, v text)');
  await db.exec(
    "with recursive c(x) as (select 1 union all select x + 1 from c where x < 200) insert into t(v) select 'row' || x from c",
  );
  await db.checkpoint();
  // One record per commit (awaited one by one, so group commit does not merge them).
  for (let i = 0; i < lag; i++) await db.run('update t set v = ? where id = ?', [`u${i}`, (i % 200) + 1]);
  return raw;
}

// Round trips: (1) the checkpoint hint; (2) the checkpoint (LIST + GET of the hinted manifest),
// the LIST of records and the GC floor; (3) records and page maps; (4) chunks; (5) the first
// query's tail check. A lag beyond one LIST page adds a few probe rounds (log of the lag).
test.each([
  [0, 5],
  [40, 5],
  [1300, 8],
])(
  'cold open and a first query at lag %i: records fetched in parallel, a bounded number of dependent round trips',
  async (lag, maxDepth) => {
    const raw = await databaseWithLag(lag);
    const meter = new Meter();
    const trips = new RoundTripStore(slow(raw));
    const store = metered(trips, meter);
    await using db = await Database.create(store, {});
    const row = await db.get<{ n: number }>('select count(*) n from t');
    expect(row).toEqual({ n: 200 });
    expect(db.version).toBe(lag + 2);
    expect(trips.depth).toBeLessThanOrEqual(maxDepth);
    const requests = meter.snapshot().requests;
    // Each record once, plus a bounded number of probes past the end and the fixed reads.
    expect(requests.get).toBeGreaterThanOrEqual(lag);
    expect(requests.get).toBeLessThanOrEqual(lag + (lag > 1000 ? 160 : 8));
    expect(requests.list).toBe(2);
  },
  120_000,
);
