import type { CostBreakdown, MeterSnapshot, PriceTable } from '@bucketdb/store';
import { formatTable } from './harness.js';
import {
  crossoverReadsPerSecond,
  DEDICATED_SERVER,
  DYNAMODB_ON_DEMAND,
  dynamoItemBytes,
  dynamoReadUnits,
  dynamoWriteUnits,
  type LinearCost,
  monthlyCost,
} from './kv-prices.js';

export interface MeasuredPhase {
  system: string;
  name: string;
  ops: number;
  concurrency: number;
  p50: number;
  p95: number;
  p99: number;
  opsPerSecond: number;
  /** What the meter saw during the phase (S3 runs only). */
  usage?: MeterSnapshot;
  cost?: CostBreakdown;
}

export interface ProfileCosts {
  profile: string;
  prices: PriceTable;
  storedBytes: number;
}

export interface KvReportInput {
  keys: number;
  reads: number;
  valueBytes: number;
  latencyTable: string;
  throttlingTable: string;
  results: MeasuredPhase[];
  profiles: ProfileCosts[];
}

const GiB = 2 ** 30;
const KEY_BYTES = 'user:0000000'.length;
const usd = (n: number) => (n >= 100 ? `$${n.toFixed(0)}` : n >= 1 ? `$${n.toFixed(2)}` : `$${n.toPrecision(2)}`);
const rate = (n: number | undefined) =>
  n === undefined ? 'never' : n === 0 ? 'always' : n < 1 ? `${n.toPrecision(2)} reads/s` : `${Math.round(n)} reads/s`;

/** The Markdown body of docs/benchmarks/kv.md: measurements, the meter's costs, and the cost model. */
export function costReport(input: KvReportInput): string {
  const { keys, reads, valueBytes, results } = input;
  const s3Phases = results.filter((r) => r.usage && r.cost);
  const meterTable = formatTable(
    s3Phases.map((r) => {
      const usage = r.usage as MeterSnapshot;
      const c = r.cost as CostBreakdown;
      const requests = Object.values(usage.requests).reduce((a, b) => a + b, 0);
      return {
        profile: r.system,
        op: `${r.name} (c=${r.concurrency})`,
        ops: r.ops,
        'requests/op': requests / r.ops,
        'MB in/out': `${(usage.bytesIn / 1e6).toFixed(0)} / ${(usage.bytesOut / 1e6).toFixed(0)}`,
        'USD/M ops: requests': (c.requests / r.ops) * 1e6,
        'USD/M ops: per-GB': (c.transfer / r.ops) * 1e6,
        'USD/M ops: total': (c.total / r.ops) * 1e6,
      };
    }),
    4,
  );

  // Per-operation prices from the meter, per profile.
  const perOp = input.profiles.map((p) => {
    const put = s3Phases.find((r) => r.system === p.profile && r.name === 'put') as MeasuredPhase;
    const get = s3Phases.filter((r) => r.system === p.profile && r.name === 'get').at(-1) as MeasuredPhase;
    const cachedGet = s3Phases.find((r) => r.system === p.profile && r.name.startsWith('get, cached'));
    return {
      ...p,
      perPut: (put.cost as CostBreakdown).total / put.ops,
      perGet: (get.cost as CostBreakdown).total / get.ops,
      perCachedGet: cachedGet ? (cachedGet.cost as CostBreakdown).total / cachedGet.ops : undefined,
      storagePerMonth: (p.storedBytes / GiB) * p.prices.storagePerGBMonth,
    };
  });
  const item = dynamoItemBytes(KEY_BYTES, valueBytes);
  const dynamo = {
    perPut: (dynamoWriteUnits(item) * DYNAMODB_ON_DEMAND.perMillionWriteUnits) / 1e6,
    perStrongGet: (dynamoReadUnits(item, true) * DYNAMODB_ON_DEMAND.perMillionReadUnits) / 1e6,
    perEventualGet: (dynamoReadUnits(item, false) * DYNAMODB_ON_DEMAND.perMillionReadUnits) / 1e6,
    storagePerMonth:
      ((keys * (item + DYNAMODB_ON_DEMAND.itemOverheadBytes)) / GiB) * DYNAMODB_ON_DEMAND.storagePerGBMonth,
  };
  const systems: LinearCost[] = [
    ...perOp.map((p) => ({ name: p.prices.name, fixedPerMonth: p.storagePerMonth, perRead: p.perGet })),
    {
      name: 'DynamoDB on-demand, strongly consistent reads',
      fixedPerMonth: dynamo.storagePerMonth,
      perRead: dynamo.perStrongGet,
    },
    {
      name: 'DynamoDB on-demand, eventually consistent reads',
      fixedPerMonth: dynamo.storagePerMonth,
      perRead: dynamo.perEventualGet,
    },
    { name: `Dedicated server (${DEDICATED_SERVER.name})`, fixedPerMonth: DEDICATED_SERVER.perMonth, perRead: 0 },
  ];
  const rates = [0, 1, 10, 100, 1000, 10_000];
  const monthlyTable = formatTable(
    systems.map((s) => ({
      system: s.name,
      ...Object.fromEntries(rates.map((r) => [`${r} reads/s`, usd(monthlyCost(s, r))])),
    })),
  );
  const [standard, express] = systems as [LinearCost, LinearCost];
  const crossoverTable = formatTable(
    systems.slice(2).flatMap((other) =>
      [standard, express].map((s3) => {
        const otherWinsAbove = crossoverReadsPerSecond(s3, other);
        const s3WinsAbove = crossoverReadsPerSecond(other, s3);
        return {
          'S3 class': s3.name,
          'compared with': other.name,
          'S3 is cheaper': describeWin(s3WinsAbove, otherWinsAbove),
        };
      }),
    ),
  );
  const oneTimeLoad = formatTable([
    ...perOp.map((p) => ({
      system: p.prices.name,
      [`load ${keys} keys`]: usd(p.perPut * keys),
      'per M writes': usd(p.perPut * 1e6),
    })),
    {
      system: `DynamoDB on-demand (${dynamoWriteUnits(item)} WRU per ${item}-byte item)`,
      [`load ${keys} keys`]: usd(dynamo.perPut * keys),
      'per M writes': usd(dynamo.perPut * 1e6),
    },
  ]);
  const server = results.filter((r) => r.system === 'redis');
  // Latency claims use the lowest read concurrency: at 256 in flight one Node process on two shared
  // cores queues requests itself, and the percentiles measure that queue as much as the store.
  const s3Get = (profile: string) => results.find((r) => r.system === profile && r.name === 'get');
  const serverGet = server.find((r) => r.name === 'get');
  const standardVsDynamo = crossoverReadsPerSecond(systems[2] as LinearCost, standard);
  const std = perOp[0];
  const exp = perOp[1];
  const serverVsStandard = crossoverReadsPerSecond(standard, systems.at(-1) as LinearCost);
  const serverVsExpress = crossoverReadsPerSecond(express, systems.at(-1) as LinearCost);

  return `
Run: \`node --conditions=source --import tsx packages/bench/src/kv.ts\` (${keys} keys of ${valueBytes} bytes,
${reads} uniformly random gets per read row). The S3 rows are bucketdb's \`KvStore\` (ordered layout, bytes codec,
no cache) over \`metered(latency(MemoryStore, profile))\`: every request waits a first-byte latency drawn from the
profile's log-normal distribution (s3-standard: GET p50 30 / p99 200 ms, PUT p50 50 / p99 300 ms; s3-express:
GET 3 / 8 ms, PUT 5 / 9 ms; see docs/design/store-wrappers.md), and the meter counts each request and byte and
prices them from the dated tables in packages/store/src/wrappers/metered/prices.ts. The MemoryStore behind the wrapper stands for
S3's servers: what is measured is the client, the library and the per-request latency, not S3's internals, and
per-prefix throttling is off (S3 starts a prefix at 3,500 PUT / 5,500 GET per second and splits hot prefixes over
time; the \`hashed\` layout spreads keys over 256 prefixes from the start). The Redis rows are redis-server 7 from
Debian on 127.0.0.1 (append-only file, fsync every second), driven by the same harness through @redis/client:
the dedicated-server baseline, measured in the same run on the same 2 shared cores.

**Which numbers are modelled.** Every S3 latency figure below is the emulation's configured model (the profile's
distributions above, plus queueing in the client), not a measurement of Amazon S3; the throttling rows are the
model's per-prefix token bucket at S3's documented starting rates. Request counts and prices are exact (counted
by the meter, priced from dated tables). The Redis rows are real measurements on this machine.

## Latency and throughput

${input.latencyTable}

Percentiles above the profile's own (s3-express is configured with a 3 ms p50 and 8 ms p99) are time spent
queued inside the one Node client process on two cores shared with other work; the rows at 64 in flight are the
closer measure of the store, the rows at 256 of what one client process can push.

Throttling on (S3's starting per-prefix rates, 503 SlowDown above them; no retries, so each 503 is counted):

${input.throttlingTable}

The ordered layout puts every key under one prefix, so a fresh bucket caps it at 3,500 PUT/s (5,500 GET/s)
until S3 splits the prefix; the hashed layout starts with 256 prefixes and gives up ordered scans for it.

## Requests and cost per million operations (from the meter)

${meterTable}

One KV put is one PUT and one KV get is one GET: no manifest, no index, no extra round trip. That holds for plain
puts and gets only; the write mixes users have cost more, counted by the meter in
[kv-mixes.md](kv-mixes.md) (\`npm run bench -- kv-mixes\`): a TTL put is 2 PUTs (marker + value); \`update\` is a GET
and a conditional PUT (and a second PUT with a new TTL); \`put({ ifVersion })\` is a HEAD and a PUT; a hot key under
contention pays for failed conditional PUTs too; \`sweep\` costs a HEAD per expired entry. Since issue 11 every
value also carries its 16-byte write id (so versions never repeat). S3 Express One Zone's per-GB upload and retrieval charges are
included in "per-GB"; at 1 KiB they add about ${usd(((exp?.prices.uploadPerGB ?? 0) * 1024 * 1e6) / GiB)} per million puts and
${usd(((exp?.prices.retrievalPerGB ?? 0) * 1024 * 1e6) / GiB)} per million gets.

## What 500K keys cost

Storage per month: ${perOp.map((p) => `${p.prices.name} ${usd(p.storagePerMonth)}`).join('; ')}; DynamoDB
${usd(dynamo.storagePerMonth)} (${item}-byte items plus 100 bytes of per-item overhead; the 25 GB/month free tier
would make it $0, free tiers are left out everywhere).

${oneTimeLoad}

Monthly cost by read rate (storage plus reads **only**; the dedicated server is flat and its capacity on this
machine is the Redis row above, far beyond 10,000 reads/s). Writes change the picture: at 10 reads/s and 1 write/s
S3 Standard costs more than DynamoDB on-demand (each write is $5 per million on S3 against $1.25 for 2 WRUs);
[kv-mixes.md](kv-mixes.md) tabulates monthly cost at read *and* write rates, plain and TTL puts:

${monthlyTable}

Where each wins (break-even read rates, reads only: with any steady write rate the S3 Standard break-evens
against DynamoDB move lower still, since an S3 PUT costs 4× a 1 KiB DynamoDB write):

${crossoverTable}

Prices: ${perOp.map((p) => `${p.prices.name}, as of ${p.prices.asOf}: ${p.prices.source}`).join('. ')}.
${DYNAMODB_ON_DEMAND.name}, as of ${DYNAMODB_ON_DEMAND.asOf}: ${DYNAMODB_ON_DEMAND.source}. ${DEDICATED_SERVER.name},
as of ${DEDICATED_SERVER.asOf}: ${DEDICATED_SERVER.source} (${usd(DEDICATED_SERVER.perMonth)}/month; a replica for
availability doubles it).

## Answer

**Yes, for storage and light traffic; no, as a hot-path database.** Holding ${keys.toLocaleString('en-US')} keys of ${valueBytes} bytes costs
${usd(std?.storagePerMonth ?? 0)} a month on S3 Standard and loading them ${usd((std?.perPut ?? 0) * keys)} once. Every read is a GET at
${usd((std?.perGet ?? 0) * 1e6)} per million, ${((std?.perGet ?? 0) / dynamo.perStrongGet).toFixed(1)}× DynamoDB's strongly consistent read, and
every write a PUT at ${usd((std?.perPut ?? 0) * 1e6)} per million, ${((std?.perPut ?? 0) / dynamo.perPut).toFixed(1)}× DynamoDB's ${dynamoWriteUnits(item)}-WRU write: S3 Standard
is cheaper than DynamoDB on-demand only while storage is nearly all of the bill (${describeWin(standardVsDynamo, crossoverReadsPerSecond(standard, systems[2] as LinearCost))}), and cheaper
than one dedicated server ${describeWin(crossoverReadsPerSecond(systems.at(-1) as LinearCost, standard), serverVsStandard)} on average. Latency is the other price: at
${s3Get('s3-standard')?.concurrency} in flight, gets measured p50 ${s3Get('s3-standard')?.p50.toFixed(0)} ms / p99 ${s3Get('s3-standard')?.p99.toFixed(0)} ms on the s3-standard profile against
${serverGet?.p50.toFixed(2)} ms / ${serverGet?.p99.toFixed(2)} ms for Redis on localhost. (The rows at 256 in flight show the single Node client
saturating two shared cores: its own queue, not the store, sets their percentiles, Redis's included.)

S3 Express One Zone changes the picture for reads: ${usd((exp?.perGet ?? 0) * 1e6)} per million gets including its per-GB
retrieval charge, below DynamoDB's eventually consistent read, with gets at p50 ${s3Get('s3-express')?.p50.toFixed(1)} ms / p99 ${s3Get('s3-express')?.p99.toFixed(1)} ms; it is cheaper than a dedicated
server ${describeWin(crossoverReadsPerSecond(systems.at(-1) as LinearCost, express), serverVsExpress)}. Its writes (${usd((exp?.perPut ?? 0) * 1e6)} per million) cost more than
DynamoDB's single-WRU writes would but less than the ${dynamoWriteUnits(item)} WRUs a 1 KiB value actually takes. It is a single
Availability Zone: the durability and availability trade-off is the caller's.

Features are not free everywhere. On the read path a get is one GET; on the write path compare-and-swap adds a
HEAD, TTL a PUT, \`update\` a GET (see kv-mixes.md). TTL markers are named by expiry, so they would all land at
the end of one time-ordered prefix; they are spread over 16 prefixes (\`t0/\`…\`tf/\`, by key hash), which keeps TTL
puts on the hashed layout free of SlowDown on the throttling model (93 % of marker PUTs were throttled when they
shared one prefix; kv-mixes.md) at the price of 17 LISTs per sweep instead of one. **S3 Express One Zone does not give the full feature set**:
directory buckets list keys unsorted, refuse \`StartAfter\`, take only prefixes ending in \`/\` and return ETags
that are not MD5s. KV detects this (docs/design/kv.md, "Capabilities"): ordered scans fail with \`Unsupported\`
there; unordered scans, \`count\` and the TTL index still work but list everything under the enclosing \`/\` prefix
(cost follows the store's size, not what is asked or due); versions no longer depend on MD5 ETags. For ordered
scans and cheap TTL sweeps use a general-purpose bucket (S3 Standard). These restrictions can be met on a laptop:
\`bucketdb server --emulate s3-express\` (and \`emulate(store, 's3-express')\` in @bucketdb/store) applies them, with
ETags that are not MD5s, and KV's tests run through it with the AWS SDK. The S3 Express rows above ran gets and
puts only (which directory buckets allow) on the latency model without these rules. A local cache (\`cache: true\`) turns a
repeated get into a conditional GET that transfers no body (measured above: the "get, cached" rows move only the
first read of each hot key): on S3 Express that leaves ${usd((exp?.perCachedGet ?? 0) * 1e6)} per million cached gets against
${usd((exp?.perGet ?? 0) * 1e6)} uncached; on S3 Standard the request is still billed (${usd((std?.perCachedGet ?? 0) * 1e6)} per million).
`;
}

function describeWin(s3WinsAbove: number | undefined, otherWinsAbove: number | undefined): string {
  if (s3WinsAbove === 0) return 'at every read rate';
  if (otherWinsAbove === 0) return 'never';
  if (otherWinsAbove !== undefined) return `below ${rate(otherWinsAbove)}`;
  if (s3WinsAbove !== undefined) return `above ${rate(s3WinsAbove)}`;
  return 'never';
}
