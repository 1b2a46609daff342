import { ListObjectsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWithBuckets, type TestServer } from './fixtures/harness.js';

const Bucket = 'listing';
const KEYS = ['a', 'a/1', 'a/2', 'a/b/3', 'b', 'c/1', 'c/2', 'd e', 'z'];
let t: TestServer;
let s3: S3Client;
beforeAll(async () => {
  ({ t, s3 } = await startWithBuckets([Bucket]));
  for (const Key of KEYS) await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }));
});
afterAll(() => t.close());

describe('listing', () => {
  it('lists everything in UTF-8 order with sizes and ETags', async () => {
    const out = await s3.send(new ListObjectsV2Command({ Bucket }));
    expect(out.Contents?.map((c) => c.Key)).toEqual(KEYS);
    expect(out.KeyCount).toBe(KEYS.length);
    expect(out.IsTruncated).toBe(false);
    expect(out.Contents?.[1]).toMatchObject({ Key: 'a/1', Size: 3, StorageClass: 'STANDARD' });
  });

  it('groups by delimiter under a prefix', async () => {
    const top = await s3.send(new ListObjectsV2Command({ Bucket, Delimiter: '/' }));
    expect(top.Contents?.map((c) => c.Key)).toEqual(['a', 'b', 'd e', 'z']);
    expect(top.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/', 'c/']);
    const under = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'a/', Delimiter: '/' }));
    expect(under.Contents?.map((c) => c.Key)).toEqual(['a/1', 'a/2']);
    expect(under.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/b/']);
  });

  it('paginates V2 with continuation tokens, delimiter included, and honours start-after', async () => {
    const seen: string[] = [];
    let ContinuationToken: string | undefined;
    for (let i = 0; i < 20; i++) {
      const page = await s3.send(new ListObjectsV2Command({ Bucket, MaxKeys: 2, Delimiter: '/', ContinuationToken }));
      expect((page.Contents?.length ?? 0) + (page.CommonPrefixes?.length ?? 0)).toBeLessThanOrEqual(2);
      seen.push(
        ...(page.Contents ?? []).map((c) => c.Key as string),
        ...(page.CommonPrefixes ?? []).map((p) => p.Prefix as string),
      );
      if (!page.IsTruncated) break;
      ContinuationToken = page.NextContinuationToken;
    }
    expect(seen.sort()).toEqual(['a', 'a/', 'b', 'c/', 'd e', 'z']);
    const after = await s3.send(new ListObjectsV2Command({ Bucket, StartAfter: 'c/1' }));
    expect(after.Contents?.map((c) => c.Key)).toEqual(['c/2', 'd e', 'z']);
    await expect(s3.send(new ListObjectsV2Command({ Bucket, ContinuationToken: 'garbage' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('returns owners with fetch-owner and URL-encodes keys with encoding-type=url', async () => {
    const owned = await s3.send(new ListObjectsV2Command({ Bucket, FetchOwner: true, MaxKeys: 1 }));
    expect(owned.Contents?.[0]?.Owner?.ID).toBe('alice-key');
    const encoded = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: 'd', EncodingType: 'url' }));
    expect(encoded.Contents?.map((c) => c.Key)).toEqual(['d%20e']);
  });

  it('paginates V1 with markers (NextMarker only with a delimiter)', async () => {
    const seen: string[] = [];
    let Marker: string | undefined;
    for (let i = 0; i < 20; i++) {
      const page = await s3.send(new ListObjectsCommand({ Bucket, MaxKeys: 3, Marker }));
      seen.push(...(page.Contents ?? []).map((c) => c.Key as string));
      if (!page.IsTruncated) break;
      // S3 sends NextMarker only with a delimiter: clients continue after the last key.
      expect(page.NextMarker).toBeUndefined();
      Marker = page.Contents?.at(-1)?.Key;
    }
    expect(seen).toEqual(KEYS);
    const grouped = await s3.send(new ListObjectsCommand({ Bucket, Delimiter: '/', Marker: 'a/' }));
    expect(grouped.Contents?.map((c) => c.Key)).toEqual(['b', 'd e', 'z']);
    expect(grouped.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['c/']);
  });
});
