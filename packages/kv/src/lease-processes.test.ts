import { setTimeout as sleep } from 'node:timers/promises';
import { checkLeaseHistory, type LeaseEvent } from '@bucketdb/store';
import { runTs, TEST_CREDENTIALS, testBackendNames } from '@bucketdb/testkit';
import { describe, expect, it } from 'vitest';
import { useBackend } from './fixtures/backend.js';
import { open } from './index.js';

/** s3:// URLs carry no credentials: children take the test server's from the environment. */
const CHILD_ENV = {
  AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
  AWS_REGION: 'us-east-1',
};
// Modest in CI; the ≥10,000-acquisition run is `npm run bench -- kv-leases` (docs/benchmarks/kv.md).
const PROCESSES = 3;
const ROUNDS = 30;

// Processes share a store through a URL, which the memory backend cannot give. One backend keeps
// CI time modest: the S3 server over HTTP when it is tested, else files.
const available = testBackendNames();
const backends = available.includes('s3') ? ['s3' as const] : available.filter((name) => name === 'file');
if (backends.length === 0) it.skip('needs the file or s3 backend (BUCKETDB_TEST_BACKENDS leaves only memory)');

describe.each(backends)('leases from several processes with faults on %s', (backendName) => {
  const backend = useBackend(backendName);

  /** Runs the workers (and a sweeper in this process) and returns their merged history. */
  async function run(mode: 'lease' | 'put-if-absent'): Promise<{ events: LeaseEvent[]; acquisitions: number }> {
    const url = await backend.newStoreUrl();
    Object.assign(process.env, CHILD_ENV);
    await using sweeper = await open(url);
    let running = true;
    const sweeping = (async () => {
      while (running) {
        await sweeper.sweep({ graceSeconds: 0 });
        await sleep(5);
      }
    })();
    const children = await Promise.all(
      Array.from({ length: PROCESSES }, (_, i) =>
        runTs(
          new URL('./lease-worker.child.ts', import.meta.url),
          [url, mode, String(i + 1), String(ROUNDS)],
          CHILD_ENV,
        ),
      ),
    );
    running = false;
    await sweeping;
    const events: LeaseEvent[] = [];
    let acquisitions = 0;
    for (const child of children) {
      expect(child.code, child.stderr).toBe(0);
      for (const line of child.stdout.trim().split('\n').filter(Boolean)) events.push(JSON.parse(line) as LeaseEvent);
      acquisitions += (JSON.parse(child.stderr.trim().split('\n').at(-1) as string) as { acquisitions: number })
        .acquisitions;
    }
    return { events, acquisitions };
  }

  it('kv.acquire: no two holders at once, fencing tokens only increase', async () => {
    const { events, acquisitions } = await run('lease');
    expect(checkLeaseHistory(events)).toEqual([]);
    expect(acquisitions).toBeGreaterThan(PROCESSES);
  }, 180_000);

  it('put({ ifAbsent, ttlSeconds }) with constant bytes and a sweeper: no two holders at once', async () => {
    const { events, acquisitions } = await run('put-if-absent');
    expect(checkLeaseHistory(events, { fencing: false })).toEqual([]);
    expect(acquisitions).toBeGreaterThan(PROCESSES);
  }, 180_000);
});
