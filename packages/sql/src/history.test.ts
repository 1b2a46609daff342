import { type ChildProcess } from 'node:child_process';
import { FileStore, MemoryStore } from '@bucketdb/store';
import { checkHistory, collect, type HistoryTxn, spawnTs, tempDir } from '@bucketdb/testkit';
import { afterEach, describe, expect, test } from 'vitest';
import { Database } from './database.js';
import { Engine } from './engine.js';
import {
  chaos,
  DEFAULT_WORKLOAD,
  finalRead,
  integrityFailures,
  runWorkload,
  setUpWorkload,
  type WorkloadOptions,
} from './fixtures/history-workload.js';

/**
 * The randomized history checker over the SQL engine: several handles in one process and several
 * processes, mixing DDL races, read-only transactions during in-flight commits, interactive
 * transactions, pipelined calls and store faults. Fixed seeds; every anomaly fails the test.
 */

async function inProcess(seed: number, handles: number, options: Partial<WorkloadOptions> = {}) {
  const inner = new MemoryStore();
  const o: WorkloadOptions = { ...DEFAULT_WORKLOAD, seed, origin: 1, ...options };
  const dbs = await Promise.all(
    Array.from({ length: handles }, async (_, i) => ({
      name: `h${i}`,
      db: await Database.create(chaos(inner, `${seed}/${i}`), {}),
    })),
  );
  await setUpWorkload(dbs[0]?.db as Database, o);
  const history = await runWorkload(dbs, o);
  const reader = await Database.create(inner, {});
  history.push(await finalRead(reader, o, 0));
  const integrity = await integrityFailures([...dbs, { name: 'reader', db: reader }]);
  await Promise.all([...dbs.map((h) => h.db.close()), reader.close()]);
  return { history, integrity };
}

describe('history checker on the SQL engine', () => {
  afterEach(() => {
    Engine.unsafeSkipValidation = false;
  });

  test.each([1, 2])(
    'several handles in one process, with faults (seed %i): no anomalies',
    async (seed) => {
      const { history, integrity } = await inProcess(seed, 4);
      const result = checkHistory(history);
      expect(result.anomalies).toEqual([]);
      expect(integrity).toEqual([]);
      // The run exercised what it claims to.
      expect(result.counts.ok).toBeGreaterThan(150);
      expect(result.counts.rw).toBeGreaterThan(0);
    },
    120_000,
  );

  test('has teeth: with read-set validation switched off it reports anomalies', async () => {
    Engine.unsafeSkipValidation = true;
    const { history } = await inProcess(3, 3, { listKeys: 4, registers: 2 });
    const types = new Set(checkHistory(history).anomalies.map((a) => a.type));
    expect(types.size).toBeGreaterThan(0);
    expect(
      [...types].some((t) => ['G2', 'G1c', 'G0', 'lost-write', 'realtime', 'incompatible-order'].includes(t)),
    ).toBe(true);
  }, 120_000);

  test('several processes, two handles each, on one file store: no anomalies', async () => {
    const dir = await tempDir('bucketdb-history');
    try {
      const o = { ...DEFAULT_WORKLOAD, workersPerHandle: 2, txnsPerWorker: 12 };
      const setup = await Database.create(await FileStore.open(dir.path), {});
      await setUpWorkload(setup, o);
      const children: ChildProcess[] = [1, 2, 3].map((p) =>
        spawnTs(new URL('./history.child.ts', import.meta.url), [
          dir.path,
          String(p),
          String(40 + p),
          JSON.stringify(o),
        ]),
      );
      const results = await Promise.all(children.map((c) => collect(c)));
      const history: HistoryTxn[] = [];
      const integrity: string[] = [];
      for (const r of results) {
        expect(r.code, r.stderr).toBe(0);
        const out = JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as {
          history: HistoryTxn[];
          integrity: string[];
        };
        history.push(...out.history);
        integrity.push(...out.integrity);
      }
      history.push(await finalRead(setup, o, 0));
      integrity.push(...(await integrityFailures([{ name: 'setup', db: setup }])));
      await setup.close();
      const result = checkHistory(history);
      expect(result.anomalies).toEqual([]);
      expect(integrity).toEqual([]);
      expect(result.counts.ok).toBeGreaterThan(60);
    } finally {
      await dir.remove();
    }
  }, 180_000);
});
