import { createHash, randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import {
  type ChecksumAlgorithm,
  CompleteMultipartUploadCommand,
  type CompletedPart,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectAttributesCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, bodyBytes, startTestServer, type TestServer } from './fixtures/harness.js';

const MiB = 1024 * 1024;
const Bucket = 'mp-checksums';
let t: TestServer;
let s3: S3Client;
/** A client that sends checksums only where S3 requires them: parts arrive without one. */
let bare: S3Client;
const data = randomBytes(11 * MiB + 123);
const chunks = [data.subarray(0, 5 * MiB), data.subarray(5 * MiB, 10 * MiB), data.subarray(10 * MiB)];

const b64crc32 = (bytes: Uint8Array) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(bytes));
  return out.toString('base64');
};
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest();
/** S3's composite checksum: the checksum of the binary part checksums, then -N. */
const composite = (parts: Buffer[], digest: (b: Buffer) => Buffer) =>
  `${digest(Buffer.concat(parts)).toString('base64')}-${parts.length}`;

beforeAll(async () => {
  t = await startTestServer();
  s3 = t.client();
  bare = new S3Client({
    endpoint: t.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  await s3.send(new CreateBucketCommand({ Bucket }));
});
afterAll(async () => {
  bare.destroy();
  await t.close();
});

async function create(Key: string, ChecksumAlgorithm?: ChecksumAlgorithm, ChecksumType?: 'COMPOSITE' | 'FULL_OBJECT') {
  const out = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key, ChecksumAlgorithm, ChecksumType }));
  return { UploadId: out.UploadId as string, out };
}

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: { name?: string; message?: string }) => ({ name: e.name, message: e.message }),
  );

describe('multipart checksums', () => {
  it('lib-storage Upload with default settings stores a COMPOSITE CRC32 that GET and HEAD return', async () => {
    const upload = new Upload({ client: s3, params: { Bucket, Key: 'lib-storage', Body: data }, partSize: 5 * MiB });
    await upload.done();
    const expected = composite(
      chunks.map((c) => Buffer.from(b64crc32(c), 'base64')),
      (b) => Buffer.from(b64crc32(b), 'base64'),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'lib-storage', ChecksumMode: 'ENABLED' }));
    expect([head.ChecksumCRC32, head.ChecksumType]).toEqual([expected, 'COMPOSITE']);
    // The SDK validates GET checksums by default (composite ones it cannot, and skips).
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'lib-storage', ChecksumMode: 'ENABLED' }));
    expect(got.ChecksumCRC32).toBe(expected);
    expect((await bodyBytes(got.Body)).equals(data)).toBe(true);
    const plain = await s3.send(new HeadObjectCommand({ Bucket, Key: 'lib-storage' }));
    expect(plain.ChecksumCRC32).toBeUndefined();
  });

  it('FULL_OBJECT CRC32: the CRC of the whole object, checked by the SDK on GET; a wrong one is BadDigest', async () => {
    const { UploadId, out } = await create('full', 'CRC32', 'FULL_OBJECT');
    expect([out.ChecksumAlgorithm, out.ChecksumType]).toEqual(['CRC32', 'FULL_OBJECT']);
    const Parts: CompletedPart[] = [];
    for (const [i, Body] of chunks.entries()) {
      // Parts 1 and 3 carry the SDK's CRC32; part 2 none, so the server computes it, as S3 does.
      const client = i === 1 ? bare : s3;
      const part = await client.send(new UploadPartCommand({ Bucket, Key: 'full', UploadId, PartNumber: i + 1, Body }));
      expect(part.ChecksumCRC32).toBe(b64crc32(Body));
      Parts.push({ PartNumber: i + 1, ETag: part.ETag, ...(i === 0 ? { ChecksumCRC32: part.ChecksumCRC32 } : {}) });
    }
    const listed = await s3.send(new ListPartsCommand({ Bucket, Key: 'full', UploadId }));
    expect([listed.ChecksumAlgorithm, listed.ChecksumType]).toEqual(['CRC32', 'FULL_OBJECT']);
    expect(listed.Parts?.map((p) => p.ChecksumCRC32)).toEqual(chunks.map(b64crc32));
    const whole = b64crc32(data);
    const wrong = b64crc32(Buffer.from('something else'));
    const complete = (ChecksumCRC32: string) =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key: 'full',
          UploadId,
          MultipartUpload: { Parts },
          ChecksumCRC32,
          ChecksumType: 'FULL_OBJECT',
        }),
      );
    expect(await failure(complete(wrong))).toEqual({
      name: 'BadDigest',
      message: 'The crc32 you specified did not match the calculated checksum.',
    });
    const done = await complete(whole);
    expect([done.ChecksumCRC32, done.ChecksumType]).toEqual([whole, 'FULL_OBJECT']);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'full', ChecksumMode: 'ENABLED' }));
    expect([got.ChecksumCRC32, got.ChecksumType]).toEqual([whole, 'FULL_OBJECT']);
    expect((await bodyBytes(got.Body)).equals(data)).toBe(true);
  });

  it('COMPOSITE SHA256: parts need that checksum, Complete must list and match them', async () => {
    const { UploadId, out } = await create('sha', 'SHA256');
    expect(out.ChecksumType).toBe('COMPOSITE');
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket, Prefix: 'sha' }));
    expect(uploads.Uploads?.map((u) => [u.ChecksumAlgorithm, u.ChecksumType])).toEqual([['SHA256', 'COMPOSITE']]);
    const put = (client: S3Client, PartNumber: number, extra: object = {}) =>
      client.send(
        new UploadPartCommand({ Bucket, Key: 'sha', UploadId, PartNumber, Body: chunks[PartNumber - 1], ...extra }),
      );
    expect(await failure(put(bare, 1))).toEqual({
      name: 'InvalidRequest',
      message: 'Checksum Type mismatch occurred, expected checksum Type: sha256, actual checksum Type: null',
    });
    expect(await failure(put(s3, 1))).toMatchObject({ message: expect.stringMatching(/actual checksum Type: crc32$/) });
    const parts = [];
    for (const n of [1, 2, 3]) parts.push(await put(s3, n, { ChecksumAlgorithm: 'SHA256' }));
    const sums = chunks.map((c) => sha256(c));
    expect(parts.map((p) => p.ChecksumSHA256)).toEqual(sums.map((s) => s.toString('base64')));
    const listed = parts.map((p, i) => ({ PartNumber: i + 1, ETag: p.ETag, ChecksumSHA256: p.ChecksumSHA256 }));
    const complete = (Parts: object[]) =>
      s3.send(new CompleteMultipartUploadCommand({ Bucket, Key: 'sha', UploadId, MultipartUpload: { Parts } }));
    expect(await failure(complete(listed.map(({ ChecksumSHA256: _, ...p }) => p)))).toEqual({
      name: 'InvalidRequest',
      message:
        'The upload was created using a sha256 checksum. The complete request must include the checksum for each part. It was missing for part 1 in the request.',
    });
    const swapped = listed.map((p, i) => ({ ...p, ChecksumSHA256: listed[(i + 1) % 3]?.ChecksumSHA256 }));
    expect(await failure(complete(swapped))).toMatchObject({ name: 'InvalidPart' });
    const done = await complete(listed);
    const expected = composite(sums, sha256);
    expect([done.ChecksumSHA256, done.ChecksumType]).toEqual([expected, 'COMPOSITE']);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'sha', ChecksumMode: 'ENABLED' }));
    expect([head.ChecksumSHA256, head.ChecksumType]).toEqual([expected, 'COMPOSITE']);
  });

  it('refuses checksum types an algorithm cannot have; CRC64NVME defaults to FULL_OBJECT', async () => {
    expect((await create('nvme', 'CRC64NVME')).out.ChecksumType).toBe('FULL_OBJECT');
    expect(await failure(create('x', 'CRC64NVME', 'COMPOSITE'))).toEqual({
      name: 'InvalidRequest',
      message: 'The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm.',
    });
    expect(await failure(create('x', 'SHA1', 'FULL_OBJECT'))).toMatchObject({ name: 'InvalidRequest' });
  });

  it('a copied part of a checksum upload gets its checksum computed', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'source', Body: chunks[2] }));
    const { UploadId } = await create('copied', 'CRC32C', 'FULL_OBJECT');
    const copy = await s3.send(
      new UploadPartCopyCommand({ Bucket, Key: 'copied', UploadId, PartNumber: 1, CopySource: `${Bucket}/source` }),
    );
    expect(copy.CopyPartResult?.ChecksumCRC32C).toMatch(/^[A-Za-z0-9+/]{6}==$/);
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key: 'copied',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: copy.CopyPartResult?.ETag }] },
      }),
    );
    // One part: the full-object CRC32C is that part's.
    expect(done.ChecksumCRC32C).toBe(copy.CopyPartResult?.ChecksumCRC32C);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'copied', ChecksumMode: 'ENABLED' }));
    expect((await bodyBytes(got.Body)).equals(chunks[2] as Buffer)).toBe(true);
  });

  // The SDK's checksum helpers on every CRC S3 offers for multipart uploads, with part 1 sent
  // twice: the second upload's bytes and checksum replace the first's everywhere.
  for (const [algorithm, type] of [
    ['CRC32', 'COMPOSITE'],
    ['CRC32C', 'FULL_OBJECT'],
    ['CRC64NVME', 'FULL_OBJECT'],
  ] as const) {
    it(`${algorithm} ${type} with a re-uploaded part: the last upload's checksum counts`, async () => {
      const Key = `reupload-${algorithm}`;
      const field = `Checksum${algorithm}` as const;
      const { UploadId } = await create(Key, algorithm, type);
      const put = (PartNumber: number, Body: Buffer | undefined) =>
        s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body, ChecksumAlgorithm: algorithm }));
      const first = await put(1, randomBytes(5 * MiB));
      const again = await put(1, chunks[0]);
      const second = await put(2, chunks[1]);
      expect(first[field]).not.toBe(again[field]);
      const listed = await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }));
      expect(listed.Parts?.map((p) => [p.PartNumber, p.ETag, p[field]])).toEqual([
        [1, again.ETag, again[field]],
        [2, second.ETag, second[field]],
      ]);
      const complete = (part1: { ETag?: string; sum?: string }) =>
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket,
            Key,
            UploadId,
            MultipartUpload: {
              Parts: [
                { PartNumber: 1, ETag: part1.ETag, [field]: part1.sum },
                { PartNumber: 2, ETag: second.ETag, [field]: second[field] },
              ],
            },
          }),
        );
      // The first upload's checksum no longer describes part 1.
      expect(await failure(complete({ ETag: again.ETag, sum: first[field] }))).toMatchObject({ name: 'InvalidPart' });
      const done = await complete({ ETag: again.ETag, sum: again[field] });
      expect(done.ChecksumType).toBe(type);
      // The SDK checks a FULL_OBJECT checksum against the bytes it reads (ChecksumMode ENABLED).
      const got = await s3.send(new GetObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
      expect([got[field], got.ChecksumType]).toEqual([done[field], type]);
      expect((await bodyBytes(got.Body)).equals(data.subarray(0, 10 * MiB))).toBe(true);
      const head = await s3.send(new HeadObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
      expect([head[field], head.ChecksumType]).toEqual([done[field], type]);
      const attributes = await s3.send(
        new GetObjectAttributesCommand({ Bucket, Key, ObjectAttributes: ['Checksum', 'ObjectParts'] }),
      );
      expect([attributes.Checksum?.[field], attributes.Checksum?.ChecksumType]).toEqual([done[field], type]);
      expect(attributes.ObjectParts?.Parts?.map((p) => p[field])).toEqual([again[field], second[field]]);
      if (type === 'COMPOSITE') expect(done[field]).toMatch(/-2$/);
    });
  }

  it('a single PUT with CRC64NVME stores its FULL_OBJECT checksum, which GET, HEAD and GetObjectAttributes return', async () => {
    const Key = 'single-nvme';
    const put = await s3.send(new PutObjectCommand({ Bucket, Key, Body: chunks[2], ChecksumAlgorithm: 'CRC64NVME' }));
    expect(put.ChecksumCRC64NVME).toMatch(/^[A-Za-z0-9+/]{11}=$/);
    expect(put.ChecksumType).toBe('FULL_OBJECT');
    const got = await s3.send(new GetObjectCommand({ Bucket, Key, ChecksumMode: 'ENABLED' }));
    expect([got.ChecksumCRC64NVME, got.ChecksumType]).toEqual([put.ChecksumCRC64NVME, 'FULL_OBJECT']);
    expect((await bodyBytes(got.Body)).equals(chunks[2] as Buffer)).toBe(true);
    const attributes = await s3.send(new GetObjectAttributesCommand({ Bucket, Key, ObjectAttributes: ['Checksum'] }));
    expect(attributes.Checksum).toMatchObject({
      ChecksumCRC64NVME: put.ChecksumCRC64NVME,
      ChecksumType: 'FULL_OBJECT',
    });
    // A wrong CRC64NVME is BadDigest and stores nothing.
    const wrong = Buffer.alloc(8, 1).toString('base64');
    expect(
      await failure(s3.send(new PutObjectCommand({ Bucket, Key: 'bad-nvme', Body: 'data', ChecksumCRC64NVME: wrong }))),
    ).toMatchObject({ name: 'BadDigest' });
  });
});
