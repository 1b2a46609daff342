import { latency, MemoryStore, Meter, metered, type ObjectStore, RoundTripStore } from '@bucketdb/store';
import { expect, test } from 'vitest';
import { Database } from './database.js';
import type { OpenOptions } from './options.js';

/** A store whose every request takes 3 ms: requests issued together overlap, a dependent one waits. */
function slow(inner: ObjectStore) {
  return latency(inner, {
    name: 'fixed',
    firstByte: { read: { p50Ms: 3, p99Ms: 3 }, write: { p50Ms: 3, p99Ms: 3 }, list: { p50Ms: 3, p99Ms: 3 } },
    bytesPerSecond: 1e12,
  });
}

const noCheckpoints: OpenOptions = { checkpointEveryRecords: 0, checkpointEveryBytes: 0, checkpointEveryMs: 0 };

/** `rows` rows, a checkpoint, then `lag` records (one per commit, awaited one by one). */
async function databaseWithLag(lag: number, rows = 200, options: OpenOptions = {}): Promise<MemoryStore> {
  const raw = new MemoryStore(`lag-${lag}`);
  await using db = await Database.create(raw, { ...noCheckpoints, ...options });
  await db.exec('create table t(id integer primary key, v text)');
  await db.exec(
    `with recursive c(x) as (select 1 union all select x + 1 from c where x < ${rows}) insert into t(v) select printf('row %d %.80c', x, '*') from c`,
  );
  await db.checkpoint();
  for (let i = 0; i < lag; i++) await db.run('update t set v = ? where id = ?', [`u${i}`, ((i * 37) % rows) + 1]);
  return raw;
}

/** Opens `raw` cold through a latency store, runs `query`; returns what it cost. */
async function coldOpen(raw: ObjectStore, query: string, options: OpenOptions = {}) {
  const meter = new Meter();
  const trips = new RoundTripStore(slow(raw));
  await using db = await Database.create(metered(trips, meter), options);
  const row = await db.get(query);
  return { row, version: db.version, depth: trips.depth, requests: meter.snapshot().requests };
}

// (1) the open hint, the GC floor and the checkpoint hint; (2) the hint's record and the slots
// after it, and the whole (small) database from where the hint says its pages are; (3) the first
// query's tail check. The records since the checkpoint are never read at open.
test.each([0, 40, 1300])(
  'cold open and a first query at lag %i: at most 4 dependent round trips, no record below the hint read',
  async (lag) => {
    const raw = await databaseWithLag(lag);
    const got = await coldOpen(raw, 'select count(*) n from t');
    expect(got.row).toEqual({ n: 200 });
    expect(got.version).toBe(lag + 2);
    expect(got.depth).toBeLessThanOrEqual(4);
    // The fixed reads, the probe window after the hint (32 slots and the hint's own record) and the
    // records holding the newest image of some page: not one GET per record of the lag.
    expect(got.requests.get).toBeLessThanOrEqual(3 + 33 + 16);
    expect(got.requests.list).toBe(0);
  },
  120_000,
);

// A database paged lazily (above `prefetchBelowBytes`): (2) also fetches page 1's window; the point
// query then misses its leaf after the tail check.
test('cold open of a lazily paged database and a point query: at most 4 dependent round trips', async () => {
  const raw = await databaseWithLag(300, 3000);
  const got = await coldOpen(raw, 'select v from t where id = 2500', { prefetchBelowBytes: 0 });
  expect(got.row).toEqual({ v: expect.stringMatching(/^(row 2500|u\d+)/) });
  expect(got.depth).toBeLessThanOrEqual(4);
  expect(got.requests.list).toBe(0);
}, 120_000);

// The hint names the interior pages its writer used: a point query deep in a larger table then
// misses only its leaf, fetched while its tail check is in flight.
test('cold open of a lazily paged three-level table and a point query: at most 3 dependent round trips', async () => {
  const raw = await databaseWithLag(100, 60_000);
  {
    // A writer whose queries went through the B-tree leaves its interior pages in its hint.
    await using w = await Database.create(raw, { ...noCheckpoints, openHintEveryRecords: 1 });
    for (const id of [5, 25_000, 59_000]) await w.run('update t set v = ? where id = ?', ['w', id]);
  }
  const got = await coldOpen(raw, 'select v from t where id = 41234', { prefetchBelowBytes: 0 });
  expect(got.row).toEqual({ v: expect.stringMatching(/^(row 41234|u\d+)/) });
  expect(got.depth).toBeLessThanOrEqual(3);
}, 120_000);
