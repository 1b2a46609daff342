/**
 * `npm run bench -- sql-gc`: what a SQL database keeps in the bucket after many commits with
 * automatic GC (issue 13: "storage after 100,000 commits with GC on, target ≤ 1.5×").
 *
 * Bytes and object counts do not depend on latency or load, so this runs on a MemoryStore with a
 * meter and no latency emulation. The clock is virtual (one commit per `everyS` seconds) and
 * injected, so the retention window and grace period are counted in commits. GC and checkpoints
 * run as a user runs them: `autoGc` and the default checkpoint triggers.
 *
 * `SQL_GC_COMMITS` (default 100,000): commits per scenario; rows are taken at 10k, 50k and the end.
 */
import { loadavg } from 'node:os';
import { Database, storageSummary } from '@bucketdb/sql';
import { MemoryStore, Meter, metered } from '@bucketdb/store';
import { formatTable, writeReport } from './harness.js';

const commits = Number(process.env.SQL_GC_COMMITS ?? 100_000);
const SAMPLES = [10_000, 50_000, commits].filter((n, i, all) => n <= commits && all.indexOf(n) === i);
/** One storage scenario: a commit every `everyS` virtual seconds, GC and checkpoints as configured. */
interface Scenario {
  name: string;
  everyS: number;
  retentionS: number;
  grace: string;
  /** Set only to show the former default (10 minutes); otherwise the default, an eighth of the retention. */
  checkpointEveryMs?: number;
}

const SCENARIOS: Scenario[] = [
  { name: '1/s, retention 1 h, grace 1 min', everyS: 1, retentionS: 3600, grace: '1m' },
  { name: '1/10 s, retention 1 d, grace 1 h (default)', everyS: 10, retentionS: 86_400, grace: '1h' },
  {
    name: 'same, checkpoint every 10 min (the former default)',
    everyS: 10,
    retentionS: 86_400,
    grace: '1h',
    checkpointEveryMs: 600_000,
  },
];

async function storageWithGc(sc: Scenario): Promise<Record<string, string | number>[]> {
  const raw = new MemoryStore('lifecycle');
  const meter = new Meter();
  let now = Date.now();
  const clock = () => now;
  // Checkpoint triggers are the defaults (1000 records, 64 MiB, retention / 8): as a user runs it.
  const db = await Database.create(metered(raw, meter), {
    ...(sc.checkpointEveryMs === undefined ? {} : { checkpointEveryMs: sc.checkpointEveryMs }),
    clock,
    retention: `${sc.retentionS}s`,
    gcGrace: sc.grace,
    autoGc: true,
    maintenanceEveryMs: 0,
  });
  await db.exec(`create table t(id integer primary key, v text);
    insert into t(v) select hex(randomblob(100)) from (with recursive c(x) as (select 1 union all select x + 1 from c where x < 2000) select x from c);`);
  const rows: Record<string, string | number>[] = [];
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const checkpointErrors = new Set<unknown>();
  for (let i = 1; i <= commits; i++) {
    now += sc.everyS * 1000;
    await db.run('update t set v = hex(randomblob(100)) where id = ?', [((i * 7919) % 2000) + 1]);
    if (db.lastCheckpointError) checkpointErrors.add(db.lastCheckpointError);
    if (!SAMPLES.includes(i)) continue;
    // A maintenance pass as the timer would run it (GC once gcEveryMs passed), then the bucket as it is.
    await db.maintain();
    const stats = db.stats();
    const live = stats.pageCount * stats.pageSize;
    const stored = await storageSummary(raw);
    // What the window must keep: the records of the versions committed in the last retention period.
    const windowFrom = stats.version - sc.retentionS / sc.everyS;
    let windowBytes = 0;
    let windowRecords = 0;
    for await (const e of raw.list({ prefix: 'log/' })) {
      if (e.kind === 'object' && Number(e.key.slice(4)) > windowFrom) {
        windowBytes += e.size;
        windowRecords++;
      }
    }
    const written = meter.snapshot().bytesIn;
    const cpu = process.cpuUsage(cpu0);
    rows.push({
      scenario: sc.name,
      commits: i,
      'live MiB': live / 2 ** 20,
      'window records': windowRecords,
      'window MiB': windowBytes / 2 ** 20,
      objects: stored.objects,
      'records kept': stored.records,
      'checkpoint MiB': (stored.bytes - stored.recordBytes) / 2 ** 20,
      'stored MiB': stored.bytes / 2 ** 20,
      'stored / (live + window)': stored.bytes / (live + windowBytes),
      'objects / (live chunks + window records)': stored.objects / (Math.ceil(live / 2 ** 20) + windowRecords),
      'written MiB (no GC keeps this)': written / 2 ** 20,
      'written / stored': written / stored.bytes,
      's (commits + GC)': (performance.now() - t0) / 1000,
      'CPU ms / commit': (cpu.user + cpu.system) / 1000 / i,
      'checkpoint errors': checkpointErrors.size,
      'last GC error': db.lastGc?.error ? String(db.lastGc.error) : '',
    });
    process.stdout.write(`${formatTable(rows.slice(-1))}\n`);
  }
  await db.close();
  return rows;
}

const rows: Record<string, string | number>[] = [];
for (const sc of SCENARIOS) {
  process.stdout.write(`${sc.name}: ${commits} commits…\n`);
  rows.push(...(await storageWithGc(sc)));
}
const path = await writeReport(
  'sql-gc',
  'SQL: storage after many commits with automatic GC',
  `Command: \`${commits === 100_000 ? '' : `SQL_GC_COMMITS=${commits} `}npm run bench -- sql-gc\`.

MemoryStore with a meter, no latency emulation (bytes and objects do not depend on it). 2,000 rows
of 200 characters, then single-row updates spread over them, one per \`everyS\` virtual seconds;
\`autoGc\` and the default checkpoint triggers (1000 records, 64 MiB, an eighth of the retention
but at least 10 minutes), except where the scenario says. "Window" is the
records committed within the retention window: a bucket that kept exactly the live database and
those would score 1.0. "Written" is every byte PUT: what the bucket would hold without GC.
Bytes and objects do not depend on load; the times do (load average at the end:
${(loadavg()[0] as number).toFixed(1)} on 2 cores).

${formatTable(rows)}
`,
);
process.stdout.write(`\nwritten to ${path}\n`);
