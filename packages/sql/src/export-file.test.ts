import { spawnSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MemoryStore, type StoreCall, TransientError, WrappedStore } from '@bucketdb/store';
import { openTestBackend, type TestBackend, tempDir, testBackendNames } from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Database } from './database.js';
import { exportSqliteFile } from './export-file.js';
import { importSqliteFile } from './import-file.js';
import { restoreDatabase } from './restore.js';
import { loadSqlite } from './sqlite.js';

/** The numbers 1 … n as a table with one column, `value`. */
const series = (n: number) =>
  `(with recursive c(value) as (select 1 union all select value + 1 from c where value < ${n}) select value from c)`;

const sqlite3Cli = spawnSync('sqlite3', ['-version']).status === 0;

/** Runs Debian's sqlite3 on `path`. */
function sqlite3(path: string, sql: string): string {
  const r = spawnSync('sqlite3', [path, sql], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sqlite3 failed: ${r.stderr}`);
  return r.stdout.trim();
}

describe.each(testBackendNames())('export and import on %s', (name) => {
  let backend: TestBackend;
  beforeAll(async () => {
    backend = await openTestBackend(name);
  });
  afterAll(async () => {
    await backend.close();
  });

  test('import then export gives back the same file, byte for byte', async () => {
    await using dir = await tempDir('bucketdb-export');
    const sqlite = await loadSqlite();
    const source = new sqlite.oo1.DB(':memory:');
    source.exec(`pragma page_size = 4096;
      create table t(id integer primary key, v text, b blob);
      create index t_v on t(v);
      insert into t(v, b) select printf('row %05d', value), randomblob(value % 700) from ${series(1500)};
      delete from t where id % 7 = 0;`);
    const sourcePath = join(dir.path, 'source.sqlite');
    await writeFile(sourcePath, sqlite.capi.sqlite3_js_db_export(source));
    source.close();
    const store = await backend.newStore();
    await importSqliteFile(store, sourcePath, { segmentPages: 64, chunkBytes: 32 * 1024 });
    const out = join(dir.path, 'out.sqlite');
    const result = await exportSqliteFile(store, out);
    expect(result.version).toBe(0);
    expect(await readFile(out)).toEqual(await readFile(sourcePath));
  }, 240_000);

  test.skipIf(!sqlite3Cli)(
    'a live database (checkpoint + newer records) exports to a file sqlite3 accepts',
    async () => {
      await using dir = await tempDir('bucketdb-export');
      const store = await backend.newStore();
      await using db = await Database.create(store, {
        checkpointEveryRecords: 5,
        segmentPages: 16,
        chunkBytes: 16 * 1024,
      });
      await db.exec('create table kv(k integer primary key, v text); create index kv_v on kv(v);');
      for (let i = 0; i < 23; i++) {
        await db.exec(`insert into kv(v) select printf('%d-%d', ${i}, value) || hex(randomblob(40)) from ${series(60)};
        delete from kv where k % 11 = ${i % 11};`);
      }
      const expected = await db.get<{ n: number; s: string }>(
        "select count(*) n, group_concat(v, ',') s from (select v from kv order by k)",
      );
      const out = join(dir.path, 'live.sqlite');
      const result = await exportSqliteFile(store, out);
      expect(result.version).toBe(db.version);
      expect(sqlite3(out, 'pragma integrity_check')).toBe('ok');
      expect(sqlite3(out, 'select count(*) from kv')).toBe(String(expected?.n));
      expect(sqlite3(out, "select group_concat(v, ',') from (select v from kv order by k)")).toBe(expected?.s);

      // And back in: the round trip keeps the content.
      const copy = await backend.newStore();
      await importSqliteFile(copy, out);
      await using imported = await Database.create(copy, {});
      expect(
        await imported.get("select count(*) n, group_concat(v, ',') s from (select v from kv order by k)"),
      ).toEqual(expected);
      const again = join(dir.path, 'again.sqlite');
      await exportSqliteFile(copy, again);
      expect(await readFile(again)).toEqual(await readFile(out));

      // Restore into an empty prefix of the same store gives the same content as a new database.
      await restoreDatabase(store, store, { targetPrefix: 'restored' });
      await using restored = await Database.create(store, { prefix: 'restored' });
      expect(
        await restored.get("select count(*) n, group_concat(v, ',') s from (select v from kv order by k)"),
      ).toEqual(expected);
      await expect(restoreDatabase(store, store, { targetPrefix: 'restored' })).rejects.toMatchObject({
        code: 'InvalidArgument',
      });
    },
    240_000,
  );
});

/** Counts answered chunk GETs, notes how many had answered when each page-map segment was asked for, and can fail one segment. */
class SegmentWatch extends WrappedStore {
  chunksAnswered = 0;
  readonly segmentAsked: number[] = [];
  failSegment: number | undefined;
  protected async around<T>(call: StoreCall, run: () => Promise<T>): Promise<T> {
    if (call.op !== 'get') return run();
    if (call.key.includes('/segment-')) {
      if (this.segmentAsked.length === this.failSegment) {
        this.segmentAsked.push(this.chunksAnswered);
        throw new TransientError(`injected: ${call.key} failed`);
      }
      this.segmentAsked.push(this.chunksAnswered);
      return run();
    }
    const result = await run();
    if (call.key.includes('/chunk-')) this.chunksAnswered++;
    return result;
  }
}

async function multiSegmentStore(dir: string): Promise<MemoryStore> {
  const sqlite = await loadSqlite();
  const source = new sqlite.oo1.DB(':memory:');
  source.exec(`pragma page_size = 4096; create table t(id integer primary key, b blob);
    insert into t(b) select randomblob(3000) from ${series(400)};`);
  const path = join(dir, 'segments.sqlite');
  await writeFile(path, sqlite.capi.sqlite3_js_db_export(source));
  source.close();
  const store = new MemoryStore('segments');
  await importSqliteFile(store, path, { segmentPages: 64, chunkBytes: 32 * 1024 });
  return store;
}

test('export asks for the next page-map segment before the current one’s chunks have answered', async () => {
  await using dir = await tempDir('bucketdb-export');
  const store = new SegmentWatch(await multiSegmentStore(dir.path));
  await exportSqliteFile(store, join(dir.path, 'out.sqlite'));
  expect(store.segmentAsked.length).toBeGreaterThan(3);
  // Without reading ahead, segment 1 is asked for only once segment 0's chunks are in.
  expect(store.segmentAsked[1]).toBe(0);
});

test('a failed read ahead fails the export with that error and leaves no file', async () => {
  await using dir = await tempDir('bucketdb-export');
  const store = new SegmentWatch(await multiSegmentStore(dir.path));
  store.failSegment = 1; // read ahead while segment 0's pages are written
  const out = join(dir.path, 'out.sqlite');
  await expect(exportSqliteFile(store, out)).rejects.toMatchObject({ code: 'Transient' });
  expect(await readdir(dir.path)).toEqual(['segments.sqlite']);
});
