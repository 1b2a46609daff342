import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './fixtures/harness.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  const s3 = t.client();
  await s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
  await s3.send(new CreateBucketCommand({ Bucket: 'versioned' }));
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: 'versioned', VersioningConfiguration: { Status: 'Enabled' } }),
  );
});
afterAll(() => t.close());

const statusOf = (error: unknown) => (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

describe.each(['plain', 'versioned'])('conditional writes in a %s bucket', (Bucket) => {
  it('100 concurrent If-None-Match: * PUTs of one key have exactly one winner', async () => {
    const s3 = t.client();
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, (_, i) =>
        s3.send(new PutObjectCommand({ Bucket, Key: 'race', Body: `writer ${i}`, IfNoneMatch: '*' })),
      ),
    );
    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const r of results) {
      if (r.status === 'rejected') expect([409, 412]).toContain(statusOf(r.reason));
    }
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'race' }));
    expect(await got.Body?.transformToString()).toBe(`writer ${winners[0]}`);
  });

  it('If-Match is a compare-and-swap: concurrent swaps from one ETag have one winner', async () => {
    const s3 = t.client();
    const first = await s3.send(new PutObjectCommand({ Bucket, Key: 'cas', Body: 'v0' }));
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        s3.send(new PutObjectCommand({ Bucket, Key: 'cas', Body: `v1 from ${i}`, IfMatch: first.ETag })),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    await expect(
      s3.send(new PutObjectCommand({ Bucket, Key: 'cas', Body: 'stale', IfMatch: first.ETag })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    await expect(
      s3.send(new PutObjectCommand({ Bucket, Key: 'missing', Body: 'x', IfMatch: first.ETag })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  it('DeleteObject with If-Match deletes only the expected version', async () => {
    const s3 = t.client();
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'del', Body: 'a' }));
    await expect(s3.send(new DeleteObjectCommand({ Bucket, Key: 'del', IfMatch: '"0000"' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 412 },
    });
    expect((await s3.send(new GetObjectCommand({ Bucket, Key: 'del' }))).ETag).toBe(put.ETag);
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'del', IfMatch: put.ETag }));
    await expect(s3.send(new GetObjectCommand({ Bucket, Key: 'del' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  it('CompleteMultipartUpload honours If-None-Match: *', async () => {
    const s3 = t.client();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'mpu-exists', Body: 'here first' }));
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mpu-exists' }));
    const part = await s3.send(
      new UploadPartCommand({ Bucket, Key: 'mpu-exists', UploadId, PartNumber: 1, Body: 'late' }),
    );
    await expect(
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key: 'mpu-exists',
          UploadId,
          IfNoneMatch: '*',
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
        }),
      ),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'mpu-exists' }));
    expect(await got.Body?.transformToString()).toBe('here first');
  });

  it('If-None-Match with an ETag refuses only that current object, for single and multipart writes', async () => {
    const s3 = t.client();
    const Key = 'inm-etag';
    const read = async () => (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body?.transformToString();
    // Missing: the write goes ahead.
    const first = await s3.send(new PutObjectCommand({ Bucket, Key, Body: 'one', IfNoneMatch: '"0123"' }));
    // The current object has that ETag: 412, nothing written.
    const refused = await s3
      .send(new PutObjectCommand({ Bucket, Key, Body: 'two', IfNoneMatch: first.ETag }))
      .catch(statusOf);
    expect([refused, await read()]).toEqual([412, 'one']);
    // Another ETag: written, and with If-Match of the current one as well.
    const second = await s3.send(
      new PutObjectCommand({ Bucket, Key, Body: 'three', IfNoneMatch: '"not-it"', IfMatch: first.ETag }),
    );
    expect(await read()).toBe('three');
    // The replaced one's ETag no longer refuses; the current one's does, for a multipart write too.
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const part = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: 'four' }));
    const complete = (IfNoneMatch: string | undefined) =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId,
          IfNoneMatch,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
        }),
      );
    expect(await complete(second.ETag).catch(statusOf)).toBe(412);
    await complete(first.ETag);
    expect(await read()).toBe('four');
  });
});
