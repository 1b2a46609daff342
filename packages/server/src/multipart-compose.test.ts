import { randomBytes } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { FileStore, seededRandom } from '@bucketdb/store';
import { type TempDir, tempDir } from '@bucketdb/testkit-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyBytes, startWithBuckets, type TestServer } from './fixtures/harness.js';

const MiB = 1024 * 1024;
const Bucket = 'compose';
let dir: TempDir;
let t: TestServer;
let s3: S3Client;
beforeAll(async () => {
  dir = await tempDir('bucketdb-server-compose');
  ({ t, s3 } = await startWithBuckets([Bucket, 'versioned'], { store: await FileStore.open(dir.path) }));
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: 'versioned', VersioningConfiguration: { Status: 'Enabled' } }),
  );
});
afterAll(async () => {
  await t.close();
  await dir.remove();
});

async function upload(bucket: string, key: string, parts: Buffer[]) {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const Parts = [];
  for (const [i, Body] of parts.entries()) {
    const { ETag } = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: i + 1, Body }),
    );
    Parts.push({ PartNumber: i + 1, ETag });
  }
  return s3.send(
    new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts } }),
  );
}

async function get(bucket: string, key: string, options: { Range?: string; VersionId?: string } = {}) {
  return bodyBytes((await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...options }))).Body);
}

const blobDirs = () => readdir(join(dir.path, 'blobs'));

/** Bytes in the FileStore's object files: a composed object's file is its header alone. */
async function objectFileBytes(): Promise<number> {
  let total = 0;
  const root = join(dir.path, 'objects');
  for (const name of await readdir(root, { recursive: true })) {
    const info = await stat(join(root, String(name)));
    if (info.isFile()) total += info.size;
  }
  return total;
}

describe('CompleteMultipartUpload on a FileStore (parts kept in place, not copied)', () => {
  it('serves any range across the parts, with no second copy of the bytes', async () => {
    const seed = Date.now();
    const random = seededRandom(seed);
    const rand = (n: number) => random.int(n);
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB + 3), randomBytes(1234)];
    await upload(Bucket, 'big', parts);
    const whole = Buffer.concat(parts);
    expect((await get(Bucket, 'big')).equals(whole)).toBe(true);
    for (let i = 0; i < 12; i++) {
      // Ranges ending near a part boundary cross it half the time.
      const boundary = [5 * MiB, 10 * MiB + 3][rand(2)] as number;
      const first = boundary - 1 - rand(100_000);
      const last = Math.min(whole.length - 1, boundary + rand(100_000));
      const got = await get(Bucket, 'big', { Range: `bytes=${first}-${last}` });
      expect(got.equals(whole.subarray(first, last + 1)), `seed ${seed}: ${first}-${last}`).toBe(true);
    }
    expect(await objectFileBytes()).toBeLessThan(MiB);
    expect(await blobDirs()).toHaveLength(1);
  });

  it('removes the parts when the object is overwritten or deleted', async () => {
    await upload(Bucket, 'k', [randomBytes(5 * MiB), randomBytes(10)]);
    const before = (await blobDirs()).length;
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'small' }));
    expect(await blobDirs()).toHaveLength(before - 1);
    await upload(Bucket, 'k', [randomBytes(5 * MiB), randomBytes(10)]);
    await upload(Bucket, 'k', [randomBytes(5 * MiB), randomBytes(20)]);
    expect(await blobDirs()).toHaveLength(before);
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k' }));
    expect(await blobDirs()).toHaveLength(before - 1);
  });

  it('keeps every version of a versioned key readable', async () => {
    const v1 = [randomBytes(5 * MiB), randomBytes(100)];
    const v2 = [randomBytes(5 * MiB), randomBytes(200)];
    const first = await upload('versioned', 'v', v1);
    const second = await upload('versioned', 'v', v2);
    expect((await get('versioned', 'v')).equals(Buffer.concat(v2))).toBe(true);
    const old = await get('versioned', 'v', { VersionId: first.VersionId as string });
    expect(old.equals(Buffer.concat(v1))).toBe(true);
    await s3.send(new DeleteObjectCommand({ Bucket: 'versioned', Key: 'v', VersionId: second.VersionId as string }));
    expect((await get('versioned', 'v')).equals(Buffer.concat(v1))).toBe(true);
  });
});
