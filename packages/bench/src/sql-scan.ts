/**
 * `npm run bench -- sql-scan [--full]`: scans of databases larger than the page cache, on emulated
 * S3 Standard, by both page-miss designs in the same run:
 *
 * - `restart`: the engine (`Database`): a statement that misses a page is abandoned, the page
 *   window fetched, the statement run again;
 * - `blocking`: the prototype (`BlockingReader`): SQLite in a worker thread that waits on
 *   `Atomics.wait` while the main thread fetches the window;
 * - `native`: better-sqlite3 on the local file (the ceiling).
 *
 * Sizes: 10 and 100 MiB by default (the ratio judges linearity: 10× the data in ≤ 11× the time);
 * `--full` or SQL_SCAN_FULL=1: 100 MiB and 1 GiB; `--sizes=2,20`: any two sizes. Each (design, size) runs in a child process of its
 * own, so that its peak RSS (the kernel's high-water mark) is its own. The database is imported once into a FileStore (on disk,
 * so the store's bytes are not in the RSS measured) and read through the latency wrapper.
 * `SQL_SCAN_DESIGNS=native,restart` runs only those designs. Runs with `--sizes` or fewer designs are
 * probes: the report is printed, not written to docs/benchmarks.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlockingReader, Database, importSqliteFile } from '@bucketdb/sql';
import { FileStore, latency, mapConcurrent, Meter, metered } from '@bucketdb/store';
import { formatTable, writeReport } from './harness.js';
import { BetterSqlite } from './sql-cpu.js';

const MIB = 2 ** 20;
const CACHE_MIB = 64;
const PAGE_SIZE = 4096;
const POINT_QUERIES = 200;
const FULL_SCAN = 'select count(*) n, sum(qty) s, sum(length(body)) b from item not indexed';
const INDEX_SCAN = 'select count(*) n, sum(qty) s from item indexed by item_qty where qty >= 0';
const POINT = 'select length(body) n from item where id = ?';
/** GETs in flight: the engine's default `parallelGets`, which the streaming baseline uses too. */
const PARALLEL_GETS = 8;

type Design = 'restart' | 'blocking' | 'native';
type Row = Record<string, string | number>;

interface ChildResult {
  design: Design;
  mib: number;
  rows: number;
  openMs: number;
  openGets: number;
  bootMs: number;
  scanMisses: number;
  /** CPU seconds of the whole process (every thread) during the full scan. */
  scanCpuS: number;
  scanMs: number;
  scanGets: number;
  scanRestarts: number;
  scanMiB: number;
  indexMs: number;
  indexGets: number;
  indexRestarts: number;
  pointUs: number;
  pointCpuUs: number;
  peakRssMiB: number;
  rssBeforeMiB: number;
  /** Restart only: the most page bytes resident in the page cache, and pages spilled to disk, in the scans. */
  peakCacheMiB: number;
  spills: number;
  answer: string;
}

/** A table of about `mib` MiB: ~200-byte rows with a quantity, and an index on the quantity. */
function buildFile(path: string, mib: number): number {
  const db = new BetterSqlite(path);
  db.exec(`pragma page_size = ${PAGE_SIZE}; pragma journal_mode = off; pragma synchronous = off`);
  db.exec('create table item(id integer primary key, qty integer not null, body text not null)');
  const insert = db.prepare('insert into item(qty, body) values (?, hex(randomblob(80)))');
  const rows = Math.ceil((mib * MIB) / 205);
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) insert.run((i * 7919) % 10_007);
  });
  for (let i = 0; i < rows; i += 50_000) batch(i, Math.min(rows, i + 50_000));
  db.exec('create index item_qty on item(qty)');
  db.close();
  return rows;
}

/**
 * The peak RSS of this process up to the end of `f`: the kernel's high-water mark (sampling would
 * miss the restart engine's last run, which is synchronous). The database was imported by the
 * parent, so nothing before `f` in this child comes near it.
 */
async function withPeakRss<T>(f: () => Promise<T>): Promise<{ value: T; peak: number }> {
  const value = await f();
  return { value, peak: process.resourceUsage().maxRSS * 1024 };
}

interface Handle {
  get(sql: string, params?: unknown[]): Promise<unknown>;
  restarts(): number;
  /** Round trips for pages so far: fetches after misses (restart) or misses waited for (blocking). */
  misses(): number;
  /** Blocking only: ms from starting the worker to its first page request (loading SQLite, and from source tsx). */
  bootMs(): number;
  /** Restart only: the page cache's peak resident bytes and pages spilled so far. */
  cache(): { peakBytes: number; spills: number };
  close(): Promise<void>;
}

async function openHandle(design: Design, storeDir: string, meter: Meter, path: string): Promise<Handle> {
  if (design === 'native') {
    const db = new BetterSqlite(path);
    return {
      get: async (sql, params) => db.prepare(sql).get(...(params ?? [])),
      restarts: () => 0,
      misses: () => 0,
      bootMs: () => 0,
      cache: () => ({ peakBytes: 0, spills: 0 }),
      close: async () => db.close(),
    };
  }
  const store = metered(latency(await FileStore.open(storeDir), 's3-standard', { seed: `${design}-${path}` }), meter);
  const cacheBytes = CACHE_MIB * MIB;
  if (design === 'blocking') {
    const reader = await BlockingReader.open(store, { prefix: 'db', cacheBytes });
    return {
      get: (sql, params) => reader.get(sql, params),
      restarts: () => 0,
      misses: () => reader.stats.misses,
      bootMs: () => reader.stats.bootMs,
      cache: () => ({ peakBytes: 0, spills: 0 }),
      close: () => reader.close(),
    };
  }
  // Snapshot reads: the prototype has no tail check either, so both make the same requests.
  const db = await Database.create(store, { prefix: 'db', cacheBytes, prefetchBelowBytes: 0, reads: 'snapshot' });
  return {
    get: (sql, params) => db.get(sql, params as unknown[]),
    restarts: () => db.stats().restarts,
    misses: () => db.stats().fetches,
    bootMs: () => 0,
    cache: () => db.stats().cache,
    close: () => db.close(),
  };
}

/** One design on one database, in this (child) process. */
async function child(design: Design, storeDir: string, path: string, mib: number, rows: number): Promise<ChildResult> {
  const { size } = await stat(path);
  const meter = new Meter();
  const gets = () => meter.snapshot().requests.get;
  const rssBefore = process.memoryUsage().rss;

  // Cold open and the first point query.
  let t = performance.now();
  const first = await openHandle(design, storeDir, meter, path);
  await first.get(POINT, [Math.floor(rows / 2)]);
  const openMs = performance.now() - t;
  const openGets = gets();
  const bootMs = first.bootMs();
  await first.close();

  // A cold handle: full scan, then a covering-index scan, then warm point queries.
  const { value, peak } = await withPeakRss(async () => {
    const h = await openHandle(design, storeDir, meter, path);
    let g = gets();
    t = performance.now();
    const cpu0 = process.cpuUsage();
    const answer = await h.get(FULL_SCAN);
    const scanMs = performance.now() - t;
    const scanCpu = process.cpuUsage(cpu0);
    const scanGets = gets() - g;
    const scanRestarts = h.restarts();
    const scanMisses = h.misses();
    g = gets();
    t = performance.now();
    const indexAnswer = await h.get(INDEX_SCAN);
    const indexMs = performance.now() - t;
    const indexGets = gets() - g;
    const indexRestarts = h.restarts() - scanRestarts;
    const ids = Array.from({ length: POINT_QUERIES }, (_, i) => 1 + ((i * 104_729) % 1000));
    for (const id of ids.slice(0, 20)) await h.get(POINT, [id]); // the pages of these rows become resident
    const cpu = process.cpuUsage();
    t = performance.now();
    for (const id of ids) await h.get(POINT, [id]);
    const pointUs = ((performance.now() - t) * 1000) / ids.length;
    const c = process.cpuUsage(cpu);
    const cache = h.cache();
    await h.close();
    return {
      scanMs,
      scanGets,
      scanRestarts,
      scanMisses,
      scanCpuS: (scanCpu.user + scanCpu.system) / 1e6,
      indexMs,
      indexGets,
      indexRestarts,
      pointUs,
      pointCpuUs: (c.user + c.system) / ids.length,
      answer: JSON.stringify([answer, indexAnswer]),
      peakCacheMiB: cache.peakBytes / MIB,
      spills: cache.spills,
    };
  });
  return {
    design,
    mib,
    rows,
    openMs,
    openGets,
    bootMs,
    scanMiB: size / MIB,
    ...value,
    peakRssMiB: peak / MIB,
    rssBeforeMiB: rssBefore / MIB,
  };
}

/** What the streaming baseline measured in its child. */
interface StreamResult {
  mib: number;
  objects: number;
  ms: number;
  peakRssMiB: number;
  rssBeforeMiB: number;
}

/**
 * The streaming baseline: this harness process doing nothing but GET every object of the database
 * through the same store, `PARALLEL_GETS` at a time, and allocating a page-sized buffer for every
 * page of the database (spread over the objects by size), as decompressing them would: no SQLite,
 * no cache, nothing kept. Its peak RSS is what Node, the harness and moving this database's bytes
 * and pages through JavaScript cost by themselves (V8 frees dead buffers only after tens of MiB of
 * them accumulate), so the engine's peak above it is the memory the engine itself adds.
 */
async function streamChild(storeDir: string, mib: number, pageCount: number): Promise<StreamResult> {
  const store = latency(await FileStore.open(storeDir), 's3-standard', { seed: `stream-${mib}` });
  const rssBefore = process.memoryUsage().rss;
  const objects: { key: string; size: number }[] = [];
  for await (const e of store.list({ prefix: 'db/' })) if (e.kind === 'object') objects.push(e);
  const stored = objects.reduce((n, o) => n + o.size, 0);
  const t = performance.now();
  const { peak } = await withPeakRss(() =>
    mapConcurrent(objects, PARALLEL_GETS, async ({ key, size }) => {
      const { body } = await store.get(key);
      for (let i = 0; i < Math.round((size / stored) * pageCount); i++) {
        new Uint8Array(PAGE_SIZE).set(body.subarray(0, Math.min(body.length, PAGE_SIZE)));
      }
    }),
  );
  return {
    mib,
    objects: objects.length,
    ms: performance.now() - t,
    peakRssMiB: peak / MIB,
    rssBeforeMiB: rssBefore / MIB,
  };
}

function runChild<T = ChildResult>(args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    const file = fileURLToPath(import.meta.url);
    const proc = spawn(process.execPath, [...process.execArgv, file, '--child', ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    proc.on('error', reject);
    proc.on('exit', (code) => {
      if (code !== 0) reject(new Error(`child ${args.join(' ')} exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1) as string) as T);
    });
  });
}

async function main(): Promise<void> {
  const full = process.argv.includes('--full') || process.env.SQL_SCAN_FULL === '1';
  const custom = process.argv.find((a) => a.startsWith('--sizes='));
  const sizes = custom ? custom.slice(8).split(',').map(Number) : full ? [100, 1024] : [10, 100];
  // SQL_SCAN_DESIGNS=native,restart: leave the slow prototype out of a probe.
  const designs = (process.env.SQL_SCAN_DESIGNS ?? 'native,blocking,restart').split(',') as Design[];
  const dir = await mkdtemp(join(tmpdir(), 'sql-scan-'));
  const results: ChildResult[] = [];
  const streams: StreamResult[] = [];
  try {
    for (const mib of sizes) {
      const path = join(dir, `scan-${mib}.db`);
      const t = performance.now();
      const rows = buildFile(path, mib);
      const storeDir = join(dir, `store-${mib}`);
      await importSqliteFile(await FileStore.open(storeDir), path, { prefix: 'db' });
      process.stderr.write(
        `built and imported ${mib} MiB (${rows} rows) in ${((performance.now() - t) / 1000).toFixed(1)} s\n`,
      );
      for (const design of designs) {
        const r = await runChild([design, storeDir, path, String(mib), String(rows)]);
        process.stderr.write(
          `${design} ${mib} MiB: scan ${(r.scanMs / 1000).toFixed(2)} s, peak RSS ${r.peakRssMiB.toFixed(0)} MiB\n`,
        );
        results.push(r);
      }
      const pages = (await stat(path)).size / PAGE_SIZE;
      const st = await runChild<StreamResult>(['stream', storeDir, '', String(mib), String(pages)]);
      process.stderr.write(`stream ${mib} MiB: ${st.objects} objects, peak RSS ${st.peakRssMiB.toFixed(0)} MiB\n`);
      streams.push(st);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  await report(results, streams, sizes, designs, full, custom === undefined && designs.length === 3);
}

/** `write`: the standard runs write their report to docs/benchmarks; probes only print it. */
async function report(
  results: ChildResult[],
  streams: StreamResult[],
  sizes: number[],
  designs: Design[],
  full: boolean,
  write: boolean,
): Promise<void> {
  const answers = new Set(
    sizes.map((mib) => results.filter((r) => r.mib === mib).map((r) => r.answer)).map((a) => new Set(a).size),
  );
  const agree = [...answers].every((n) => n === 1);
  const table: Row[] = results.map((r) => ({
    design: r.design,
    'DB MiB': Math.round(r.scanMiB),
    'open + 1st query ms': r.openMs,
    'open GETs': r.design === 'native' ? '-' : r.openGets,
    'worker start ms': r.design === 'blocking' ? r.bootMs : '-',
    'scan s': r.scanMs / 1000,
    'scan MB/s': (r.scanMiB * MIB) / 1e6 / (r.scanMs / 1000),
    'scan CPU s': r.scanCpuS,
    'scan GETs': r.design === 'native' ? '-' : r.scanGets,
    'scan restarts': r.design === 'restart' ? r.scanRestarts : '-',
    'scan round trips': r.design === 'native' ? '-' : r.scanMisses,
    'index scan s': r.indexMs / 1000,
    'index GETs': r.design === 'native' ? '-' : r.indexGets,
    'index restarts': r.design === 'restart' ? r.indexRestarts : '-',
    'warm point query µs': r.pointUs,
    'CPU µs/query': r.pointCpuUs,
    'peak RSS MiB': r.peakRssMiB,
    'RSS at start MiB': r.rssBeforeMiB,
    'peak cache MiB': r.design === 'restart' ? r.peakCacheMiB : '-',
    'pages spilled': r.design === 'restart' ? r.spills : '-',
  }));
  const [small, big] = sizes as [number, number];
  const ratios: Row[] = designs.map((design) => {
    const a = results.find((r) => r.design === design && r.mib === small) as ChildResult;
    const b = results.find((r) => r.design === design && r.mib === big) as ChildResult;
    const limit = CACHE_MIB + 128;
    const stream = streams.find((r) => r.mib === big) as StreamResult;
    const above = b.peakRssMiB - stream.peakRssMiB;
    return {
      design,
      data: `${big / small}×`,
      'scan time ×': b.scanMs / a.scanMs,
      'scan CPU ×': b.scanCpuS / a.scanCpuS,
      'index scan time ×': b.indexMs / a.indexMs,
      'linear (≤ 1.1 × data)': b.scanMs / a.scanMs <= (1.1 * big) / small ? 'yes' : 'no',
      [`peak RSS ≤ ${limit} MiB at ${big} MiB`]: design === 'native' ? '-' : b.peakRssMiB <= limit ? 'yes' : 'no',
      [`peak RSS above the streaming baseline at ${big} MiB`]: design === 'native' ? '-' : above,
      [`above it ≤ ${limit} MiB`]: design === 'native' ? '-' : above <= limit ? 'yes' : 'no',
    };
  });
  const body = `Command: \`npm run bench -- sql-scan${full ? ' --full' : ''}\`. Emulated S3 Standard (the store's
latency wrapper over a FileStore holding the imported database; the store's own bytes are on disk,
not in the RSS). Page cache limit ${CACHE_MIB} MiB for both bucketdb designs. Each row is a child
process of its own: open + first point query on one handle, then on a new cold handle the full scan
(\`${FULL_SCAN}\`), the covering-index scan (\`${INDEX_SCAN}\`) and ${POINT_QUERIES} warm point queries.
\`restart\` is the engine with \`reads: 'snapshot'\` (the prototype has no tail check either);
\`blocking\` is the \`BlockingReader\` prototype; \`native\` is better-sqlite3 on the local file (its
OS page cache warm: the ceiling). All designs gave the same answers: ${agree ? 'yes' : '**NO**'}.
Load average at the end: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(
      ', ',
    )}${(loadavg()[0] ?? 0) > availableParallelism() ? ' (**under load**: times are direction only; CPU s, GETs and memory are not skewed much)' : ''}.

${formatTable(table)}

The streaming baseline: the same harness in a child of its own that only GETs every object of the
database through the same store, ${PARALLEL_GETS} at a time, and allocates a ${PAGE_SIZE}-byte buffer for each page of
the database (spread over the objects by size), as decompressing them would; it keeps nothing. Its
peak RSS is what Node, the harness and moving this database's bytes and pages through JavaScript
hold by themselves; a scan's peak above it is what the engine adds.

${formatTable(
  streams.map((r) => ({
    'DB MiB': r.mib,
    objects: r.objects,
    s: r.ms / 1000,
    'peak RSS MiB': r.peakRssMiB,
    'RSS at start MiB': r.rssBeforeMiB,
  })),
)}

Growth from ${small} MiB to ${big} MiB (target: 10× the data in ≤ 11× the time; peak RSS ≤ cache limit + 128 MiB,
in absolute terms and above the streaming baseline):

${formatTable(ratios)}
`;
  const path = write
    ? await writeReport(full ? 'sql-scan-full' : 'sql-scan', 'SQL scans: restart on miss vs blocking miss', body)
    : undefined;
  process.stdout.write(`${body}\n${path ? `written to ${path}` : 'a probe: no report written'}\n`);
  if (!agree) process.exitCode = 1;
}

if (process.argv[2] === '--child' && process.argv[3] === 'stream') {
  process.stdout.write(
    `${JSON.stringify(await streamChild(process.argv[4] as string, Number(process.argv[6]), Number(process.argv[7])))}\n`,
  );
  process.exit(0);
} else if (process.argv[2] === '--child') {
  const [, , , design, storeDir, path, mib, rows] = process.argv;
  const result = await child(design as Design, storeDir as string, path as string, Number(mib), Number(rows));
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
} else {
  await main();
}
