/**
 * `npm run bench -- sql-lifecycle`: opening a SQL database over its life (issue 13). Storage with
 * GC is `sql-gc`, export and restore `sql-export`.
 *
 * 1. Cold open + first point query at lag 0, 500 and 5,000 records on emulated S3 Standard: time,
 *    CPU, GETs, LISTs and dependent round trips (RoundTripStore), from the open hint and, as the
 *    baseline, without it.
 * 2. Warm open + first query with `cacheDir`: at the cached version, 1 and 500 records later.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database, importSqliteFile } from '@bucketdb/sql';
import { latency, MemoryStore, Meter, metered, RoundTripStore } from '@bucketdb/store';
import { formatTable, writeReport } from './harness.js';
import { buildFile } from './sql-open.js';

const openMiB = 32;
const LAGS = [0, 500, 5000];

async function commitMany(raw: MemoryStore, n: number, checkpoint = false): Promise<void> {
  const db = await Database.create(raw, { prefix: 'db', checkpointEveryRecords: 0, maintenanceEveryMs: 0 });
  for (let i = 0; i < n; i++) {
    await db.run("update item set body = hex(randomblob(250)) || printf('%0500d', ?) where id = ?", [
      i,
      ((i * 7919) % 20_000) + 1,
    ]);
  }
  if (checkpoint) await db.checkpoint();
  await db.close();
}

async function openOnce(
  raw: MemoryStore,
  label: string,
  lag: number,
  cacheDir?: string,
): Promise<Record<string, string | number>> {
  const meter = new Meter();
  const trips = new RoundTripStore(latency(raw, 's3-standard', { seed: label }));
  const store = metered(trips, meter);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  // No checkpoint triggers on the reader: a handle that far past its checkpoint would otherwise
  // look for a newer one in the background after its first read, mixing those GETs into the count.
  const db = await Database.create(store, {
    prefix: 'db',
    maintenanceEveryMs: 0,
    checkpointEveryRecords: 0,
    checkpointEveryBytes: 0,
    ...(cacheDir ? { cacheDir } : {}),
  });
  const atOpen = meter.snapshot().requests.get;
  const openTrips = trips.depth;
  const row = await db.get<{ n: number }>('select length(body) n from item where id = ?', [12_345]);
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  if (!row) throw new Error('the point query found nothing');
  const snap = meter.snapshot();
  const warm = db.warm;
  const fromHint = db.stats().openedFromHint;
  await db.close();
  return {
    open: label,
    'lag (records)': lag,
    start: warm ? 'warm (cacheDir)' : fromHint ? 'open hint' : 'full path',
    ms,
    'CPU ms': (cpu.user + cpu.system) / 1000,
    'GETs at open': atOpen,
    GETs: snap.requests.get,
    LISTs: snap.requests.list,
    'round trips at open': openTrips,
    'dependent round trips': trips.depth,
    'KB received': snap.bytesOut / 1000,
  };
}

async function opens(dir: string): Promise<Record<string, string | number>[]> {
  const path = await buildFile(dir, openMiB);
  const raw = new MemoryStore('opens');
  await importSqliteFile(raw, path, { prefix: 'db' });
  const rows: Record<string, string | number>[] = [];
  // A database in use: one commit after the import and a checkpoint of it (lag 0), written by a
  // handle that also writes the open hint then.
  await commitMany(raw, 1, true);
  let lag = 0;
  const hintKey = 'db/_open_hint';
  for (const target of LAGS) {
    await commitMany(raw, target - lag);
    lag = target;
    rows.push(await openOnce(raw, `cold, lag ${lag}`, lag));
    // The baseline in the same run: the same open without the hint (the path it falls back to).
    const hint = (await raw.get(hintKey)).body;
    await raw.delete(hintKey);
    rows.push(await openOnce(raw, `cold, lag ${lag}, no hint (baseline)`, lag));
    await raw.put(hintKey, hint);
    process.stdout.write(`  cold open at lag ${lag} done\n`);
  }
  const cacheDir = join(dir, 'cache');
  rows.push(await openOnce(raw, 'first open with cacheDir (cold, fills it)', lag, cacheDir));
  rows.push(await openOnce(raw, 'warm, nothing new', lag, cacheDir));
  await commitMany(raw, 1);
  rows.push(await openOnce(raw, 'warm, 1 record since (another writer)', 1, cacheDir));
  await commitMany(raw, 500);
  rows.push(await openOnce(raw, 'warm, 500 records since', 500, cacheDir));
  const base = rows[0]?.ms as number;
  for (const r of rows) r['× lag-0 cold time'] = (r.ms as number) / base;
  return rows;
}

const OPENS_HEADER = `## Open + first point query on emulated S3 Standard (${openMiB} MiB database)

"Dependent round trips": the longest chain of requests each issued after the previous one
answered (\`RoundTripStore\`); requests issued together count once ("at open": until \`open\`
returned; the rest is the first query). Lag: records since the newest checkpoint. "start": how the
open began: from the open hint (\`_open_hint\`), the full path (the same open with the hint
object removed: the baseline in this run), or warm from \`cacheDir\` (the first cacheDir open
fills it). Writers rewrite the hint every 32 records (the default). The reader has no checkpoint
trigger, so that the background look for a newer checkpoint (which a handle 1,000 records past
its checkpoint starts after its first read: 1–2 GETs) is not counted.`;

const dir = await mkdtemp(join(tmpdir(), 'bucketdb-sql-lifecycle-'));
try {
  const openRows = await opens(dir);
  process.stdout.write(`${formatTable(openRows)}\n\n`);
  const path = await writeReport(
    'sql-lifecycle',
    'SQL over its life: cold and warm opens',
    `Command: \`npm run bench -- sql-lifecycle\`. Storage with GC: sql-gc.md; export and restore: sql-export.md.

${OPENS_HEADER}

${formatTable(openRows)}
`,
  );
  process.stdout.write(`\nwritten to ${path}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
