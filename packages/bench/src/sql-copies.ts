import { copyFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { exportSqliteFile, importSqliteFile, restoreDatabase } from '@bucketdb/sql';
import { latency, MemoryStore, Meter, metered } from '@bucketdb/store';
import { buildFile } from './sql-open.js';

/**
 * Export to a SQLite file and restore into an empty database of a database of `mib` MiB on
 * emulated S3 Standard, against copying the same file locally (the ceiling).
 */
export async function exportAndRestore(dir: string, mib: number): Promise<Record<string, string | number>[]> {
  const path = await buildFile(dir, mib);
  const { size } = await stat(path);
  const raw = new MemoryStore('export');
  await importSqliteFile(raw, path);
  const rows: Record<string, string | number>[] = [];
  const measure = async (what: string, f: (meter: Meter) => Promise<unknown>) => {
    const meter = new Meter();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    await f(meter);
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
    });
  };
  await measure('local file copy (ceiling)', () => copyFile(path, join(dir, 'copy.db')));
  const s3 = (meter: Meter, store = raw) => metered(latency(store, 's3-standard', { seed: 'gc-bench' }), meter);
  await measure('export to a SQLite file', (m) => exportSqliteFile(s3(m), join(dir, 'out.db')));
  await measure('restore into an empty database', (m) =>
    restoreDatabase(s3(m), s3(new Meter(), new MemoryStore('target'))),
  );
  const ceiling = rows[0]?.s as number;
  for (const r of rows) r['× ceiling time'] = (r.s as number) / ceiling;
  return rows;
}
