// Analytics on the bucket (issue 15): Delta tables of Parquet queried through DuckDB, over
// emulated S3 Standard, against DuckDB on local disk (the ceiling), the bucketdb SQL engine
// (SQLite pages on the bucket), and the published prices of Athena and Aurora Serverless v2.
// Run: npm run bench -- lake [--full]   Sizes: LAKE_BENCH_SIZES=2,10,100 (MB of Parquet, the default);
// --full (or LAKE_BENCH_FULL=1) adds 1024. Data is generated and loaded in batches of at most
// LAKE_BENCH_BATCH_ROWS rows (one commit each), so memory stays bounded whatever the size.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Lake, type QueryResult } from '@bucketdb/lake';
import { importSqliteFile, open as openSql } from '@bucketdb/sql';
import { cost, latency, MemoryStore, Meter, metered, PRICE_TABLES } from '@bucketdb/store';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { formatTable, percentile, writeReport } from './harness.js';
import { BetterSqlite } from './sql-cpu.js';
import { ATHENA, athenaQueryUsd, AURORA_SERVERLESS_V2, auroraFloorPerMonth } from './lake-prices.js';

const FULL = process.argv.includes('--full') || process.env.LAKE_BENCH_FULL === '1';
const SIZES_MB = (process.env.LAKE_BENCH_SIZES ?? (FULL ? '2,10,100,1024' : '2,10,100')).split(',').map(Number);
const BATCH_ROWS = Number(process.env.LAKE_BENCH_BATCH_ROWS ?? 5_000_000);
const SQL_ENGINE_MAX_MB = Number(process.env.LAKE_BENCH_SQL_MAX_MB ?? 2);
const REPEAT = Number(process.env.LAKE_BENCH_REPEAT ?? 3);
/** About this many data files per table: one is ~1% of the bytes. */
const FILES = 120;
const PROFILE = 's3-standard';

interface Query {
  name: string;
  sql: string;
  sqlite: string;
  /** Columns stored in the data files that the query reads (what Athena would scan). */
  columns: string[];
}

const QUERIES: Query[] = [
  {
    name: 'point filter (1 day of 365)',
    sql: "SELECT count(*) AS n, round(avg(fare), 4) AS fare FROM trips WHERE pickup_date = DATE '2025-03-14'",
    sqlite: "SELECT count(*) AS n, round(avg(fare), 4) AS fare FROM trips WHERE pickup_date = '2025-03-14'",
    columns: ['pickup_date', 'fare'],
  },
  {
    name: 'aggregation (all rows by month)',
    sql: 'SELECT month, count(*) AS n, round(sum(fare), 2) AS fare, round(avg(tip), 4) AS tip FROM trips GROUP BY month ORDER BY month',
    sqlite:
      'SELECT month, count(*) AS n, round(sum(fare), 2) AS fare, round(avg(tip), 4) AS tip FROM trips GROUP BY month ORDER BY month',
    columns: ['fare', 'tip'],
  },
  {
    name: 'join (1 month with zones)',
    sql: "SELECT z.borough, count(*) AS n, round(avg(t.fare), 4) AS fare FROM trips t JOIN zones z ON t.zone = z.zone WHERE t.month = '2025-06' GROUP BY 1 ORDER BY 1",
    sqlite:
      "SELECT z.borough, count(*) AS n, round(avg(t.fare), 4) AS fare FROM trips t JOIN zones z ON t.zone = z.zone WHERE t.month = '2025-06' GROUP BY 1 ORDER BY 1",
    columns: ['zone', 'fare'],
  },
];

/** Rows [from, to) of a `rows`-row table: each row depends only on its id, so batches compose. */
const TRIPS_SELECT = (rows: number, from = 0, to = rows) => `
  SELECT i AS id,
    CAST(DATE '2025-01-01' + CAST(i * 365 // ${rows} AS INTEGER) AS DATE) AS pickup_date,
    strftime(CAST(DATE '2025-01-01' + CAST(i * 365 // ${rows} AS INTEGER) AS DATE), '%Y-%m') AS month,
    CAST(hash(i, 1) % 265 AS INTEGER) + 1 AS zone,
    CAST(hash(i, 2) % 6 AS INTEGER) + 1 AS passengers,
    CAST(hash(i, 3) % 3000 AS DOUBLE) / 100 AS distance,
    2.5 + CAST(hash(i, 4) % 8000 AS DOUBLE) / 100 AS fare,
    CAST(hash(i, 5) % 2000 AS DOUBLE) / 100 AS tip,
    ['card', 'cash', 'other'][1 + CAST(hash(i, 6) % 3 AS INTEGER)] AS payment
  FROM range(${from}, ${to}) t(i)`;

const TRIPS_SCHEMA = {
  id: 'long',
  pickup_date: 'date',
  month: 'string',
  zone: 'integer',
  passengers: 'integer',
  distance: 'double',
  fare: 'double',
  tip: 'double',
  payment: 'string',
};

const log = (s: string) => process.stderr.write(`${s}\n`);
const median = (xs: number[]) => percentile(xs, 50);
const mb = (bytes: number) => bytes / 2 ** 20;

/** Rows as JSON with numbers as numbers, whichever engine typed them (BIGINT comes as text). */
function normalized(list: readonly unknown[]): string {
  return JSON.stringify(list, (_k, v: unknown) => (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v));
}

async function rows(c: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await c.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}

/**
 * Generates trips Parquet files of about `targetMB` in all (in id order, so sorted by pickup date),
 * one per batch of at most BATCH_ROWS rows, and the zones table. DuckDB streams each COPY.
 */
async function generate(c: DuckDBConnection, dir: string, targetMB: number) {
  const probe = join(dir, 'probe.parquet');
  await c.run(`COPY (${TRIPS_SELECT(200_000)}) TO '${probe}' (FORMAT parquet, COMPRESSION snappy)`);
  const perRow = (await stat(probe)).size / 200_000;
  await rm(probe);
  const n = Math.round((targetMB * 2 ** 20) / perRow);
  const trips: string[] = [];
  let bytes = 0;
  for (let from = 0; from < n; from += BATCH_ROWS) {
    const file = join(dir, `trips-${trips.length}.parquet`);
    await c.run(
      `COPY (${TRIPS_SELECT(n, from, Math.min(n, from + BATCH_ROWS))}) TO '${file}' (FORMAT parquet, COMPRESSION snappy)`,
    );
    trips.push(file);
    bytes += (await stat(file)).size;
  }
  const zones = join(dir, 'zones.parquet');
  await c.run(
    `COPY (SELECT range::INTEGER + 1 AS zone, ['Manhattan', 'Brooklyn', 'Queens', 'Bronx', 'Staten Island'][1 + range % 5] AS borough FROM range(265)) TO '${zones}' (FORMAT parquet)`,
  );
  // Share of the compressed bytes each column takes, for what Athena would scan.
  const sizes = await rows(
    c,
    `SELECT path_in_schema AS col, sum(total_compressed_size) AS bytes FROM parquet_metadata(${fileList(trips)}) GROUP BY 1`,
  );
  const columnBytes = new Map(sizes.map((r) => [String(r['col']), Number(r['bytes'])]));
  return { trips, zones, rows: n, bytes, columnBytes };
}

const fileList = (files: readonly string[]) => `[${files.map((f) => `'${f}'`).join(', ')}]`;

interface Row {
  [key: string]: string | number;
}

async function main(): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const local = await db.connect();
  await local.run(`SET TimeZone = 'UTC'`);
  const latencyRows: Row[] = [];
  const pruningRows: Row[] = [];
  const costRows: Row[] = [];
  const loadRows: Row[] = [];
  const pointCost: { size: number; lakeCold: number; lakeWarm: number; athena: number }[] = [];
  for (const size of SIZES_MB) {
    const dir = await mkdtemp(join(tmpdir(), 'lake-bench-'));
    try {
      log(`${size} MB: generating`);
      const data = await generate(local, dir, size);
      await local.run(`CREATE OR REPLACE VIEW trips AS SELECT * FROM read_parquet(${fileList(data.trips)})`);
      await local.run(`CREATE OR REPLACE VIEW zones AS SELECT * FROM read_parquet('${data.zones}')`);

      const meter = new Meter();
      const bucket = new MemoryStore(`lake-bench-${size}`);
      const store = metered(latency(bucket, PROFILE, { seed: `lake-${size}` }), meter);
      const loader = await Lake.open({ store, cacheDir: join(dir, 'loader') });
      const t0 = performance.now();
      const trips = await loader.createTable('trips', { schema: TRIPS_SCHEMA, partitionBy: ['month'] });
      // One commit per generated batch, as data arrives; each batch is cut into files by month.
      let filesAdded = 0;
      for (const [i, file] of data.trips.entries()) {
        const loaded = await trips.append(
          { files: [file] },
          { rowsPerFile: Math.ceil(data.rows / FILES), sortBy: ['pickup_date'] },
        );
        filesAdded += loaded.filesAdded;
        if (data.trips.length > 1) log(`${size} MB: batch ${i + 1}/${data.trips.length} committed`);
      }
      const zones = await loader.createTable('zones', { schema: { zone: 'integer', borough: 'string' } });
      await zones.append({ files: [data.zones] });
      const loadMs = performance.now() - t0;
      const snap = await trips.snapshot();
      const tableBytes = [...snap.files.values()].reduce((n, f) => n + f.size, 0);
      const loadUsage = meter.snapshot();
      loadRows.push({
        'size (Parquet MB)': Number(mb(data.bytes).toFixed(1)),
        rows: data.rows,
        'data files': snap.files.size,
        commits: data.trips.length,
        'table MB': Number(mb(tableBytes).toFixed(1)),
        'load s': Number((loadMs / 1000).toFixed(1)),
        PUTs: loadUsage.requests.put,
        'load USD': Number(cost(loadUsage, PRICE_TABLES[PROFILE]).total.toFixed(6)),
      });
      await loader.close();
      log(`${size} MB: ${data.rows} rows in ${filesAdded} files, loaded in ${(loadMs / 1000).toFixed(1)} s`);
      const fileBytes = [...data.columnBytes].filter(([c]) => c !== 'month').reduce((n, [, b]) => n + b, 0);

      let sqlStore: ReturnType<typeof metered> | undefined;
      const sqlMeter = new Meter();
      if (size <= SQL_ENGINE_MAX_MB) {
        log(`${size} MB: loading the bucketdb SQL engine (SQLite pages on the bucket)`);
        const file = join(dir, 'trips.sqlite');
        const sqlite = new BetterSqlite(file);
        sqlite.exec(
          'CREATE TABLE trips (id INTEGER PRIMARY KEY, pickup_date TEXT, month TEXT, zone INTEGER, passengers INTEGER, distance REAL, fare REAL, tip REAL, payment TEXT); CREATE TABLE zones (zone INTEGER PRIMARY KEY, borough TEXT)',
        );
        const insert = sqlite.prepare('INSERT INTO trips VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
        for (let offset = 0; offset < data.rows; offset += 100_000) {
          const batch = (
            await local.runAndReadAll(
              `SELECT id, strftime(pickup_date, '%Y-%m-%d'), month, zone, passengers, distance, fare, tip, payment FROM trips ORDER BY id LIMIT 100000 OFFSET ${offset}`,
            )
          ).getRows();
          sqlite.transaction((): void => {
            for (const r of batch) insert.run(...r.map((v) => (typeof v === 'bigint' ? Number(v) : v)));
          })();
        }
        for (const r of await rows(local, 'SELECT zone, borough FROM zones')) {
          sqlite.prepare('INSERT INTO zones VALUES (?, ?)').run(r['zone'], r['borough']);
        }
        sqlite.exec('CREATE INDEX trips_date ON trips (pickup_date); CREATE INDEX trips_month ON trips (month)');
        sqlite.close();
        sqlStore = metered(latency(new MemoryStore(`sql-bench-${size}`), PROFILE, { seed: `sql-${size}` }), sqlMeter);
        await importSqliteFile(sqlStore, file);
      }

      for (const q of QUERIES) {
        log(`${size} MB: ${q.name}`);
        const expected = JSON.stringify(await rows(local, q.sql));
        const check = (r: QueryResult, what: string) => {
          if (JSON.stringify(r.rows) !== expected)
            throw new Error(`${what} answered differently from DuckDB on local disk`);
        };
        const cold: number[] = [];
        let coldResult: QueryResult | undefined;
        for (let i = 0; i < REPEAT; i++) {
          const lake = await Lake.open({ store, cacheDir: join(dir, `cold-${q.name.length}-${i}`) });
          const s = performance.now();
          coldResult = await lake.query(q.sql);
          cold.push(performance.now() - s);
          check(coldResult, 'the lake (cold)');
          await lake.close();
          await rm(join(dir, `cold-${q.name.length}-${i}`), { recursive: true, force: true });
        }
        const unpruned = await Lake.open({ store, cacheDir: join(dir, `full-${q.name.length}`) });
        const fullStart = performance.now();
        const full = await unpruned.query(q.sql, { skipping: false });
        const fullMs = performance.now() - fullStart;
        check(full, 'the lake without skipping');
        await unpruned.close();
        const warmLake = await Lake.open({ store, cacheDir: join(dir, `warm-${q.name.length}`) });
        await warmLake.query(q.sql);
        const warm: number[] = [];
        let warmResult: QueryResult | undefined;
        for (let i = 0; i < REPEAT; i++) {
          const s = performance.now();
          warmResult = await warmLake.query(q.sql);
          warm.push(performance.now() - s);
        }
        await warmLake.close();
        const ceiling: number[] = [];
        for (let i = 0; i < REPEAT; i++) {
          const s = performance.now();
          await rows(local, q.sql);
          ceiling.push(performance.now() - s);
        }
        let sqlMs: number | undefined;
        let sqlBytes: number | undefined;
        if (sqlStore) {
          const times: number[] = [];
          // Once: a full scan through SQLite pages on the emulated bucket takes about a minute at 2 MB.
          for (let i = 0; i < 1; i++) {
            sqlMeter.reset();
            const sdb = await openSql(sqlStore);
            const s = performance.now();
            const got = await sdb.query(q.sqlite);
            times.push(performance.now() - s);
            await sdb.close();
            sqlBytes = sqlMeter.snapshot().bytesOut;
            if (normalized(got) !== normalized(JSON.parse(expected) as unknown[]))
              throw new Error(`bucketdb SQL answered differently for ${q.name}`);
          }
          sqlMs = median(times);
        }
        const coldReport = (coldResult as QueryResult).report;
        const scan = coldReport.tables.find((t) => t.table === 'trips');
        const athenaBytes =
          ((scan?.bytesRead ?? 0) * q.columns.reduce((n, c) => n + (data.columnBytes.get(c) ?? 0), 0)) / fileBytes;
        latencyRows.push({
          size: `${size} MB`,
          query: q.name,
          'lake cold ms': Math.round(median(cold)),
          'lake cold, no skipping ms': Math.round(fullMs),
          'lake warm ms': Math.round(median(warm)),
          'DuckDB local ms (ceiling)': Number(median(ceiling).toFixed(1)),
          'bucketdb SQL cold ms': sqlMs === undefined ? 'not run' : Math.round(sqlMs),
          'bucketdb SQL MB fetched': sqlBytes === undefined ? 'not run' : Number(mb(sqlBytes).toFixed(2)),
        });
        pruningRows.push({
          size: `${size} MB`,
          query: q.name,
          'files read / total': `${scan?.filesRead}/${scan?.filesTotal}`,
          'skipped by partition': scan?.filesSkippedByPartition ?? 0,
          'skipped by min/max': scan?.filesSkippedByStats ?? 0,
          'MB fetched (skipping)': Number(mb(coldReport.bytesFetched).toFixed(2)),
          'MB fetched (no skipping)': Number(mb(full.report.bytesFetched).toFixed(2)),
          'fetched share of table': `${((100 * (scan?.bytesRead ?? 0)) / tableBytes).toFixed(2)}%`,
          requests: coldReport.requests,
        });
        const lakeCold = coldReport.usd * 1000;
        const lakeWarm = (warmResult as QueryResult).report.usd * 1000;
        const athena = athenaQueryUsd(athenaBytes) * 1000;
        costRows.push({
          size: `${size} MB`,
          query: q.name,
          'lake, cold cache: S3 requests + transfer': Number(lakeCold.toFixed(4)),
          'lake, warm cache': Number(lakeWarm.toFixed(4)),
          'Athena scanned MB (est.)': Number(mb(athenaBytes).toFixed(2)),
          Athena: Number(athena.toFixed(4)),
        });
        if (q === QUERIES[0]) pointCost.push({ size, lakeCold, lakeWarm, athena });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  local.closeSync();
  db.closeSync();
  const aurora = auroraFloorPerMonth();
  const monthly = [1_000, 100_000, 1_000_000].flatMap((perMonth) =>
    pointCost.map((p) => ({
      'point queries / month': perMonth,
      size: `${p.size} MB`,
      'lake, cold cache USD': Number(((p.lakeCold * perMonth) / 1000).toFixed(2)),
      'lake, warm cache USD': Number(((p.lakeWarm * perMonth) / 1000).toFixed(2)),
      'Athena USD': Number(((p.athena * perMonth) / 1000).toFixed(2)),
      'Aurora Serverless v2 floor USD': Number(aurora.toFixed(2)),
    })),
  );
  const body = report(
    loadRows,
    latencyRows,
    pruningRows,
    costRows,
    monthly,
    measured(latencyRows, pruningRows, pointCost),
  );
  const path = await writeReport('lake', 'Lake: when is Parquet + SQL on a bucket the right choice?', body);
  log(`report written to ${path}`);
  process.stdout.write(`${formatTable(pruningRows)}\n\n${formatTable(latencyRows)}\n\n${formatTable(costRows)}\n`);
}

/** The run's own numbers for the verdict: per size, what the point query and the scan cost. */
function measured(
  latencies: Row[],
  pruning: Row[],
  points: { size: number; lakeCold: number; lakeWarm: number; athena: number }[],
): string {
  const aurora = auroraFloorPerMonth();
  const at = (rows: Row[], size: number, query: Query) =>
    rows.find((r) => r['size'] === `${size} MB` && r['query'] === query.name) ?? {};
  const [point, scan] = QUERIES as [Query, Query, Query];
  return points
    .map((p) => {
      const l = at(latencies, p.size, point);
      const f = at(pruning, p.size, point);
      const a = at(latencies, p.size, scan);
      const breakEven = p.lakeCold > 0 ? Math.floor((aurora / p.lakeCold) * 1000) : Infinity;
      const sql = a['bucketdb SQL cold ms'];
      return (
        `- ${p.size} MB: the one-day filter fetched ${f['MB fetched (skipping)']} MB (${f['fetched share of table']} of the ` +
        `table) in ${l['lake cold ms']} ms cold, ${l['lake warm ms']} ms warm (DuckDB on local disk: ` +
        `${l['DuckDB local ms (ceiling)']} ms); per 1,000 such queries $${p.lakeCold.toFixed(4)} cold / ` +
        `$${p.lakeWarm.toFixed(4)} warm against $${p.athena.toFixed(4)} on Athena; cold queries stay under ` +
        `Aurora Serverless v2's $${aurora.toFixed(2)}/month floor up to ${breakEven.toLocaleString('en-US')} a month. ` +
        `The full aggregation took ${a['lake cold ms']} ms cold, ${a['lake warm ms']} ms warm ` +
        `(local ${a['DuckDB local ms (ceiling)']} ms)` +
        (typeof sql === 'number' ? `; on the bucketdb SQL engine it took ${sql} ms.` : '.')
      );
    })
    .join('\n');
}

function report(load: Row[], latencies: Row[], pruning: Row[], costs: Row[], monthly: Row[], numbers: string): string {
  return `
Run: \`npm run bench -- lake${FULL ? ' --full' : ''}\` (sizes ${SIZES_MB.join(', ')} MB of Parquet; medians of ${REPEAT} runs). Data: a
generated NYC-taxi-like \`trips\` table (id, pickup_date over 365 days in order, month, zone, passengers,
distance, fare, tip, payment), partitioned by month, cut into about ${FILES} files sorted by pickup_date, and a
265-row \`zones\` table. It is generated and appended in batches of at most ${BATCH_ROWS.toLocaleString('en-US')} rows, one commit
each, so memory stays bounded. The bucket is a MemoryStore behind \`latency(…, '${PROFILE}')\` (GET p50 30 / p99 200 ms,
PUT p50 50 / p99 300 ms, see docs/design/store-wrappers.md) and the meter, priced at S3 Standard us-east-1.
"Cold" is a new \`Lake\` with an empty local cache (a fresh Lambda, say): it lists the log, reads the commits
and fetches every data file the query needs. "Warm" is the same process again: files come from the local
cache and a HEAD of the next commit number confirms the snapshot is current (no LIST). The ceiling is DuckDB
reading the same rows from the same Parquet files on local disk. Every answer is checked against the ceiling's.
Timings come from 2 cores shared with other jobs: expect run-to-run spread of up to 2x in the cold rows.

## Load

${formatTable(load)}

## Skipping: what a query fetches

${formatTable(pruning)}

The point filter touches 1 day of 365 (0.27% of the rows): partition pruning cannot help (the table is
partitioned by month), min/max statistics on the sorted pickup_date do. The join's \`month = '2025-06'\` is
pruned by partition.

## Latency

${formatTable(latencies)}

The bucketdb SQL engine (SQLite whose pages live in the bucket, with indexes on pickup_date and month) was
run up to ${SQL_ENGINE_MAX_MB} MB: its point query follows the index and reads few pages, but a scan
reads page by page through the emulated latency; it is the OLTP tool, not the scan tool.

## Cost per 1,000 queries (USD)

${formatTable(costs)}

Athena's scan is estimated as the bytes of the files the query needs times the share of the table's
compressed bytes in the columns it reads (Athena reads only those column chunks); every query is billed at
least 10 MB. The lake's cost is the S3 requests and transfer it makes; the machine it runs on is extra.

## Monthly cost of the point query at three rates (USD)

${formatTable(monthly)}

Aurora Serverless v2 is its 0.5 ACU floor, whatever the rate (more ACUs under load); the lake's and
Athena's costs grow with the number of queries.

## When is Parquet + SQL on a bucket the right choice?

Measured in this run:

${numbers}

So:

- Read-mostly analytics over data you append to, at a few queries per minute or fewer: each query costs
  S3 requests (fractions of a cent per thousand queries here) instead of a database that bills by the
  hour. Athena's 10 MB minimum makes it cost more per small query than the lake's requests.
- When queries filter on a partition column or a column the files are sorted by: min/max skipping fetches
  a small share of the table; a full aggregation fetches it all and then latency is bandwidth.
- When seconds of latency are fine cold, and sub-second warm: a long-lived process keeps its cache.
- Not for point lookups and small transactions at high rates: that is the bucketdb SQL engine's (or a
  server database's) job. Not when one machine cannot hold the working set: register the same Delta tables
  with Athena or Spark (docs/design/lake.md).

Prices: ${ATHENA.name}: ${ATHENA.source} (as of ${ATHENA.asOf}). ${AURORA_SERVERLESS_V2.name}:
${AURORA_SERVERLESS_V2.source} (as of ${AURORA_SERVERLESS_V2.asOf}).
`;
}

await main();
