import { MemoryStore } from '@bucketdb/store';
import { expect, test } from 'vitest';
import { Database } from './database.js';

test('VACUUM shrinks the file after deletes and keeps the data; other handles see the result', async () => {
  const store = new MemoryStore('vacuum');
  await using db = await Database.create(store, {});
  await using other = await Database.create(store, { prefetchBelowBytes: 0 });
  await db.exec(`create table t(id integer primary key, v text);
    insert into t(v) select hex(randomblob(500)) from (with recursive c(x) as (select 1 union all select x + 1 from c where x < 2000) select x from c);`);
  await db.run('delete from t where id % 10 != 0');
  const before = db.stats().pageCount;
  const expected = await db.query('select id, v from t order by id');
  await db.run('vacuum');
  expect(db.stats().pageCount).toBeLessThan(before / 3);
  expect(await db.query('select id, v from t order by id')).toEqual(expected);
  expect((await db.get('pragma integrity_check'))?.integrity_check).toBe('ok');
  expect(await other.query('select id, v from t order by id')).toEqual(expected);
  expect(other.stats().pageCount).toBe(db.stats().pageCount);
  // And the database keeps working afterwards.
  await other.run("insert into t(v) values ('after')");
  expect(await db.get('select count(*) n from t')).toEqual({ n: expected.length + 1 });
}, 240_000);
