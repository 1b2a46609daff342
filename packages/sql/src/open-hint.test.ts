import { LogPaths } from '@bucketdb/log';
import { MemoryStore, Meter, metered } from '@bucketdb/store';
import { describe, expect, test } from 'vitest';
import { Database } from './database.js';
import { collectGarbage } from './gc.js';
import { decodeOpenHint } from './open-hint.js';
import type { OpenOptions } from './options.js';

const paths = new LogPaths('');
const manual: OpenOptions = {
  checkpointEveryRecords: 0,
  checkpointEveryBytes: 0,
  checkpointEveryMs: 0,
  maintenanceEveryMs: 0,
};
const rows = async (db: Database) => db.query('select id, v from t order by id');

async function hintOf(store: MemoryStore) {
  return decodeOpenHint((await store.get(paths.openHint)).body, 'hint');
}

describe('the open hint', () => {
  test('a stale hint (far behind the tail, or put back from the past) only costs requests, never correctness', async () => {
    const store = new MemoryStore('stale');
    await using a = await Database.create(store, { ...manual, openHintEveryRecords: 4 });
    await a.exec('create table t(id integer primary key, v text)');
    const saved: Uint8Array[] = [];
    for (let i = 0; i < 30; i++) {
      await a.run('insert into t(v) values (?)', [`a${i}`]);
      // Hints are written in the background: keep whichever one is there now.
      if (i % 7 === 6) saved.push((await store.get(paths.openHint)).body);
      if (i === 12) await a.checkpoint();
    }
    // A writer that never writes hints: the hint falls 200 records behind.
    {
      await using b = await Database.create(store, { ...manual, openHintEveryRecords: 0 });
      for (let i = 0; i < 200; i++) await b.run('update t set v = ? where id = ?', [`b${i}`, (i % 30) + 1]);
    }
    await a.refresh();
    const expected = await rows(a);
    expect((await hintOf(store)).version).toBeLessThan(a.version - 150);
    {
      await using c = await Database.create(store, manual);
      expect(c.stats().openedFromHint).toBe(true);
      expect(c.version).toBe(a.version);
      expect(await rows(c)).toEqual(expected);
    }
    // Hints from the past (before and after the checkpoint) put back: still the newest state.
    for (const old of saved) {
      await store.put(paths.openHint, old);
      await using c = await Database.create(store, manual);
      expect(c.version).toBe(a.version);
      expect(await rows(c)).toEqual(expected);
      expect((await c.get('pragma integrity_check'))?.integrity_check).toBe('ok');
    }
    // Garbage in place of the hint: an ordinary open.
    await store.put(paths.openHint, new TextEncoder().encode('not a hint'));
    await using d = await Database.create(store, manual);
    expect(d.stats().openedFromHint).toBe(false);
    expect(await rows(d)).toEqual(expected);
  }, 60_000);

  test('a hint from another database under the same name (record commit ids differ) is not used', async () => {
    const store = new MemoryStore('other');
    {
      await using a = await Database.create(store, { ...manual, openHintEveryRecords: 1 });
      await a.exec("create table t(id integer primary key, v text); insert into t(v) values ('old')");
      await a.run("insert into t(v) values ('old 2')");
    }
    const old = (await store.get(paths.openHint)).body;
    const keys: string[] = [];
    for await (const e of store.list({ prefix: '' })) if (e.kind === 'object') keys.push(e.key);
    for (const key of keys) await store.delete(key);
    {
      await using b = await Database.create(store, { ...manual, openHintEveryRecords: 0 });
      await b.exec("create table t(id integer primary key, v text); insert into t(v) values ('new')");
      await b.run("insert into t(v) values ('new 2')");
    }
    await store.put(paths.openHint, old);
    await using c = await Database.create(store, manual);
    expect(await rows(c)).toEqual([
      { id: 1, v: 'new' },
      { id: 2, v: 'new 2' },
    ]);
    expect(c.stats().openedFromHint).toBe(false);
  });

  test('a hint whose checkpoint GC collected is not used (its pages would be gone)', async () => {
    const RETENTION = 10 * 60_000;
    const GRACE = 60_000;
    let now = Date.now();
    const clock = () => now;
    const gc = { retention: RETENTION, gcGrace: GRACE, clock };
    const store = new MemoryStore('collected');
    // `u` is never changed again: in the hint its pages stay in checkpoint c1's chunk.
    const a = await Database.create(store, { ...manual, ...gc, openHintEveryRecords: 1 });
    await a.exec(`create table u(id integer primary key, v text);
      insert into u(v) select printf('%.200c', 'u') from (with recursive c(x) as (select 1 union all select x + 1 from c where x < 40) select x from c);
      create table t(id integer primary key, v text);
      insert into t(v) select printf('%.300c', 't') from (with recursive c(x) as (select 1 union all select x + 1 from c where x < 600) select x from c);`);
    await a.checkpoint();
    await a.exec("update t set v = v || 'x'");
    await a.close(); // waits for its hint
    const hint = await hintOf(store);
    expect(hint.version).toBe(a.version);
    // A second handle checkpoints the same version (t's pages leave c1's chunk, which is then
    // repacked: nothing references it) without touching the hint, which still names c1.
    {
      await using b = await Database.create(store, { ...manual, ...gc, openHintEveryRecords: 0 });
      expect(await b.checkpoint()).toBe(a.version);
    }
    now += RETENTION;
    expect((await collectGarbage(store, { retention: RETENTION, grace: GRACE, clock })).raisedFloor).toBe(a.version);
    now += GRACE;
    const report = await collectGarbage(store, { retention: RETENTION, grace: GRACE, clock });
    expect(report.deleted.objects).toBeGreaterThan(0);
    const chunk = [...hint.segments.values()][0]?.ref(1)?.key as string;
    await expect(store.head(chunk)).rejects.toMatchObject({ code: 'NotFound' });
    expect((await hintOf(store)).checkpoint).toBeLessThan(a.version);
    // Pages load lazily one at a time, so a wrongly trusted hint would only fail at the query.
    await using c = await Database.create(store, { ...manual, ...gc, prefetchBelowBytes: 0, readAheadMin: 1 });
    expect(await c.get('select count(*) n, sum(length(v)) l from u')).toEqual({ n: 40, l: 8000 });
    expect((await c.get('pragma integrity_check'))?.integrity_check).toBe('ok');
    expect(c.stats().openedFromHint).toBe(false);
  }, 60_000);

  test('concurrent writers: each open from the hint sees every acknowledged commit', async () => {
    const store = new MemoryStore('concurrent');
    const writers = await Promise.all(
      [0, 1, 2].map(() => Database.create(store, { ...manual, openHintEveryRecords: 3, checkpointEveryRecords: 25 })),
    );
    await writers[0]?.exec('create table t(id integer primary key, v text)');
    let acknowledged = 0;
    for (let round = 0; round < 8; round++) {
      await Promise.all(
        writers.map(async (w, i) => {
          for (let k = 0; k < 4; k++) {
            await w.run('insert into t(v) values (?)', [`w${i} r${round} k${k}`]);
            acknowledged++;
          }
        }),
      );
      const meter = new Meter();
      await using c = await Database.create(metered(store, meter), manual);
      expect(await c.get('select count(*) n from t')).toEqual({ n: acknowledged });
      expect(c.stats().openedFromHint).toBe(true);
    }
    for (const w of writers) await w.close();
  }, 60_000);
});
