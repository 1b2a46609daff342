import { publishedCheckpoints } from '@bucketdb/log';
import { MemoryStore } from '@bucketdb/store';
import { expect, test, vi } from 'vitest';
import { Database } from './database.js';
import { collectGarbage } from './gc.js';
import type { OpenOptions } from './options.js';

const GRACE = 60_000;
const RETENTION = 120_000;

/** Writes `n` single-row commits. */
async function commits(db: Database, n: number, from = 0): Promise<void> {
  for (let i = 0; i < n; i++) await db.run('insert into t(v) values (?)', [`r${from + i}`]);
}

function setup() {
  // Checkpoint manifests carry the real time (the log's clock): start there.
  let now = Date.now();
  const clock = () => now;
  const options: OpenOptions = {
    checkpointEveryRecords: 0,
    segmentPages: 8,
    chunkBytes: 4096,
    retention: RETENTION,
    gcGrace: GRACE,
    clock,
    maintenanceEveryMs: 0,
  };
  /** Two GC passes a grace period apart, after the retention window passed: the old floor's garbage goes. */
  const collect = async (store: MemoryStore) => {
    now = Math.max(now, Date.now()) + RETENTION + 1;
    await collectGarbage(store, { retention: RETENTION, grace: GRACE, clock });
    now += GRACE + 1;
    return collectGarbage(store, { retention: RETENTION, grace: GRACE, clock });
  };
  return { options, collect, advance: (ms: number) => (now += ms) };
}

test('a long-lived reader moves to newer checkpoints, so GC can delete what it read before', async () => {
  const { options, collect } = setup();
  const store = new MemoryStore('maintain');
  await using writer = await Database.create(store, options);
  await writer.exec('create table t(id integer primary key, v text)');
  await using reader = await Database.create(store, { ...options, prefetchBelowBytes: 0, cacheBytes: 16_384 });
  await commits(writer, 20);
  const first = await writer.checkpoint();
  expect(await reader.get('select count(*) n from t')).toEqual({ n: 20 });
  expect(reader.stats().checkpointVersion ?? -1).toBeLessThan(first);
  expect((await reader.maintain()).checkpointVersion).toBe(first);
  expect(reader.stats()).toMatchObject({ checkpointVersion: first, recordsSinceCheckpoint: 0 });

  await commits(writer, 20, 20);
  const second = await writer.checkpoint();
  await reader.refresh();
  await reader.maintain();
  expect(reader.stats().checkpointVersion).toBe(second);
  // Everything below the second checkpoint is collected; the reader reads only what is retained.
  const report = await collect(store);
  expect(report.effectiveFloor).toBe(second);
  expect(report.deleted.records).toBeGreaterThan(30);
  expect((await publishedCheckpoints(store)).map((c) => c.version)).toEqual([second]);
  expect(await reader.get('select count(*) n, max(id) m from t')).toEqual({ n: 40, m: 40 });
  expect(await reader.get('pragma integrity_check')).toEqual({ integrity_check: 'ok' });
});

test('an idle handle whose next records were collected jumps to the newest checkpoint', async () => {
  const { options, collect } = setup();
  const store = new MemoryStore('collected');
  await using writer = await Database.create(store, options);
  await writer.exec('create table t(id integer primary key, v text)');
  await commits(writer, 5);
  await using idle = await Database.create(store, options);
  expect(await idle.get('select count(*) n from t')).toEqual({ n: 5 });
  await commits(writer, 30, 5);
  await writer.checkpoint();
  await commits(writer, 3, 35);
  await writer.checkpoint();
  const report = await collect(store);
  expect(report).toMatchObject({ effectiveFloor: 39, deleted: { records: 38 } });
  // Its next slot is gone: the strong read's tail check meets Collected and the handle rebases.
  expect(await idle.get('select count(*) n, max(id) m from t')).toEqual({ n: 38, m: 38 });
  expect(idle.version).toBe(39);
  expect(idle.stats().rebases).toBe(1);
  await idle.run("insert into t(v) values ('after the jump')");
  expect(await writer.get('select count(*) n from t')).toEqual({ n: 39 });
});

test('the maintenance timer moves a handle to newer checkpoints and runs automatic GC when due', async () => {
  const store = new MemoryStore('timer');
  await using writer = await Database.create(store, { checkpointEveryRecords: 0, maintenanceEveryMs: 0 });
  await writer.exec('create table t(id integer primary key, v text)');
  await using reader = await Database.create(store, { maintenanceEveryMs: 20, autoGc: true, gcEveryMs: 0 });
  await commits(writer, 10);
  const v = await writer.checkpoint();
  await reader.refresh();
  await vi.waitFor(() => expect(reader.stats().checkpointVersion).toBe(v), { timeout: 60_000, interval: 20 });
  await vi.waitFor(() => expect(reader.lastGc?.report).toBeDefined(), { timeout: 60_000, interval: 20 });
  expect(reader.lastMaintenanceError).toBeUndefined();
}, 120_000);
