import { MemoryStore } from '@bucketdb/store';
import { expect, test } from 'vitest';
import { Database } from './database.js';

test('basic', async () => {
  const store = new MemoryStore('t');
  const db = await Database.create(store, {});
  await db.exec('create table t(a integer primary key, b text)');
  const r = await db.run('insert into t(b) values (?)', ['x']);
  expect(r).toEqual({ changes: 1, lastInsertRowid: 1 });
  expect(await db.query('select * from t')).toEqual([{ a: 1, b: 'x' }]);
  console.log(db.stats());
  await db.close();
  const db2 = await Database.create(store, {});
  expect(await db2.query('select * from t')).toEqual([{ a: 1, b: 'x' }]);
  await db2.transaction((tx) => {
    tx.run('insert into t(b) values (?)', ['y']);
  });
  expect(await db2.get('select count(*) n from t')).toEqual({ n: 2 });
  console.log(await db2.records());
  await db2.checkpoint();
  await db2.close();
  const db3 = await Database.create(store, {});
  expect(await db3.get('select count(*) n from t')).toEqual({ n: 2 });
  expect(await db3.get('pragma integrity_check')).toEqual({ integrity_check: 'ok' });
  console.log(db3.stats());
  await db3.close();
});
