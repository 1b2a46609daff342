import { MemoryStore } from '@bucketdb/store';
import { expect, test } from 'vitest';
import { Database } from './database.js';

/** A database of ~2 MiB read through a 64 KiB page cache: every query restarts on misses. */
test('a page cache far smaller than the working set still gives correct answers', async () => {
  const store = new MemoryStore('small-cache');
  const rows = 4000;
  {
    await using db = await Database.create(store, {});
    await db.exec(
      'create table item(id integer primary key, grp integer, name text, payload text); create index item_grp on item(grp);',
    );
    await db.transaction((tx) => {
      for (let i = 1; i <= rows; i++)
        tx.run('insert into item values (?, ?, ?, ?)', [i, i % 37, `n${i}`, 'p'.repeat(400)]);
    });
    await db.checkpoint();
    await db.run('update item set name = ? where id % 100 = 0', ['hundred']);
  }
  await using db = await Database.create(store, { cacheBytes: 64 * 1024, prefetchBelowBytes: 0 });
  expect(db.stats().pageCount * db.stats().pageSize).toBeGreaterThan(25 * 64 * 1024);

  expect(await db.get('select count(*) n, sum(id) s from item')).toEqual({ n: rows, s: (rows * (rows + 1)) / 2 });
  expect(await db.get('select count(*) n from item where grp = 5')).toEqual({ n: Math.floor((rows - 5) / 37) + 1 });
  expect(await db.get("select count(*) n from item where name = 'hundred'")).toEqual({ n: rows / 100 });
  const byGroup = await db.query<{ grp: number; n: number }>(
    'select grp, count(*) n from item group by grp order by grp',
  );
  expect(byGroup).toHaveLength(37);
  expect(byGroup.reduce((k, r) => k + r.n, 0)).toBe(rows);
  const joined = await db.get('select count(*) n from item a join item b on a.id = b.id + 1 where a.grp = 3');
  expect(joined).toEqual({ n: Math.floor((rows - 3) / 37) + 1 });

  // Writes that must read far more pages than the cache holds, in both transaction styles.
  await db.transaction((tx) => tx.run("update item set payload = 'q' where grp = 7"));
  const tx = await db.begin();
  await tx.run("update item set name = 'seven' where grp = 7");
  expect(await tx.get("select count(*) n from item where name = 'seven' and payload = 'q'")).toEqual({
    n: Math.floor((rows - 7) / 37) + 1,
  });
  await tx.commit();
  expect((await db.get('pragma integrity_check'))?.integrity_check).toBe('ok');

  const stats = db.stats();
  expect(stats.restarts).toBeGreaterThan(10);
  expect(stats.cache.bytes).toBeLessThanOrEqual(64 * 1024);
});
