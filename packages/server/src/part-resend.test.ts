import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListPartsCommand,
  type S3Client,
  UploadPartCommand,
  type UploadPartCommandOutput,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyBytes, failure, startWithBuckets, type TestServer } from './fixtures/harness.js';
import { paths } from './paths.js';

// "Resend first finishes last": a client re-sends a part while its first copy is still in flight,
// and the first copy arrives last. As in S3, the last upload of a part number to complete is the
// part; Complete takes whole parts only, never bytes of two uploads of one part.

const MiB = 1024 * 1024;
const Bucket = 'resend';
let t: TestServer;
let s3: S3Client;
beforeAll(async () => {
  ({ t, s3 } = await startWithBuckets([Bucket]));
});
afterAll(() => t.close());

/** UploadPart of `bytes` whose body stops half-way until `release()` is called. */
function heldUpload(Key: string, UploadId: string, bytes: Buffer) {
  const body = new PassThrough();
  body.write(bytes.subarray(0, bytes.length / 2));
  const done = s3.send(
    new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: body, ContentLength: bytes.length }),
  );
  return { done, release: () => body.end(bytes.subarray(bytes.length / 2)) };
}

async function start(Key: string) {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ChecksumAlgorithm: 'CRC32' }));
  return UploadId as string;
}

const completeWith = (Key: string, UploadId: string, parts: UploadPartCommandOutput[]) =>
  s3.send(
    new CompleteMultipartUploadCommand({
      Bucket,
      Key,
      UploadId,
      MultipartUpload: {
        Parts: parts.map((p, i) => ({ PartNumber: i + 1, ETag: p.ETag, ChecksumCRC32: p.ChecksumCRC32 })),
      },
    }),
  );

describe('a part re-sent while its first copy is in flight', () => {
  it('the copy that completes last is the part, with its checksum; the earlier one is InvalidPart', async () => {
    const Key = 'late-first';
    const UploadId = await start(Key);
    const firstBytes = randomBytes(5 * MiB);
    const resentBytes = randomBytes(5 * MiB);
    const first = heldUpload(Key, UploadId, firstBytes);
    const resent = await s3.send(
      new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: resentBytes, ChecksumAlgorithm: 'CRC32' }),
    );
    const listedBefore = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
    expect(listedBefore.Parts?.map((p) => [p.ETag, p.ChecksumCRC32])).toEqual([[resent.ETag, resent.ChecksumCRC32]]);
    first.release();
    const late = await first.done;
    const listed = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
    expect(listed.Parts?.map((p) => [p.ETag, p.ChecksumCRC32])).toEqual([[late.ETag, late.ChecksumCRC32]]);
    const last = await s3.send(
      new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: 'tail', ChecksumAlgorithm: 'CRC32' }),
    );
    expect(await failure(completeWith(Key, UploadId, [resent, last]))).toEqual(['InvalidPart', 400]);
    await completeWith(Key, UploadId, [late, last]);
    const got = await bodyBytes((await s3.send(new GetObjectCommand({ Bucket, Key }))).Body);
    expect(got.equals(Buffer.concat([firstBytes, Buffer.from('tail')]))).toBe(true);
  });

  it('a Complete while the first copy is still in flight takes the resent part whole; the late copy changes nothing', async () => {
    const Key = 'complete-between';
    const UploadId = await start(Key);
    const first = heldUpload(Key, UploadId, randomBytes(5 * MiB));
    const resentBytes = randomBytes(64 * 1024);
    const resent = await s3.send(
      new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: resentBytes, ChecksumAlgorithm: 'CRC32' }),
    );
    await completeWith(Key, UploadId, [resent]);
    first.release();
    // The upload is gone when the late copy arrives: S3 may answer it either way, but the object stays.
    await first.done.catch(() => undefined);
    const got = await bodyBytes((await s3.send(new GetObjectCommand({ Bucket, Key }))).Body);
    expect(got.equals(resentBytes)).toBe(true);
    // And the late copy left no part behind under the finished upload.
    expect(await failure(s3.send(new ListPartsCommand({ Bucket, Key, UploadId })))).toEqual(['NoSuchUpload', 404]);
    const leftovers: string[] = [];
    for await (const entry of t.store.list({ prefix: paths.partsPrefix(Bucket, UploadId) })) {
      if (entry.kind === 'object') leftovers.push(entry.key);
    }
    expect(leftovers).toEqual([]);
  });
});
