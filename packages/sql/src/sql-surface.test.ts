import { openTestBackend, type TestBackend, testBackendNames } from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Database } from './database.js';
import { SqlError } from './errors.js';

describe.each(testBackendNames())('SQL surface on %s', (name) => {
  let backend: TestBackend;
  beforeAll(async () => {
    backend = await openTestBackend(name);
  });
  afterAll(async () => {
    await backend.close();
  });

  const openDb = async () => Database.create(await backend.newStore(), { prefix: 'db/main' });

  test('joins, indexes, CTEs, window functions, views and triggers survive a reopen', async () => {
    const store = await backend.newStore();
    {
      await using db = await Database.create(store, {});
      await db.exec(`
        create table dept(id integer primary key, name text not null);
        create table emp(id integer primary key, dept integer references dept(id), name text, salary real);
        create index emp_dept on emp(dept);
        create table audit(msg text);
        create trigger emp_ins after insert on emp begin insert into audit values ('hired ' || new.name); end;
        create view payroll as select d.name dept, sum(e.salary) total from emp e join dept d on d.id = e.dept group by d.name;
        insert into dept values (1, 'eng'), (2, 'ops');
      `);
      for (const [i, [dept, n, s]] of [
        [1, 'ann', 100],
        [1, 'bob', 80],
        [2, 'cy', 70],
        [2, 'di', 90],
      ].entries()) {
        await db.run('insert into emp values (?, ?, ?, ?)', [i + 1, dept, n, s]);
      }
    }
    await using db = await Database.create(store, {});
    expect(await db.query('select * from payroll order by dept')).toEqual([
      { dept: 'eng', total: 180 },
      { dept: 'ops', total: 160 },
    ]);
    expect(await db.query('select count(*) n from audit')).toEqual([{ n: 4 }]);
    const ranked = await db.query(
      'select name, rank() over (partition by dept order by salary desc) r from emp order by name',
    );
    expect(ranked.map((r) => r.r)).toEqual([1, 2, 2, 1]);
    const plan = await db.query('explain query plan select * from emp where dept = 2');
    expect(JSON.stringify(plan)).toContain('emp_dept');
    const cte = await db.get(
      'with recursive c(x) as (select 1 union all select x + 1 from c where x < 100) select sum(x) s from c',
    );
    expect(cte).toEqual({ s: 5050 });
  });

  test('JSON functions, FTS5, named parameters and large blobs over overflow pages', async () => {
    await using db = await openDb();
    await db.exec('create table docs(id integer primary key, body text); create virtual table fts using fts5(body);');
    await db.run('insert into docs(body) values (:b)', { b: JSON.stringify({ tags: ['x', 'y'], n: 3 }) });
    expect(await db.get("select json_extract(body, '$.n') n, json_array_length(body, '$.tags') t from docs")).toEqual({
      n: 3,
      t: 2,
    });
    await db.run('insert into fts(body) values ($b)', { $b: 'the quick brown fox' });
    await db.run('insert into fts(body) values (@b)', { b: 'lazy dogs sleep' });
    expect(await db.query("select body from fts where fts match 'quick'")).toEqual([{ body: 'the quick brown fox' }]);

    const blob = new Uint8Array(3 * 2 ** 20).map((_, i) => (i * 7919) % 251);
    await db.exec('create table blobs(id integer primary key, data blob)');
    await db.run('insert into blobs(data) values (?)', [blob]);
    const row = await db.get<{ data: Uint8Array }>('select data from blobs where id = 1');
    expect(Buffer.from(row?.data ?? []).equals(Buffer.from(blob))).toBe(true);
    await db.checkpoint();
    expect((await db.get('pragma integrity_check'))?.integrity_check).toBe('ok');
  });

  test('SQL errors carry SQLite codes and leave the data intact', async () => {
    await using db = await openDb();
    await db.exec('create table t(id integer primary key, v text unique)');
    await db.run("insert into t values (1, 'a')");
    const dup = await db.run("insert into t values (2, 'a')").catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(SqlError);
    expect((dup as SqlError).code).toBe('SQLITE_CONSTRAINT_UNIQUE');
    const syntax = await db.query('selec nonsense').catch((e: unknown) => e);
    expect((syntax as SqlError).code).toBe('SQLITE_ERROR');
    expect((syntax as SqlError).message).toMatch(/syntax error/);
    await expect(
      db.transaction((tx) => {
        tx.run("insert into t values (3, 'b')");
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    await expect(db.query('begin')).rejects.toThrow(SqlError);
    expect(await db.query('select id from t')).toEqual([{ id: 1 }]);
  });

  test('interactive transactions commit, roll back, and see their own writes', async () => {
    await using db = await openDb();
    await db.exec('create table kv(k text primary key, v integer)');
    const tx = await db.begin();
    await tx.run("insert into kv values ('a', 1)");
    expect(await tx.get("select v from kv where k = 'a'")).toEqual({ v: 1 });
    await tx.commit();
    const tx2 = await db.begin();
    await tx2.run("update kv set v = 2 where k = 'a'");
    await tx2.rollback();
    expect(await db.get("select v from kv where k = 'a'")).toEqual({ v: 1 });
    expect(db.stats().commits).toBe(2);
  });

  test('a checkpoint rewrites only the chunks and segments that changed', async () => {
    const store = await backend.newStore();
    {
      await using db = await Database.create(store, { segmentPages: 64, chunkBytes: 64 * 1024 });
      await db.exec('create table t(id integer primary key, v text)');
      await db.transaction((tx) => {
        for (let i = 0; i < 3000; i++) tx.run('insert into t(v) values (?)', [`value ${i} ${'x'.repeat(200)}`]);
      });
      const first = await db.checkpoint();
      await db.run("update t set v = 'changed' where id = 1500");
      const second = await db.checkpoint();
      expect(second).toBe(first + 1);
    }
    const keys: string[] = [];
    for await (const e of store.list({ prefix: '' })) if (e.kind === 'object') keys.push(e.key);
    const inCheckpoint = (v: number, kind: string) =>
      keys.filter((k) => k.includes(`/${String(v).padStart(20, '0')}/${kind}`));
    const v1 =
      keys
        .map((k) => /checkpoints\/(\d+)\//.exec(k)?.[1])
        .filter(Boolean)
        .map(Number)
        .sort((a, b) => a - b)[0] ?? 0;
    expect(inCheckpoint(v1, 'segment').length).toBeGreaterThan(2);
    expect(inCheckpoint(v1 + 1, 'chunk').length).toBe(1);
    expect(inCheckpoint(v1 + 1, 'segment').length).toBeLessThanOrEqual(2);
    await using db = await Database.create(store, { prefetchBelowBytes: 0 });
    expect(await db.get('select v from t where id = 1500')).toEqual({ v: 'changed' });
    expect(await db.get('select count(*) n from t')).toEqual({ n: 3000 });
    expect((await db.get('pragma integrity_check'))?.integrity_check).toBe('ok');
  });
});
