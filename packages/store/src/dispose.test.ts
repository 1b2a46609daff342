import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileStore } from './backends/file/file-store.js';
import { MemoryStore } from './backends/memory/memory-store.js';
import { S3Store } from './backends/s3/s3-store.js';
import { isStoreError } from './errors.js';
import type { ObjectStore } from './object-store.js';
import { chaos } from './wrappers/chaos/chaos.js';
import { latency } from './wrappers/latency/latency.js';
import { metered } from './wrappers/metered/metered.js';
import { VirtualClock } from './latency-clock.js';

async function closedAfterScope(open: () => Promise<ObjectStore> | ObjectStore): Promise<boolean> {
  let kept: ObjectStore;
  {
    await using store = await open();
    kept = store;
  }
  const error = await kept.head('k').catch((e: unknown) => e);
  return isStoreError(error, 'Closed');
}

describe('[Symbol.asyncDispose]', () => {
  it('closes every backend at the end of an `await using` scope', async () => {
    expect(await closedAfterScope(() => new MemoryStore())).toBe(true);
    // Never contacted: a closed S3Store refuses requests before sending them.
    const s3 = () =>
      new S3Store({
        bucket: 'b',
        endpoint: 'http://127.0.0.1:9',
        region: 'us-east-1',
        credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
      });
    expect(await closedAfterScope(s3)).toBe(true);
    const dir = await mkdtemp(join(tmpdir(), 'bucketdb-dispose-'));
    try {
      expect(await closedAfterScope(() => FileStore.open(dir))).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('closes a stack of wrappers and the store under them', async () => {
    const inner = new MemoryStore();
    expect(
      await closedAfterScope(() => metered(latency(chaos(inner), 's3-express', { clock: new VirtualClock() }))),
    ).toBe(true);
    expect(isStoreError(await inner.head('k').catch((e: unknown) => e), 'Closed')).toBe(true);
  });
});
