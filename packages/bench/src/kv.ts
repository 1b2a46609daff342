// The 500K-key study (issue 5): bucketdb KV on emulated S3 Standard and S3 Express One Zone,
// metered and priced, against Redis on 127.0.0.1 measured in the same run.
// Run: node --conditions=source --import tsx packages/bench/src/kv.ts
// Smaller: KV_BENCH_KEYS=20000 KV_BENCH_READS=20000 (same code, fewer operations).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesCodec, type Layout, open } from '@bucketdb/kv';
import { cost, isStoreError, latency, MemoryStore, Meter, metered, PRICE_TABLES, seededRandom } from '@bucketdb/store';
import { createClient } from '@redis/client';
import { formatTable, percentile, runConcurrent, writeReport } from './harness.js';
import { startRedis } from './kv-redis.js';
import { costReport, type MeasuredPhase, type ProfileCosts } from './kv-report.js';

const KEYS = Number(process.env.KV_BENCH_KEYS ?? 500_000);
const READS = Number(process.env.KV_BENCH_READS ?? 200_000);
const VALUE_BYTES = 1024;
const LOAD_CONCURRENCY = 256;
const READ_CONCURRENCIES = [64, 256];
const PROFILES = ['s3-standard', 's3-express'] as const;
const HOT_KEYS = 1000;
const THROTTLED_PUTS = Number(process.env.KV_BENCH_THROTTLED_PUTS ?? 100_000);
/** Enough in flight to ask for more than 3,500 PUT/s at S3 Standard's latency. */
const THROTTLED_CONCURRENCY = 1024;

const keyOf = (i: number) => `user:${String(i).padStart(7, '0')}`;
const base = new Uint8Array(VALUE_BYTES).map((_, i) => (i * 2654435761) >>> 24);
/** 1 KiB, different per key (so ETags differ, as real values would). */
function valueFor(i: number): Uint8Array {
  const value = base.slice();
  new DataView(value.buffer).setUint32(0, i);
  return value;
}

function phase(system: string, name: string, concurrency: number, run: { latenciesMs: number[]; elapsedMs: number }) {
  const ops = run.latenciesMs.length;
  return {
    system,
    name,
    ops,
    concurrency,
    p50: percentile(run.latenciesMs, 50),
    p95: percentile(run.latenciesMs, 95),
    p99: percentile(run.latenciesMs, 99),
    opsPerSecond: ops / (run.elapsedMs / 1000),
  };
}

async function benchS3(profile: (typeof PROFILES)[number]): Promise<{ phases: MeasuredPhase[]; costs: ProfileCosts }> {
  const meter = new Meter();
  const store = metered(latency(new MemoryStore(`kv-bench-${profile}`), profile, { seed: profile }), meter);
  await using kv = await open<Uint8Array>(store, { codec: bytesCodec });
  const prices = PRICE_TABLES[profile];
  const phases: MeasuredPhase[] = [];
  const perMillion = () => {
    const snap = meter.snapshot();
    meter.reset();
    return snap;
  };
  meter.reset();

  log(`${profile}: loading ${KEYS} keys at concurrency ${LOAD_CONCURRENCY}`);
  const load = await runConcurrent(KEYS, LOAD_CONCURRENCY, (i) => kv.put(keyOf(i), valueFor(i)));
  const loadUsage = perMillion();
  phases.push({ ...phase(profile, 'put', LOAD_CONCURRENCY, load), usage: loadUsage, cost: cost(loadUsage, prices) });

  for (const concurrency of READ_CONCURRENCIES) {
    const random = seededRandom(`${profile}-reads-${concurrency}`);
    log(`${profile}: ${READS} random gets at concurrency ${concurrency}`);
    const reads = await runConcurrent(READS, concurrency, async () => {
      const entry = await kv.get(keyOf(random.int(KEYS)));
      if (entry?.value.length !== VALUE_BYTES) throw new Error('a loaded key read back wrong');
    });
    const usage = perMillion();
    phases.push({ ...phase(profile, 'get', concurrency, reads), usage, cost: cost(usage, prices) });
  }
  // A hot set read through the local cache: each hit is a conditional GET answered "not modified".
  await using cached = await open<Uint8Array>(store, { codec: bytesCodec, cache: { maxEntries: HOT_KEYS } });
  const hot = seededRandom(`${profile}-hot`);
  meter.reset();
  log(`${profile}: ${READS} cached gets over ${HOT_KEYS} hot keys at concurrency ${READ_CONCURRENCIES[0]}`);
  const hits = await runConcurrent(READS, READ_CONCURRENCIES[0] as number, (i) =>
    cached.get(keyOf(i < HOT_KEYS ? i : hot.int(HOT_KEYS))),
  );
  const hitUsage = perMillion();
  phases.push({
    ...phase(profile, `get, cached (${HOT_KEYS} hot keys)`, READ_CONCURRENCIES[0] as number, hits),
    usage: hitUsage,
    cost: cost(hitUsage, prices),
  });
  const storedBytes = KEYS * VALUE_BYTES;
  return { phases, costs: { profile, prices, storedBytes } };
}

/**
 * S3's per-prefix request rate with throttling on: the ordered layout keeps every key under one
 * prefix, the hashed layout spreads them over 256. Counts the puts answered 503 SlowDown.
 */
async function benchThrottling(layout: Layout): Promise<Record<string, string | number>> {
  const store = latency(new MemoryStore(`kv-throttle-${layout}`), 's3-standard', { seed: layout, throttle: true });
  await using kv = await open<Uint8Array>(store, { codec: bytesCodec, layout });
  let slowDowns = 0;
  log(`throttled s3-standard, ${layout} layout: ${THROTTLED_PUTS} puts at concurrency ${THROTTLED_CONCURRENCY}`);
  const run = await runConcurrent(THROTTLED_PUTS, THROTTLED_CONCURRENCY, async (i) => {
    try {
      await kv.put(keyOf(i), valueFor(i));
    } catch (error) {
      if (!isStoreError(error, 'Throttled')) throw error;
      slowDowns++;
    }
  });
  const succeeded = THROTTLED_PUTS - slowDowns;
  return {
    layout,
    concurrency: THROTTLED_CONCURRENCY,
    'puts attempted': THROTTLED_PUTS,
    'answered 503 SlowDown': slowDowns,
    'SlowDown share': `${((100 * slowDowns) / THROTTLED_PUTS).toFixed(1)}%`,
    'successful puts/s': Math.round(succeeded / (run.elapsedMs / 1000)),
  };
}

async function benchRedis(): Promise<MeasuredPhase[]> {
  const dir = await mkdtemp(join(tmpdir(), 'bucketdb-kv-redis-'));
  const redis = await startRedis(dir);
  const client = createClient({ url: redis.url });
  await client.connect();
  const phases: MeasuredPhase[] = [];
  try {
    log(`redis: loading ${KEYS} keys at concurrency ${LOAD_CONCURRENCY}`);
    const load = await runConcurrent(KEYS, LOAD_CONCURRENCY, (i) => client.set(keyOf(i), Buffer.from(valueFor(i))));
    phases.push(phase('redis', 'put', LOAD_CONCURRENCY, load));
    for (const concurrency of READ_CONCURRENCIES) {
      const random = seededRandom(`redis-reads-${concurrency}`);
      const reads = await runConcurrent(READS, concurrency, async () => {
        const value = await client.get(keyOf(random.int(KEYS)));
        if (value === null) throw new Error('a loaded key is missing from Redis');
      });
      phases.push(phase('redis', 'get', concurrency, reads));
    }
  } finally {
    client.destroy();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return phases;
}

function log(message: string): void {
  process.stderr.write(`[kv bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

const results: MeasuredPhase[] = [];
const profileCosts: ProfileCosts[] = [];
for (const profile of PROFILES) {
  const { phases, costs } = await benchS3(profile);
  results.push(...phases);
  profileCosts.push(costs);
}
results.push(...(await benchRedis()));
const throttling = [await benchThrottling('ordered'), await benchThrottling('hashed')];

const latencyTable = formatTable(
  results.map((r) => ({
    system: r.system,
    op: r.name,
    ops: r.ops,
    concurrency: r.concurrency,
    'p50 ms': r.p50,
    'p95 ms': r.p95,
    'p99 ms': r.p99,
    'ops/s': Math.round(r.opsPerSecond),
  })),
);
const path = await writeReport(
  'kv',
  'KV: can S3 handle 500K keys cost-effectively?',
  costReport({
    keys: KEYS,
    reads: READS,
    valueBytes: VALUE_BYTES,
    latencyTable,
    throttlingTable: formatTable(throttling),
    results,
    profiles: profileCosts,
  }),
);
log(`wrote ${path}`);
