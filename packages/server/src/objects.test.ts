import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  DeleteObjectTaggingCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createHmac } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksumOf } from './checksums/index.js';
import { ALICE, failure, startWithBuckets, type TestServer } from './fixtures/harness.js';

const Bucket = 'objects';
let t: TestServer;
let s3: S3Client;
beforeAll(async () => {
  ({ t, s3 } = await startWithBuckets([Bucket]));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'digits', Body: '0123456789' }));
});
afterAll(() => t.close());

const get = (input: Partial<ConstructorParameters<typeof GetObjectCommand>[0]>) =>
  s3.send(new GetObjectCommand({ Bucket, Key: 'digits', ...input }));

describe('objects over the AWS SDK', () => {
  it('puts, gets, heads and deletes an object with metadata and standard headers', async () => {
    const put = await s3.send(
      new PutObjectCommand({
        Bucket,
        Key: 'dir/hello.txt',
        Body: 'hello world',
        ContentType: 'text/plain',
        CacheControl: 'max-age=60',
        ContentDisposition: 'inline',
        ContentEncoding: 'identity',
        ContentLanguage: 'en',
        Expires: new Date('2030-01-01T00:00:00Z'),
        Metadata: { color: 'blue' },
      }),
    );
    expect(put.ETag).toBe('"5eb63bbbe01eeed093cb22bb8f5acdc3"');
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'dir/hello.txt' }));
    expect(await got.Body?.transformToString()).toBe('hello world');
    expect(got).toMatchObject({
      ContentType: 'text/plain',
      CacheControl: 'max-age=60',
      ContentDisposition: 'inline',
      ContentEncoding: 'identity',
      ContentLanguage: 'en',
      Metadata: { color: 'blue' },
      ETag: put.ETag,
    });
    expect(got.ExpiresString).toContain('2030');
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'dir/hello.txt' }));
    expect(head.ContentLength).toBe(11);
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'dir/hello.txt' }));
    await expect(s3.send(new GetObjectCommand({ Bucket, Key: 'dir/hello.txt' }))).rejects.toMatchObject({
      name: 'NoSuchKey',
      $metadata: { httpStatusCode: 404 },
    });
    await expect(s3.send(new HeadObjectCommand({ Bucket, Key: 'dir/hello.txt' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    // Deleting a missing key succeeds, as in S3.
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'dir/hello.txt' }));
  });

  it('names every answer with a request id and the server, errors included', async () => {
    const ok = await get({});
    expect(ok.$metadata.requestId).toMatch(/^[0-9A-F]{16}$/);
    expect(ok.$metadata.extendedRequestId).toBe(ok.$metadata.requestId);
    const failed = await get({ Key: 'no-such-key' }).catch((error: unknown) => error);
    expect(failed).toMatchObject({ name: 'NoSuchKey' });
    const requestId = (failed as { $metadata: { requestId?: string } }).$metadata.requestId;
    expect(requestId).toMatch(/^[0-9A-F]{16}$/);
    expect(requestId).not.toBe(ok.$metadata.requestId);
    const res = await fetch(`${t.url}/${Bucket}/digits`);
    expect(res.status).toBe(403);
    expect(res.headers.get('server')).toBe('bucketdb');
    expect(res.headers.get('x-amz-request-id')).toMatch(/^[0-9A-F]{16}$/);
  });

  it('serves byte ranges: closed, open-ended and suffix; 416 when unsatisfiable', async () => {
    const closed = await get({ Range: 'bytes=2-4' });
    expect(await closed.Body?.transformToString()).toBe('234');
    expect(closed.ContentRange).toBe('bytes 2-4/10');
    expect(closed.$metadata.httpStatusCode).toBe(206);
    expect(await (await get({ Range: 'bytes=7-' })).Body?.transformToString()).toBe('789');
    expect(await (await get({ Range: 'bytes=-3' })).Body?.transformToString()).toBe('789');
    expect(await (await get({ Range: 'bytes=8-100' })).Body?.transformToString()).toBe('89');
    expect(await (await get({ Range: 'bytes=-100' })).Body?.transformToString()).toBe('0123456789');
    await expect(get({ Range: 'bytes=10-' })).rejects.toMatchObject({
      name: 'InvalidRange',
      $metadata: { httpStatusCode: 416 },
    });
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'digits', Range: 'bytes=0-1' }));
    expect(head.ContentLength).toBe(2);
  });

  it("evaluates conditional reads with S3's precedence", async () => {
    const { ETag, LastModified } = await s3.send(new HeadObjectCommand({ Bucket, Key: 'digits' }));
    const before = new Date((LastModified as Date).getTime() - 60_000);
    const after = new Date((LastModified as Date).getTime() + 60_000);
    expect((await get({ IfMatch: ETag })).$metadata.httpStatusCode).toBe(200);
    await expect(get({ IfMatch: '"nope"' })).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    await expect(get({ IfNoneMatch: ETag })).rejects.toMatchObject({ $metadata: { httpStatusCode: 304 } });
    await expect(get({ IfModifiedSince: LastModified })).rejects.toMatchObject({ $metadata: { httpStatusCode: 304 } });
    // A date later than the server's clock is invalid, so ignored (RFC 9110), as S3 does.
    expect((await get({ IfModifiedSince: after })).$metadata.httpStatusCode).toBe(200);
    await expect(get({ IfUnmodifiedSince: before })).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    // If-Match wins over a failing If-Unmodified-Since; If-None-Match over If-Modified-Since.
    expect((await get({ IfMatch: ETag, IfUnmodifiedSince: before })).$metadata.httpStatusCode).toBe(200);
    expect((await get({ IfNoneMatch: '"other"', IfModifiedSince: LastModified })).$metadata.httpStatusCode).toBe(200);
  });

  it('applies response-* overrides', async () => {
    const got = await get({
      ResponseContentType: 'application/x-over',
      ResponseContentDisposition: 'attachment; filename="d.txt"',
      ResponseCacheControl: 'no-store',
    });
    expect(got).toMatchObject({
      ContentType: 'application/x-over',
      ContentDisposition: 'attachment; filename="d.txt"',
      CacheControl: 'no-store',
    });
  });

  it('copies with COPY and REPLACE metadata directives, copy-source conditions and the rules for copying onto itself', async () => {
    await s3.send(
      new PutObjectCommand({ Bucket, Key: 'src', Body: 'copy me', ContentType: 'text/x-src', Metadata: { m: '1' } }),
    );
    const copied = await s3.send(new CopyObjectCommand({ Bucket, Key: 'dst', CopySource: `${Bucket}/src` }));
    expect(copied.CopyObjectResult?.ETag).toBe((await s3.send(new HeadObjectCommand({ Bucket, Key: 'src' }))).ETag);
    expect(await s3.send(new HeadObjectCommand({ Bucket, Key: 'dst' }))).toMatchObject({
      ContentType: 'text/x-src',
      Metadata: { m: '1' },
    });
    await s3.send(
      new CopyObjectCommand({
        Bucket,
        Key: 'dst2',
        CopySource: `${Bucket}/src`,
        MetadataDirective: 'REPLACE',
        ContentType: 'text/x-new',
        Metadata: { n: '2' },
      }),
    );
    expect(await s3.send(new HeadObjectCommand({ Bucket, Key: 'dst2' }))).toMatchObject({
      ContentType: 'text/x-new',
      Metadata: { n: '2' },
    });
    await expect(
      s3.send(new CopyObjectCommand({ Bucket, Key: 'src', CopySource: `${Bucket}/src` })),
    ).rejects.toMatchObject({ name: 'InvalidRequest', $metadata: { httpStatusCode: 400 } });
    await s3.send(
      new CopyObjectCommand({
        Bucket,
        Key: 'src',
        CopySource: `${Bucket}/src`,
        MetadataDirective: 'REPLACE',
        Metadata: { m: 'x' },
      }),
    );
    const self = await s3.send(new GetObjectCommand({ Bucket, Key: 'src' }));
    expect(await self.Body?.transformToString()).toBe('copy me');
    expect(self.Metadata).toEqual({ m: 'x' });
    await expect(
      s3.send(new CopyObjectCommand({ Bucket, Key: 'dst3', CopySource: `${Bucket}/src`, CopySourceIfMatch: '"nope"' })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
    await expect(
      s3.send(new CopyObjectCommand({ Bucket, Key: 'dst3', CopySource: `${Bucket}/missing` })),
    ).rejects.toMatchObject({ name: 'NoSuchKey' });
    await expect(s3.send(new HeadObjectCommand({ Bucket, Key: 'dst3' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
  });

  it('stores tags from the header and the tagging API without touching the bytes', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'tagged', Body: 'tags', Tagging: 'a=1&b=two%20words' }));
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'tagged' }));
    expect(tags.TagSet).toEqual([
      { Key: 'a', Value: '1' },
      { Key: 'b', Value: 'two words' },
    ]);
    expect((await s3.send(new GetObjectCommand({ Bucket, Key: 'tagged' }))).TagCount).toBe(2);
    await s3.send(
      new PutObjectTaggingCommand({ Bucket, Key: 'tagged', Tagging: { TagSet: [{ Key: 'c', Value: '3' }] } }),
    );
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'tagged' }))).TagSet).toEqual([
      { Key: 'c', Value: '3' },
    ]);
    await s3.send(new DeleteObjectTaggingCommand({ Bucket, Key: 'tagged' }));
    expect((await s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'tagged' }))).TagSet ?? []).toEqual([]);
    expect(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'tagged' }))).Body?.transformToString()).toBe(
      'tags',
    );
    await expect(
      s3.send(
        new PutObjectTaggingCommand({
          Bucket,
          Key: 'tagged',
          Tagging: { TagSet: Array.from({ length: 11 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) },
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidTag' });
  });

  it('deletes many keys with per-key results, quietly or not', async () => {
    for (const Key of ['m1', 'm2', 'm3']) await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }));
    const loud = await s3.send(
      new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'm1' }, { Key: 'never-there' }] } }),
    );
    expect(loud.Deleted?.map((d) => d.Key).sort()).toEqual(['m1', 'never-there']);
    const quiet = await s3.send(
      new DeleteObjectsCommand({
        Bucket,
        Delete: { Quiet: true, Objects: [{ Key: 'm2' }, { Key: 'm3', ETag: '"bad"' }] },
      }),
    );
    expect(quiet.Deleted ?? []).toEqual([]);
    expect(quiet.Errors?.map((e) => [e.Key, e.Code])).toEqual([['m3', 'PreconditionFailed']]);
    await expect(s3.send(new HeadObjectCommand({ Bucket, Key: 'm2' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'm3' }))).ContentLength).toBe(2);
  });

  it('stores the checksum sent as an aws-chunked trailer and returns it when asked', async () => {
    const body = new TextEncoder().encode('checksummed body');
    for (const ChecksumAlgorithm of ['CRC32', 'SHA256'] as const) {
      const Key = `sum-${ChecksumAlgorithm}`;
      await s3.send(new PutObjectCommand({ Bucket, Key, Body: body, ChecksumAlgorithm }));
      const head = await s3.send(new HeadObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
      const expected = await checksumOf(ChecksumAlgorithm === 'CRC32' ? 'crc32' : 'sha256', body);
      expect(ChecksumAlgorithm === 'CRC32' ? head.ChecksumCRC32 : head.ChecksumSHA256).toBe(expected);
      const plain = await s3.send(new HeadObjectCommand({ Bucket, Key }));
      expect(plain.ChecksumCRC32 ?? plain.ChecksumSHA256).toBeUndefined();
    }
  });

  it('answers virtual-host-style requests (bucket.localhost)', async () => {
    const vhost = t.client(undefined, { virtualHost: true });
    await vhost.send(new PutObjectCommand({ Bucket, Key: 'vhost/key', Body: 'via host' }));
    expect(await (await s3.send(new GetObjectCommand({ Bucket, Key: 'vhost/key' }))).Body?.transformToString()).toBe(
      'via host',
    );
  });

  it('verifies Signature V2 on virtual-host-style requests (the bucket is signed into the path)', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'v2/key', Body: 'signed the old way' }));
    const { port } = new URL(t.url);
    const get = (secret: string) => {
      const date = new Date().toUTCString();
      const signature = createHmac('sha1', secret).update(`GET\n\n\n${date}\n/${Bucket}/v2/key`).digest('base64');
      return new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            path: '/v2/key',
            headers: {
              host: `${Bucket}.localhost:${port}`,
              date,
              authorization: `AWS ${ALICE.accessKeyId}:${signature}`,
            },
          },
          (res) => {
            let body = '';
            res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject).end();
      });
    };
    expect(await get(ALICE.secretAccessKey)).toEqual({ status: 200, body: 'signed the old way' });
    const forged = await get('not-the-secret');
    expect(forged.status).toBe(403);
    expect(forged.body).toContain('SignatureDoesNotMatch');
  });

  it('refuses grants, customer-provided keys and KMS rather than ignore them; takes SSE-S3', async () => {
    const put = (Key: string, extra: Partial<ConstructorParameters<typeof PutObjectCommand>[0]>) =>
      s3.send(new PutObjectCommand({ Bucket, Key, Body: 'x', ...extra }));
    expect(
      await failure(put('granted', { GrantRead: 'uri="http://acs.amazonaws.com/groups/global/AllUsers"' })),
    ).toEqual(['NotImplemented', 501]);
    const customerKey = Buffer.alloc(32, 7).toString('base64');
    expect(await failure(put('sse-c', { SSECustomerAlgorithm: 'AES256', SSECustomerKey: customerKey }))).toEqual([
      'NotImplemented',
      501,
    ]);
    expect(await failure(put('kms', { ServerSideEncryption: 'aws:kms' }))).toEqual(['NotImplemented', 501]);
    for (const Key of ['granted', 'sse-c', 'kms']) {
      expect(await failure(s3.send(new HeadObjectCommand({ Bucket, Key })))).toEqual(['NotFound', 404]);
    }
    await put('sse-s3', { ServerSideEncryption: 'AES256' });
    expect((await s3.send(new HeadObjectCommand({ Bucket, Key: 'sse-s3' }))).ContentLength).toBe(1);
  });

  it('keeps keys literally: dots, slashes, spaces and unicode', async () => {
    for (const Key of ['../../etc/passwd', 'a//b', './x', 'sp ace+plus', 'ünï/cødé/🙂', '%2F%2e%2e']) {
      await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }));
      expect(await (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body?.transformToString()).toBe(Key);
    }
  });
});
