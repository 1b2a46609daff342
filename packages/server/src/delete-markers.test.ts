import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyBytes, createBucket, failure, startTestServer, type TestServer } from './fixtures/harness.js';

// Delete markers as S3 keeps and lists them, through the AWS SDK: per versioning state, in
// listings, and under concurrent DeleteObjects requests.

let t: TestServer;
let s3: S3Client;
beforeAll(async () => {
  t = await startTestServer();
  s3 = t.client();
});
afterAll(() => t.close());

const bucket = (Bucket: string, status?: 'Enabled' | 'Suspended') => createBucket(s3, Bucket, status);

/** Every row of ListObjectVersions as `key versionId marker|version latest?`, in listing order per kind. */
async function versionRows(Bucket: string) {
  const out = await s3.send(new ListObjectVersionsCommand({ Bucket }));
  return {
    versions: (out.Versions ?? []).map((v) => `${v.Key} ${v.VersionId}${v.IsLatest ? ' latest' : ''}`),
    markers: (out.DeleteMarkers ?? []).map((m) => `${m.Key} ${m.VersionId}${m.IsLatest ? ' latest' : ''}`),
  };
}

describe('delete markers', () => {
  it('a versioned bucket keeps a deleted key’s versions behind a marker; ListObjects V1 and V2 hide the key', async () => {
    const Bucket = 'versioned-deletes';
    await bucket(Bucket, 'Enabled');
    const a = await s3.send(new PutObjectCommand({ Bucket, Key: 'a', Body: 'a1' }));
    const b = await s3.send(new PutObjectCommand({ Bucket, Key: 'b', Body: 'b1' }));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'a' }));
    expect(marker.DeleteMarker).toBe(true);
    expect(await versionRows(Bucket)).toEqual({
      versions: [`a ${a.VersionId}`, `b ${b.VersionId} latest`],
      markers: [`a ${marker.VersionId} latest`],
    });
    const v2 = await s3.send(new ListObjectsV2Command({ Bucket }));
    expect([v2.KeyCount, (v2.Contents ?? []).map((o) => o.Key)]).toEqual([1, ['b']]);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket }));
    expect((v1.Contents ?? []).map((o) => o.Key)).toEqual(['b']);
    expect(await failure(s3.send(new GetObjectCommand({ Bucket, Key: 'a' })))).toEqual(['NoSuchKey', 404]);
    const old = await s3.send(new GetObjectCommand({ Bucket, Key: 'a', VersionId: a.VersionId }));
    expect((await bodyBytes(old.Body)).toString()).toBe('a1');
  });

  it('an unversioned bucket removes the object: no marker, no version left', async () => {
    const Bucket = 'unversioned-deletes';
    await bucket(Bucket);
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'x' }));
    const deleted = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k' }));
    expect([deleted.DeleteMarker, deleted.VersionId]).toEqual([undefined, undefined]);
    expect(await versionRows(Bucket)).toEqual({ versions: [], markers: [] });
    // Deleting a key that does not exist succeeds the same way and leaves nothing either.
    const again = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k' }));
    expect([again.$metadata.httpStatusCode, again.DeleteMarker]).toEqual([204, undefined]);
    expect(await versionRows(Bucket)).toEqual({ versions: [], markers: [] });
  });

  it('with versioning suspended a delete leaves a null-version marker, which the next null write replaces', async () => {
    const Bucket = 'suspended-deletes';
    await bucket(Bucket, 'Enabled');
    const kept = await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'enabled' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Suspended' } }));
    const marker = await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k' }));
    expect([marker.DeleteMarker, marker.VersionId]).toEqual([true, 'null']);
    expect(await versionRows(Bucket)).toEqual({ versions: [`k ${kept.VersionId}`], markers: ['k null latest'] });
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'suspended' }));
    expect(await versionRows(Bucket)).toEqual({ versions: ['k null latest', `k ${kept.VersionId}`], markers: [] });
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'k' }));
    expect(await versionRows(Bucket)).toEqual({ versions: [`k ${kept.VersionId}`], markers: ['k null latest'] });
  });

  it('concurrent DeleteObjects on a versioned bucket: each delete its own marker, no version lost', async () => {
    const Bucket = 'concurrent-deletes';
    await bucket(Bucket, 'Enabled');
    const keys = Array.from({ length: 12 }, (_, i) => `key-${String(i).padStart(2, '0')}`);
    const written = new Map<string, string[]>();
    for (const Key of keys) {
      for (const round of [1, 2]) {
        const put = await s3.send(new PutObjectCommand({ Bucket, Key, Body: `${Key} ${round}` }));
        written.set(Key, [...(written.get(Key) ?? []), put.VersionId ?? '']);
      }
    }
    // Several clients, each deleting every key in one request, all at once.
    const requests = 6;
    const clients = Array.from({ length: requests }, () => t.client());
    const answers = await Promise.all(
      clients.map((client) =>
        client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } })),
      ),
    );
    const markerIds = answers.flatMap((a) => (a.Deleted ?? []).map((d) => `${d.Key} ${d.DeleteMarkerVersionId}`));
    expect(answers.flatMap((a) => a.Errors ?? [])).toEqual([]);
    expect(new Set(markerIds).size).toBe(keys.length * requests);
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket }));
    expect((listed.DeleteMarkers ?? []).map((m) => `${m.Key} ${m.VersionId}`).sort()).toEqual([...markerIds].sort());
    expect((listed.Versions ?? []).map((v) => `${v.Key} ${v.VersionId}`).sort()).toEqual(
      keys.flatMap((Key) => (written.get(Key) ?? []).map((id) => `${Key} ${id}`)).sort(),
    );
    // Exactly one marker per key is the latest, and every key is hidden from ListObjectsV2.
    expect((listed.DeleteMarkers ?? []).filter((m) => m.IsLatest).length).toBe(keys.length);
    expect((await s3.send(new ListObjectsV2Command({ Bucket }))).KeyCount).toBe(0);
    for (const client of clients) client.destroy();
  });
});
