/**
 * The S3 server benchmark (issue 3): 4 KiB PUT and GET ops/s at concurrency 1, 16 and 64, and
 * 256 MiB PUT/GET MB/s, for our server over a FileStore, for s3rver, and for a bare node:http
 * handler doing the same file work (the ceiling); the same client for all, each server in its
 * own process. Run: `npx tsx packages/bench/src/server.ts` (BENCH_SECONDS per cell, default 3;
 * BENCH_TARGETS=ours,bare for a partial run without a report; BENCH_PROFILE=<dir> for CPU
 * profiles of the servers). Writes docs/benchmarks/server.md.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { formatTable, writeReport } from './harness.js';
import { startTarget, TARGETS, type TargetName } from './server-targets.js';
import {
  BUCKET,
  largeGet,
  largePut,
  largeSdkPut,
  rawClient,
  sdkClient,
  smallGets,
  smallPuts,
} from './server-workloads.js';

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const LARGE = 256 * 1024 * 1024;
const CONCURRENCY = [1, 16, 64] as const;

type Row = Record<string, string | number>;

async function measure(name: TargetName, small: Uint8Array, large: Buffer): Promise<Row> {
  const target = await startTarget(name);
  const client = rawClient(target);
  try {
    await client.send('PUT', `/${BUCKET}`);
    const row: Row = { server: name };
    for (const c of CONCURRENCY) {
      row[`PUT c${c}`] = Math.round(await smallPuts(client, c, seconds, small));
      console.log(`${name}: 4 KiB PUT c${c}: ${row[`PUT c${c}`]} ops/s`);
    }
    for (const c of CONCURRENCY) {
      row[`GET c${c}`] = Math.round(await smallGets(client, c, seconds));
      console.log(`${name}: 4 KiB GET c${c}: ${row[`GET c${c}`]} ops/s`);
    }
    row['PUT 256 MiB'] = await largePut(client, 'large', large);
    row['GET 256 MiB'] = await largeGet(client, 'large', large.length);
    console.log(`${name}: 256 MiB PUT ${row['PUT 256 MiB']} MB/s, GET ${row['GET 256 MiB']} MB/s`);
    if (name.startsWith('ours')) {
      // What the SDK sends by default for a stream: aws-chunked with a CRC32 trailer, verified.
      const sdk = sdkClient(target);
      row['PUT 256 MiB, SDK defaults'] = await largeSdkPut(sdk, 'large-crc', large);
      sdk.destroy();
    }
    return row;
  } finally {
    client.close();
    await target.stop();
  }
}

function ratios(ours: Row, other: Row, label: string): Row {
  const row: Row = { ratio: label };
  for (const [column, value] of Object.entries(ours)) {
    const base = other[column];
    if (typeof value === 'number' && typeof base === 'number') row[column] = `${(value / base).toFixed(2)}×`;
  }
  return row;
}

const smallColumns = CONCURRENCY.flatMap((c) => [`PUT c${c}`, `GET c${c}`]);
const verdict = (r: Row, target: number) => {
  const missed = smallColumns.filter((c) => Number.parseFloat(String(r[c])) < target);
  return missed.length === 0 ? 'met in every small-object column' : `missed in ${missed.join(', ')}`;
};

const load = loadavg()[0]?.toFixed(1);
const small = randomBytes(4096);
const large = randomBytes(LARGE);
const only = process.env.BENCH_TARGETS?.split(',') as TargetName[] | undefined;
const rows: Row[] = [];
for (const name of only ?? TARGETS) rows.push(await measure(name, small, large));
console.log(formatTable(rows));
if (only) process.exit(0); // a partial run writes no report

const [ours, s3rver, bare] = rows as [Row, Row, Row, Row];
const vsS3rver = ratios(ours, s3rver, 'ours / s3rver');
const vsBare = ratios(ours, bare, 'ours / bare');
console.log(formatTable([vsS3rver, vsBare]));
const path = await writeReport(
  'server',
  'S3 server',
  `
4 KiB PUT and GET (ops/s) at concurrency 1, 16 and 64, and one 256 MiB PUT and GET (MB/s, MiB per
second), against servers on 127.0.0.1, each in its own process: **ours** (\`startServer\` over a
\`FileStore\` in a temp dir: SigV4 checked, fsync before the answer), **s3rver** (npm \`s3rver\`,
the usual JavaScript fake) and **bare** (a \`node:http\` handler doing the same file work as
FileStore — temp file, fsync, rename, fsync of the directory; reading the file back — and nothing
else: the ceiling). **ours-memory** is our server over a MemoryStore: what HTTP, routing and SigV4
cost without file work.

The client is the same for all: node:http with a keep-alive agent, every request signed by the
AWS SDK's SigV4 signer with \`UNSIGNED-PAYLOAD\`. (The full SDK client costs a few milliseconds of
CPU per request, which on this machine capped every server alike at a few hundred ops/s.) The last
column is ours through the full SDK with its default settings: aws-chunked framing with a CRC32
trailer, which the server verifies. About ${seconds} s per cell; load average ${load} when the run
started, on a machine shared with other work — compare numbers within one run.

Run: \`npx tsx packages/bench/src/server.ts\` (\`BENCH_SECONDS\` sets the seconds per cell).

${formatTable(rows)}

${formatTable([vsS3rver, vsBare])}

Targets: ours ≥ 5× s3rver in small-object ops/s — ${verdict(vsS3rver, 5)}; ours ≥ 70% of the bare
ceiling — ${verdict(vsBare, 0.7)}.
`,
);
console.log(`wrote ${path}`);
