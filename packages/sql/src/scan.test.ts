import { copyFile, readdir, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { MemoryStore } from '@bucketdb/store';
import { tempDir } from '@bucketdb/testkit';
import { expect, test } from 'vitest';
import { openSpills } from './fixtures/open-spills.js';
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
const PAGE = 4096;

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

test('scans of a database 4x the cache answer as native SQLite does, with O(log n) restarts, within the memory limit', async () => {
  await using dir = await tempDir('sql-scan');
  const path = join(dir.path, 'scan.db');
  build(path);
  const copy = join(dir.path, 'copy.db');
  await copyFile(path, copy);
  const { size } = await stat(path);
  expect(size).toBeGreaterThanOrEqual(4 * CACHE);

  const store = new MemoryStore('sql-scan');
  await importSqliteFile(store, path);
  // The spill file goes to cacheDir (unlinked at once: the directory never shows it).
  const cacheDir = join(dir.path, 'cache');
  const db = await Database.create(store, { cacheBytes: CACHE, prefetchBelowBytes: 0, cacheDir });
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
    // Every page a scan fetched stayed pinned until it ended, yet the page bytes held in memory
    // never exceeded the limit by more than one page: the rest went to the spill file.
    const { cache } = db.stats();
    expect(cache.spills).toBeGreaterThan(CACHE / PAGE);
    expect(cache.spillReads).toBeGreaterThan(0);
    expect(cache.peakBytes).toBeLessThanOrEqual(CACHE + PAGE);
    expect(openSpills(cacheDir) ?? 1).toBe(1);
    // Between operations the cache is back within its limit.
    expect(db.stats().cache.bytes).toBeLessThanOrEqual(CACHE);
    expect((await db.get('pragma integrity_check'))?.integrity_check).toBe('ok');
  } finally {
    native.close();
    await db.close();
  }
  // Closed: the spill file is gone (nothing in the directory, no descriptor left open on it).
  expect((await readdir(cacheDir)).filter((f) => f.startsWith('bucketdb-spill-'))).toEqual([]);
  expect(openSpills(cacheDir) ?? 0).toBe(0);
}, 120_000);

test('scans that spill answer consistently while another handle commits changes to the pages they spilled', async () => {
  await using dir = await tempDir('sql-scan');
  const path = join(dir.path, 'accounts.db');
  const rows = 6000;
  const db0 = new Native(path);
  db0.exec('pragma page_size = 4096; pragma journal_mode = off');
  db0.exec('create table acct(id integer primary key, qty integer not null, pad text not null)');
  db0.exec('create table other(id integer primary key, pad text not null)');
  const insert = db0.prepare('insert into acct(qty, pad) values (?, ?)');
  const other = db0.prepare('insert into other(pad) values (?)');
  db0.transaction(() => {
    for (let i = 0; i < rows; i++) insert.run(100, `${i}`.padEnd(900, 'x'));
    for (let i = 0; i < rows / 2; i++) other.run(`${i}`.padEnd(900, 'y'));
  })();
  db0.close();
  const store = new MemoryStore('sql-scan-writer');
  await importSqliteFile(store, path);
  const budget = MIB;
  await using reader = await Database.create(store, { cacheBytes: budget, prefetchBelowBytes: 0 });
  await using writer = await Database.create(store, { cacheBytes: 64 * MIB, prefetchBelowBytes: 0 });

  // Each transfer moves one unit between two rows far apart: count and sum never change, and a
  // scan that mixed a page from before a transfer with one from after it (a stale spilled image
  // served after the record that changed it) would see a sum off by one.
  let done = false;
  let transfers = 0;
  const writing = (async () => {
    for (let i = 0; !done; i++) {
      const from = 1 + ((i * 7919) % rows);
      const to = 1 + ((i * 104_729 + rows / 2) % rows);
      await writer.transaction(async (tx) => {
        await tx.run('update acct set qty = qty - 1 where id = ?', [from]);
        await tx.run('update acct set qty = qty + 1 where id = ?', [to]);
      });
      transfers++;
    }
  })();
  try {
    let scans = 0;
    // Until enough records landed between scans, each scan spilling most of the table; a scan of
    // the other table in between evicts the (unpinned) new images the records brought.
    while (scans < 4 || transfers < 40) {
      expect(await reader.get('select count(*) n, sum(qty) s from acct')).toEqual({ n: rows, s: rows * 100 });
      expect(await reader.get('select count(*) n from other')).toEqual({ n: rows / 2 });
      scans++;
    }
    expect(reader.stats().records).toBeGreaterThan(0);
    expect(reader.stats().cache.spills).toBeGreaterThan(0);
    expect(reader.stats().cache.peakBytes).toBeLessThanOrEqual(budget + PAGE);
  } finally {
    done = true;
    await writing;
  }
  const moved = await reader.get('select count(*) n from acct where qty != 100');
  expect(moved?.n).toBeGreaterThan(0);
}, 120_000);
