import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type TempDir, tempDir } from '@bucketdb/testkit-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirSyncs } from './dir-syncs.js';

let dir: TempDir;
beforeEach(async () => {
  dir = await tempDir('bucketdb-dir-syncs');
});
afterEach(() => dir.remove());

describe('DirSyncs', () => {
  it('answers every caller of a burst, in waves that keep going after the burst', async () => {
    const syncs = new DirSyncs();
    const a = join(dir.path, 'a');
    const b = join(dir.path, 'b');
    await mkdir(a);
    await mkdir(b);
    for (let wave = 0; wave < 3; wave++) {
      const calls = Array.from({ length: 50 }, (_, i) => syncs.sync(i % 2 === 0 ? a : b));
      await expect(Promise.all(calls)).resolves.toHaveLength(50);
    }
  });

  it('fails the callers of a directory that is gone, and syncs it again once it is back', async () => {
    const syncs = new DirSyncs();
    const gone = join(dir.path, 'gone');
    await mkdir(gone);
    await syncs.sync(gone);
    await rm(gone, { recursive: true });
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => syncs.sync(gone)));
    for (const result of results) {
      expect(result.status).toBe('rejected');
      expect((result as PromiseRejectedResult).reason.code).toBe('ENOENT');
    }
    await mkdir(gone);
    await expect(syncs.sync(gone)).resolves.toBeUndefined();
  });
});
