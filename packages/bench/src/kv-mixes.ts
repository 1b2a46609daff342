// The write mixes of the KV cost study (issue 11): requests per operation for every KV operation,
// counted by the meter and priced with the dated tables; a hot counter on the s3-standard latency
// model; TTL puts on the hashed layout with S3's per-prefix throttling modelled; monthly cost at
// read *and* write rates. Run: npm run bench -- kv-mixes   (writes docs/benchmarks/kv-mixes.md)
import { type KvStore, open } from '@bucketdb/kv';
import {
  cost,
  isStoreError,
  latency,
  MemoryStore,
  Meter,
  metered,
  type ObjectStore,
  S3_EXPRESS_ONE_ZONE_US_EAST_1,
  S3_STANDARD_US_EAST_1,
  type StoreCall,
  VirtualClock,
  WrappedStore,
} from '@bucketdb/store';
import { formatTable, writeReport } from './harness.js';
import { loadavg } from 'node:os';
import {
  DEDICATED_SERVER,
  DYNAMODB_ON_DEMAND,
  dynamoItemBytes,
  dynamoWriteUnits,
  SECONDS_PER_MONTH,
} from './kv-prices.js';

const LOAD_AT_START = loadavg()
  .map((l) => l.toFixed(1))
  .join(', ');
const N = 1000;
const VALUE = new Uint8Array(1024).fill(7);
const T0 = Date.UTC(2030, 0, 1);
const key = (i: number) => `user:${String(i).padStart(7, '0')}`;
const value = (i: number) => {
  const v = VALUE.slice();
  new DataView(v.buffer).setUint32(0, i);
  return v;
};

interface Mix {
  op: string;
  requests: Record<string, number>;
  standard: number;
  express: number;
  dynamo: string;
}

const perM = (usd: number) => (usd * 1e6) / N;
const mixes: Mix[] = [];
const clock = { now: T0 };

/** Runs `work` N times against a fresh metered KV store prepared by `setup`, and prices it. */
async function measure(
  op: string,
  dynamo: string,
  setup: (kv: KvStore) => Promise<void>,
  work: (kv: KvStore, i: number) => Promise<unknown>,
) {
  const meter = new Meter();
  const kv = await open(metered(new MemoryStore(), meter), {
    clock: () => clock.now,
    capabilities: { sortedList: true, startAfter: true, anyPrefix: true, conditionalDelete: true },
  });
  clock.now = T0;
  await setup(kv);
  meter.reset();
  for (let i = 0; i < N; i++) await work(kv, i);
  const snap = meter.snapshot();
  const requests = Object.fromEntries(
    Object.entries(snap.requests)
      .filter(([, n]) => n > 0)
      .map(([name, n]) => [name, n / N]),
  );
  mixes.push({
    op,
    requests,
    standard: perM(cost(snap, S3_STANDARD_US_EAST_1).total),
    express: perM(cost(snap, S3_EXPRESS_ONE_ZONE_US_EAST_1).total),
    dynamo,
  });
}

const wru = dynamoWriteUnits(dynamoItemBytes(12, 1024));
const dynWrite = `${(wru * DYNAMODB_ON_DEMAND.perMillionWriteUnits).toFixed(2)} (${wru} WRU)`;
const loadAll = async (kv: KvStore, ttl?: number) => {
  for (let i = 0; i < N; i++) await kv.put(key(i), value(i), ttl === undefined ? {} : { ttlSeconds: ttl });
};
await measure('get', '0.125 (1 RRU strong) / 0.0625 (eventual)', loadAll, (kv, i) => kv.get(key(i)));
await measure('put', dynWrite, loadAll, (kv, i) => kv.put(key(i), value(i + 1)));
await measure('put with ttlSeconds', `${dynWrite}; TTL deletes free`, loadAll, (kv, i) =>
  kv.put(key(i), value(i + 1), { ttlSeconds: 3600 }),
);
await measure(
  'put ifAbsent (new key)',
  dynWrite,
  async () => {},
  (kv, i) => kv.put(key(i), value(i), { ifAbsent: true }),
);
await measure('put ifVersion (CAS)', dynWrite, loadAll, async (kv, i) =>
  kv.put(key(i), value(i + 1), { ifVersion: (await kv.get(key(i)).then((e) => e?.version)) as string }),
);
await measure('update (no contention)', dynWrite, loadAll, (kv, i) => kv.update(key(i), () => value(i + 1)));
await measure('update, new ttlSeconds', dynWrite, loadAll, (kv, i) =>
  kv.update(key(i), () => value(i + 1), { ttlSeconds: 3600 }),
);
await measure(
  'sweep, per expired entry',
  'free (TTL deletes are not billed)',
  async (kv) => {
    await loadAll(kv, 60);
    clock.now = T0 + 61_000;
  },
  async (kv, i) => {
    if (i === 0) await kv.sweep();
  },
);
// The CAS row includes its own get (the version has to come from somewhere); show it apart.
const casRow = mixes.find((m) => m.op === 'put ifVersion (CAS)');
if (casRow) casRow.op = 'get + put ifVersion (CAS)';

// A hot counter: WORKERS clients incrementing one key on the s3-standard latency model.
const WORKERS = 8;
const INCREMENTS = 10;
const hotMeter = new Meter();
const hot = await open(metered(latency(new MemoryStore(), 's3-standard', { seed: 1 }), hotMeter));
await hot.put('counter', 0);
hotMeter.reset();
const started = performance.now();
await Promise.all(
  Array.from({ length: WORKERS }, async () => {
    for (let i = 0; i < INCREMENTS; i++)
      await hot.update('counter', (n) => ((n as number | undefined) ?? 0) + 1, { maxAttempts: 1000 });
  }),
);
const hotSeconds = (performance.now() - started) / 1000;
const hotSnap = hotMeter.snapshot();
const increments = WORKERS * INCREMENTS;

/** Counts 503 SlowDown answers by the first path segment of the key (d, h, and t for every marker prefix t/, t0/…tf/). */
class SlowDownCounter extends WrappedStore {
  readonly byPrefix: Record<string, { requests: number; slowDown: number }> = {};
  readonly markerPrefixes = new Set<string>();
  protected async around<T>(call: StoreCall, run: () => Promise<T>): Promise<T> {
    const segment = call.key.split('/')[0] ?? '';
    const marker = /^t[0-9a-f]?$/.test(segment);
    if (marker) this.markerPrefixes.add(segment);
    const prefix = marker ? 't' : segment;
    const counts = (this.byPrefix[prefix] ??= { requests: 0, slowDown: 0 });
    counts.requests++;
    try {
      return await run();
    } catch (error) {
      if (isStoreError(error, 'Throttled')) counts.slowDown++;
      throw error;
    }
  }
}

// TTL puts on the hashed layout with S3's starting per-prefix rates modelled (3,500 PUT/s each).
const TTL_PUTS = Number(process.env.KV_MIXES_TTL_PUTS ?? 20_000);
async function throttledTtlPuts(withTtl: boolean) {
  // Virtual time: the client on these shared cores cannot push 3,500 PUT/s in real time, and the
  // question is what S3's per-prefix limit does to the offered load, not how fast this machine is.
  const clock = new VirtualClock();
  const counter = new SlowDownCounter(latency(new MemoryStore(), 's3-standard', { seed: 2, throttle: true, clock }));
  const kv = await open(counter as ObjectStore, { layout: 'hashed' });
  await kv.put('warm-up', 1);
  let ok = 0;
  let failed = 0;
  let next = 0;
  const begin = clock.now();
  await Promise.all(
    Array.from({ length: 1024 }, async () => {
      while (next < TTL_PUTS) {
        const i = next++;
        try {
          await kv.put(key(i), value(i), withTtl ? { ttlSeconds: 3600 } : {});
          ok++;
        } catch {
          failed++;
        }
      }
    }),
  );
  const seconds = (clock.now() - begin) / 1000;
  return { ok, failed, seconds, byPrefix: counter.byPrefix, markerPrefixes: counter.markerPrefixes.size };
}
const ttlRun = await throttledTtlPuts(true);
const plainRun = await throttledTtlPuts(false);

const costOf = (name: string) => mixes.find((m) => m.op === name) as Mix;
const monthly = (reads: number, writes: number, perReadM: number, perWriteM: number, storage: number) =>
  storage + ((reads * perReadM + writes * perWriteM) * SECONDS_PER_MONTH) / 1e6;
const GBs = (500_000 * 1040) / 2 ** 30;
const rates: [number, number][] = [
  [1, 0.1],
  [10, 1],
  [10, 10],
  [100, 10],
  [100, 100],
  [1000, 100],
];
const dynStorage =
  ((500_000 * (dynamoItemBytes(12, 1024) + DYNAMODB_ON_DEMAND.itemOverheadBytes)) / 1e9) *
  DYNAMODB_ON_DEMAND.storagePerGBMonth;
const monthlyRows = rates.map(([r, w]) => ({
  'reads/s': r,
  'writes/s': w,
  'S3 Standard, plain puts': `$${monthly(r, w, costOf('get').standard, costOf('put').standard, GBs * S3_STANDARD_US_EAST_1.storagePerGBMonth).toFixed(2)}`,
  'S3 Standard, TTL puts': `$${monthly(r, w, costOf('get').standard, costOf('put with ttlSeconds').standard, GBs * S3_STANDARD_US_EAST_1.storagePerGBMonth).toFixed(2)}`,
  'S3 Express, plain puts': `$${monthly(r, w, costOf('get').express, costOf('put').express, GBs * S3_EXPRESS_ONE_ZONE_US_EAST_1.storagePerGBMonth).toFixed(2)}`,
  'DynamoDB on-demand, strong reads': `$${monthly(r, w, DYNAMODB_ON_DEMAND.perMillionReadUnits, wru * DYNAMODB_ON_DEMAND.perMillionWriteUnits, dynStorage).toFixed(2)}`,
  'dedicated server': `$${DEDICATED_SERVER.perMonth.toFixed(2)}`,
}));

const fmt = (n: number) => (n >= 1 ? n.toFixed(2) : n.toPrecision(3));
const body = `Run: \`npm run bench -- kv-mixes\` (load average at the start: ${LOAD_AT_START}; the hot counter's
rate moves with load, request counts and prices do not). Every KV operation below ran ${N} times against
\`metered(MemoryStore)\`; the meter counted the requests and priced them with the dated tables of
packages/store/src/prices.ts (S3 Standard and S3 Express One Zone, us-east-1, 2026-11-21, as in
kv.md). 1 KiB values. DynamoDB column: on-demand, $ per million, from kv-prices.ts.

## Requests and USD per million operations

${formatTable(
  mixes.map((m) => ({
    op: m.op,
    'requests per op': Object.entries(m.requests)
      .map(([name, n]) => `${fmt(n)} ${name.toUpperCase()}`)
      .join(' + '),
    'S3 Standard $/M': fmt(m.standard),
    'S3 Express $/M': fmt(m.express),
    'DynamoDB $/M': m.dynamo,
  })),
)}

(DELETE is free on both S3 classes; a LIST is a class-A request, priced like a PUT.)

## A hot counter (one key, ${WORKERS} clients, s3-standard latency model)

${increments} increments in ${hotSeconds.toFixed(1)} s: ${(increments / hotSeconds).toFixed(1)} increments/s,
${(hotSnap.requests.put / increments).toFixed(2)} PUTs and ${(hotSnap.requests.get / increments).toFixed(2)} GETs per increment
(failed conditional PUTs are billed too): $${fmt(perM((cost(hotSnap, S3_STANDARD_US_EAST_1).total * N) / increments))} per million increments on S3 Standard.
One key takes one conditional PUT at a time per round trip: contention turns extra clients into
retries, not throughput. Latency here is the profile's model (PUT p50 50 ms), not a measured S3.

## TTL puts on the hashed layout, per-prefix throttling modelled

${formatTable([
  { run: 'hashed layout, puts with ttlSeconds', ...ttlStats(ttlRun) },
  { run: 'hashed layout, plain puts (baseline)', ...ttlStats(plainRun) },
])}

TTL markers are named by expiry (so that sweeps and scans can stop early), which puts every new
marker at the end of one time-ordered range; they are spread over 16 prefixes \`t0/\`…\`tf/\` by the
key's hash, so TTL puts get 16 × 3,500 PUT/s instead of one prefix's 3,500 (before the spread, the
same run had 93 % of marker PUTs answered SlowDown). The price is LISTs: a sweep or keys-only scan
lists 17 prefixes (the 16 and the legacy \`t/\`) where it listed one, 17 LISTs per sweep at the
least. The throttling is the latency model's per-prefix token bucket at S3's starting rates, on
virtual time, 1024 puts in flight, not a measured S3. KV retries a throttled marker PUT internally (up to 6 attempts with
backoff), so SlowDown costs requests and time rather than failed puts, until the retries run out.

## Monthly cost with writes (500,000 keys of 1 KiB stored)

${formatTable(monthlyRows)}
`;
function ttlStats(run: Awaited<ReturnType<typeof throttledTtlPuts>>) {
  const t = run.byPrefix.t ?? { requests: 0, slowDown: 0 };
  const data = run.byPrefix.h ?? { requests: 0, slowDown: 0 };
  return {
    'puts ok': run.ok,
    'puts failed': run.failed,
    'successful puts/s (virtual time)': (run.ok / run.seconds).toFixed(0),
    'marker prefixes used': run.markerPrefixes,
    'marker requests': t.requests,
    'marker SlowDown share': `${((100 * t.slowDown) / Math.max(1, t.requests)).toFixed(1)}%`,
    'h/ SlowDown share': `${((100 * data.slowDown) / Math.max(1, data.requests)).toFixed(1)}%`,
  };
}
const path = await writeReport('kv-mixes', 'KV write mixes: requests, cost, hot keys and TTL throttling', body);
console.log(body);
console.log(`wrote ${path}`);
