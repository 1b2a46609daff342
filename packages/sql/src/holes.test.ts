import { MemoryStore, type StoreCall } from '@bucketdb/store';
import { ScriptedStore } from '@bucketdb/testkit';
import { describe, expect, test, vi } from 'vitest';
import { Database } from './database.js';
import { ConflictError, TransactionTimeoutError } from './errors.js';

/**
 * Regression tests for the consistency holes of issue 9, each written from its description: two
 * handles on one store, one of them seeing its log PUTs held until the test lets them go.
 */

const isLogPut = (c: StoreCall) => c.op === 'put' && c.key.startsWith('log/');

/** Holds the next log PUT through `store` until `release()`; `held` resolves once it is waiting. */
function holdNextLogPut(store: ScriptedStore): { held: Promise<void>; release: () => void } {
  let release!: () => void;
  let reached!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const held = new Promise<void>((r) => {
    reached = r;
  });
  store.add({
    match: isLogPut,
    hold: () => {
      reached();
      return gate;
    },
  });
  return { held, release };
}

async function integrity(db: Database): Promise<unknown> {
  return (await db.get('pragma integrity_check'))?.integrity_check;
}

describe('issue 9 holes', () => {
  test('1: a handle whose DDL lost a race reloads the schema (same schema cookie, different schema)', async () => {
    const inner = new MemoryStore();
    const aStore = new ScriptedStore(inner);
    const a = await Database.create(aStore, {});
    const b = await Database.create(inner, {});
    await a.exec('create table base(x)');
    await b.run('select 1');
    // A's DDL goes out first but its PUT is held; B's DDL (one schema change as well, so the
    // cookie lands on the same number) commits meanwhile and A's batch loses the slot.
    const hold = holdNextLogPut(aStore);
    const aDdl = a.exec('create table a_tbl(x integer primary key, v text); create index a_v on a_tbl(v)');
    await hold.held;
    await b.exec('create table b_tbl(y integer primary key, w text); create index b_w on b_tbl(w)');
    await b.run("insert into b_tbl values (1, 'from b')");
    hold.release();
    await aDdl;
    expect(await a.query('select * from a_tbl')).toEqual([]);
    await a.run("insert into a_tbl values (7, 'from a')");
    expect(await a.query('select * from b_tbl')).toEqual([{ y: 1, w: 'from b' }]);
    const c = await Database.create(inner, {});
    expect(await c.query('select * from a_tbl')).toEqual([{ x: 7, v: 'from a' }]);
    expect(await c.query('select * from b_tbl')).toEqual([{ y: 1, w: 'from b' }]);
    for (const db of [a, b, c]) expect(await integrity(db)).toBe('ok');
    await Promise.all([a, b, c].map((d) => d.close()));
  });

  test('1: two app versions racing `create table if not exists` migrations both end with their tables', async () => {
    const inner = new MemoryStore();
    const aStore = new ScriptedStore(inner);
    const a = await Database.create(aStore, {});
    const b = await Database.create(inner, {});
    await a.exec('create table meta(k)');
    await b.run('select 1');
    const hold = holdNextLogPut(aStore);
    const migrateA = a.transaction((tx) => tx.exec('create table if not exists app_a(id integer primary key, n)'));
    await hold.held;
    await b.transaction((tx) => tx.exec('create table if not exists app_b(id integer primary key, n)'));
    hold.release();
    await migrateA;
    await a.run('insert into app_a(n) values (1)');
    await b.run('insert into app_b(n) values (2)');
    const c = await Database.create(inner, {});
    expect(await c.query('select n from app_a')).toEqual([{ n: 1 }]);
    expect(await c.query('select n from app_b')).toEqual([{ n: 2 }]);
    for (const db of [a, b, c]) expect(await integrity(db)).toBe('ok');
    await Promise.all([a, b, c].map((d) => d.close()));
  });

  test('2: a read-only transaction joined to an in-flight batch is validated (no state that never existed)', async () => {
    const inner = new MemoryStore();
    const hStore = new ScriptedStore(inner);
    const h = await Database.create(hStore, {});
    // Two tables: x and y live on different pages, so the writes below do not conflict.
    await h.exec('create table tx(x); create table ty(y); insert into tx values (0); insert into ty values (0);');
    const f = await Database.create(inner, {});
    const hold = holdNextLogPut(hStore);
    const writeY = h.run('update ty set y = 1');
    await hold.held;
    await f.run('update tx set x = 1'); // commits first: the log order is x=1, then y=1
    let ran = 0;
    const read = h.transaction((tx) => {
      ran++;
      return { x: tx.get<{ x: number }>('select x from tx')?.x, y: tx.get<{ y: number }>('select y from ty')?.y };
    });
    await vi.waitFor(() => expect(ran).toBeGreaterThan(0));
    hold.release();
    await writeY;
    // {x: 0, y: 1} never existed; the transaction must be linearized after both writes.
    expect(await read).toEqual({ x: 1, y: 1 });
    await Promise.all([h.close(), f.close()]);
  });

  test('a call made while the batch in flight is already doomed runs on the new state, not on that batch', async () => {
    const inner = new MemoryStore();
    const aStore = new ScriptedStore(inner);
    const a = await Database.create(aStore, {});
    const b = await Database.create(inner, {});
    await a.exec('create table base(x); insert into base values (1)');
    await b.run('select 1');
    // A's DDL is in flight (its PUT held); B's DDL takes the slot, so A's batch cannot commit.
    const hold = holdNextLogPut(aStore);
    const aDdl = a.exec('create table a_tbl(x); insert into a_tbl values (7)');
    await hold.held;
    await b.exec('create table b_tbl(y); insert into b_tbl values (8)');
    await a.refresh(); // A has seen B's record: its batch in flight can no longer commit
    // A's later calls are ordered after its DDL (which runs again) and see B's acknowledged
    // commit, statement and interactive transaction alike; neither runs on the doomed batch.
    const read = a.query('select y from b_tbl');
    const interactive = (async () => {
      const tx = await a.begin();
      try {
        return await tx.query('select y, (select count(*) from a_tbl) n from b_tbl');
      } finally {
        await tx.rollback();
      }
    })();
    hold.release();
    expect(await read).toEqual([{ y: 8 }]);
    expect(await interactive).toEqual([{ y: 8, n: 1 }]);
    await aDdl;
    expect(await a.query('select x from a_tbl')).toEqual([{ x: 7 }]);
    expect(await b.query('select x from a_tbl')).toEqual([{ x: 7 }]);
    for (const db of [a, b]) expect(await integrity(db)).toBe('ok');
    await Promise.all([a.close(), b.close()]);
  });

  test('3: a strong read after a transient GET error during catch-up sees every acknowledged write', async () => {
    const inner = new MemoryStore();
    const bStore = new ScriptedStore(inner);
    const a = await Database.create(inner, {});
    const b = await Database.create(bStore, {});
    await a.exec('create table t(x)');
    await a.run('insert into t values (1)');
    await a.run('update t set x = 2');
    // B's strong read finds log/1, catches up and fails once on a later record.
    bStore.add({ match: (c) => c.op === 'get' && c.key === 'log/00000000000000000003' });
    expect(await b.query('select x from t')).toEqual([{ x: 2 }]);
    expect(b.version).toBe(a.version);
    await Promise.all([a.close(), b.close()]);
  });

  test('4: pipelined calls on one handle are applied in the order issued', async () => {
    const db = await Database.create(new MemoryStore(), {});
    const results = await Promise.all([
      db.run('create table t(x)'),
      db.run('insert into t values (1)'),
      db.query('select x from t'),
      db.run('insert into t values (2)'),
      db.exec('insert into t values (3)'),
      db.query('select x from t order by x'),
    ]);
    expect(results[2]).toEqual([{ x: 1 }]);
    expect(results[5]).toEqual([{ x: 1 }, { x: 2 }, { x: 3 }]);
    await db.close();
  });

  test('6: a checkpointed database whose schema spans more than page 1 opens when paged lazily', async () => {
    const store = new MemoryStore();
    {
      await using db = await Database.create(store, {});
      const ddl: string[] = [];
      for (let t = 0; t < 40; t++) {
        const cols = Array.from({ length: 12 }, (_, c) => `column_number_${c}_of_table_${t} text`).join(', ');
        ddl.push(`create table table_${t}(id integer primary key, ${cols});`);
        ddl.push(`create index table_${t}_idx on table_${t}(column_number_3_of_table_${t}, id);`);
      }
      await db.exec(ddl.join('\n'));
      await db.run(`insert into table_39(id, column_number_0_of_table_39) values (1, 'last')`);
      await db.checkpoint();
    }
    const reopened = await Database.create(store, { prefetchBelowBytes: 0, cacheBytes: 64 * 1024 });
    expect(await reopened.query('select column_number_0_of_table_39 v from table_39')).toEqual([{ v: 'last' }]);
    expect(await reopened.get("select count(*) n from sqlite_schema where type = 'table'")).toEqual({ n: 40 });
    expect(await integrity(reopened)).toBe('ok');
    await reopened.close();
  });
});

describe('issue 9 hole 5: interactive transactions', () => {
  test('begin() never blocks the handle, and a forgotten transaction times out', async () => {
    const db = await Database.create(new MemoryStore(), {});
    await db.exec('create table a(x); create table b(y); insert into a values (0); insert into b values (0)');
    const tx = await db.begin();
    expect(await tx.get('select x from a')).toEqual({ x: 0 });
    // The handle goes on while the transaction is open: reads, writes, other transactions.
    await db.run('update b set y = 1');
    expect(await db.get('select y from b')).toEqual({ y: 1 });
    await tx.run('update a set x = 1');
    await tx.commit(); // it read and wrote only `a`, which nobody else changed
    expect(await db.query('select x, y from a, b')).toEqual([{ x: 1, y: 1 }]);

    const forgotten = await db.begin({ timeoutMs: 20 });
    await forgotten.run('update a set x = 99');
    await vi.waitFor(async () => {
      const error = await forgotten.get('select 1').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransactionTimeoutError);
    });
    await db.run('update a set x = 2');
    expect(await db.get('select x from a')).toEqual({ x: 2 });
    await db.close();
  });

  test('an interactive transaction conflicts with a commit of its own handle made meanwhile', async () => {
    const db = await Database.create(new MemoryStore(), {});
    await db.exec('create table a(x); insert into a values (0)');
    const tx = await db.begin();
    expect(await tx.get('select x from a')).toEqual({ x: 0 });
    await db.run('update a set x = 5');
    await tx.run('update a set x = x + 1');
    await expect(tx.commit()).rejects.toBeInstanceOf(ConflictError);
    expect(await db.get('select x from a')).toEqual({ x: 5 });
    await db.close();
  });

  test('after a page miss, earlier statements are replayed only if they give the same results', async () => {
    const store = new MemoryStore();
    {
      await using db = await Database.create(store, {});
      await db.exec('create table big(id integer primary key, pad text)');
      await db.transaction((tx) => {
        for (let i = 1; i <= 2000; i++) tx.run('insert into big values (?, ?)', [i, 'p'.repeat(400)]);
      });
      await db.checkpoint();
    }
    const db = await Database.create(store, { cacheBytes: 64 * 1024, prefetchBelowBytes: 0 });
    // Deterministic statements: replayed after the misses, same results, commits.
    const same = await db.begin();
    expect(await same.get('select count(*) n from big where id <= 10')).toEqual({ n: 10 });
    expect(await same.get('select count(*) n from big')).toEqual({ n: 2000 });
    await same.run("update big set pad = 'x' where id = 1");
    await same.commit();
    // random() gives another value in the replay: the transaction fails, retryably, rather than
    // commit something other than what the application saw.
    const random = await db.begin();
    await random.get('select random() r');
    const error = await random.get("select count(*) n from big where pad = 'x'").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(String(error)).toMatch(/different result when replayed/);
    expect(await db.get("select count(*) n from big where pad = 'x'")).toEqual({ n: 1 });
    await db.close();
  });
});
