import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyBytes, failure, startWithBuckets, type TestServer } from './fixtures/harness.js';

const MiB = 1024 * 1024;
const Bucket = 'attributes';
const ALL = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize'] as const;
let t: TestServer;
let s3: S3Client;

const b64crc32 = (bytes: Uint8Array) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(bytes));
  return out.toString('base64');
};
const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest();

beforeAll(async () => {
  ({ t, s3 } = await startWithBuckets([Bucket]));
});
afterAll(() => t.close());

/** A three-part upload with CRC32 part checksums (COMPOSITE), completed. */
async function multipartObject(Key: string, parts: Buffer[]) {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ChecksumAlgorithm: 'CRC32' }));
  const completed = [];
  for (const [i, Body] of parts.entries()) {
    const out = await s3.send(
      new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: i + 1, Body, ChecksumAlgorithm: 'CRC32' }),
    );
    completed.push({ PartNumber: i + 1, ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32 });
  }
  return s3.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: completed } }));
}

describe('GetObjectAttributes', () => {
  it('answers a single PUT with its unquoted ETag, checksum, storage class and size; no parts', async () => {
    const body = randomBytes(1000);
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'one', Body: body, ChecksumAlgorithm: 'SHA256' }));
    const out = await s3.send(new GetObjectAttributesCommand({ Bucket, Key: 'one', ObjectAttributes: [...ALL] }));
    expect(out.ETag).toBe(md5(body).toString('hex'));
    expect(out.Checksum).toEqual({
      ChecksumSHA256: createHash('sha256').update(body).digest('base64'),
      ChecksumType: 'FULL_OBJECT',
    });
    expect(put.ChecksumSHA256).toBe(out.Checksum?.ChecksumSHA256);
    expect(put.ChecksumType).toBe('FULL_OBJECT');
    expect([out.StorageClass, out.ObjectSize, out.ObjectParts, out.VersionId]).toEqual([
      'STANDARD',
      1000,
      undefined,
      undefined,
    ]);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'one' }));
    expect(out.LastModified).toEqual(head.LastModified);
    // Only what was asked for.
    const some = await s3.send(
      new GetObjectAttributesCommand({ Bucket, Key: 'one', ObjectAttributes: ['ObjectSize'] }),
    );
    expect([some.ObjectSize, some.ETag, some.Checksum, some.StorageClass]).toEqual([
      1000,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('lists a multipart object’s parts with their checksums, a page at a time', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(5 * MiB), randomBytes(777)];
    const done = await multipartObject('multi', parts);
    const first = await s3.send(
      new GetObjectAttributesCommand({ Bucket, Key: 'multi', ObjectAttributes: [...ALL], MaxParts: 2 }),
    );
    expect(first.ETag).toBe(done.ETag?.replaceAll('"', ''));
    expect(first.Checksum).toEqual({ ChecksumCRC32: done.ChecksumCRC32, ChecksumType: 'COMPOSITE' });
    expect(first.ObjectSize).toBe(10 * MiB + 777);
    expect(first.ObjectParts).toMatchObject({
      TotalPartsCount: 3,
      MaxParts: 2,
      IsTruncated: true,
      NextPartNumberMarker: '2',
      Parts: parts.slice(0, 2).map((p, i) => ({ PartNumber: i + 1, Size: p.length, ChecksumCRC32: b64crc32(p) })),
    });
    const rest = await s3.send(
      new GetObjectAttributesCommand({
        Bucket,
        Key: 'multi',
        ObjectAttributes: ['ObjectParts'],
        PartNumberMarker: '2',
      }),
    );
    expect(rest.ObjectParts).toMatchObject({
      TotalPartsCount: 3,
      IsTruncated: false,
      Parts: [{ PartNumber: 3, Size: 777, ChecksumCRC32: b64crc32(parts[2] as Buffer) }],
    });
  });

  it('GET and HEAD of one part return that part’s checksum (COMPOSITE objects), which the SDK verifies', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(4321)];
    await multipartObject('by-part', parts);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'by-part', PartNumber: 2, ChecksumMode: 'ENABLED' }));
    expect([got.ChecksumCRC32, got.ChecksumType, got.PartsCount]).toEqual([
      b64crc32(parts[1] as Buffer),
      'COMPOSITE',
      2,
    ]);
    expect(await bodyBytes(got.Body)).toEqual(parts[1]);
    const head = await s3.send(
      new HeadObjectCommand({ Bucket, Key: 'by-part', PartNumber: 1, ChecksumMode: 'ENABLED' }),
    );
    expect(head.ChecksumCRC32).toBe(b64crc32(parts[0] as Buffer));
    const plain = await s3.send(new HeadObjectCommand({ Bucket, Key: 'by-part', PartNumber: 1 }));
    expect(plain.ChecksumCRC32).toBeUndefined();
  });

  it('a copy of a COMPOSITE multipart object gets the checksum of its bytes, FULL_OBJECT', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(10)];
    await multipartObject('to-copy', parts);
    const copied = await s3.send(new CopyObjectCommand({ Bucket, Key: 'copied', CopySource: `${Bucket}/to-copy` }));
    const whole = b64crc32(Buffer.concat(parts));
    expect([copied.CopyObjectResult?.ChecksumCRC32, copied.CopyObjectResult?.ChecksumType]).toEqual([
      whole,
      'FULL_OBJECT',
    ]);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'copied', ChecksumMode: 'ENABLED' }));
    expect([got.ChecksumCRC32, got.ChecksumType, got.PartsCount]).toEqual([whole, 'FULL_OBJECT', undefined]);
    // Buffer.equals: a deep toEqual walks 5 MiB byte by byte.
    expect((await bodyBytes(got.Body)).equals(Buffer.concat(parts))).toBe(true);
  });

  it('reads versions by id; a delete marker is NoSuchKey (current) or 405 (by id)', async () => {
    const versioned = 'attributes-versioned';
    await s3.send(new CreateBucketCommand({ Bucket: versioned }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: versioned, VersioningConfiguration: { Status: 'Enabled' } }),
    );
    const v1 = await s3.send(new PutObjectCommand({ Bucket: versioned, Key: 'k', Body: 'one' }));
    await s3.send(new PutObjectCommand({ Bucket: versioned, Key: 'k', Body: 'second' }));
    const old = await s3.send(
      new GetObjectAttributesCommand({
        Bucket: versioned,
        Key: 'k',
        VersionId: v1.VersionId,
        ObjectAttributes: ['ObjectSize'],
      }),
    );
    expect([old.ObjectSize, old.VersionId]).toEqual([3, v1.VersionId]);
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: versioned, Key: 'k' }));
    const attributes = (VersionId?: string) =>
      s3.send(new GetObjectAttributesCommand({ Bucket: versioned, Key: 'k', VersionId, ObjectAttributes: ['ETag'] }));
    expect(await failure(attributes())).toEqual(['NoSuchKey', 404]);
    expect(await failure(attributes(marker.VersionId))).toEqual(['MethodNotAllowed', 405]);
  });

  it('refuses a missing or unknown attribute name and a malformed max-parts; missing keys are NoSuchKey', async () => {
    const attributes = (ObjectAttributes: string[], extra: { MaxParts?: number } = {}, Key = 'one') =>
      failure(
        s3.send(new GetObjectAttributesCommand({ Bucket, Key, ObjectAttributes: ObjectAttributes as never, ...extra })),
      );
    expect(await attributes(['Colour'])).toEqual(['InvalidArgument', 400]);
    expect(await attributes([])).toEqual(['InvalidRequest', 400]);
    expect(await attributes(['ETag'], { MaxParts: -1 })).toEqual(['InvalidArgument', 400]);
    expect(await attributes(['ETag'], {}, 'nothing-here')).toEqual(['NoSuchKey', 404]);
  });
});
