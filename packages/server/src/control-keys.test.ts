import {
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  ListPartsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bodyBytes, failure, startWithBuckets, type TestServer } from './fixtures/harness.js';

// Keys with control characters, which S3 accepts but XML 1.0 cannot carry: every listing takes
// `encoding-type=url` and URL-encodes them; without it they are written as character references
// (`&#x1;`), as S3 writes them, and never fail the request.

const Bucket = 'control-keys';
const KEYS = ['a\u0001b', 'bell\u0007', 'esc\u001b/inner', 'tab\tand\nnewline', 'unit\u001fsep'];
let t: TestServer;
let s3: S3Client;
beforeAll(async () => {
  ({ t, s3 } = await startWithBuckets([Bucket]));
  await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
  for (const Key of KEYS) await s3.send(new PutObjectCommand({ Bucket, Key, Body: `body of ${Key}` }));
});
afterAll(() => t.close());

const decoded = (keys: (string | undefined)[] | undefined) => (keys ?? []).map((k) => decodeURIComponent(k ?? ''));

describe('keys with control characters', () => {
  it('are stored, read, copied and deleted like any other key', async () => {
    for (const Key of KEYS) {
      const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
      expect((await bodyBytes(got.Body)).toString()).toBe(`body of ${Key}`);
    }
    await s3.send(
      new CopyObjectCommand({
        Bucket,
        Key: 'copy\u0002',
        CopySource: `${Bucket}/${encodeURIComponent(KEYS[0] ?? '')}`,
      }),
    );
    const copy = await s3.send(new GetObjectCommand({ Bucket, Key: 'copy\u0002' }));
    expect((await bodyBytes(copy.Body)).toString()).toBe(`body of ${KEYS[0]}`);
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'copy\u0002' }));
  });

  it('DeleteObjects takes them as the SDK sends them (raw in the XML)', async () => {
    const Key = 'many\u0004deleted';
    await s3.send(new PutObjectCommand({ Bucket, Key, Body: 'x' }));
    const out = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key }] } }));
    expect([out.Errors, out.Deleted?.map((d) => [d.Key, d.DeleteMarker])]).toEqual([undefined, [[Key, true]]]);
    expect(await failure(s3.send(new GetObjectCommand({ Bucket, Key })))).toEqual(['NoSuchKey', 404]);
  });

  it('ListObjects V1 and V2 and ListObjectVersions URL-encode them with encoding-type=url', async () => {
    const v2 = await s3.send(new ListObjectsV2Command({ Bucket, EncodingType: 'url' }));
    expect(v2.EncodingType).toBe('url');
    expect(decoded(v2.Contents?.map((o) => o.Key))).toEqual(KEYS);
    expect(v2.Contents?.every((o) => !/[\u0000-\u001f]/.test(o.Key ?? ''))).toBe(true);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket, EncodingType: 'url' }));
    expect(decoded(v1.Contents?.map((o) => o.Key))).toEqual(KEYS);
    const delimited = await s3.send(new ListObjectsV2Command({ Bucket, EncodingType: 'url', Delimiter: '/' }));
    expect(decoded(delimited.CommonPrefixes?.map((p) => p.Prefix))).toEqual(['esc\u001b/']);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket, EncodingType: 'url', Prefix: 'e' }));
    expect(decoded(versions.Versions?.map((v) => v.Key))).toEqual(['esc\u001b/inner']);
    expect(versions.Versions?.[0]?.Key).toBe('esc%1B/inner');
  });

  it('ListMultipartUploads and ListParts URL-encode them with encoding-type=url', async () => {
    const Key = 'upload\u0003key';
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    await s3.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: 'part' }));
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket, EncodingType: 'url' }));
    expect(decoded(uploads.Uploads?.map((u) => u.Key))).toEqual([Key]);
    expect(uploads.Uploads?.[0]?.Key).toBe('upload%03key');
    expect((await s3.send(new ListPartsCommand({ Bucket, Key, UploadId }))).Key).toBe(Key);
    // The SDK's ListParts has no EncodingType; S3's API takes the parameter all the same.
    const encoding = t.client();
    encoding.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { query: Record<string, string> }).query['encoding-type'] = 'url';
        return next(args);
      },
      { step: 'build', name: 'encodingType' },
    );
    const parts = await encoding.send(new ListPartsCommand({ Bucket, Key, UploadId }));
    expect([parts.Key, parts.Parts?.length]).toEqual(['upload%03key', 1]);
  });

  it('without encoding-type, listings write them as character references instead of failing', async () => {
    for (const command of [
      new ListObjectsV2Command({ Bucket }),
      new ListObjectsCommand({ Bucket }),
      new ListObjectVersionsCommand({ Bucket }),
    ]) {
      const response = await fetch(await getSignedUrl(s3, command));
      expect(response.status).toBe(200);
      const xml = await response.text();
      expect(xml).toContain('<Key>a&#x1;b</Key>');
      expect(xml).toContain('<Key>bell&#x7;</Key>');
      expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    }
  });
});
