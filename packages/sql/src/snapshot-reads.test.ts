import { MemoryStore } from '@bucketdb/store';
import { expect, test } from 'vitest';
import { Database } from './database.js';

test('a snapshot handle stays at its version until refresh()', async () => {
  const store = new MemoryStore();
  const writer = await Database.create(store, {});
  await writer.exec('create table t(x); insert into t values (1)');
  const reader = await Database.create(store, { reads: 'snapshot' });
  expect(await reader.query('select x from t')).toEqual([{ x: 1 }]);
  await writer.run('update t set x = 2');
  expect(await reader.query('select x from t')).toEqual([{ x: 1 }]);
  expect(await reader.refresh()).toBe(writer.version);
  expect(await reader.query('select x from t')).toEqual([{ x: 2 }]);
  await Promise.all([writer.close(), reader.close()]);
});

test('maxStalenessMs: a snapshot read confirms the tail once its state is older than the bound', async () => {
  const store = new MemoryStore();
  let now = 1_000_000;
  const writer = await Database.create(store, {});
  await writer.exec('create table t(x); insert into t values (1)');
  const reader = await Database.create(store, { reads: 'snapshot', maxStalenessMs: 500, clock: () => now });
  expect(await reader.query('select x from t')).toEqual([{ x: 1 }]);
  await writer.run('update t set x = 2');
  now += 400; // still fresh enough: no request, the old answer
  expect(await reader.query('select x from t')).toEqual([{ x: 1 }]);
  expect(await reader.transaction((tx) => tx.get('select x from t'))).toEqual({ x: 1 });
  now += 200; // the last confirmation is 600 ms old
  expect(await reader.query('select x from t')).toEqual([{ x: 2 }]);
  await writer.run('update t set x = 3');
  now += 501;
  expect(await reader.transaction((tx) => tx.get('select x from t'))).toEqual({ x: 3 });
  await Promise.all([writer.close(), reader.close()]);
});
