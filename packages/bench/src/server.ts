/**
 * The S3 server benchmark (issue 3): 4 KiB PUT and GET ops/s at concurrency 1, 16 and 64 (and
 * PUTs that replace existing keys at 16), and 256 MiB PUT/GET MB/s, for our server over a
 * FileStore, for s3rver, and for bare node:http handlers verifying SigV4 with the server's code and
 * doing the same file work (the ceilings, with and without fsync),
 * each server in its own process. The 4 KiB cells are driven by wrk with presigned URLs (the Node
 * client if wrk is missing), the 256 MiB ones by a Node client; with pinning, every server runs on
 * one core and the client on another. Every cell runs in rounds that alternate between the
 * servers, and reports the median, so that load from elsewhere on the machine falls on all of
 * them alike. Beside the rates: each server's CPU time per small-object operation, which varies
 * far less than a rate with the load on a shared machine.
 *
 * Run: `npx tsx packages/bench/src/server.ts`. BENCH_SECONDS: seconds per measurement (default
 * 1.5; wrk rounds it to whole seconds); BENCH_ROUNDS (default 3); BENCH_PIN=0 for no CPU pinning;
 * BENCH_TARGETS=ours,bare-sigv4 for a partial run without a report; BENCH_CELLS=<regex> for only the
 * cells whose column matches (also no report); BENCH_PROFILE=<dir> for V8 CPU profiles of the
 * servers, e.g. of GETs alone with BENCH_CELLS='GET c16'. Writes docs/benchmarks/server.md.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { formatTable, writeReport } from './harness.js';
import { choosePinning, CLIENT_CPU, pinSelf } from './server-pinning.js';
import { type Row, serverReport } from './server-report.js';
import { startTarget, TARGETS, type Target, type TargetName } from './server-targets.js';
import { wrkVersion } from './server-wrk.js';
import { WrkLoad, wrkSeconds } from './server-wrk-load.js';
import {
  BUCKET,
  largeGet,
  largePut,
  largeSdkPut,
  type Measure,
  NodeSmallLoad,
  rawClient,
  sdkClient,
  type SmallLoad,
  type SmallOp,
} from './server-workloads.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 1.5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const cellFilter = process.env.BENCH_CELLS ? new RegExp(process.env.BENCH_CELLS) : undefined;
const partial = process.env.BENCH_TARGETS !== undefined || cellFilter !== undefined;
const LARGE = 256 * 1024 * 1024;
const CONCURRENCY = [1, 16, 64] as const;

type Running = {
  target: Target;
  client: ReturnType<typeof rawClient>;
  small: SmallLoad;
  samples: Map<string, number[]>;
  /** Server CPU µs per operation, per column. */
  cpu: Map<string, number[]>;
};

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

const append = (map: Map<string, number[]>, column: string, value: number) =>
  map.set(column, [...(map.get(column) ?? []), value]);

/**
 * Measures one cell on every server, `rounds` times, alternating servers between rounds. `prepare`
 * does what must not count as the server's work (signing, warm-up) and returns the measurement.
 */
async function cell(
  servers: Running[],
  column: string,
  prepare: (s: Running, round: number) => Measure | Promise<Measure>,
) {
  if (cellFilter && !cellFilter.test(column)) return;
  for (let round = 0; round < rounds; round++) {
    for (const server of servers) {
      const measure = await prepare(server, round);
      const cpuBefore = server.target.cpuSeconds();
      const { rate, ops } = await measure();
      const cpuAfter = server.target.cpuSeconds();
      append(server.samples, column, rate);
      if (cpuBefore !== undefined && cpuAfter !== undefined)
        append(server.cpu, column, ((cpuAfter - cpuBefore) * 1e6) / ops);
    }
  }
  const summary = servers.map((s) => `${s.target.name} ${Math.round(median(s.samples.get(column) ?? []))}`);
  console.log(`${column}: ${summary.join(', ')}`);
}

const smallCell = (servers: Running[], column: string, op: SmallOp, concurrency: number) =>
  cell(servers, column, (s, round) => s.small.prepare(op, concurrency, round));

function ratios(ours: Row, other: Row, label: string): Row {
  const row: Row = { ratio: label };
  for (const [column, value] of Object.entries(ours)) {
    const base = other[column];
    if (typeof value === 'number' && typeof base === 'number') row[column] = `${(value / base).toFixed(2)}×`;
  }
  return row;
}

/** In the order the cells run, which is the rates table's column order too. */
const smallColumns = [
  ...CONCURRENCY.map((c) => `PUT c${c}`),
  'PUT c16 overwrite',
  ...CONCURRENCY.map((c) => `GET c${c}`),
];
const verdict = (r: Row, target: number, columns: readonly string[]) => {
  const missed = columns.filter((c) => Number.parseFloat(String(r[c])) < target);
  const shown = columns.map((c) => `${c} ${r[c]}`).join(', ');
  return `${missed.length === 0 ? 'met' : `missed in ${missed.join(', ')}`} (${shown})`;
};

const pinning = choosePinning();
pinSelf(pinning, CLIENT_CPU); // the Node client, where it is used, stays off the servers' core
const wrk = wrkVersion();
if (!wrk) {
  console.warn(
    'wrk is not installed: the 4 KiB cells fall back to the Node client, which competes with the servers for CPU. Install it with `apt-get install wrk`.',
  );
}
console.log(`4 KiB load: ${wrk ?? 'Node client'}; CPU pinning: ${pinning.enabled ? 'on' : 'off'} (${pinning.reason})`);

const loadBefore = loadavg()[0]?.toFixed(1);
const small = randomBytes(4096);
const large = randomBytes(LARGE);
const names = (process.env.BENCH_TARGETS?.split(',') as TargetName[] | undefined) ?? [...TARGETS];
const servers: Running[] = [];
try {
  for (const name of names) {
    const target = await startTarget(name, pinning);
    const client = rawClient(target);
    await client.send('PUT', `/${BUCKET}`);
    const smallLoad = wrk
      ? await WrkLoad.open(target.url, client, { seconds, pinning, body: small })
      : new NodeSmallLoad(client, seconds, small);
    servers.push({ target, client, small: smallLoad, samples: new Map(), cpu: new Map() });
  }
  for (const c of CONCURRENCY) await smallCell(servers, `PUT c${c}`, 'put', c);
  await smallCell(servers, 'PUT c16 overwrite', 'overwrite', 16);
  for (const c of CONCURRENCY) await smallCell(servers, `GET c${c}`, 'get', c);
  await cell(servers, 'PUT 256 MiB', (s, round) => () => largePut(s.client, `large-${round}`, large));
  await cell(servers, 'GET 256 MiB', (s, round) => () => largeGet(s.client, `large-${round}`, large.length));
  // What the SDK sends by default for a stream: aws-chunked with a CRC32 trailer, verified.
  const ours = servers.filter((s) => s.target.name.startsWith('ours'));
  await cell(ours, 'PUT 256 MiB, SDK defaults', (s, round) => async () => {
    const sdk = sdkClient(s.target);
    try {
      return await largeSdkPut(sdk, `large-crc-${round}`, large);
    } finally {
      sdk.destroy();
    }
  });
} finally {
  for (const s of servers) {
    s.client.close();
    await s.target.stop();
  }
}

const rows: Row[] = servers.map((s) => {
  const row: Row = { server: s.target.name };
  for (const [column, values] of s.samples) row[column] = Math.round(median(values) * 10) / 10;
  return row;
});
const cpuRows: Row[] = servers.map((s) => {
  const row: Row = { server: s.target.name };
  for (const column of smallColumns) {
    const values = s.cpu.get(column);
    if (values) row[column] = Math.round(median(values));
  }
  return row;
});
console.log(formatTable(rows));
console.log(formatTable(cpuRows));
if (partial) process.exit(0); // a partial run writes no report

const row = (name: TargetName) => rows[servers.findIndex((s) => s.target.name === name)] as Row;
const noSyncVsS3rver = ratios(row('ours-nosync'), row('s3rver'), 'ours-nosync / s3rver');
const vsCeiling = ratios(row('ours'), row('bare-sigv4'), 'ours / bare-sigv4');
const noSyncVsCeiling = ratios(row('ours-nosync'), row('bare-sigv4-nosync'), 'ours-nosync / bare-sigv4-nosync');
const vsS3rver = ratios(row('ours'), row('s3rver'), 'ours / s3rver');
const ratioRows = [noSyncVsS3rver, vsCeiling, noSyncVsCeiling, vsS3rver];
console.log(formatTable(ratioRows));
const c16 = ['PUT c16', 'GET c16'];
const getCpu = cpuRows[servers.findIndex((s) => s.target.name === 'ours')]?.['GET c16'];
const body = serverReport(
  { wrk, wrkSeconds: wrkSeconds(seconds), pinning, rounds, seconds, loadBefore, loadAfter: loadavg()[0]?.toFixed(1) },
  {
    rows,
    ratioRows,
    cpuRows,
    verdicts: [
      `ours-nosync ≥ 5× s3rver (neither fsyncs) on 4 KiB PUT and GET at c16 and c64: ${verdict(noSyncVsS3rver, 5, ['PUT c16', 'PUT c64', 'GET c16', 'GET c64'])}.`,
      `ours ≥ 70% of the SigV4-verifying ceiling (both fsync) at c16: ${verdict(vsCeiling, 0.7, c16)}.`,
      `ours-nosync ≥ 70% of the SigV4-verifying ceiling without fsync at c16: ${verdict(noSyncVsCeiling, 0.7, c16)}.`,
      `server CPU per 4 KiB GET (ours, c16) ≤ 100 µs: ${typeof getCpu === 'number' ? `${getCpu} µs, ${getCpu <= 100 ? 'met' : 'missed'}` : 'not measured (no /proc)'}.`,
    ],
  },
);
console.log(`wrote ${await writeReport('server', 'S3 server', body)}`);
