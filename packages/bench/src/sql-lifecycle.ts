/**
 * `npm run bench -- sql-lifecycle [--big] [--opens]`: a SQL database over its life (issue 13).
 * `--opens`: only part 2 and 3, written to sql-lifecycle-opens.md.
 *
 * 1. Storage after many single-row commits with automatic GC (virtual time: one commit per
 *    second, retention 1 h, grace 1 min): bytes and objects against the live database plus the
 *    records of the retention window, and against everything written (what no GC keeps).
 *    `SQL_LIFECYCLE_COMMITS` sets the count (default 10,000; the issue's size is 100,000).
 * 2. Cold open + first point query at lag 0, 500 and 5,000 records on emulated S3 Standard: time,
 *    CPU, GETs, LISTs and dependent round trips (RoundTripStore), from the open hint and, as the
 *    baseline, without it.
 * 3. Warm open + first query with `cacheDir`: at the cached version, 1 and 500 records later.
 * 4. Export and restore of a 100 MiB database (`--big`: 1 GiB), against a local file copy.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Database, importSqliteFile, storageSummary } from '@bucketdb/sql';
import { latency, MemoryStore, Meter, metered, RoundTripStore } from '@bucketdb/store';
import { formatTable, writeReport } from './harness.js';
import { exportAndRestore } from './sql-copies.js';
import { buildFile } from './sql-open.js';

const big = process.argv.includes('--big');
const opensOnly = process.argv.includes('--opens');
const commits = Number(process.env.SQL_LIFECYCLE_COMMITS ?? 10_000);
const copyMiB = big ? 1024 : 100;
const openMiB = 32;
const RETENTION_S = 3600;
const LAGS = [0, 500, 5000];

async function storageWithGc(): Promise<Record<string, string | number>[]> {
  const raw = new MemoryStore('lifecycle');
  const meter = new Meter();
  let now = Date.now();
  const clock = () => now;
  const db = await Database.create(metered(raw, meter), {
    clock,
    retention: `${RETENTION_S}s`,
    gcGrace: '1m',
    autoGc: true,
    maintenanceEveryMs: 0,
  });
  await db.exec(`create table t(id integer primary key, v text);
    insert into t(v) select hex(randomblob(100)) from (with recursive c(x) as (select 1 union all select x + 1 from c where x < 2000) select x from c);`);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < commits; i++) {
    now += 1000;
    await db.run('update t set v = hex(randomblob(100)) where id = ?', [((i * 7919) % 2000) + 1]);
    if (i % 10_000 === 9_999) process.stdout.write(`  ${i + 1} commits\n`);
  }
  // The GC the last checkpoint started runs in the background: let it finish.
  await db.checkpoint().catch(() => {});
  const s = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const stats = db.stats();
  const live = stats.pageCount * stats.pageSize;
  const gc = db.lastGc;
  await db.close();
  const stored = await storageSummary(raw);
  // The retention window's records: the versions committed in the last RETENTION_S virtual seconds.
  let windowBytes = 0;
  let windowRecords = 0;
  for await (const e of raw.list({ prefix: 'log/' })) {
    if (e.kind === 'object' && Number(e.key.slice(4)) > stats.version - RETENTION_S) {
      windowBytes += e.size;
      windowRecords++;
    }
  }
  const written = meter.snapshot().bytesIn;
  return [
    {
      commits,
      'live MiB': live / 2 ** 20,
      'window records': windowRecords,
      'window MiB': windowBytes / 2 ** 20,
      objects: stored.objects,
      'records kept': stored.records,
      'stored MiB': stored.bytes / 2 ** 20,
      'stored / (live + window)': stored.bytes / (live + windowBytes),
      'objects / (live chunks + window records)': stored.objects / (Math.ceil(live / 2 ** 20) + windowRecords),
      'written MiB (no GC keeps this)': written / 2 ** 20,
      'written / stored': written / stored.bytes,
      's (commits + GC)': s,
      'CPU ms / commit': (cpu.user + cpu.system) / 1000 / commits,
      'last GC error': gc?.error ? String(gc.error) : '',
    },
  ];
}

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
  if (opensOnly) {
    const openRows = await opens(dir);
    process.stdout.write(`${formatTable(openRows)}\n\n`);
    const path = await writeReport(
      'sql-lifecycle-opens',
      'SQL cold and warm opens at any lag',
      `Command: \`npm run bench -- sql-lifecycle --opens\` (the open section of sql-lifecycle.md alone).\n\n${OPENS_HEADER}\n\n${formatTable(openRows)}\n`,
    );
    process.stdout.write(`\nwritten to ${path}\n`);
  } else {
    process.stdout.write(`storage after ${commits} commits with GC…\n`);
    const storage = await storageWithGc();
    process.stdout.write(`${formatTable(storage)}\n\n`);
    const openRows = await opens(dir);
    process.stdout.write(`${formatTable(openRows)}\n\n`);
    const copies = await exportAndRestore(dir, copyMiB);
    process.stdout.write(`${formatTable(copies)}\n`);
    const path = await writeReport(
      'sql-lifecycle',
      'SQL over its life: storage with GC, cold and warm opens, export and restore',
      `Command: \`${commits === 10_000 ? '' : `SQL_LIFECYCLE_COMMITS=${commits} `}npm run bench -- sql-lifecycle${big ? ' --big' : ''}\`.

## Storage after ${commits} single-row commits with automatic GC (MemoryStore)

Virtual time, one commit per second; retention ${RETENTION_S / 3600} h, grace 1 min, a checkpoint
every 1000 records and a GC pass after each (\`autoGc\`). "Window" is the records committed within
the retention window: a store that kept exactly the live database and those would score 1.0.
"Written" is every byte PUT: what the bucket would hold without GC.

${formatTable(storage)}

${OPENS_HEADER}

${formatTable(openRows)}

## Export and restore of a ${copyMiB} MiB database (emulated S3 Standard)

${formatTable(copies)}
`,
    );
    process.stdout.write(`\nwritten to ${path}\n`);
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
