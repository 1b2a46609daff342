import { copyFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { MemoryStore } from '@bucketdb/store';
import { tempDir } from '@bucketdb/testkit';
import { expect, test } from 'vitest';
import { Database } from './database.js';
import { importSqliteFile } from './import-file.js';

interface NativeDatabase {
  exec(sql: string): void;
  prepare(sql: string): { get(...params: unknown[]): Record<string, unknown>; run(...params: unknown[]): unknown };
  transaction(f: () => void): () => void;
  close(): void;
}
const Native = createRequire(import.meta.url)('better-sqlite3') as new (path: string) => NativeDatabase;

const MIB = 2 ** 20;
const CACHE = 4 * MIB;

/** A table of ~16 MiB (4× the cache below) with an index on `qty`, built by native SQLite. */
function build(path: string): void {
  const db = new Native(path);
  db.exec('pragma page_size = 4096; pragma journal_mode = off');
  db.exec('create table item(id integer primary key, qty integer not null, body text not null)');
  const insert = db.prepare('insert into item(qty, body) values (?, ?)');
  db.transaction(() => {
    // Pseudo-random quantities and incompressible-ish bodies, deterministic.
    for (let i = 0; i < 17_000; i++)
      insert.run((i * 7919) % 1000, `${i}:`.padEnd(1000, String.fromCharCode(97 + (i % 26))));
  })();
  db.exec('create index item_qty on item(qty)');
  db.close();
}

test('scans of a database 4x the cache answer as native SQLite does, with O(log n) restarts', async () => {
  await using dir = await tempDir('sql-scan');
  const path = join(dir.path, 'scan.db');
  build(path);
  const copy = join(dir.path, 'copy.db');
  await copyFile(path, copy);
  const { size } = await stat(path);
  expect(size).toBeGreaterThanOrEqual(4 * CACHE);

  const store = new MemoryStore('sql-scan');
  await importSqliteFile(store, path);
  await using db = await Database.create(store, { cacheBytes: CACHE, prefetchBelowBytes: 0 });
  const native = new Native(copy);
  try {
    const pages = size / 4096;
    // Restart on miss: a sequential scan's window doubles, so it restarts about log2(pages / 8) times.
    const bound = Math.ceil(Math.log2(pages / 8)) + 3;
    const queries = [
      'select count(*) n, sum(qty) s, sum(length(body)) b from item',
      'select count(*) n, sum(qty) s, max(qty) m from item indexed by item_qty where qty >= 0',
      'select qty, count(*) n from item group by qty order by n desc, qty limit 1',
    ];
    for (const sql of queries) {
      const before = db.stats().restarts;
      expect(await db.get(sql)).toEqual(native.prepare(sql).get());
      const restarts = db.stats().restarts - before;
      expect(restarts).toBeLessThanOrEqual(bound);
    }
    // Between operations the cache is back within its limit.
    expect(db.stats().cache.bytes).toBeLessThanOrEqual(CACHE);
    expect((await db.get('pragma integrity_check'))?.integrity_check).toBe('ok');
  } finally {
    native.close();
  }
}, 120_000);
