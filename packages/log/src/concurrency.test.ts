import { isStoreError, type ObjectStore } from '@bucketdb/store';
import {
  collect,
  openTestBackend,
  spawnTs,
  TEST_CREDENTIALS,
  type TestBackend,
  testBackendNames,
} from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommitLog } from './commit-log.js';
import { bytes, text } from './fixtures/deterministic.js';
import type { LogRecord } from './record.js';

/** The embedded test server's credentials, for s3:// URLs (the SDK reads them from the environment). */
const childEnv = {
  AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
  AWS_REGION: 'us-east-1',
};

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

/** Runs appender.child.ts and parses its JSON lines. */
async function runChild(args: string[]): Promise<unknown[]> {
  const child = await collect(spawnTs(new URL('./appender.child.ts', import.meta.url), args, childEnv));
  // stderr may hold the AWS SDK's Node version notice; a failure shows it here.
  expect({ code: child.code, stderr: child.code === 0 ? '' : child.stderr }).toEqual({ code: 0, stderr: '' });
  return child.stdout
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as unknown);
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
    const writers = 5;
    const perWriter = backendName === 's3' ? 6 : 12; // HTTP round trips are slow on a shared machine
    const results = await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        const log = await CommitLog.open(store);
        return [`c${w}`, await appendAll(log, `c${w}`, perWriter)] as const;
      }),
    );
    checkHistory(await readAll(store), new Map(results), perWriter);
  });

  // Processes share a store through its URL; a memory store lives in one process only.
  it.skipIf(backendName === 'memory')(
    'commits every record exactly once with several processes racing for slots (not on memory: one process only)',
    async () => {
      const url = await backend.newStoreUrl();
      const processes = 3;
      const perWriter = backendName === 's3' ? 8 : 15;
      const outputs = await Promise.all(
        Array.from({ length: processes }, (_, p) => runChild([url, 'append', `p${p}`, String(perWriter)])),
      );
      const writers = new Map(outputs.map((lines, p) => [`p${p}`, lines as Committed[]]));
      const records = (await runChild([url, 'dump'])) as (Committed & { entries: string[] })[];
      checkHistory(
        records.map((r) => ({ ...r, timestamp: 0, entries: r.entries.map(bytes) })),
        writers,
        perWriter,
      );
    },
  );
});
