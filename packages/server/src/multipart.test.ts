import { createHash, randomBytes } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyBytes, startWithBuckets, type TestServer } from './fixtures/harness.js';

const MiB = 1024 * 1024;
const Bucket = 'multipart';
let t: TestServer;
let s3: S3Client;
beforeAll(async () => {
  ({ t, s3 } = await startWithBuckets([Bucket]));
});
afterAll(() => t.close());

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest();

describe('multipart uploads', () => {
  it('assembles parts in order with the md5-of-md5s-N ETag, serves parts by number, and forgets the upload', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(1234)];
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket, Key: 'big', ContentType: 'application/x-test', Metadata: { a: 'b' } }),
    );
    const uploaded = [];
    for (const [i, Body] of parts.entries()) {
      const out = await s3.send(new UploadPartCommand({ Bucket, Key: 'big', UploadId, PartNumber: i + 1, Body }));
      uploaded.push({ PartNumber: i + 1, ETag: out.ETag });
    }
    const listed = await s3.send(new ListPartsCommand({ Bucket, Key: 'big', UploadId }));
    expect(listed.Parts?.map((p) => [p.PartNumber, p.Size])).toEqual([
      [1, 5 * MiB],
      [2, 5 * MiB],
      [3, 1234],
    ]);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket }));
    expect(uploads.Uploads?.map((u) => [u.Key, u.UploadId])).toEqual([['big', UploadId]]);

    const done = await s3.send(
      new CompleteMultipartUploadCommand({ Bucket, Key: 'big', UploadId, MultipartUpload: { Parts: uploaded } }),
    );
    const expectedEtag = `"${createHash('md5')
      .update(Buffer.concat(parts.map(md5)))
      .digest('hex')}-3"`;
    expect(done.ETag).toBe(expectedEtag);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'big' }));
    expect(got.ContentType).toBe('application/x-test');
    expect(got.Metadata).toEqual({ a: 'b' });
    expect(md5(await bodyBytes(got.Body))).toEqual(md5(Buffer.concat(parts)));
    const part2 = await s3.send(new GetObjectCommand({ Bucket, Key: 'big', PartNumber: 2 }));
    expect(part2.PartsCount).toBe(3);
    expect(md5(await bodyBytes(part2.Body))).toEqual(md5(parts[1] as Buffer));
    const listing = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'big' }));
    expect(listing.Contents?.[0]?.ETag).toBe(expectedEtag);
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'big' }))).ContentLength).toBe(10 * MiB + 1234);
    expect((await s3.send(new ListMultipartUploadsCommand({ Bucket }))).Uploads ?? []).toEqual([]);
  });

  it('checks part order, part ETags and the 5 MiB minimum', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'bad' }));
    const a = await s3.send(new UploadPartCommand({ Bucket, Key: 'bad', UploadId, PartNumber: 1, Body: 'small' }));
    const b = await s3.send(new UploadPartCommand({ Bucket, Key: 'bad', UploadId, PartNumber: 2, Body: 'last' }));
    const complete = (Parts: { PartNumber: number; ETag: string | undefined }[]) =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'bad', UploadId, MultipartUpload: { Parts } }));
    await expect(
      complete([
        { PartNumber: 1, ETag: a.ETag },
        { PartNumber: 2, ETag: b.ETag },
      ]),
    ).rejects.toMatchObject({
      name: 'EntityTooSmall',
    });
    await expect(
      complete([
        { PartNumber: 2, ETag: b.ETag },
        { PartNumber: 1, ETag: a.ETag },
      ]),
    ).rejects.toMatchObject({
      name: 'InvalidPartOrder',
    });
    await expect(complete([{ PartNumber: 1, ETag: b.ETag }])).rejects.toMatchObject({ name: 'InvalidPart' });
    await expect(complete([{ PartNumber: 3, ETag: b.ETag }])).rejects.toMatchObject({ name: 'InvalidPart' });
    // A single small part is a valid last part.
    await complete([{ PartNumber: 2, ETag: b.ETag }]);
    expect(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'bad' }))).Body?.transformToString()).toBe('last');
  });

  it('aborts: the upload and its parts are gone', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'aborted' }));
    await s3.send(new UploadPartCommand({ Bucket, Key: 'aborted', UploadId, PartNumber: 1, Body: 'x' }));
    await s3.send(new AbortMultipartUploadCommand({ Bucket, Key: 'aborted', UploadId }));
    await expect(s3.send(new ListPartsCommand({ Bucket, Key: 'aborted', UploadId }))).rejects.toMatchObject({
      name: 'NoSuchUpload',
    });
    await expect(
      s3.send(new UploadPartCommand({ Bucket, Key: 'aborted', UploadId, PartNumber: 2, Body: 'y' })),
    ).rejects.toMatchObject({ name: 'NoSuchUpload' });
    const leftovers = [];
    for await (const entry of t.store.list({ prefix: `p/${Bucket}/${UploadId}` })) leftovers.push(entry);
    expect(leftovers).toEqual([]);
  });

  it('copies parts from existing objects, with byte ranges', async () => {
    const source = randomBytes(6 * MiB);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'source', Body: source }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'copied' }));
    const p1 = await s3.send(
      new UploadPartCopyCommand({ Bucket, Key: 'copied', UploadId, PartNumber: 1, CopySource: `${Bucket}/source` }),
    );
    const p2 = await s3.send(
      new UploadPartCopyCommand({
        Bucket,
        Key: 'copied',
        UploadId,
        PartNumber: 2,
        CopySource: `${Bucket}/source`,
        CopySourceRange: 'bytes=10-19',
      }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'copied',
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: p1.CopyPartResult?.ETag },
            { PartNumber: 2, ETag: p2.CopyPartResult?.ETag },
          ],
        },
      }),
    );
    const got = await bodyBytes((await s3.send(new GetObjectCommand({ Bucket, Key: 'copied' }))).Body);
    expect(md5(got)).toEqual(md5(Buffer.concat([source, source.subarray(10, 20)])));
    await expect(
      s3.send(
        new UploadPartCopyCommand({
          Bucket,
          Key: 'copied',
          UploadId: (await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'copied' }))).UploadId,
          PartNumber: 1,
          CopySource: `${Bucket}/source`,
          CopySourceRange: `bytes=0-${6 * MiB}`,
        }),
      ),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 416 } });
  });
});
