// `npm run bench -- events`: the event store on emulated S3 Standard and S3 Express (latency
// wrapper over memory, metered) against Redis Streams on 127.0.0.1 in the same run.
// Run: node --conditions=source --import tsx packages/bench/src/events.ts
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventStore } from '@bucketdb/events';
import { cost, latency, MemoryStore, Meter, metered, type ObjectStore, S3_STANDARD_US_EAST_1 } from '@bucketdb/store';
import { createClient } from '@redis/client';
import { benchRetention } from './events-retention.js';
import { formatTable, percentile, runConcurrent, writeReport } from './harness.js';
import { startRedis } from './kv-redis.js';

const PROFILES = ['s3-standard', 's3-express'] as const;
const PAYLOAD = 'x'.repeat(1000); // about 1 KiB of JSON per event
const SEQUENTIAL = 100;
const CONCURRENT_CLIENTS = 256;
const THROUGHPUT_EVENTS = Number(process.env.EVENTS_THROUGHPUT_EVENTS ?? 20_000);
const THROUGHPUT_SETUPS = [
  { callers: 256, perAppend: 1 },
  { callers: 1024, perAppend: 1 },
  { callers: 256, perAppend: 16 },
] as const;
/** Subscriber settings of the lag phase: the default first probe spacing, and a cheaper one. */
const POLL_MIN_MS = [10, 50];
/** How long the lag phase watches an idle subscriber, twice (settling, then counting). */
const IDLE_MS = 2000;
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

  // Throughput per process: what one PUT cycle can carry. One event per append from 256 callers
  // (the rate is bounded by 256 per PUT cycle), from 1024 callers (a record takes up to 1024
  // appends), and appends of 16 events from 256 callers, as Kinesis producers batch PutRecords.
  let usdPerMillion = 0;
  let fairPerPut = 0;
  for (const { callers, perAppend } of THROUGHPUT_SETUPS) {
    log(`${profile}: ${THROUGHPUT_EVENTS} events of 1 KiB, ${callers} callers, ${perAppend} per append`);
    const tp = await measureThroughput(events, meter, callers, perAppend);
    rows.push({
      profile,
      measure: `throughput, one process, ${callers} callers x ${perAppend} event${perAppend > 1 ? 's' : ''} per append`,
      p50: `${ms(tp.p50)} ms`,
      p99: `${ms(tp.p99)} ms`,
      note: `${tp.eventsPerSecond} events/s, ${tp.eventsPerPut} events per PUT, ${tp.cpuUsPerEvent} us CPU per event`,
    });
    if (perAppend > 1) {
      usdPerMillion = (cost(tp.snapshot, S3_STANDARD_US_EAST_1).requests / THROUGHPUT_EVENTS) * 1e6;
      fairPerPut = tp.eventsPerPut;
    }
  }

  for (const pollMinMs of POLL_MIN_MS) {
    log(`${profile}: subscription lag over ${LAG_EVENTS} events, pollMinMs ${pollMinMs}`);
    rows.push(...(await measureLag(profile, events, store, pollMinMs)));
  }

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
      'events per PUT': fairPerPut,
    },
  ];
  return { rows, usd: usdPerMillion, costRows };
}

/** Append start and acknowledgement to delivery on a subscriber in another client, and its GETs per hour idle and busy. */
async function measureLag(profile: string, events: EventStore, store: ObjectStore, pollMinMs: number): Promise<Row[]> {
  const readerMeter = new Meter();
  const reader = await EventStore.open(metered(store, readerMeter), { prefix: 'bench' });
  const sub = reader.subscribeToAll({ from: 'end', filter: { streamPrefix: 'lag' }, pollMinMs });
  const starts: number[] = [];
  const ackedAt: number[] = [];
  const delivered: [number, number][] = [];
  const reading = (async () => {
    for await (const e of sub) {
      delivered.push([(e.data as { i: number }).i, performance.now()]);
      if (delivered.length >= LAG_EVENTS) break;
    }
  })();
  await sub.started;
  // Idle first: the subscriber's GETs per hour when nothing is written.
  await new Promise((r) => setTimeout(r, IDLE_MS));
  readerMeter.reset();
  const i0 = performance.now();
  await new Promise((r) => setTimeout(r, IDLE_MS));
  const idleGetsPerHour = (readerMeter.snapshot().requests.get / (performance.now() - i0)) * 3_600_000;
  readerMeter.reset();
  const b0 = performance.now();
  for (let i = 0; i < LAG_EVENTS; i++) {
    starts[i] = performance.now();
    await events.append('lag', [{ type: 'E', data: { i } }]);
    ackedAt[i] = performance.now();
    await new Promise((r) => setTimeout(r, 20));
  }
  await reading;
  const busyMs = performance.now() - b0;
  const busyGetsPerHour = (readerMeter.snapshot().requests.get / busyMs) * 3_600_000;
  await sub.close();
  await reader.close();
  const fromStart = delivered.map(([i, t]) => t - (starts[i] as number));
  const fromAck = delivered.map(([i, t]) => t - (ackedAt[i] as number));
  const getUsd = S3_STANDARD_US_EAST_1.classBPer1000 / 1000;
  const perHour = (gets: number) => `${Math.round(gets)} GET per subscriber-hour ($${(gets * getUsd).toFixed(4)})`;
  return [
    {
      profile,
      measure: `end-to-end lag, append start to subscriber (in order), pollMinMs ${pollMinMs}`,
      p50: `${ms(percentile(fromStart, 50))} ms`,
      p99: `${ms(percentile(fromStart, 99))} ms`,
      note: `busy (one record per ${Math.round(busyMs / LAG_EVENTS)} ms): ${perHour(busyGetsPerHour)}`,
    },
    {
      profile,
      measure: `end-to-end lag, append acknowledged to subscriber, pollMinMs ${pollMinMs}`,
      p50: `${ms(percentile(fromAck, 50))} ms`,
      p99: `${ms(percentile(fromAck, 99))} ms`,
      note: `idle: ${perHour(idleGetsPerHour)}`,
    },
  ];
}

interface Throughput {
  eventsPerSecond: number;
  eventsPerPut: number;
  cpuUsPerEvent: number;
  p50: number;
  p99: number;
  snapshot: ReturnType<Meter['snapshot']>;
}

/** THROUGHPUT_EVENTS events of about 1 KiB from `callers` concurrent callers, `perAppend` per append. */
async function measureThroughput(
  events: EventStore,
  meter: Meter,
  callers: number,
  perAppend: number,
): Promise<Throughput> {
  meter.reset();
  const cpu0 = process.cpuUsage();
  const { latenciesMs, elapsedMs } = await runConcurrent(THROUGHPUT_EVENTS / perAppend, callers, (n) =>
    events.append(
      `t-${n % 100}`,
      Array.from({ length: perAppend }, (_, j) => ({ type: 'E', data: { i: n * perAppend + j, p: PAYLOAD } })),
    ),
  );
  const cpu = process.cpuUsage(cpu0);
  const snapshot = meter.snapshot();
  return {
    eventsPerSecond: Math.round(THROUGHPUT_EVENTS / (elapsedMs / 1000)),
    eventsPerPut: Math.round(THROUGHPUT_EVENTS / snapshot.requests.put),
    cpuUsPerEvent: Math.round((cpu.user + cpu.system) / THROUGHPUT_EVENTS),
    p50: percentile(latenciesMs, 50),
    p99: percentile(latenciesMs, 99),
    snapshot,
  };
}

/** The CPU limit: the same appends on a memory store without latency (one PUT cycle costs only CPU). */
async function benchCpu(): Promise<Row[]> {
  const meter = new Meter();
  const events = await EventStore.open(metered(new MemoryStore('events-cpu'), meter), { prefix: 'bench' });
  const rows: Row[] = [];
  for (const { callers, perAppend } of THROUGHPUT_SETUPS) {
    log(`memory, no latency: ${callers} callers, ${perAppend} per append`);
    const tp = await measureThroughput(events, meter, callers, perAppend);
    rows.push({
      profile: 'memory (no latency)',
      measure: `throughput, one process, ${callers} callers x ${perAppend} event${perAppend > 1 ? 's' : ''} per append`,
      p50: `${ms(tp.p50)} ms`,
      p99: `${ms(tp.p99)} ms`,
      note: `${tp.eventsPerSecond} events/s, ${tp.eventsPerPut} events per PUT, ${tp.cpuUsPerEvent} us CPU per event`,
    });
  }
  await events.close();
  return rows;
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
const rows: Row[] = await benchCpu();
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

Request cost of the batched throughput setup (256 callers x 16 events per append), from the meter (PUTs, GETs and LISTs at S3 Standard
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
