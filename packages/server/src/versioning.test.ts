import {
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBucket, startTestServer, type TestServer } from './fixtures/harness.js';

let t: TestServer;
let s3: S3Client;
beforeAll(async () => {
  t = await startTestServer();
  s3 = t.client();
});
afterAll(() => t.close());

const bucket = (name: string, status?: 'Enabled' | 'Suspended') => createBucket(s3, name, status);
const text = async (Bucket: string, Key: string, VersionId?: string) =>
  (await s3.send(new GetObjectCommand({ Bucket, Key, VersionId }))).Body?.transformToString();

describe('versioning', () => {
  it('keeps every version, reads by version id, and lists them newest first', async () => {
    await bucket('v-basic', 'Enabled');
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'v-basic' }))).Status).toBe('Enabled');
    const ids: string[] = [];
    for (const body of ['one', 'two', 'three']) {
      const put = await s3.send(new PutObjectCommand({ Bucket: 'v-basic', Key: 'k', Body: body }));
      expect(put.VersionId).toMatch(/\S/);
      ids.push(put.VersionId as string);
    }
    expect(new Set(ids).size).toBe(3);
    expect(await text('v-basic', 'k')).toBe('three');
    expect(await text('v-basic', 'k', ids[0])).toBe('one');
    expect(await text('v-basic', 'k', ids[1])).toBe('two');
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'v-basic', Key: 'k', VersionId: ids[0] }));
    expect(head.ContentLength).toBe(3);
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: 'v-basic' }));
    expect(listed.Versions?.map((v) => [v.VersionId, v.IsLatest])).toEqual([
      [ids[2], true],
      [ids[1], false],
      [ids[0], false],
    ]);
  });

  it('a delete leaves a marker; deleting the marker brings the object back', async () => {
    await bucket('v-markers', 'Enabled');
    const put = await s3.send(new PutObjectCommand({ Bucket: 'v-markers', Key: 'k', Body: 'alive' }));
    const del = await s3.send(new DeleteObjectCommand({ Bucket: 'v-markers', Key: 'k' }));
    expect(del.DeleteMarker).toBe(true);
    const error = await s3.send(new GetObjectCommand({ Bucket: 'v-markers', Key: 'k' })).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'NoSuchKey' });
    expect(
      (error as { $response?: { headers: Record<string, string> } }).$response?.headers['x-amz-delete-marker'],
    ).toBe('true');
    expect((await s3.send(new ListObjectsV2Command({ Bucket: 'v-markers' }))).KeyCount).toBe(0);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'v-markers' }));
    expect(versions.DeleteMarkers?.map((m) => [m.VersionId, m.IsLatest])).toEqual([[del.VersionId, true]]);
    expect(versions.Versions?.map((v) => [v.VersionId, v.IsLatest])).toEqual([[put.VersionId, false]]);
    expect(await text('v-markers', 'k', put.VersionId)).toBe('alive');
    await expect(
      s3.send(new GetObjectCommand({ Bucket: 'v-markers', Key: 'k', VersionId: del.VersionId })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 405 } });

    await s3.send(new DeleteObjectCommand({ Bucket: 'v-markers', Key: 'k', VersionId: del.VersionId }));
    expect(await text('v-markers', 'k')).toBe('alive');
  });

  it('deleting the current version by id makes the previous one current', async () => {
    await bucket('v-promote', 'Enabled');
    const a = await s3.send(new PutObjectCommand({ Bucket: 'v-promote', Key: 'k', Body: 'a' }));
    const b = await s3.send(new PutObjectCommand({ Bucket: 'v-promote', Key: 'k', Body: 'b' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'v-promote', Key: 'k', VersionId: b.VersionId }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'v-promote', Key: 'k' }));
    expect(await got.Body?.transformToString()).toBe('a');
    expect(got.VersionId).toBe(a.VersionId);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'v-promote' }));
    expect(versions.Versions?.map((v) => [v.VersionId, v.IsLatest])).toEqual([[a.VersionId, true]]);
    await expect(
      s3.send(new GetObjectCommand({ Bucket: 'v-promote', Key: 'k', VersionId: b.VersionId })),
    ).rejects.toMatchObject({ name: 'NoSuchVersion' });
  });

  it('suspended versioning writes the null version, replacing the previous null version only', async () => {
    await bucket('v-suspend');
    await s3.send(new PutObjectCommand({ Bucket: 'v-suspend', Key: 'k', Body: 'before versioning' }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'v-suspend', VersioningConfiguration: { Status: 'Enabled' } }),
    );
    const kept = await s3.send(new PutObjectCommand({ Bucket: 'v-suspend', Key: 'k', Body: 'versioned' }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'v-suspend', VersioningConfiguration: { Status: 'Suspended' } }),
    );
    await s3.send(new PutObjectCommand({ Bucket: 'v-suspend', Key: 'k', Body: 'null one' }));
    await s3.send(new PutObjectCommand({ Bucket: 'v-suspend', Key: 'k', Body: 'null two' }));
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'v-suspend' }));
    expect(versions.Versions?.map((v) => v.VersionId)).toEqual(['null', kept.VersionId]);
    expect(await text('v-suspend', 'k')).toBe('null two');
    expect(await text('v-suspend', 'k', 'null')).toBe('null two');
    expect(await text('v-suspend', 'k', kept.VersionId)).toBe('versioned');
  });

  it('unversioned buckets list every object with version id null', async () => {
    await bucket('v-none');
    await s3.send(new PutObjectCommand({ Bucket: 'v-none', Key: 'a', Body: '1' }));
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'v-none' }));
    expect(versions.Versions?.map((v) => [v.Key, v.VersionId, v.IsLatest])).toEqual([['a', 'null', true]]);
  });

  it('paginates versions across keys with key and version-id markers', async () => {
    await bucket('v-pages', 'Enabled');
    const expected: string[] = [];
    for (const key of ['a', 'b', 'c']) {
      const ids = [];
      for (let i = 0; i < 3; i++) {
        ids.push((await s3.send(new PutObjectCommand({ Bucket: 'v-pages', Key: key, Body: `${key}${i}` }))).VersionId);
      }
      expected.push(...ids.reverse().map((id) => `${key}:${id}`));
    }
    const seen: string[] = [];
    let KeyMarker: string | undefined;
    let VersionIdMarker: string | undefined;
    for (let page = 0; page < 10; page++) {
      const out = await s3.send(
        new ListObjectVersionsCommand({ Bucket: 'v-pages', MaxKeys: 2, KeyMarker, VersionIdMarker }),
      );
      seen.push(...(out.Versions ?? []).map((v) => `${v.Key}:${v.VersionId}`));
      if (!out.IsTruncated) break;
      KeyMarker = out.NextKeyMarker;
      VersionIdMarker = out.NextVersionIdMarker;
    }
    expect(seen).toEqual(expected);
  });
});
