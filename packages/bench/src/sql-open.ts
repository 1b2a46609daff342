import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Database, importSqliteFile } from '@bucketdb/sql';
import { latency, MemoryStore, Meter, metered } from '@bucketdb/store';
import { BetterSqlite } from './sql-cpu.js';

export interface OpenResult {
  database: string;
  mode: string;
  ms: number;
  /** CPU time of the whole open and query, restarts included. */
  cpuMs: number;
  gets: number;
  lists: number;
  bytesReceived: number;
  restarts: number;
}

/** A SQLite file of about `mb` MiB: rows of ~1 KiB keyed by id, built with better-sqlite3. */
export async function buildFile(dir: string, mb: number): Promise<string> {
  const path = join(dir, `open-${mb}.db`);
  const db = new BetterSqlite(path);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.exec('pragma page_size = 4096; create table item(id integer primary key, body text)');
  const insert = db.prepare("insert into item(body) values (hex(randomblob(250)) || printf('%0500d', ?))");
  const rows = Math.ceil((mb * 2 ** 20) / 1080);
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) insert.run(i);
  });
  for (let i = 0; i < rows; i += 10_000) batch(i, Math.min(rows, i + 10_000));
  db.close();
  return path;
}

/** Time, requests and bytes from open to the first point query's answer, on emulated S3 Standard. */
export async function openAndQuery(path: string, label: string, prefetch: boolean): Promise<OpenResult> {
  const raw = new MemoryStore(`open-${label}`);
  await importSqliteFile(raw, path, { prefix: 'db' });
  const { size } = await stat(path);
  const meter = new Meter();
  const store = metered(latency(raw, 's3-standard', { seed: label }), meter);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const db = await Database.create(store, { prefix: 'db', prefetchBelowBytes: prefetch ? size : 0 });
  const row = await db.get<{ n: number }>('select length(body) n from item where id = ?', [Math.floor(size / 2200)]);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (!row) throw new Error('the point query found nothing');
  const snap = meter.snapshot();
  const restarts = db.stats().restarts;
  await db.close();
  return {
    database: `${Math.round(size / 2 ** 20)} MiB`,
    mode: prefetch ? 'prefetch whole' : 'lazy (restart on miss)',
    ms,
    cpuMs: (cpu.user + cpu.system) / 1000,
    gets: snap.requests.get,
    lists: snap.requests.list,
    bytesReceived: snap.bytesOut,
    restarts,
  };
}
