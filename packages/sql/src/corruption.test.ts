import { MemoryStore, type ObjectStore } from '@bucketdb/store';
import { describe, expect, test } from 'vitest';
import { Database } from './database.js';

async function keys(store: ObjectStore, pattern: RegExp): Promise<string[]> {
  const out: string[] = [];
  for await (const e of store.list()) if (e.kind === 'object' && pattern.test(e.key)) out.push(e.key);
  return out;
}

async function damage(store: ObjectStore, key: string, how: 'flip' | 'truncate'): Promise<void> {
  const body = new Uint8Array((await store.get(key)).body);
  if (how === 'truncate') {
    await store.put(key, body.subarray(0, Math.floor(body.length / 2)));
    return;
  }
  const at = Math.floor(body.length / 2);
  body[at] = (body[at] ?? 0) ^ 0xff;
  await store.put(key, body);
}

/** A database with a checkpoint (chunks, segments) and one record after it. */
async function fixture(): Promise<MemoryStore> {
  const store = new MemoryStore('corrupt');
  await using db = await Database.create(store, { chunkBytes: 16 * 1024 });
  await db.exec('create table t(id integer primary key, v text)');
  await db.transaction((tx) => {
    for (let i = 0; i < 500; i++) tx.run('insert into t(v) values (?)', [`row ${i} ${'z'.repeat(100)}`]);
  });
  await db.checkpoint();
  await db.run("insert into t(v) values ('after')");
  return store;
}

const openLazy = (store: ObjectStore) => Database.create(store, { prefetchBelowBytes: 0 });

describe('corrupt and truncated objects are detected and reported', () => {
  for (const how of ['flip', 'truncate'] as const) {
    const done = how === 'flip' ? 'flipped' : 'truncated';
    test(`a ${done} log record fails the open with code Corrupt`, async () => {
      const store = await fixture();
      const [last] = (await keys(store, /\/?log\/\d+$/)).slice(-1);
      await damage(store, last as string, how);
      await expect(openLazy(store)).rejects.toMatchObject({ code: 'Corrupt' });
    });

    test(`a ${done} chunk fails the query that needs it with code Corrupt`, async () => {
      const store = await fixture();
      for (const key of await keys(store, /chunk-/)) await damage(store, key, how);
      const db = await openLazy(store);
      await expect(db.query('select count(*) from t')).rejects.toMatchObject({ code: 'Corrupt' });
      await db.close();
    });

    test(`a ${done} page-map segment fails with code Corrupt`, async () => {
      const store = await fixture();
      // The open hint carries a copy of the first page map: damaged too, it is ignored.
      for (const key of await keys(store, /segment-|_open_hint$/)) await damage(store, key, how);
      // Page 1 is read at open, so the open itself meets the damaged page map.
      await expect(openLazy(store)).rejects.toMatchObject({ code: 'Corrupt' });
    });
  }

  test('stored data stays intact: repairing the object makes the database readable again', async () => {
    const store = await fixture();
    const chunk = (await keys(store, /chunk-/)).sort((a, b) => a.length - b.length || (a < b ? -1 : 1)).at(-1);
    const original = new Uint8Array((await store.get(chunk as string)).body);
    await damage(store, chunk as string, 'flip');
    const db = await openLazy(store);
    await expect(db.query('select count(*) n from t')).rejects.toMatchObject({ code: 'Corrupt' });
    await store.put(chunk as string, original);
    expect(await db.get('select count(*) n from t')).toEqual({ n: 501 });
    await db.close();
  });
});
