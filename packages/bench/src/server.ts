/**
 * The S3 server benchmark (issue 3): 4 KiB PUT and GET ops/s at concurrency 1, 16 and 64 (and
 * PUTs that replace existing keys at 16), and 256 MiB PUT/GET MB/s, for our server over a
 * FileStore, for s3rver, and for a bare node:http handler doing the same file work (the ceiling);
 * the same client for all, each server in its own process. Every cell runs in rounds that
 * alternate between the servers, and reports the median, so that load from elsewhere on the
 * machine falls on all of them alike. Beside the rates: each server's CPU time per small-object
 * operation, which varies far less than a rate with the load on a shared machine.
 *
 * Run: `npx tsx packages/bench/src/server.ts`. BENCH_SECONDS: seconds per measurement (default
 * 1.5); BENCH_ROUNDS (default 3); BENCH_TARGETS=ours,bare for a partial run without a report;
 * BENCH_PROFILE=<dir> for V8 CPU profiles of the servers. Writes docs/benchmarks/server.md.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { formatTable, writeReport } from './harness.js';
import { startTarget, TARGETS, type Target, type TargetName } from './server-targets.js';
import {
  BUCKET,
  largeGet,
  largePut,
  largeSdkPut,
  type Measured,
  rawClient,
  sdkClient,
  smallGets,
  smallOverwrites,
  smallPuts,
} from './server-workloads.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 1.5);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const LARGE = 256 * 1024 * 1024;
const CONCURRENCY = [1, 16, 64] as const;

type Row = Record<string, string | number>;
type Running = {
  target: Target;
  client: ReturnType<typeof rawClient>;
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

/** Measures one cell on every server, `rounds` times, alternating servers between rounds. */
async function cell(servers: Running[], column: string, run: (s: Running, round: number) => Promise<Measured>) {
  for (let round = 0; round < rounds; round++) {
    for (const server of servers) {
      const cpuBefore = server.target.cpuSeconds();
      const { rate, ops } = await run(server, round);
      const cpuAfter = server.target.cpuSeconds();
      append(server.samples, column, rate);
      if (cpuBefore !== undefined && cpuAfter !== undefined)
        append(server.cpu, column, ((cpuAfter - cpuBefore) * 1e6) / ops);
    }
  }
  const summary = servers.map((s) => `${s.target.name} ${Math.round(median(s.samples.get(column) ?? []))}`);
  console.log(`${column}: ${summary.join(', ')}`);
}

function ratios(ours: Row, other: Row, label: string): Row {
  const row: Row = { ratio: label };
  for (const [column, value] of Object.entries(ours)) {
    const base = other[column];
    if (typeof value === 'number' && typeof base === 'number') row[column] = `${(value / base).toFixed(2)}×`;
  }
  return row;
}

const smallColumns = [...CONCURRENCY.flatMap((c) => [`PUT c${c}`, `GET c${c}`]), 'PUT c16 overwrite'];
const verdict = (r: Row, target: number) => {
  const missed = smallColumns.filter((c) => Number.parseFloat(String(r[c])) < target);
  return missed.length === 0 ? 'met in every small-object column' : `missed in ${missed.join(', ')}`;
};

const load = loadavg()[0]?.toFixed(1);
const small = randomBytes(4096);
const large = randomBytes(LARGE);
const names = (process.env.BENCH_TARGETS?.split(',') as TargetName[] | undefined) ?? [...TARGETS];
const servers: Running[] = [];
try {
  for (const name of names) {
    const target = await startTarget(name);
    const client = rawClient(target);
    servers.push({ target, client, samples: new Map(), cpu: new Map() });
    await client.send('PUT', `/${BUCKET}`);
  }
  for (const c of CONCURRENCY) {
    await cell(servers, `PUT c${c}`, (s, round) => smallPuts(s.client, c, seconds, small, round));
  }
  await cell(servers, 'PUT c16 overwrite', (s) => smallOverwrites(s.client, 16, seconds, small));
  for (const c of CONCURRENCY) await cell(servers, `GET c${c}`, (s) => smallGets(s.client, c, seconds));
  await cell(servers, 'PUT 256 MiB', (s, round) => largePut(s.client, `large-${round}`, large));
  await cell(servers, 'GET 256 MiB', (s, round) => largeGet(s.client, `large-${round}`, large.length));
  // What the SDK sends by default for a stream: aws-chunked with a CRC32 trailer, verified.
  const ours = servers.filter((s) => s.target.name.startsWith('ours'));
  await cell(ours, 'PUT 256 MiB, SDK defaults', async (s, round) => {
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
if (process.env.BENCH_TARGETS) process.exit(0); // a partial run writes no report

const [ours, s3rver, bare, oursNoSync] = rows as [Row, Row, Row, Row, Row];
const vsS3rver = ratios(ours, s3rver, 'ours / s3rver');
const vsBare = ratios(ours, bare, 'ours / bare');
const noSyncVsS3rver = ratios(oursNoSync, s3rver, 'ours-nosync / s3rver');
console.log(formatTable([vsS3rver, vsBare, noSyncVsS3rver]));
const loadAfter = loadavg()[0]?.toFixed(1);
const path = await writeReport(
  'server',
  'S3 server',
  `
4 KiB PUT and GET (ops/s) at concurrency 1, 16 and 64, 4 KiB PUTs that replace existing keys at
concurrency 16, and a 256 MiB PUT and GET (MB/s, MiB per second), against servers on 127.0.0.1,
each in its own process:

- **ours**: \`startServer\` over a \`FileStore\` in a temp dir: SigV4 checked, every write durable
  before the answer. A small body (declared length ≤ 1 MiB) is written with its header in one
  write to a temp file opened \`O_DSYNC\`; larger ones stream, then \`fdatasync\`. A new key is
  committed by \`link\` (no lock), an existing one by \`rename\` under the key's lock; then an
  fsync of the directory, shared by concurrent writers (docs/design/file-store.md).
- **s3rver**: npm \`s3rver\`, the usual JavaScript fake. It never fsyncs.
- **bare**: a \`node:http\` handler doing the same durable file work as ours with the same
  shortcuts (one \`O_DSYNC\` write for a small body, \`fdatasync\` for a streamed one, rename, the
  shared directory fsync; a GET of a small object answered from one 16 KiB read) and nothing
  else: no SigV4, no checks, no metadata. The ceiling.
- **ours-nosync**: ours over a FileStore that does not fsync: the durability s3rver offers, so
  the fair comparison with s3rver. **ours-memory**: ours over a MemoryStore, what HTTP, routing and
  SigV4 cost without any file work.

The client is the same for all: node:http with a keep-alive agent, every request signed by the AWS
SDK's SigV4 signer with \`UNSIGNED-PAYLOAD\`. (The full SDK client costs a few milliseconds of CPU
per request, which on this machine capped every server alike at a few hundred ops/s.) The last
column is ours through the full SDK with its default settings: aws-chunked framing with a CRC32
trailer, which the server verifies. Each number is the median of ${rounds} runs of about ${seconds} s
(one transfer for 256 MiB), the servers taking turns run by run. Load average ${load} when the run
started and ${loadAfter} when it ended, on a 2-core machine shared with other work (the client and
the server share the two cores, so a server that needs less CPU leaves more to the client):
compare numbers within one run only.

Run: \`npx tsx packages/bench/src/server.ts\` (\`BENCH_SECONDS\`, \`BENCH_ROUNDS\`).

${formatTable(rows)}

${formatTable([vsS3rver, vsBare, noSyncVsS3rver])}

Server CPU time per small-object operation (µs, user + system of the server process, threads
included; median of the runs). It moves far less with the machine's load than the rates do:

${formatTable(cpuRows)}

Targets: ours ≥ 5× s3rver in small-object ops/s — ${verdict(vsS3rver, 5)}; ours ≥ 70% of the bare
ceiling — ${verdict(vsBare, 0.7)}.
`,
);
console.log(`wrote ${path}`);
