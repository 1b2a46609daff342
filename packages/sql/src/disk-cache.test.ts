import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FileStore, MemoryStore, Meter, metered } from '@bucketdb/store';
import { collect, spawnTs, tempDir } from '@bucketdb/testkit';
import { expect, test } from 'vitest';
import { Database } from './database.js';
import { DiskCache } from './disk-cache.js';

const child = new URL('./cache.child.ts', import.meta.url);

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  }
  return out;
}

async function runChild(storeDir: string, cacheDir: string, rows: number, tag: string) {
  const result = await collect(spawnTs(child, [storeDir, cacheDir, String(rows), tag]));
  if (result.code !== 0) throw new Error(`child failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout.trim()) as {
    gets: number;
    lists: number;
    warm: boolean;
    first: number;
    after: number;
  };
}

test('a warm open from cacheDir asks the bucket one GET (identity 304) and no LIST; the first strong read one more', async () => {
  await using dir = await tempDir('sql-cache');
  const raw = new MemoryStore('warm');
  const cacheDir = join(dir.path, 'cache');
  {
    await using db = await Database.create(raw, { cacheDir, checkpointEveryRecords: 5 });
    await db.exec('create table t(id integer primary key, v text)');
    for (let i = 0; i < 12; i++) await db.run('insert into t(v) values (?)', [`v${i}`]);
    await db.checkpoint();
    await db.run("insert into t(v) values ('after the checkpoint')");
    expect(db.warm).toBe(false);
  }
  const meter = new Meter();
  await using db = await Database.create(metered(raw, meter), { cacheDir });
  expect(db.warm).toBe(true);
  // The identity check (304); the GC floor copy the last handle read is still fresh; nothing listed.
  expect(meter.snapshot().requests).toMatchObject({ get: 1, list: 0, put: 0 });
  expect(await db.get('select count(*) n from t')).toEqual({ n: 13 });
  expect(meter.snapshot().requests).toMatchObject({ get: 2, list: 0, put: 0 });
});

test('a warm open after another writer committed costs one GET and its first read sees that commit', async () => {
  await using dir = await tempDir('sql-cache');
  const raw = new MemoryStore('warm-behind');
  const cacheDir = join(dir.path, 'cache');
  {
    await using db = await Database.create(raw, { cacheDir, checkpointEveryRecords: 0 });
    await db.exec('create table t(id integer primary key, v text)');
    for (let i = 0; i < 40; i++) await db.run('insert into t(v) values (?)', [`v${i}`]);
  }
  {
    await using other = await Database.create(raw, {});
    await other.run("update t set v = 'changed' where id = 7");
    await other.run("insert into t(v) values ('new')");
  }
  const meter = new Meter();
  await using db = await Database.create(metered(raw, meter), { cacheDir });
  expect(db.warm).toBe(true);
  expect(meter.snapshot().requests).toMatchObject({ get: 1, list: 0 });
  expect(await db.get('select count(*) n, (select v from t where id = 7) v from t')).toEqual({ n: 41, v: 'changed' });
  // The tail check found the two records and the slot after them empty.
  expect(meter.snapshot().requests).toMatchObject({ get: 4, list: 0 });
  // A cold open sees the same database.
  await using cold = await Database.create(raw, {});
  expect(await cold.query('select * from t order by id')).toEqual(await db.query('select * from t order by id'));
});

test('a database re-created under the same name is detected at a warm open, its cache wiped', async () => {
  await using dir = await tempDir('sql-cache');
  const cacheDir = join(dir.path, 'cache');
  const raw = new MemoryStore('recreated');
  {
    await using db = await Database.create(raw, { cacheDir });
    await db.exec("create table t(v text); insert into t values ('old')");
    await db.run("insert into t values ('old 2')");
  }
  for await (const e of raw.list()) if (e.kind === 'object') await raw.delete(e.key);
  {
    await using db = await Database.create(raw, {});
    await db.exec("create table t(v text); insert into t values ('new')");
    await db.run("insert into t values ('new 2')");
  }
  await using db = await Database.create(raw, { cacheDir });
  expect(db.warm).toBe(false);
  expect(await db.query('select v from t order by v')).toEqual([{ v: 'new' }, { v: 'new 2' }]);
});

test('corrupt and partial cache files are ignored and rewritten; the directory stays under its bound', async () => {
  await using dir = await tempDir('sql-cache');
  const cacheDir = join(dir.path, 'cache');
  const raw = new MemoryStore('corrupt');
  {
    await using db = await Database.create(raw, { cacheDir, cacheDirBytes: 200_000, checkpointEveryRecords: 10 });
    await db.exec('create table t(id integer primary key, v text)');
    for (let i = 0; i < 60; i++) await db.run('insert into t(v) values (hex(randomblob(500)))');
  }
  const files = (await filesUnder(cacheDir)).filter((f) => !f.endsWith('/head'));
  let total = 0;
  for (const f of files) total += (await stat(f)).size;
  expect(total).toBeLessThanOrEqual(200_000);
  // Damage every file: flip a byte in half of them, cut the others short.
  for (const [i, f] of files.entries()) {
    const bytes = await readFile(f);
    if (i % 2 === 0) {
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
      await writeFile(f, bytes);
    } else await writeFile(f, bytes.subarray(0, bytes.length >> 1));
  }
  {
    await using db = await Database.create(raw, { cacheDir, cacheDirBytes: 200_000 });
    expect(await db.get('select count(*) n, sum(length(v)) b from t')).toEqual({ n: 60, b: 60_000 });
    expect(await db.get('pragma integrity_check')).toEqual({ integrity_check: 'ok' });
  }
  // What the reopen read was rewritten whole; the rest is still damaged until read (or checked).
  const cache = new DiskCache(raw, cacheDir, '', 200_000);
  const check = await cache.check();
  expect(check.bad).toBeLessThan(files.length);
  expect(check.files - check.bad).toBeGreaterThan(0);
  expect(await cache.check()).toMatchObject({ bad: 0, files: check.files - check.bad });
});

test('processes sharing a cacheDir: none corrupts another, and a restarted one opens warm', async () => {
  await using dir = await tempDir('sql-cache');
  const storeDir = join(dir.path, 'bucket');
  const cacheDir = join(dir.path, 'cache');
  {
    const store = await FileStore.open(storeDir);
    await using db = await Database.create(store, { prefix: 'db' });
    await db.exec('create table t(id integer primary key, tag text)');
    await store.close();
  }
  const racers = await Promise.all(['a', 'b'].map((tag) => runChild(storeDir, cacheDir, 10, tag)));
  for (const r of racers) expect(r.after).toBeGreaterThanOrEqual(10);
  const restarted = await runChild(storeDir, cacheDir, 0, 'd');
  expect(restarted).toMatchObject({ warm: true, lists: 0, first: 20 });
  // The identity check and the GC floor at open, the tail check at the first read.
  expect(restarted.gets).toBeLessThanOrEqual(3);
  const check = await new DiskCache(new MemoryStore('x'), cacheDir, 'db', 2 ** 30).check();
  expect(check).toMatchObject({ bad: 0 });
  expect(check.files).toBeGreaterThan(10);
}, 120_000);
