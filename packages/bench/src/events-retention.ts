// The retention part of `npm run bench -- events` (alone: `npm run bench -- events retention`):
// N events of about 1 KiB on streams with maxCount or maxAge, most of them then hidden; storage
// before GC (the baseline: no retention), after two GC passes a grace period apart, and live
// (what reads still show needs). Counts objects, bytes and requests: independent of load.
import { EventStore } from '@bucketdb/events';
import { LogPaths, MIN_GRACE_MS } from '@bucketdb/log';
import { MemoryStore, Meter, metered, type ObjectStore } from '@bucketdb/store';

const PAYLOAD = 'x'.repeat(1000);
const STREAMS = 100;
const CALLERS = 64;
const CHECKPOINT_EVERY = 32;

type Row = Record<string, string | number>;

async function usage(store: ObjectStore): Promise<{ objects: number; bytes: number; sizes: Map<string, number> }> {
  const sizes = new Map<string, number>();
  for await (const e of store.list({ prefix: 'bench/' })) if (e.kind === 'object') sizes.set(e.key, e.size);
  return { objects: sizes.size, bytes: [...sizes.values()].reduce((a, b) => a + b, 0), sizes };
}

/**
 * Half the streams keep their newest 10 events (maxCount), half the events of the last hour
 * (maxAge); 80 % of the events are written two hours before the rest.
 */
export async function benchRetention(
  total = Number(process.env.EVENTS_RETENTION_EVENTS ?? 20_000),
): Promise<{ rows: Row[]; summary: string }> {
  const meter = new Meter();
  const store = metered(new MemoryStore('events-retention'), meter);
  // Starts at the real time: the GC compares checkpoint objects' lastModified (real) with this clock.
  const clock = { now: Date.now() };
  const events = await EventStore.open(store, {
    prefix: 'bench',
    checkpointEvery: CHECKPOINT_EVERY,
    wallClock: () => clock.now,
  });
  const streamOf = (i: number) => (i % 2 === 0 ? `count-${i % STREAMS}` : `age-${i % STREAMS}`);
  for (let s = 0; s < STREAMS; s++) {
    const stream = streamOf(s);
    await events.setStreamMetadata(stream, stream.startsWith('count') ? { maxCount: 10 } : { maxAgeMs: 3_600_000 });
  }
  const write = async (from: number, to: number) => {
    let next = from;
    await Promise.all(
      Array.from({ length: CALLERS }, async () => {
        while (next < to) {
          const i = next++;
          await events.append(streamOf(i), [{ type: 'E', data: { i, p: PAYLOAD } }]);
        }
      }),
    );
  };
  const old = Math.floor(total * 0.8);
  await write(0, old);
  clock.now += 2 * 3_600_000;
  await write(old, total);
  await events.checkpoint();

  const before = await usage(store);
  // Live: the records holding an event that reads still show, and the newest checkpoint's objects.
  const records = new Set<number>();
  let visible = 0;
  for await (const e of events.readAll()) {
    records.add(e.position.record);
    visible++;
  }
  const paths = new LogPaths('bench');
  const newest = Math.max(
    ...[...before.sizes.keys()].flatMap((k) => {
      const v = paths.checkpointObjectVersion(k);
      return v === undefined ? [] : [v];
    }),
  );
  let liveBytes = 0;
  let liveObjects = 0;
  for (const [key, size] of before.sizes) {
    const v = paths.recordVersion(key);
    if ((v !== undefined && records.has(v)) || paths.checkpointObjectVersion(key) === newest) {
      liveBytes += size;
      liveObjects++;
    }
  }

  meter.reset();
  const t0 = process.cpuUsage();
  const first = await events.gc({ graceMs: MIN_GRACE_MS });
  clock.now += MIN_GRACE_MS;
  const second = await events.gc({ graceMs: MIN_GRACE_MS });
  const cpu = process.cpuUsage(t0);
  const req = meter.snapshot().requests;
  const after = await usage(store);
  await events.close();

  const mib = (b: number) => `${(b / 2 ** 20).toFixed(2)} MiB`;
  const rows: Row[] = [
    {
      storage: 'before GC (no retention: the baseline)',
      objects: before.objects,
      bytes: mib(before.bytes),
      'vs live': `${(before.bytes / liveBytes).toFixed(2)}x`,
    },
    {
      storage: 'after two GC passes, a grace period apart',
      objects: after.objects,
      bytes: mib(after.bytes),
      'vs live': `${(after.bytes / liveBytes).toFixed(2)}x`,
    },
    {
      storage: 'live (records with a visible event, newest checkpoint)',
      objects: liveObjects,
      bytes: mib(liveBytes),
      'vs live': '1.00x',
    },
  ];
  const summary =
    `${total} events of about 1 KiB on ${STREAMS} streams (half maxCount 10, half maxAge 1 h; 80 % written 2 h ` +
    `before the rest), ${CALLERS} concurrent callers, a checkpoint every ${CHECKPOINT_EVERY} records; ` +
    `${visible} events still visible in ${records.size} records. GC: first pass raised the floor to ` +
    `${first.raisedFloor ?? 'nothing'} (first needed record ${first.neededFrom}, held by a ${first.neededBy}); the second, ` +
    `one grace period later, deleted ${second.deleted.records} records, ${second.deleted.manifests} manifests and ` +
    `${second.deleted.objects} checkpoint objects (${mib(second.deleted.bytes)}). The two passes took ` +
    `${req.get} GET, ${req.list} LIST, ${req.put} PUT, ${req.delete} DELETE and ` +
    `${((cpu.user + cpu.system) / 1e6).toFixed(2)} CPU s. GC deletes a prefix of the log: records after the first ` +
    `needed one stay even when every event in them is hidden.`;
  return { rows, summary };
}
