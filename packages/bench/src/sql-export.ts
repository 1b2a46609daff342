/**
 * `npm run bench -- sql-export [--full]`: export to a plain SQLite file and restore into another
 * store, of a 100 MiB database (`--full`: 1 GiB), on emulated S3 Standard latency (issue 13:
 * "restore and export time for a 1 GiB database"). The ceiling in the same run: the files
 * package's transfer engine downloading and uploading the same file against the same store.
 *
 * Every row: wall and CPU time, MB/s of the database file, requests and bytes from the meter,
 * and the RSS the step added at its peak (sampled every 20 ms). The exported file is checked with
 * SQLite's `integrity_check` and against the source's bytes; the restored database is exported
 * again (without latency) and compared too. `SQL_EXPORT_MIB` sets another size.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadFile, uploadFile } from '@bucketdb/files';
import { exportSqliteFile, importSqliteFile, restoreDatabase } from '@bucketdb/sql';
import { latency, MemoryStore, Meter, metered, type ObjectStore } from '@bucketdb/store';
import { formatTable, writeReport } from './harness.js';
import { BetterSqlite } from './sql-cpu.js';
import { buildFile } from './sql-open.js';

const full = process.argv.includes('--full');
const mib = Number(process.env.SQL_EXPORT_MIB ?? (full ? 1024 : 100));

async function sha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const part of createReadStream(path)) hash.update(part as Buffer);
  return hash.digest('hex');
}

/** The highest RSS seen while `f` runs, sampled every 20 ms, minus the RSS before it. */
async function peakRssGrowth(f: () => Promise<unknown>): Promise<number> {
  const before = process.memoryUsage.rss();
  let peak = before;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  try {
    await f();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, process.memoryUsage.rss()) - before;
}

const loadBefore = loadavg()[0] as number;
const dir = await mkdtemp(join(tmpdir(), 'bucketdb-sql-export-'));
try {
  process.stdout.write(`building a ${mib} MiB SQLite file…\n`);
  const path = await buildFile(dir, mib);
  const { size } = await stat(path);
  const source = new MemoryStore('export-source');
  await importSqliteFile(source, path);
  await uploadFile(source, path, 'copy/db.sqlite');
  const s3 = (store: ObjectStore, meter: Meter) =>
    metered(latency(store, 's3-standard', { seed: 'sql-export' }), meter);
  const rows: Record<string, string | number>[] = [];
  const measure = async (what: string, f: (meter: Meter) => Promise<unknown>) => {
    const meter = new Meter();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const rss = await peakRssGrowth(() => f(meter));
    const s = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const snap = meter.snapshot();
    rows.push({
      what,
      MiB: size / 2 ** 20,
      s,
      'CPU s': (cpu.user + cpu.system) / 1e6,
      'MB/s': size / 1e6 / s,
      GETs: snap.requests.get,
      PUTs: snap.requests.put,
      'MiB received': snap.bytesOut / 2 ** 20,
      'MiB sent': snap.bytesIn / 2 ** 20,
      'peak RSS growth MiB': rss / 2 ** 20,
    });
    process.stdout.write(`${formatTable(rows.slice(-1))}\n`);
  };
  const out = join(dir, 'out.sqlite');
  const target = new MemoryStore('restore-target');
  // One meter for both stores of a step: restore's GETs are the source's, its PUTs the target's.
  await measure('download the file (files transfer engine, ceiling for export)', (m) =>
    downloadFile(s3(source, m), 'copy/db.sqlite', join(dir, 'download.sqlite')),
  );
  await measure('upload the file (files transfer engine)', (m) =>
    uploadFile(s3(new MemoryStore('upload-target'), m), path, 'db.sqlite'),
  );
  await measure('export to a SQLite file', (m) => exportSqliteFile(s3(source, m), out));
  await measure('restore into another store', (m) => restoreDatabase(s3(source, m), s3(target, m)));

  process.stdout.write('checking the results…\n');
  const check = new BetterSqlite(out);
  const integrity = check.pragma('integrity_check');
  check.close();
  if (JSON.stringify(integrity) !== JSON.stringify([{ integrity_check: 'ok' }]))
    throw new Error(`the exported file fails integrity_check: ${JSON.stringify(integrity)}`);
  const want = await sha256(path);
  if ((await sha256(out)) !== want) throw new Error('the exported file differs from the imported one');
  const again = join(dir, 'restored.sqlite');
  await exportSqliteFile(target, again);
  if ((await sha256(again)) !== want) throw new Error('the restored database differs from the source');

  const [download, upload] = rows.map((r) => r.s as number) as [number, number];
  for (const r of rows) {
    r['× ceiling time'] = (r.s as number) / (String(r.what).startsWith('restore') ? download + upload : download);
  }
  const report = await writeReport(
    full ? 'sql-export-full' : 'sql-export',
    `SQL: export and restore of a ${mib} MiB database`,
    `Command: \`${mib === (full ? 1024 : 100) ? '' : `SQL_EXPORT_MIB=${mib} `}npm run bench -- sql-export${full ? ' --full' : ''}\`.

Emulated S3 Standard (\`latency(store, 's3-standard')\`: first byte 30 ms p50 / 200 ms p99 for
reads, 50 / 300 ms for writes, 88 MB/s per request) over an in-process MemoryStore. The database
is a file made by better-sqlite3 and imported. The ceiling is the files package moving the same
file as one object against the same emulated store: export is compared with the download,
restore (bucket to bucket) with the download plus the upload. The exported file passes SQLite's
\`integrity_check\` and has the source file's bytes; the restored database, exported again, too.
The wrapped emulated store offers no multipart upload, so the upload row is one PUT at one
request's throughput: a slow ceiling; restore's ratio to it flatters restore.

Load average (1 min) at the start and the end: ${loadBefore.toFixed(1)} and ${(loadavg()[0] as number).toFixed(1)} (2 cores).

${formatTable(rows)}
`,
  );
  process.stdout.write(`\n${formatTable(rows)}\n\nwritten to ${report}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
