import { seededRandom } from '@bucketdb/store';
import { openTestBackend, type TestBackend, testBackendNames } from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Database } from './database.js';
import { Snapshot } from './snapshot.js';

const contents = (db: Database) => db.query('select id, v from t order by id');

describe.each(testBackendNames())('time travel on %s', (name) => {
  let backend: TestBackend;
  beforeAll(async () => {
    backend = await openTestBackend(name);
  });
  afterAll(async () => {
    await backend.close();
  });

  test('open({ at }) answers exactly as the database did at that version, and refuses writes', async () => {
    const store = await backend.newStore();
    const random = seededRandom(13);
    await using db = await Database.create(store, { checkpointEveryRecords: 6, segmentPages: 8, chunkBytes: 8192 });
    await db.exec('create table t(id integer primary key, v text)');
    const history = new Map<number, unknown>([[db.version, await contents(db)]]);
    for (let i = 0; i < 24; i++) {
      const r = random.next();
      if (r < 0.5) await db.run('insert into t(v) values (?)', [`${i}-${'x'.repeat(random.int(900))}`]);
      else if (r < 0.8) await db.run('update t set v = v || ? where id % 3 = ?', [String(i), i % 3]);
      else await db.run('delete from t where id = (select min(id) from t)');
      history.set(db.version, await contents(db));
    }
    expect(history.size).toBeGreaterThan(20);
    for (const [version, rows] of history) {
      await using past = await Database.create(store, { at: version });
      expect(past.version).toBe(version);
      expect(await contents(past)).toEqual(rows);
      expect((await past.get('pragma integrity_check'))?.integrity_check).toBe('ok');
    }
    // By time: the newest version committed at or before it.
    const records = await db.records(30);
    for (const r of records.filter((_, i) => i % 5 === 0)) {
      await using past = await Database.create(store, { at: new Date(r.timestamp) });
      const newestAtThatTime = Math.max(...records.filter((x) => x.timestamp <= r.timestamp).map((x) => x.version));
      expect(past.version).toBe(newestAtThatTime);
      expect(await contents(past)).toEqual(history.get(newestAtThatTime));
    }
    // The snapshot reader (export, restore) agrees about the page count at every version.
    const snap = await Snapshot.open(store, { at: 10 });
    expect(snap.version).toBe(10);

    await using past = await Database.create(store, { at: 5 });
    await expect(past.run("insert into t(v) values ('no')")).rejects.toMatchObject({ code: 'ReadOnly' });
    await expect(past.checkpoint()).rejects.toMatchObject({ code: 'ReadOnly' });
    expect(await contents(past)).toEqual(history.get(5));
    await expect(Database.create(store, { at: db.version + 1 })).rejects.toMatchObject({ code: 'VersionNotFound' });
    await expect(Database.create(store, { at: new Date(0) })).rejects.toMatchObject({ code: 'VersionNotFound' });
    await expect(Database.create(store, { at: -1 })).rejects.toMatchObject({ code: 'VersionNotFound' });
    // The live handle is untouched by all of this.
    expect(await contents(db)).toEqual(history.get(db.version));
  }, 240_000);
});
