import { copyFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { MemoryStore, seededRandom } from '@bucketdb/store';
import { tempDir } from '@bucketdb/testkit';
import { expect, test } from 'vitest';
import { Database } from './database.js';
import { importSqliteFile } from './import-file.js';

/** The part of better-sqlite3 (native SQLite) used here. */
interface NativeStatement {
  all(...params: unknown[]): Record<string, unknown>[];
  run(...params: unknown[]): { changes: number };
  readonly reader: boolean;
}
interface NativeDatabase {
  exec(sql: string): void;
  prepare(sql: string): NativeStatement;
  close(): void;
}
const Native = createRequire(import.meta.url)('better-sqlite3') as new (path: string) => NativeDatabase;

const TABLES = 36;
/** A statement and its parameters. */
type Op = [string, unknown[]];

/** A multi-table database built by native SQLite: dozens of tables and indexes, a schema of many pages. */
function build(path: string): void {
  const db = new Native(path);
  db.exec('pragma journal_mode = delete; pragma page_size = 4096');
  const random = seededRandom('differential-build');
  for (let t = 0; t < TABLES; t++) {
    db.exec(`create table t${t}(
      id integer primary key, grp integer not null, name text not null, amount real,
      note_with_a_long_column_name_${t} text, parent integer, payload blob, created text default '2026-01-01')`);
    db.exec(`create index t${t}_grp on t${t}(grp, name)`);
    db.exec(`create index t${t}_parent on t${t}(parent) where parent is not null`);
    const insert = db.prepare(
      `insert into t${t}(id, grp, name, amount, note_with_a_long_column_name_${t}, parent, payload) values (?, ?, ?, ?, ?, ?, ?)`,
    );
    db.exec('begin');
    for (let i = 1; i <= 150; i++) {
      const r = random.next();
      insert.run(
        i,
        Math.floor(r * 12),
        `n${t}-${Math.floor(r * 1000)}`,
        Math.round(r * 10_000) / 100,
        'x'.repeat(50 + Math.floor(r * 400)),
        i > 1 ? Math.floor(r * (i - 1)) + 1 : null,
        Buffer.alloc(Math.floor(r * 64), t),
      );
    }
    db.exec('commit');
  }
  db.exec('create view big_groups as select grp, count(*) n from t0 group by grp having n > 10');
  db.close();
}

test("a multi-table SQLite file gives native SQLite's answers through bucketdb with a small cache", async () => {
  const dir = await tempDir('bucketdb-differential');
  try {
    const path = join(dir.path, 'app.db');
    build(path);
    const copy = join(dir.path, 'native.db');
    await copyFile(path, copy);
    const store = new MemoryStore();
    await importSqliteFile(store, path);
    const native = new Native(copy);
    // The schema alone spans many pages: opening must fetch them lazily (hole 6 of issue 9).
    expect(native.prepare("select count(*) n from dbstat where name = 'sqlite_schema'").all()[0]?.n).toBeGreaterThan(4);
    const db = await Database.create(store, { cacheBytes: 96 * 1024, prefetchBelowBytes: 0 });
    const size = db.stats().pageCount * db.stats().pageSize;
    expect(size).toBeGreaterThan(20 * 96 * 1024);

    const random = seededRandom('differential-ops');
    const pick = (n: number) => Math.floor(random.next() * n);
    const reads = [
      (t: number) => [`select id, grp, name, amount from t${t} where id = ?`, [1 + pick(150)]] as Op,
      (t: number) => [`select id, name from t${t} where grp = ? order by name, id`, [pick(12)]] as Op,
      (t: number) =>
        [
          `select grp, count(*) n, sum(amount) s, max(length(payload)) p from t${t} group by grp order by grp`,
          [],
        ] as Op,
      (t: number) =>
        [
          `select a.id, b.id child from t${t} a join t${t} b on b.parent = a.id where a.grp < ? order by a.id, b.id`,
          [pick(12)],
        ] as Op,
      (t: number) =>
        [
          `select x.id, y.name from t${t} x join t${(t + 1) % TABLES} y on y.id = x.parent order by x.id limit 40`,
          [],
        ] as Op,
      () => ['select * from big_groups order by grp', []] as Op,
      (t: number) => [`select count(*) n, total(amount) s from t${t} where name like ?`, [`n${t}-1%`]] as Op,
    ];
    const writes = [
      (t: number) => [`update t${t} set amount = amount + 1, name = name || 'u' where grp = ?`, [pick(12)]] as Op,
      (t: number) =>
        [
          `insert into t${t}(grp, name, amount, parent, payload) values (?, ?, ?, ?, x'0102')`,
          [pick(12), `new${pick(1000)}`, pick(100), 1 + pick(150)],
        ] as Op,
      (t: number) => [`delete from t${t} where id % 17 = ?`, [pick(17)]] as Op,
    ];
    for (let i = 0; i < 120; i++) {
      const t = pick(TABLES);
      if (pick(4) === 0) {
        const [sql, params] = (writes[pick(writes.length)] as (t: number) => Op)(t);
        const ours = await db.run(sql, params);
        expect(ours.changes, sql).toBe(native.prepare(sql).run(...params).changes);
      } else {
        const [sql, params] = (reads[pick(reads.length)] as (t: number) => Op)(t);
        expect(await db.query(sql, params), sql).toEqual(
          native
            .prepare(sql)
            .all(...params)
            .map(normalize),
        );
      }
    }
    for (let t = 0; t < TABLES; t++) {
      const sql = `select * from t${t} order by id`;
      expect(await db.query(sql), sql).toEqual(native.prepare(sql).all().map(normalize));
    }
    expect((await db.get('pragma integrity_check'))?.integrity_check).toBe('ok');
    expect(db.stats().restarts).toBeGreaterThan(10);
    native.close();
    await db.close();
  } finally {
    await dir.remove();
  }
}, 180_000);

/** better-sqlite3 gives blobs as Buffers; bucketdb as Uint8Arrays. */
function normalize(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = Buffer.isBuffer(v) ? new Uint8Array(v) : v;
  return out;
}
