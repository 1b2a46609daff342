import type { ObjectStore } from '@bucketdb/store';
import { openTestBackend, type TestBackend, testBackendNames } from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Database } from './database.js';
import { ConflictError } from './errors.js';

/** Several Database handles on one store: each has its own SQLite, page state and log client. */
async function handles(store: ObjectStore, n: number): Promise<Database[]> {
  return Promise.all(Array.from({ length: n }, () => Database.create(store, { prefix: 'bank' })));
}

async function closeAll(dbs: Database[]): Promise<void> {
  await Promise.all(dbs.map((d) => d.close()));
}

describe.each(testBackendNames())('serializable writers on %s', (name) => {
  let backend: TestBackend;
  beforeAll(async () => {
    backend = await openTestBackend(name);
  });
  afterAll(async () => {
    await backend.close();
  });

  test('write skew: two doctors going off call at once cannot both commit (interactive)', async () => {
    const store = await backend.newStore();
    const [a, b] = (await handles(store, 2)) as [Database, Database];
    await a.exec(
      "create table doctors(name text primary key, on_call integer); insert into doctors values ('alice', 1), ('bob', 1);",
    );
    const t1 = await a.begin();
    const t2 = await b.begin();
    expect(await t1.get('select count(*) n from doctors where on_call = 1')).toEqual({ n: 2 });
    expect(await t2.get('select count(*) n from doctors where on_call = 1')).toEqual({ n: 2 });
    await t1.run("update doctors set on_call = 0 where name = 'alice'");
    await t2.run("update doctors set on_call = 0 where name = 'bob'");
    await t1.commit();
    await expect(t2.commit()).rejects.toBeInstanceOf(ConflictError);
    expect(await b.query('select name from doctors where on_call = 1')).toEqual([{ name: 'bob' }]);
    await closeAll([a, b]);
  });

  test('write skew through transaction(): the loser re-runs and sees the other commit', async () => {
    const store = await backend.newStore();
    const dbs = await handles(store, 4);
    await dbs[0]?.exec(
      "create table doctors(name text primary key, on_call integer); insert into doctors values ('a', 1), ('b', 1), ('c', 1), ('d', 1);",
    );
    const names = ['a', 'b', 'c', 'd'];
    await Promise.all(
      dbs.map((db, i) =>
        db.transaction((tx) => {
          const { n } = tx.get<{ n: number }>('select count(*) n from doctors where on_call = 1') ?? { n: 0 };
          if (n >= 2) tx.run('update doctors set on_call = 0 where name = ?', [names[i]]);
        }),
      ),
    );
    expect(await dbs[0]?.get('select count(*) n from doctors where on_call = 1')).toEqual({ n: 1 });
    await closeAll(dbs);
  });

  test('exact counters and bank transfers across handles; every strong read sees the full total', async () => {
    const store = await backend.newStore();
    const dbs = await handles(store, 3);
    const [first] = dbs as [Database];
    await first.exec(`
      create table counter(id integer primary key, n integer);
      insert into counter values (1, 0);
      create table account(id integer primary key, balance integer);
      insert into account select value, 100 from json_each('[1,2,3,4,5,6,7,8]');
    `);
    const perHandle = 15;
    let seed = 7;
    const rand = (k: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % k;
    };
    const totals: number[] = [];
    await Promise.all(
      dbs.map(async (db) => {
        for (let i = 0; i < perHandle; i++) {
          await db.transaction((tx) => tx.run('update counter set n = n + 1 where id = 1'));
          const from = rand(8) + 1;
          const to = rand(8) + 1;
          const amount = rand(30);
          await db.transaction((tx) => {
            const { balance } = tx.get<{ balance: number }>('select balance from account where id = ?', [from]) ?? {
              balance: 0,
            };
            if (balance < amount || from === to) return;
            tx.run('update account set balance = balance - ? where id = ?', [amount, from]);
            tx.run('update account set balance = balance + ? where id = ?', [amount, to]);
          });
          totals.push(((await db.get<{ t: number }>('select sum(balance) t from account')) ?? { t: -1 }).t);
        }
      }),
    );
    expect(await first.get('select n from counter')).toEqual({ n: dbs.length * perHandle });
    expect(new Set(totals)).toEqual(new Set([800]));
    expect(await first.query('select * from account where balance < 0')).toEqual([]);
    await closeAll(dbs);
  });

  test('64 concurrent transactions in one process share records (group commit)', async () => {
    const store = await backend.newStore();
    await using db = await Database.create(store, {});
    await db.exec('create table t(id integer primary key, v integer)');
    const before = db.version;
    await Promise.all(Array.from({ length: 64 }, (_, i) => db.run('insert into t(v) values (?)', [i])));
    expect(await db.get('select count(*) n, sum(v) s from t')).toEqual({ n: 64, s: (63 * 64) / 2 });
    // All 64 were queued before the first ran: they go out as one record (the publisher starts a
    // record only after the calls already queued have joined it).
    expect(db.version - before).toBe(1);
    const reopened = await Database.create(store, {});
    expect(await reopened.get('select count(*) n from t')).toEqual({ n: 64 });
    await reopened.close();
  });
});
