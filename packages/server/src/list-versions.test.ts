import {
  CreateBucketCommand,
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './fixtures/harness.js';

let t: TestServer;
let s3: S3Client;
/** Rows of `mixed` as S3 lists them: `key:versionId`, newest first per key. */
let expected: string[];

const put = async (Bucket: string, Key: string) =>
  (await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }))).VersionId ?? 'missing';
const del = async (Bucket: string, Key: string) =>
  (await s3.send(new DeleteObjectCommand({ Bucket, Key }))).VersionId ?? 'missing';
const enable = (Bucket: string, Status: 'Enabled' | 'Suspended' = 'Enabled') =>
  s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status } }));

/** A page's versions and markers back in listing order (the SDK splits them into two arrays). */
function pageRows(out: ListObjectVersionsCommandOutput): string[] {
  const rows = [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])].map((v) => `${v.Key}:${v.VersionId}`);
  return rows.sort((a, b) => expected.indexOf(a) - expected.indexOf(b));
}

beforeAll(async () => {
  t = await startTestServer();
  s3 = t.client();
  // `a` written before versioning (the null version), then deleted, written and deleted again.
  await s3.send(new CreateBucketCommand({ Bucket: 'mixed' }));
  await put('mixed', 'a');
  await enable('mixed');
  const m1 = await del('mixed', 'a');
  const a2 = await put('mixed', 'a');
  const m2 = await del('mixed', 'a');
  const b1 = await put('mixed', 'b');
  expected = [`a:${m2}`, `a:${a2}`, `a:${m1}`, 'a:null', `b:${b1}`];
});
afterAll(() => t.close());

describe('ListObjectVersions', () => {
  it('interleaves versions and delete markers of a key newest first, IsLatest on the newest only', async () => {
    const out = await s3.send(new ListObjectVersionsCommand({ Bucket: 'mixed' }));
    expect(pageRows(out)).toEqual(expected);
    const latest = [...(out.Versions ?? []), ...(out.DeleteMarkers ?? [])].filter((v) => v.IsLatest);
    expect(latest.map((v) => `${v.Key}:${v.VersionId}`).sort()).toEqual([expected[0], expected[4]]);

    // The XML itself keeps them interleaved (minio-go and others read the elements in order).
    const url = await getSignedUrl(s3, new ListObjectVersionsCommand({ Bucket: 'mixed' }));
    const xml = await (await fetch(url)).text();
    const elements = [...xml.matchAll(/<(Version|DeleteMarker)><Key>([^<]*)<\/Key><VersionId>([^<]*)</g)];
    expect(elements.map((m) => `${m[2]}:${m[3]}`)).toEqual(expected);
    expect(elements.map((m) => m[1])).toEqual(['DeleteMarker', 'Version', 'DeleteMarker', 'Version', 'Version']);
    const root = /<ListVersionsResult[^>]*>(.*)<\/ListVersionsResult>/s.exec(xml)?.[1] ?? '';
    const top = [...root.matchAll(/<(\w+)>(?:[^<]*|<(?!\/\1>).*?)<\/\1>/gs)].map((m) => m[1]);
    expect(top.slice(0, 6)).toEqual(['Name', 'Prefix', 'KeyMarker', 'VersionIdMarker', 'MaxKeys', 'IsTruncated']);
  });

  it.each([1, 2, 3])(
    'pages of %i resume with NextKeyMarker / NextVersionIdMarker across the interleaving',
    async (n) => {
      const seen: string[] = [];
      let KeyMarker: string | undefined;
      let VersionIdMarker: string | undefined;
      for (let page = 0; page < 10; page++) {
        const out = await s3.send(
          new ListObjectVersionsCommand({ Bucket: 'mixed', MaxKeys: n, KeyMarker, VersionIdMarker }),
        );
        const rows = pageRows(out);
        seen.push(...rows);
        if (!out.IsTruncated) break;
        expect(rows).toHaveLength(n);
        expect(`${out.NextKeyMarker}:${out.NextVersionIdMarker}`).toBe(rows.at(-1));
        KeyMarker = out.NextKeyMarker;
        VersionIdMarker = out.NextVersionIdMarker;
      }
      expect(seen).toEqual(expected);
    },
  );

  it('resumes after a version-id marker of the null version, and of a version deleted meanwhile', async () => {
    const afterNull = await s3.send(
      new ListObjectVersionsCommand({ Bucket: 'mixed', KeyMarker: 'a', VersionIdMarker: 'null' }),
    );
    expect(pageRows(afterNull)).toEqual(expected.slice(4));

    await s3.send(new CreateBucketCommand({ Bucket: 'shrinking' }));
    await enable('shrinking');
    const ids = [await put('shrinking', 'k'), await put('shrinking', 'k'), await put('shrinking', 'k')];
    const first = await s3.send(new ListObjectVersionsCommand({ Bucket: 'shrinking', MaxKeys: 2 }));
    expect(first.NextVersionIdMarker).toBe(ids[1]);
    await s3.send(new DeleteObjectCommand({ Bucket: 'shrinking', Key: 'k', VersionId: ids[1] }));
    const rest = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: 'shrinking',
        KeyMarker: 'k',
        VersionIdMarker: first.NextVersionIdMarker,
      }),
    );
    expect(rest.Versions?.map((v) => v.VersionId)).toEqual([ids[0]]);
  });

  it('refuses a version-id marker without a key marker, or one that is not a version id', async () => {
    for (const [KeyMarker, VersionIdMarker, message] of [
      [undefined, 'null', 'A version-id marker cannot be specified without a key marker.'],
      ['a', 'not-an-id', 'Invalid version id specified'],
    ] as const) {
      const error = await s3
        .send(new ListObjectVersionsCommand({ Bucket: 'mixed', KeyMarker, VersionIdMarker }))
        .catch((e: unknown) => e);
      expect(error).toMatchObject({ name: 'InvalidArgument', message, $metadata: { httpStatusCode: 400 } });
    }
  });

  it('lists objects written while suspended with version id null, after the versions they did not replace', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'suspended' }));
    await enable('suspended');
    const kept = await put('suspended', 'k');
    await enable('suspended', 'Suspended');
    const marker = await del('suspended', 'k');
    expect(marker).toBe('null');
    await put('suspended', 'k');
    const out = await s3.send(new ListObjectVersionsCommand({ Bucket: 'suspended' }));
    // The null delete marker was replaced by the null version written after it.
    expect(out.DeleteMarkers ?? []).toEqual([]);
    expect(out.Versions?.map((v) => [v.VersionId, v.IsLatest])).toEqual([
      ['null', true],
      [kept, false],
    ]);
  });
});
