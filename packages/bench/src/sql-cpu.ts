import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Database } from '@bucketdb/sql';
import { MemoryStore } from '@bucketdb/store';

/** The part of better-sqlite3 used here. */
interface BetterStatement {
  run(...params: unknown[]): unknown;
  get(...params: unknown[]): unknown;
}
export interface BetterDatabase {
  exec(sql: string): void;
  prepare(sql: string): BetterStatement;
  transaction<T extends (...args: never[]) => unknown>(fn: T): T;
  pragma(sql: string): unknown;
  close(): void;
}
export const BetterSqlite = createRequire(import.meta.url)('better-sqlite3') as new (path: string) => BetterDatabase;

const SCHEMA = `create table account(id integer primary key, balance integer);
  create table transfer(id integer primary key, src integer, dst integer, amount integer);`;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * CPU milliseconds per transfer transaction: bucketdb (memory store) and better-sqlite3 on a local
 * file, in its default rollback-journal mode (synchronous=FULL) and in WAL mode (synchronous=NORMAL).
 */
export async function cpuPerTransaction(
  dir: string,
  n: number,
): Promise<{ bucketdbMs: number; betterMs: number; betterWalMs: number }> {
  const db = await Database.create(new MemoryStore('cpu'), { checkpointEveryRecords: 0, checkpointEveryBytes: 0 });
  await db.exec(`${SCHEMA} insert into account select value, 1000 from json_each('[1,2,3,4,5,6,7,8,9,10]');`);
  const t0 = cpuMs();
  for (let i = 0; i < n; i++) {
    const src = (i % 10) + 1;
    const dst = ((i + 3) % 10) + 1;
    await db.transaction((tx) => {
      tx.get('select balance from account where id = ?', [src]);
      tx.run('update account set balance = balance - 1 where id = ?', [src]);
      tx.run('update account set balance = balance + 1 where id = ?', [dst]);
      tx.run('insert into transfer(src, dst, amount) values (?, ?, 1)', [src, dst]);
    });
  }
  const bucketdbMs = (cpuMs() - t0) / n;
  await db.close();

  const betterMs = betterSqlite(join(dir, 'cpu.db'), n, false);
  const betterWalMs = betterSqlite(join(dir, 'cpu-wal.db'), n, true);
  return { bucketdbMs, betterMs, betterWalMs };
}

function betterSqlite(path: string, n: number, wal: boolean): number {
  const better = new BetterSqlite(path);
  if (wal) {
    better.pragma('journal_mode = WAL');
    better.pragma('synchronous = NORMAL');
  }
  better.exec(`${SCHEMA} insert into account select value, 1000 from json_each('[1,2,3,4,5,6,7,8,9,10]');`);
  const get = better.prepare('select balance from account where id = ?');
  const debit = better.prepare('update account set balance = balance - 1 where id = ?');
  const credit = better.prepare('update account set balance = balance + 1 where id = ?');
  const log = better.prepare('insert into transfer(src, dst, amount) values (?, ?, 1)');
  const transfer = better.transaction((src: number, dst: number) => {
    get.get(src);
    debit.run(src);
    credit.run(dst);
    log.run(src, dst);
  });
  const t0 = cpuMs();
  for (let i = 0; i < n; i++) transfer((i % 10) + 1, ((i + 3) % 10) + 1);
  const ms = (cpuMs() - t0) / n;
  better.close();
  return ms;
}
