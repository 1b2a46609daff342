import { MemoryStore } from '@bucketdb/store';
import { expect, test } from 'vitest';
import { BlockingReader } from './blocking-reader.js';
import { Database } from './database.js';

test('the blocking-miss prototype answers like the engine, through a cache far smaller than the database', async () => {
  const store = new MemoryStore('blocking-reader');
  const rows = 6000;
  {
    await using db = await Database.create(store, {});
    await db.exec(
      'create table item(id integer primary key, qty integer, body text); create index item_qty on item(qty)',
    );
    await db.transaction((tx) => {
      for (let i = 1; i <= rows; i++) tx.run('insert into item values (?, ?, ?)', [i, (i * 31) % 97, 'b'.repeat(500)]);
    });
    await db.checkpoint();
    // A page changed after the checkpoint comes from its log record.
    await db.run('update item set qty = 1000 where id = 17');
  }
  await using db = await Database.create(store, { prefetchBelowBytes: 0 });
  const reader = await BlockingReader.open(store, { cacheBytes: 256 * 1024, windowPages: 64 });
  try {
    for (const sql of [
      'select count(*) n, sum(qty) s, sum(length(body)) b from item',
      'select sum(qty) s, max(qty) m from item indexed by item_qty where qty >= 0',
      'select qty from item where id = 17',
      'pragma integrity_check',
    ]) {
      expect(await reader.query(sql)).toEqual(await db.query(sql));
    }
    expect(reader.stats.misses).toBeGreaterThan(10);
    await expect(reader.query('select nope from item')).rejects.toThrow(/no such column/);
  } finally {
    await reader.close();
  }
}, 120_000);
