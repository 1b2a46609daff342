import { setTimeout as sleep } from 'node:timers/promises';
import { runLeaseSwarm, TEST_CREDENTIALS, testBackendNames } from '@bucketdb/testkit';
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

// Processes share a store through a URL, which the memory backend cannot give. One backend keeps
// CI time modest: the S3 server over HTTP when it is tested, else files.
const available = testBackendNames();
const backends = available.includes('s3') ? ['s3' as const] : available.filter((name) => name === 'file');
if (backends.length === 0) it.skip('needs the file or s3 backend (BUCKETDB_TEST_BACKENDS leaves only memory)');

describe.each(backends)('leases from several processes with faults on %s', (backendName) => {
  const backend = useBackend(backendName);

  /**
   * Runs lease processes (lease-swarm.child.ts) with a sweeper in this process and checks their
   * merged history. `names` 1 and one loop each: every process contends for the same lease.
   */
  async function run(mix: 'lease' | 'put-if-absent' | 'both', acquisitions: number, names: number, loops: number) {
    const url = await backend.newStoreUrl();
    Object.assign(process.env, CHILD_ENV);
    await using sweeper = await open(url);
    const deadline = String(Date.now() + 90_000);
    const result = await runLeaseSwarm({
      worker: new URL('./lease-swarm.child.ts', import.meta.url),
      children: Array.from({ length: PROCESSES }, (_, i) => [
        url,
        mix,
        String(i + 1),
        String(acquisitions),
        String(names),
        String(loops),
        deadline,
      ]),
      env: CHILD_ENV,
      withoutFencing: (name) => name.startsWith('plain/'),
      alongside: async (signal) => {
        while (!signal.aborted) {
          await sweeper.sweep({ graceSeconds: 0 }).catch((error: unknown) => {
            if (typeof (error as { code?: unknown }).code !== 'string') throw error;
          });
          await sleep(5);
        }
      },
    });
    const acquired = result.summaries.reduce((n, s) => n + (s.acquisitions as number), 0);
    return { ...result, acquired };
  }

  it('kv.acquire on one lease: no two holders at once, fencing tokens only increase', async () => {
    const result = await run('lease', 8, 1, 1);
    expect(result.violations).toEqual([]);
    expect(result.acquired).toBeGreaterThan(PROCESSES);
  }, 180_000);

  it('put({ ifAbsent, ttlSeconds }) with constant bytes and a sweeper: no two holders at once', async () => {
    const result = await run('put-if-absent', 8, 1, 1);
    expect(result.violations).toEqual([]);
    expect(result.acquired).toBeGreaterThan(PROCESSES);
  }, 180_000);

  it('many short leases from several processes at once, with faults and a sweeper: each name held by one at a time', async () => {
    // 8 names (4 leases, 4 put-if-absent locks), 4 loops in each process.
    const result = await run('both', 30, 8, 4);
    expect(result.violations).toEqual([]);
    expect(result.acquired).toBeGreaterThan(20);
    expect(result.names).toBeGreaterThan(2);
  }, 180_000);
});
