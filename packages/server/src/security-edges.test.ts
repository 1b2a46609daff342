import {
  GetObjectCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, failure, startWithBuckets, type TestServer } from './fixtures/harness.js';

// Requests an attacker or a careless client sends, answered as S3 answers them.

const Bucket = 'edges';
let t: TestServer;
let s3: S3Client;
beforeAll(async () => {
  ({ t, s3 } = await startWithBuckets([Bucket]));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'ten', Body: '0123456789' }));
});
afterAll(() => t.close());

describe('signatures', () => {
  it('refuses a signature scoped to another region than the server’s', async () => {
    const elsewhere = new S3Client({
      endpoint: t.url,
      region: 'eu-west-1',
      forcePathStyle: true,
      credentials: { accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey },
    });
    try {
      expect(await failure(elsewhere.send(new ListBucketsCommand({})))).toEqual(['AuthorizationHeaderMalformed', 400]);
    } finally {
      elsewhere.destroy();
    }
  });

  it('answers 403 for a presigned URL valid for 0 seconds or more than a week, as S3 does', async () => {
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key: 'ten' }), { expiresIn: 60 });
    expect((await fetch(url)).status).toBe(200);
    for (const expires of ['0', '604801']) {
      const res = await fetch(url.replace('X-Amz-Expires=60', `X-Amz-Expires=${expires}`));
      expect([res.status, /<Code>(\w+)<\/Code>/.exec(await res.text())?.[1]]).toEqual([403, 'AccessDenied']);
    }
  });
});

describe('ranges', () => {
  it('answers GET and HEAD alike for range ends and starts beyond 2^53', async () => {
    const huge = '99999999999999999999';
    const get = await s3.send(new GetObjectCommand({ Bucket, Key: 'ten', Range: `bytes=2-${huge}` }));
    expect([get.ContentRange, await get.Body?.transformToString()]).toEqual(['bytes 2-9/10', '23456789']);
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key: 'ten', Range: `bytes=2-${huge}` }));
    expect([head.ContentRange, head.ContentLength]).toEqual(['bytes 2-9/10', 8]);
    const suffix = await s3.send(new HeadObjectCommand({ Bucket, Key: 'ten', Range: `bytes=-${huge}` }));
    expect(suffix.ContentLength).toBe(10);
    expect(await failure(s3.send(new GetObjectCommand({ Bucket, Key: 'ten', Range: `bytes=${huge}-` })))).toEqual([
      'InvalidRange',
      416,
    ]);
    const headPast = await failure(s3.send(new HeadObjectCommand({ Bucket, Key: 'ten', Range: `bytes=${huge}-` })));
    expect(headPast?.[1]).toBe(416);
  });
});
