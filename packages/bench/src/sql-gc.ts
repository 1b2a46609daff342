/**
 * `npm run bench -- sql-gc [commits] [exportMiB]`: what GC keeps, and how long export and restore take.
 *
 * 1. Storage after many small commits, with GC passes (retention: the last few seconds of commits)
 *    and without: objects and bytes stored against the live database.
 * 2. Export to a SQLite file and restore into an empty database of a database of `exportMiB`
 *    on emulated S3 Standard, against copying the same file locally (the ceiling).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectGarbage, Database, storageSummary } from '@bucketdb/sql';
import { MemoryStore } from '@bucketdb/store';
import { formatTable, writeReport } from './harness.js';
import { exportAndRestore } from './sql-copies.js';

const commits = Number(process.argv[2] ?? 3000);
const exportMiB = Number(process.argv[3] ?? 64);
const RETENTION_MS = 2000;
const GC_EVERY = 250;

async function storageAfterCommits(gc: boolean): Promise<Record<string, string | number>> {
  const store = new MemoryStore(`gc-${gc}`);
  // GC's clock runs ahead of the real one by a grace period per pass, so that a floor raised by
  // one pass is in force at the next; the retention window stays the last RETENTION_MS of commits.
  let offset = 0;
  const clock = () => Date.now() + offset;
  const db = await Database.create(store, { checkpointEveryRecords: 100, clock });
  await db.exec(`create table t(id integer primary key, v text);
    insert into t(v) select hex(randomblob(100)) from (with recursive c(x) as (select 1 union all select x + 1 from c where x < 2000) select x from c);`);
  const t0 = performance.now();
  for (let i = 0; i < commits; i++) {
    await db.run('update t set v = hex(randomblob(100)) where id = ?', [((i * 7919) % 2000) + 1]);
    if (gc && i % GC_EVERY === GC_EVERY - 1) {
      offset += 61_000;
      await collectGarbage(store, { retention: offset + RETENTION_MS, grace: '1m', clock });
    }
  }
  const ms = performance.now() - t0;
  const s = db.stats();
  const live = s.pageCount * s.pageSize;
  await db.close();
  const stored = await storageSummary(store);
  return {
    gc: gc ? `every ${GC_EVERY} commits` : 'off',
    commits,
    'live MiB': live / 2 ** 20,
    objects: stored.objects,
    'log records kept': stored.records,
    'stored MiB': stored.bytes / 2 ** 20,
    'stored / live': stored.bytes / live,
    's (commits + GC)': ms / 1000,
  };
}

const dir = await mkdtemp(join(tmpdir(), 'bucketdb-sql-gc-'));
try {
  const storage = [await storageAfterCommits(false), await storageAfterCommits(true)];
  process.stdout.write(`${formatTable(storage)}\n\n`);
  const copies = await exportAndRestore(dir, exportMiB);
  process.stdout.write(`${formatTable(copies)}\n`);
  const path = await writeReport(
    'sql-gc',
    'SQL: storage with GC, export and restore',
    `Command: \`npm run bench -- sql-gc ${commits} ${exportMiB}\`.

## Storage after ${commits} single-row updates (MemoryStore; checkpoint every 100 records)

GC keeps the versions of the last ${RETENTION_MS / 1000} s of commits (its clock is advanced by a
grace period per pass so each raised floor comes into force at the next pass).

${formatTable(storage)}

## Export and restore of a ${exportMiB} MiB database (emulated S3 Standard latency)

Restore writes into an empty database (PUTs counted on the source side only: the GETs are the
reads; the target is a second emulated store).

${formatTable(copies)}
`,
  );
  process.stdout.write(`\nwritten to ${path}\n`);
} finally {
  await rm(dir, { recursive: true, force: true });
}
