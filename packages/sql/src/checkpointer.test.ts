import { publishedCheckpoints } from '@bucketdb/log';
import { MemoryStore, type ObjectStore, type StoreCall, TransientError, WrappedStore } from '@bucketdb/store';
import { openTestBackend, type TestBackend, testBackendNames } from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodeManifest, Segment } from './checkpoint-format.js';
import { Database } from './database.js';

/** Fails every chunk upload while `failing` is set. */
class FailingChunks extends WrappedStore {
  failing = true;
  protected around<T>(call: StoreCall, run: () => Promise<T>): Promise<T> {
    if (this.failing && call.op === 'put' && call.key.includes('/chunk-')) {
      return Promise.reject(new TransientError(`injected: chunk upload ${call.key} failed`));
    }
    return run();
  }
}

async function folders(store: ObjectStore): Promise<number> {
  let n = 0;
  for await (const e of store.list({ prefix: 'checkpoints/', delimiter: '/' })) if (e.kind === 'prefix') n++;
  return n;
}

describe.each(testBackendNames())('checkpoints on %s', (name) => {
  let backend: TestBackend;
  beforeAll(async () => {
    backend = await openTestBackend(name);
  });
  afterAll(async () => {
    await backend.close();
  });

  test('writers share checkpoints: one per interval, and every handle moves to the newest', async () => {
    const store = await backend.newStore();
    const options = { checkpointEveryRecords: 10, segmentPages: 16, chunkBytes: 16 * 1024 };
    const writers = await Promise.all([0, 1, 2].map(() => Database.create(store, options)));
    const [first] = writers;
    await first?.exec('create table t(id integer primary key, w integer, v text)');
    await Promise.all(
      writers.map(async (db, w) => {
        for (let i = 0; i < 30; i++) await db.run('insert into t(w, v) values (?, hex(randomblob(200)))', [w]);
      }),
    );
    for (const db of writers) await db.close();
    const published = await publishedCheckpoints(store);
    const tail = Math.max(...writers.map((w) => w.version));
    // Without sharing, each of the three handles would checkpoint every 10 records it applied.
    expect(published.length).toBeGreaterThan(0);
    expect(published.length).toBeLessThanOrEqual(Math.ceil(tail / 10) + 2);
    expect(await folders(store)).toBeLessThanOrEqual(published.length + 3);
    // Caught up and asked to checkpoint, the first writes it and the others move to it.
    const again = await Promise.all([0, 1, 2].map(() => Database.create(store, options)));
    const [leader] = again;
    await leader?.run('insert into t(w, v) values (9, 0)');
    for (const db of again) {
      await db.get('select 1');
      await db.checkpoint();
    }
    for (const db of again) expect(db.stats().checkpointVersion).toBe(tail + 1);
    for (const db of again) await db.close();
    expect((await publishedCheckpoints(store)).filter((c) => c.version === tail + 1)).toHaveLength(1);
    await using fresh = await Database.create(store, {});
    expect(await fresh.get('select count(*) n from t')).toEqual({ n: 91 });
    expect((await fresh.get('pragma integrity_check'))?.integrity_check).toBe('ok');
  }, 240_000);

  test('a reader adopts a newer checkpoint written by another handle', async () => {
    const store = await backend.newStore();
    await using writer = await Database.create(store, { checkpointEveryRecords: 0 });
    await writer.exec('create table t(v)');
    await using reader = await Database.create(store, { checkpointEveryRecords: 0, prefetchBelowBytes: 0 });
    for (let i = 0; i < 5; i++) await writer.run('insert into t values (?)', [i]);
    const v = await writer.checkpoint();
    expect(await reader.get('select count(*) n from t')).toEqual({ n: 5 });
    expect(reader.stats().checkpointVersion ?? 0).toBeLessThan(v);
    // Asked to checkpoint at the version the writer already checkpointed, the reader adopts it.
    expect(await reader.checkpoint()).toBe(v);
    expect(reader.stats().checkpointVersion).toBe(v);
    expect(reader.stats().recordsSinceCheckpoint).toBe(0);
    expect(await reader.get('select count(*) n, sum(v) s from t')).toEqual({ n: 5, s: 10 });
  }, 240_000);
});

test('a failed automatic checkpoint is reported, retried after a backoff, and then succeeds', async () => {
  const store = new FailingChunks(new MemoryStore('failing-chunks'));
  let now = 1_000_000;
  await using db = await Database.create(store, { checkpointEveryRecords: 3, clock: () => now });
  await db.exec('create table t(v)');
  for (let i = 0; i < 4; i++) await db.run('insert into t values (?)', [i]);
  await db.checkpoint().catch(() => {}); // waits for the automatic one in flight, fails the same way
  expect(db.stats().checkpointFailures).toBe(1);
  expect(db.lastCheckpointError).toMatchObject({ code: 'Transient' });
  // Within the backoff, commits do not try again.
  store.failing = false;
  await db.run('insert into t values (10)');
  expect(await publishedCheckpoints(store)).toEqual([]);
  now += 2_001;
  await db.run('insert into t values (11)');
  await db.close();
  expect(db.stats().checkpointFailures).toBe(0);
  expect(db.lastCheckpointError).toBeUndefined();
  expect((await publishedCheckpoints(store)).map((c) => c.version)).toEqual([db.version]);
});

test.each([
  { retention: '1d', everyMs: 3 * 3_600_000 },
  { retention: '7d', everyMs: 21 * 3_600_000 },
  { retention: '1h', everyMs: 600_000 },
])(
  'by default the time trigger is an eighth of the retention ($retention: $everyMs ms), at least 10 minutes',
  async ({ retention, everyMs }) => {
    // Checkpoints inside the window are kept with their chunks: one every 10 minutes under a day's
    // window doubled what the bucket holds (docs/benchmarks/sql-gc.md).
    const store = new MemoryStore(`time-trigger-${retention}`);
    const start = 1_000_000;
    let now = start;
    const db = await Database.create(store, { retention, checkpointEveryRecords: 0, clock: () => now });
    await db.exec('create table t(v)');
    // Under the old fixed 10 minutes, the first of these commits would have written a checkpoint.
    for (const at of [Math.min(600_001, everyMs - 1), everyMs - 1, everyMs]) {
      now = start + at;
      await db.run('insert into t values (?)', [at]);
    }
    await db.close(); // waits for the checkpoint in flight
    expect((await publishedCheckpoints(store)).map((c) => c.version)).toEqual([db.version]);
  },
);

/** Referenced bytes / size of every chunk the newest checkpoint uses. */
async function chunkShares(store: ObjectStore): Promise<number[]> {
  const newest = (await publishedCheckpoints(store)).at(-1);
  if (!newest) return [];
  const manifest = decodeManifest(newest.manifest, 'newest');
  const live = new Map<string, number>();
  for (const key of manifest.segments) {
    for (const ref of Segment.decode((await store.get(key)).body, key).refs()) {
      if (ref) live.set(ref.key, (live.get(ref.key) ?? 0) + ref.length);
    }
  }
  return Promise.all([...live].map(async ([key, bytes]) => bytes / (await store.head(key)).size));
}

test('a checkpoint repacks chunks whose live share fell low (and without repacking they stay low)', async () => {
  const shares: Record<string, number> = {};
  for (const repackBelow of [0.5, 0]) {
    const store = new MemoryStore(`repack-${repackBelow}`);
    await using db = await Database.create(store, {
      checkpointEveryRecords: 0,
      segmentPages: 16,
      chunkBytes: 16 * 1024,
      repackBelow,
    });
    await db.exec(`create table t(id integer primary key, v text);
      insert into t(v) select hex(randomblob(300)) from (with recursive c(x) as (select 1 union all select x + 1 from c where x < 800) select x from c);`);
    await db.checkpoint();
    const expected = await db.query('select count(*) n, sum(length(v)) s from t');
    // Change most pages but not all: every third run of rows stays as it was.
    await db.run('update t set v = hex(randomblob(310)) where (id / 12) % 3 != 0');
    await db.checkpoint();
    shares[String(repackBelow)] = Math.min(...(await chunkShares(store)));
    await using fresh = await Database.create(store, { prefetchBelowBytes: 0 });
    expect((await fresh.get('pragma integrity_check'))?.integrity_check).toBe('ok');
    expect((await fresh.query('select count(*) n from t'))[0]).toEqual({ n: (expected[0] as { n: number }).n });
  }
  expect(shares['0.5']).toBeGreaterThanOrEqual(0.5);
  expect(shares['0']).toBeLessThan(0.5);
}, 240_000);
