import { createHash } from 'node:crypto';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failure, startWithBuckets, type TestServer } from './fixtures/harness.js';
import type { S3Client } from '@aws-sdk/client-s3';

const Bucket = 'express';

describe('--emulate s3-express: directory-bucket semantics through the AWS SDK', () => {
  let t: TestServer;
  let s3: S3Client;
  const keys = Array.from({ length: 30 }, (_, i) => `dir/${String(i).padStart(2, '0')}`);

  beforeAll(async () => {
    ({ t, s3 } = await startWithBuckets([Bucket], { emulate: 's3-express' }));
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }));
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists unsorted pages that together hold every key once', async () => {
    const listed: string[] = [];
    let unsortedPages = 0;
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'dir/', MaxKeys: 7, ContinuationToken }));
      const names = (page.Contents ?? []).map((o) => o.Key as string);
      if (names.join() !== [...names].sort().join()) unsortedPages++;
      listed.push(...names);
      ContinuationToken = page.NextContinuationToken;
    } while (ContinuationToken !== undefined);
    expect([...listed].sort()).toEqual(keys);
    expect(unsortedPages).toBeGreaterThan(0);
  });

  it('refuses StartAfter and prefixes that do not end in "/"', async () => {
    expect(await failure(s3.send(new ListObjectsV2Command({ Bucket, StartAfter: 'dir/05' })))).toEqual([
      'InvalidArgument',
      400,
    ]);
    expect(await failure(s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'dir/0' })))).toEqual([
      'InvalidArgument',
      400,
    ]);
  });

  it('answers ETags that are not the MD5 of the body, usable in conditions', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket, Key: 'dir/etag', Body: 'body' }));
    const md5 = `"${createHash('md5').update('body').digest('hex')}"`;
    expect(put.ETag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(put.ETag).not.toBe(md5);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key: 'dir/etag', IfMatch: put.ETag }));
    expect(await got.Body?.transformToString()).toBe('body');
    expect(got.ETag).toBe(put.ETag);
    expect(await failure(s3.send(new GetObjectCommand({ Bucket, Key: 'dir/etag', IfMatch: md5 })))).toEqual([
      'PreconditionFailed',
      412,
    ]);
  });
});
