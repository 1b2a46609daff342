import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  GetObjectAclCommand,
  GetBucketLocationCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutBucketCorsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure, startTestServer, startWithBuckets, type TestServer } from './fixtures/harness.js';

// Behaviours an S3 conformance suite checks, through the AWS SDK as a user's client sends them.
// Where S3's documentation and its observed answers differ, the observed ones (see the handlers' comments).

const Bucket = 'fidelity';
let t: TestServer;
let s3: S3Client;
beforeAll(async () => {
  ({ t, s3 } = await startWithBuckets([Bucket]));
});
afterAll(() => t.close());

describe('checksums', () => {
  it('answers BadDigest to a SHA-256 that does not match, even one of the wrong length', async () => {
    const wrong = Buffer.alloc(32, 7).toString('base64');
    for (const ChecksumSHA256 of [wrong, 'bad']) {
      expect(
        await failure(s3.send(new PutObjectCommand({ Bucket, Key: 'sha', Body: 'data', ChecksumSHA256 }))),
      ).toEqual(['BadDigest', 400]);
    }
    await expect(s3.send(new GetObjectCommand({ Bucket, Key: 'sha' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
  });
});

describe('partNumber reads', () => {
  it('reads a plain object as its one part and refuses parts beyond the last with 400 InvalidPart', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'plain', Body: 'whole object' }));
    const one = await s3.send(new GetObjectCommand({ Bucket, Key: 'plain', PartNumber: 1 }));
    expect([one.$metadata.httpStatusCode, one.ContentRange, await one.Body?.transformToString()]).toEqual([
      206,
      'bytes 0-11/12',
      'whole object',
    ]);
    expect(await failure(s3.send(new GetObjectCommand({ Bucket, Key: 'plain', PartNumber: 2 })))).toEqual([
      'InvalidPart',
      400,
    ]);
    expect((await failure(s3.send(new HeadObjectCommand({ Bucket, Key: 'plain', PartNumber: 2 }))))?.[1]).toBe(400);
  });

  it('refuses a part beyond the last of a multipart object with 400 InvalidPart', async () => {
    const Key = 'two-parts';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const a = await s3.send(
      new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: Buffer.alloc(5 * 1024 * 1024, 1) }),
    );
    const b = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 2, Body: 'tail' }));
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: a.ETag },
            { PartNumber: 2, ETag: b.ETag },
          ],
        },
      }),
    );
    const two = await s3.send(new GetObjectCommand({ Bucket, Key, PartNumber: 2 }));
    expect(await two.Body?.transformToString()).toBe('tail');
    expect(await failure(s3.send(new GetObjectCommand({ Bucket, Key, PartNumber: 3 })))).toEqual(['InvalidPart', 400]);
  });
});

describe('multipart', () => {
  it('answers a CompleteMultipartUpload repeated after it succeeded with the same success', async () => {
    const Key = 'completed-twice';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    const part = await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: 'only part' }));
    const complete = () =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
        }),
      );
    const first = await complete();
    const again = await complete();
    expect([again.ETag, again.Key]).toEqual([first.ETag, Key]);
    // Another upload id is still unknown.
    const other = s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId: `${UploadId?.slice(0, -1)}${UploadId?.endsWith('0') ? '1' : '0'}`,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
      }),
    );
    expect(await failure(other)).toEqual(['NoSuchUpload', 404]);
  });
});

describe('tagging', () => {
  it('stores x-amz-tagging of a PutObject and counts the tags on GET', async () => {
    await s3.send(new PutObjectCommand({ Bucket, Key: 'tagged', Body: 't', Tagging: 'team=db&stage=a%20b' }));
    const { TagSet } = await s3.send(new GetObjectTaggingCommand({ Bucket, Key: 'tagged' }));
    expect(TagSet).toEqual([
      { Key: 'team', Value: 'db' },
      { Key: 'stage', Value: 'a b' },
    ]);
    expect((await s3.send(new GetObjectCommand({ Bucket, Key: 'tagged' }))).TagCount).toBe(2);
  });
});

describe('owner ids', () => {
  it('shows a user’s configured canonical id wherever S3 shows an owner', async () => {
    const id = '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be';
    const dana = { name: 'dana', id, accessKeyId: 'dana-key', secretAccessKey: 'dana-secret' };
    const owned = await startTestServer({ users: [dana] });
    try {
      const client = owned.client(dana);
      const B = 'ids';
      await client.send(new CreateBucketCommand({ Bucket: B }));
      await client.send(new PutObjectCommand({ Bucket: B, Key: 'k', Body: 'v', ExpectedBucketOwner: id }));
      await client.send(new CreateMultipartUploadCommand({ Bucket: B, Key: 'u' }));
      const listed = await client.send(new ListObjectsV2Command({ Bucket: B, FetchOwner: true }));
      const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: B }));
      const acl = await client.send(new GetObjectAclCommand({ Bucket: B, Key: 'k' }));
      const buckets = await client.send(new ListBucketsCommand({}));
      expect([
        listed.Contents?.[0]?.Owner?.ID,
        uploads.Uploads?.[0]?.Owner?.ID,
        uploads.Uploads?.[0]?.Initiator?.ID,
        acl.Owner?.ID,
        buckets.Owner?.ID,
      ]).toEqual([id, id, id, id, id]);
      expect(listed.Contents?.[0]?.Owner?.DisplayName).toBe('dana');
    } finally {
      await owned.close();
    }
  });
});

describe('CORS on actual requests', () => {
  /** A client that sends `Origin` with every request and records each response's headers. */
  function browserLike(origin: string) {
    const client = t.client();
    const seen: Record<string, string>[] = [];
    client.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers.origin = origin;
        const result = await next(args);
        seen.push({ ...(result.response as { headers: Record<string, string> }).headers });
        return result;
      },
      { step: 'deserialize', name: 'origin' },
    );
    return { client, seen };
  }

  it('answers a matching origin with the rule’s headers on GET, HEAD and PUT, and others with none', async () => {
    const Bucket = 'cors-actual';
    await s3.send(new CreateBucketCommand({ Bucket }));
    await s3.send(
      new PutBucketCorsCommand({
        Bucket,
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: ['https://app.example'],
              AllowedMethods: ['GET', 'HEAD', 'PUT'],
              ExposeHeaders: ['ETag'],
            },
            { AllowedOrigins: ['*'], AllowedMethods: ['GET'] },
          ],
        },
      }),
    );
    const app = browserLike('https://app.example');
    await app.client.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'v' }));
    await app.client.send(new GetObjectCommand({ Bucket, Key: 'k' }));
    await app.client.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
    for (const headers of app.seen) {
      expect(headers).toMatchObject({
        'access-control-allow-origin': 'https://app.example',
        'access-control-allow-credentials': 'true',
        'access-control-expose-headers': 'ETag',
        vary: 'Origin',
      });
    }
    expect(app.seen.length).toBe(3);
    // Another origin matches only the wildcard rule, which answers `*` and allows GET alone.
    const other = browserLike('https://elsewhere.example');
    await other.client.send(new GetObjectCommand({ Bucket, Key: 'k' }));
    await other.client.send(new HeadObjectCommand({ Bucket, Key: 'k' }));
    expect(other.seen.map((h) => h['access-control-allow-origin'])).toEqual(['*', undefined]);
    expect(other.seen[0]?.['access-control-allow-credentials']).toBeUndefined();
  });
});

describe('GetBucketLocation', () => {
  it('answers an empty LocationConstraint in us-east-1 and the region elsewhere', async () => {
    const out = await s3.send(new GetBucketLocationCommand({ Bucket }));
    expect(out.LocationConstraint ?? '').toBe('');
    const { t: west, s3: westClient } = await startWithBuckets([], { region: 'eu-west-1' });
    try {
      const client = west.client();
      client.config.region = () => Promise.resolve('eu-west-1');
      await client.send(
        new CreateBucketCommand({ Bucket: 'west', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }),
      );
      expect((await client.send(new GetBucketLocationCommand({ Bucket: 'west' }))).LocationConstraint).toBe(
        'eu-west-1',
      );
    } finally {
      westClient.destroy();
      await west.close();
    }
  });
});
