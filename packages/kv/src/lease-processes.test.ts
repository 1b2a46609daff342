import { setTimeout as sleep } from 'node:timers/promises';
import { checkLeaseHistory, type LeaseEvent } from '@bucketdb/store';
import { runLeaseSwarm, runTs, TEST_CREDENTIALS, testBackendNames } from '@bucketdb/testkit';
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

  it('many short leases from several processes at once, with faults and a sweeper: each name held by one at a time', async () => {
    const url = await backend.newStoreUrl();
    Object.assign(process.env, CHILD_ENV);
    await using sweeper = await open(url);
    const deadline = String(Date.now() + 90_000);
    const result = await runLeaseSwarm({
      worker: new URL('./lease-swarm.child.ts', import.meta.url),
      // 2 processes × 40 acquisitions over 8 names (4 leases, 4 put-if-absent locks), 4 loops each.
      children: [1, 2].map((seed) => [url, String(seed), '40', '8', '4', deadline]),
      env: CHILD_ENV,
      withoutFencing: (name) => name.startsWith('plain/'),
      alongside: async (signal) => {
        while (!signal.aborted) {
          await sweeper.sweep({ graceSeconds: 0 }).catch((error: unknown) => {
            if (typeof (error as { code?: unknown }).code !== 'string') throw error;
          });
          await sleep(10);
        }
      },
    });
    expect(result.violations).toEqual([]);
    const acquisitions = result.summaries.reduce((n, s) => n + (s.acquisitions as number), 0);
    expect(acquisitions).toBeGreaterThan(20);
    expect(result.names).toBeGreaterThan(2);
  }, 180_000);
});
