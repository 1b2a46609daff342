import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startServer } from '@bucketdb/server';
import { crc32cIsNative, FileStore, S3Store } from '@bucketdb/store';
import { runTs, TEST_CREDENTIALS, tempDir } from '@bucketdb/testkit';
import { expect, it } from 'vitest';
import { seededBytes } from './fixtures/test-data.js';

const MiB = 1 << 20;

it(
  'holds at most about concurrency × part size while uploading, downloading and streaming a larger file',
  { timeout: 180_000 },
  async () => {
    await using dir = await tempDir('bucketdb-files-memory');
    const [size, partSize, concurrency] = [64 * MiB, 5 * MiB, 4];
    const result = await runTs(new URL('./memory.child.ts', import.meta.url), [
      `file://${join(dir.path, 'store')}`,
      dir.path,
      String(size),
      String(partSize),
      String(concurrency),
      'gc',
    ]);
    expect(result.stderr).toBe('');
    const peak = JSON.parse(result.stdout) as { arrayBuffers: number };
    // Live memory (garbage collected at every sample). A transfer that held the file whole would
    // need 64 MiB.
    expect(peak.arrayBuffers).toBeLessThanOrEqual(concurrency * partSize + 16 * MiB);
    expect((await stat(join(dir.path, 'big-copy'))).size).toBe(size);
    const head = (await readFile(join(dir.path, 'big-copy'))).subarray(0, 4 * MiB);
    expect(head.equals(seededBytes(4 * MiB, 'memory'))).toBe(true);
  },
);

it(
  'moves 1 GiB up and down through the S3 server within concurrency × part size + 64 MiB of RSS',
  { timeout: 300_000 },
  async () => {
    await using dir = await tempDir('bucketdb-files-memory-1g');
    // The server runs here, over a file store (no fsync: the disk's speed is not the question),
    // so the child's RSS is the client's alone.
    const server = await startServer({
      store: await FileStore.open(join(dir.path, 'server'), { sync: false }),
      host: '127.0.0.1',
      port: 0,
      users: [TEST_CREDENTIALS],
      quiet: true,
    });
    try {
      const bucket = new S3Store({
        bucket: 'memory',
        endpoint: server.url,
        region: 'us-east-1',
        credentials: TEST_CREDENTIALS,
      });
      await bucket.createBucket();
      await bucket.close();
      const [size, partSize, concurrency] = [1024 * MiB, 8 * MiB, 4];
      const result = await runTs(
        new URL('./memory.child.ts', import.meta.url),
        [
          `s3://memory/?endpoint=${encodeURIComponent(server.url)}`,
          dir.path,
          String(size),
          String(partSize),
          String(concurrency),
          'stream',
        ],
        { AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey },
      );
      expect(result.stderr).toBe('');
      const out = JSON.parse(result.stdout) as { rss: number; uploaded: number; downloaded: number; checkedBy: string };
      expect(out.uploaded).toBe(size);
      expect(out.downloaded).toBe(size);
      // Every byte of the download was checked against the CRC the upload stored.
      expect(out.checkedBy).toBe(crc32cIsNative ? 'crc32c' : 'crc32');
      expect(out.rss).toBeLessThanOrEqual(concurrency * partSize + 64 * MiB);
    } finally {
      await server.close();
    }
  },
);
