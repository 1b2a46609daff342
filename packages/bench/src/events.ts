// `npm run bench -- events`: the event store on emulated S3 Standard and S3 Express (latency
// wrapper over memory, metered) against Redis Streams on 127.0.0.1 in the same run.
// Run: node --conditions=source --import tsx packages/bench/src/events.ts
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventStore } from '@bucketdb/events';
import { cost, latency, MemoryStore, Meter, metered, S3_STANDARD_US_EAST_1 } from '@bucketdb/store';
import { createClient } from '@redis/client';
import { benchRetention } from './events-retention.js';
import { formatTable, percentile, runConcurrent, writeReport } from './harness.js';
import { startRedis } from './kv-redis.js';

const PROFILES = ['s3-standard', 's3-express'] as const;
const PAYLOAD = 'x'.repeat(1000); // about 1 KiB of JSON per event
const SEQUENTIAL = 100;
const CONCURRENT_CLIENTS = 256;
const THROUGHPUT_EVENTS = 20_000;
const LAG_EVENTS = 100;
const GROUP_EVENTS = 500;
const STREAMS = 1000;

/**
 * The interpretation below the tables, kept with the benchmark so a re-run keeps it; update its
 * numbers when they move.
 */
const NOTES = readFileSync(new URL('./events-notes.md', import.meta.url), 'utf8');

const log = (line: string) => process.stderr.write(`${line}\n`);
const ms = (n: number) => Math.round(n * 10) / 10;

type Row = Record<string, string | number>;

async function benchProfile(
  profile: (typeof PROFILES)[number],
): Promise<{ rows: Row[]; usd: number; costRows: Row[] }> {
  const meter = new Meter();
  const store = metered(latency(new MemoryStore(`events-${profile}`), profile, { seed: profile }), meter);
  const events = await EventStore.open(store, { prefix: 'bench' });
  const rows: Row[] = [];

  log(`${profile}: ${SEQUENTIAL} sequential appends`);
  const lat: number[] = [];
  meter.reset();
  for (let i = 0; i < SEQUENTIAL; i++) {
    const t0 = performance.now();
    await events.append('seq', [{ type: 'E', data: { i, p: PAYLOAD } }]);
    lat.push(performance.now() - t0);
  }
  const seqRequests = meter.snapshot().requests;
  rows.push({
    profile,
    measure: 'append latency, one writer, one at a time',
    p50: `${ms(percentile(lat, 50))} ms`,
    p99: `${ms(percentile(lat, 99))} ms`,
    note: `${(seqRequests.put / SEQUENTIAL).toFixed(2)} PUT, ${(seqRequests.get / SEQUENTIAL).toFixed(2)} GET per append`,
  });

  log(`${profile}: ${THROUGHPUT_EVENTS} appends of 1 KiB from ${CONCURRENT_CLIENTS} concurrent callers`);
  meter.reset();
  const { latenciesMs: tLat, elapsedMs } = await runConcurrent(THROUGHPUT_EVENTS, CONCURRENT_CLIENTS, (i) =>
    events.append(`t-${i % 100}`, [{ type: 'E', data: { i, p: PAYLOAD } }]),
  );
  const elapsed = elapsedMs / 1000;
  const tp = meter.snapshot();
  rows.push({
    profile,
    measure: `throughput, one process, ${CONCURRENT_CLIENTS} callers (group commit)`,
    p50: `${ms(percentile(tLat, 50))} ms`,
    p99: `${ms(percentile(tLat, 99))} ms`,
    note: `${Math.round(THROUGHPUT_EVENTS / elapsed)} events/s, ${(THROUGHPUT_EVENTS / tp.requests.put).toFixed(0)} events per PUT`,
  });
  const usdPerMillion = (cost(tp, S3_STANDARD_US_EAST_1).requests / THROUGHPUT_EVENTS) * 1e6;

  log(`${profile}: subscription lag over ${LAG_EVENTS} events`);
  const reader = await EventStore.open(store, { prefix: 'bench' });
  const sub = reader.subscribeToAll({ from: 'end', filter: { streamPrefix: 'lag' } });
  const lags: number[] = [];
  const reading = (async () => {
    for await (const e of sub) {
      lags.push(performance.now() - (e.data as { t: number }).t);
      if (lags.length >= LAG_EVENTS) break;
    }
  })();
  await sub.started;
  meter.reset();
  for (let i = 0; i < LAG_EVENTS; i++) {
    await events.append('lag', [{ type: 'E', data: { t: performance.now() } }]);
    await new Promise((r) => setTimeout(r, 20));
  }
  await reading;
  await sub.close();
  rows.push({
    profile,
    measure: 'end-to-end lag, append start to subscriber (in order)',
    p50: `${ms(percentile(lags, 50))} ms`,
    p99: `${ms(percentile(lags, 99))} ms`,
    note: 'default polling: 10 to 200 ms, capped at a quarter of the gap between records',
  });
  await reader.close();

  log(`${profile}: consumer group, ${GROUP_EVENTS} events acked by one member`);
  await events.createGroup('bench-group', { filter: { streamPrefix: 'grp' }, from: 'end' });
  for (let i = 0; i < GROUP_EVENTS; i += 10) {
    await events.append(
      `grp-${i % 7}`,
      Array.from({ length: 10 }, (_, j) => ({ type: 'E', data: { i: i + j } })),
    );
  }
  meter.reset();
  const g0 = performance.now();
  const member = events.subscribeToGroup('bench-group', { memberId: 'bench', pollMaxMs: 20 });
  let acked = 0;
  const acks: Promise<void>[] = [];
  for await (const e of member) {
    acks.push(e.ack());
    if (++acked >= GROUP_EVENTS) break;
  }
  await Promise.all(acks);
  const groupMs = performance.now() - g0;
  await member.close();
  const gReq = meter.snapshot().requests;
  const groupUsd = (cost(meter.snapshot(), S3_STANDARD_US_EAST_1).requests / GROUP_EVENTS) * 1e6;
  rows.push({
    profile,
    measure: `consumer group: ${GROUP_EVENTS} events delivered and acked, one member`,
    p50: '',
    p99: '',
    note: `${Math.round((GROUP_EVENTS / groupMs) * 1000)} events/s; ${(gReq.put / GROUP_EVENTS).toFixed(3)} PUT + ${(gReq.get / GROUP_EVENTS).toFixed(3)} GET per event = $${groupUsd.toFixed(2)} per million`,
  });

  log(`${profile}: cold read of one stream among ${STREAMS}`);
  const many = await EventStore.open(store, { prefix: 'many', checkpointEvery: 64 });
  let k = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (k < STREAMS * 5) {
        const i = k++;
        await many.append(`stream-${i % STREAMS}`, [{ type: 'E', data: { i } }]);
      }
    }),
  );
  await many.close();
  const cold = await EventStore.open(store, { prefix: 'many' });
  meter.reset();
  const c0 = performance.now();
  let got = 0;
  for await (const _ of cold.readStream('stream-123')) got++;
  const coldMs = performance.now() - c0;
  const coldReq = meter.snapshot().requests;
  meter.reset();
  const s0 = performance.now();
  let scanned = 0;
  for await (const e of cold.readAll()) if (e.stream === 'stream-123') scanned++;
  const scanMs = performance.now() - s0;
  const scanReq = meter.snapshot().requests;
  await cold.close();
  if (got !== 5 || scanned !== 5) throw new Error(`cold read found ${got} and ${scanned} events, not 5`);
  rows.push({
    profile,
    measure: `cold read of one stream (5 events) among ${STREAMS}`,
    p50: `${ms(coldMs)} ms`,
    p99: '',
    note: `${coldReq.get} GET + ${coldReq.list} LIST; scanning $all instead: ${ms(scanMs)} ms, ${scanReq.get} GET (${(scanMs / coldMs).toFixed(1)}x slower)`,
  });
  await events.close();
  const costRows: Row[] = [
    {
      profile,
      'USD per million 1 KiB events (S3 Standard request prices)': usdPerMillion.toFixed(3),
      'events per PUT': (THROUGHPUT_EVENTS / tp.requests.put).toFixed(0),
    },
  ];
  return { rows, usd: usdPerMillion, costRows };
}

async function benchRedis(): Promise<Row[]> {
  const dir = await mkdtemp(join(tmpdir(), 'bucketdb-events-redis-'));
  const redis = await startRedis(dir);
  const client = createClient({ url: redis.url });
  const reader = createClient({ url: redis.url });
  await client.connect();
  await reader.connect();
  const rows: Row[] = [];
  try {
    const lat: number[] = [];
    for (let i = 0; i < SEQUENTIAL; i++) {
      const t0 = performance.now();
      await client.xAdd('seq', '*', { i: String(i), p: PAYLOAD });
      lat.push(performance.now() - t0);
    }
    rows.push({
      profile: 'redis streams',
      measure: 'XADD latency, one at a time',
      p50: `${ms(percentile(lat, 50))} ms`,
      p99: `${ms(percentile(lat, 99))} ms`,
      note: 'appendfsync everysec',
    });
    const { latenciesMs: tLat, elapsedMs } = await runConcurrent(THROUGHPUT_EVENTS, CONCURRENT_CLIENTS, (i) =>
      client.xAdd(`t-${i % 100}`, '*', { i: String(i), p: PAYLOAD }),
    );
    const elapsed = elapsedMs / 1000;
    rows.push({
      profile: 'redis streams',
      measure: `throughput, ${CONCURRENT_CLIENTS} concurrent XADDs`,
      p50: `${ms(percentile(tLat, 50))} ms`,
      p99: `${ms(percentile(tLat, 99))} ms`,
      note: `${Math.round(THROUGHPUT_EVENTS / elapsed)} events/s`,
    });
    const lags: number[] = [];
    const reading = (async () => {
      let last = '$';
      while (lags.length < LAG_EVENTS) {
        const res = (await reader.xRead({ key: 'lag', id: last }, { BLOCK: 1000 })) as
          { messages: { id: string; message: Record<string, string> }[] }[] | null;
        for (const m of res?.[0]?.messages ?? []) {
          lags.push(performance.now() - Number(m.message.t));
          last = m.id;
        }
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < LAG_EVENTS; i++) {
      await client.xAdd('lag', '*', { t: String(performance.now()) });
      await new Promise((r) => setTimeout(r, 20));
    }
    await reading;
    rows.push({
      profile: 'redis streams',
      measure: 'end-to-end lag, XADD to XREAD BLOCK',
      p50: `${ms(percentile(lags, 50))} ms`,
      p99: `${ms(percentile(lags, 99))} ms`,
      note: '',
    });
  } finally {
    client.destroy();
    reader.destroy();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}

if (process.argv[2] === 'retention') {
  // `npm run bench -- events retention`: the retention run alone, printed, no report.
  const retention = await benchRetention();
  process.stdout.write(`${formatTable(retention.rows)}\n\n${retention.summary}\n`);
  process.exit(0);
}
log('retention: events with maxCount / maxAge, then GC');
const retention = await benchRetention();
const rows: Row[] = [];
const costRows: Row[] = [];
for (const profile of PROFILES) {
  const r = await benchProfile(profile);
  rows.push(...r.rows);
  costRows.push(...r.costRows);
}
let redisNote = '';
try {
  rows.push(...(await benchRedis()));
} catch (error) {
  redisNote = `Redis Streams baseline skipped: ${(error as Error).message}`;
  log(redisNote);
}
const table = formatTable(rows);
process.stdout.write(`${table}\n\n${formatTable(costRows)}\n`);
const path = await writeReport(
  'events',
  'Event store: append latency, group-commit throughput, subscription lag, cold reads, cost',
  `Command: \`npm run bench -- events\`. The event store runs on an in-memory store behind the
latency wrapper (emulated S3 Standard and S3 Express One Zone, seeded) and the request meter;
Redis Streams runs as redis-server on 127.0.0.1 in the same run (the baseline). Events carry about
1 KiB of JSON. The numbers are from one run on a shared machine: compare ratios, not absolutes.

${table}

${redisNote}

Request cost of the throughput phase, from the meter (PUTs, GETs and LISTs at S3 Standard
us-east-1 request prices, ${S3_STANDARD_US_EAST_1.asOf}, ${S3_STANDARD_US_EAST_1.source.split(',')[0]}):

${formatTable(costRows)}

## Retention: storage reclaimed by GC

In-memory store behind the request meter (objects, bytes and requests do not depend on the
machine's load). \`npm run bench -- events retention\` runs this part alone
(\`EVENTS_RETENTION_EVENTS\`, default 20000, sets N).

${formatTable(retention.rows)}

${retention.summary}

${NOTES}
`,
);
log(`wrote ${path}`);
