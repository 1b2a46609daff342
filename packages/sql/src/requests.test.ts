import { MemoryStore, Meter, metered } from '@bucketdb/store';
import { expect, test } from 'vitest';
import { Database } from './database.js';

test('a caught-up commit is one PUT and no GET; a strong read one GET; a snapshot read none', async () => {
  const meter = new Meter();
  const store = metered(new MemoryStore('requests'), meter);
  await using db = await Database.create(store, { checkpointEveryRecords: 0, checkpointEveryBytes: 0 });
  await db.exec('create table t(id integer primary key, v text)');
  meter.reset();
  for (let i = 0; i < 5; i++) await db.run('insert into t(v) values (?)', [`v${i}`]);
  let snap = meter.snapshot();
  expect(snap.requests).toMatchObject({ put: 5, get: 0, list: 0, head: 0 });

  meter.reset();
  for (let i = 1; i <= 5; i++) expect(await db.get('select v from t where id = ?', [i])).toEqual({ v: `v${i - 1}` });
  snap = meter.snapshot();
  expect(snap.requests).toMatchObject({ put: 0, get: 5, list: 0 });

  const other = await Database.create(store, { reads: 'snapshot' });
  meter.reset();
  expect(await other.get('select count(*) n from t')).toEqual({ n: 5 });
  expect(meter.snapshot().requests).toMatchObject({ put: 0, get: 0, list: 0 });
  await db.run("insert into t(v) values ('late')");
  expect(await other.get('select count(*) n from t')).toEqual({ n: 5 });
  await other.close();
});

test('automatic checkpoints follow the record threshold, and a reopen starts from them', async () => {
  const store = new MemoryStore('auto-checkpoint');
  {
    await using db = await Database.create(store, { checkpointEveryRecords: 4 });
    await db.exec('create table t(id integer primary key, v text)');
    for (let i = 0; i < 10; i++) await db.run('insert into t(v) values (?)', [`v${i}`]);
  }
  const meter = new Meter();
  // A probe window of 4 slots after the open hint (written after each checkpoint).
  await using db = await Database.create(metered(store, meter), { openHintEveryRecords: 4 });
  expect(db.stats().checkpointVersion).toBeGreaterThanOrEqual(4);
  expect(await db.get('select count(*) n from t')).toEqual({ n: 10 });
  // Only the records after the checkpoint were read, not the whole log.
  expect(meter.snapshot().requests.get).toBeLessThan(11);
});
