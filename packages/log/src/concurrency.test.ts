import { isStoreError, type ObjectStore } from '@bucketdb/store';
import { collect, openTestBackend, spawnTs, type TestBackend, testBackendNames } from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommitLog } from './commit-log.js';
import { bytes, text } from './fixtures/deterministic.js';
import { openStoreUrl } from './fixtures/open-store-url.js';
import type { LogRecord } from './record.js';

interface Committed {
  version: number;
  commitId: string;
}

/** A caught-up writer's loop: catch up, try the next slot, until `count` records are committed. */
async function appendAll(log: CommitLog, label: string, count: number): Promise<Committed[]> {
  const committed: Committed[] = [];
  for (let i = 0; i < count; i++) {
    for (;;) {
      try {
        await log.catchUp();
        const outcome = await log.tryAppend([bytes(`${label}:${i}`)], log.version + 1);
        if (outcome.committed) {
          committed.push({ version: outcome.version, commitId: outcome.commitId });
          break;
        }
      } catch (error) {
        if (!isStoreError(error) || !error.retryable) throw error;
      }
    }
  }
  return committed;
}

/** Every committed record is in the log exactly once, at the slot its writer was told, with no gaps. */
function checkHistory(records: LogRecord[], writers: Map<string, Committed[]>, perWriter: number): void {
  const total = writers.size * perWriter;
  expect(records.map((r) => r.version)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  const claimed = [...writers.values()].flat().sort((a, b) => a.version - b.version);
  expect(claimed).toEqual(records.map((r) => ({ version: r.version, commitId: r.commitId })));
  for (const [label, committed] of writers) {
    expect(committed).toHaveLength(perWriter);
    const mine = records.filter((r) => committed.some((c) => c.version === r.version));
    // Each writer's records hold its own entries, in its own order.
    expect(mine.map((r) => text(r.entries[0] as Uint8Array))).toEqual(
      Array.from({ length: perWriter }, (_, i) => `${label}:${i}`),
    );
  }
}

async function readAll(store: ObjectStore): Promise<LogRecord[]> {
  return (await CommitLog.open(store)).catchUp();
}

describe.each(testBackendNames())('concurrent appenders on %s', (backendName) => {
  let backend: TestBackend;
  beforeAll(async () => {
    backend = await openTestBackend(backendName);
  });
  afterAll(async () => {
    await backend?.close();
  });

  it('commits every record exactly once with several clients racing for slots', async () => {
    const store = await backend.newStore();
    const writers = 6;
    const perWriter = 20;
    const results = await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const log = await CommitLog.open(store);
        return [`c${w}`, await appendAll(log, `c${w}`, perWriter)] as const;
      }),
    );
    checkHistory(await readAll(store), new Map(results), perWriter);
  });

  it.skipIf(backendName === 'memory' || !openStoreUrl)(
    'commits every record exactly once with several processes racing for slots',
    async () => {
      const url = await backend.newStoreUrl();
      const processes = 3;
      const perWriter = 15;
      const children = Array.from({ length: processes }, (_, p) =>
        collect(spawnTs(new URL('./appender.child.ts', import.meta.url), [url, `p${p}`, String(perWriter)])),
      );
      const writers = new Map<string, Committed[]>();
      for (const [p, child] of (await Promise.all(children)).entries()) {
        expect(child.stderr).toBe('');
        expect(child.code).toBe(0);
        const lines = child.stdout.trim().split('\n');
        writers.set(
          `p${p}`,
          lines.map((line) => JSON.parse(line) as Committed),
        );
      }
      const store = await (openStoreUrl as (url: string) => Promise<ObjectStore>)(url);
      try {
        checkHistory(await readAll(store), writers, perWriter);
      } finally {
        await store.close();
      }
    },
  );
});
