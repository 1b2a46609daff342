import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketCorsCommand,
  DeleteBucketTaggingCommand,
  GetBucketCorsCommand,
  GetBucketLocationCommand,
  GetBucketTaggingCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  PutBucketAclCommand,
  PutBucketCorsCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
  GetBucketAclCommand,
  CopyObjectCommand,
  GetObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, BOB, startTestServer, type TestServer } from './fixtures/harness.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ metrics: true });
});
afterAll(() => t.close());

describe('buckets', () => {
  it('creates, lists per owner, heads, locates and deletes buckets', async () => {
    const alice = t.client();
    const bob = t.client(BOB);
    await alice.send(new CreateBucketCommand({ Bucket: 'alice-one' }));
    await bob.send(new CreateBucketCommand({ Bucket: 'bob-one' }));
    expect((await alice.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).toContain('alice-one');
    expect((await alice.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name)).not.toContain('bob-one');
    await alice.send(new HeadBucketCommand({ Bucket: 'alice-one' }));
    expect((await alice.send(new GetBucketLocationCommand({ Bucket: 'alice-one' }))).LocationConstraint ?? '').toBe('');
    // us-east-1: re-creating one's own bucket succeeds and leaves it as it is (below: not empty).
    await alice.send(new CreateBucketCommand({ Bucket: 'alice-one' }));
    await expect(bob.send(new CreateBucketCommand({ Bucket: 'alice-one' }))).rejects.toMatchObject({
      name: 'BucketAlreadyExists',
    });
    await alice.send(new PutObjectCommand({ Bucket: 'alice-one', Key: 'x', Body: 'x' }));
    await alice.send(new CreateBucketCommand({ Bucket: 'alice-one', ACL: 'public-read' }));
    expect((await alice.send(new GetBucketAclCommand({ Bucket: 'alice-one' }))).Grants).toHaveLength(1);
    await expect(alice.send(new DeleteBucketCommand({ Bucket: 'alice-one' }))).rejects.toMatchObject({
      name: 'BucketNotEmpty',
      $metadata: { httpStatusCode: 409 },
    });
    await expect(alice.send(new DeleteBucketCommand({ Bucket: 'bob-one' }))).rejects.toMatchObject({
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    await bob.send(new DeleteBucketCommand({ Bucket: 'bob-one' }));
    await expect(bob.send(new HeadBucketCommand({ Bucket: 'bob-one' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 404 },
    });
  });

  it('refuses invalid bucket names', async () => {
    const s3 = t.client();
    for (const Bucket of [
      'ab',
      'UPPER',
      'a..b',
      '192.168.1.1',
      '-dash',
      'under_score',
      'x'.repeat(64),
      'xn--punycode',
    ]) {
      await expect(s3.send(new CreateBucketCommand({ Bucket }))).rejects.toMatchObject({
        $metadata: { httpStatusCode: 400 },
      });
    }
  });

  it('keeps other users out of a bucket and anonymous requests out unless it is public', async () => {
    const alice = t.client();
    const bob = t.client(BOB);
    await alice.send(new CreateBucketCommand({ Bucket: 'private-b' }));
    await alice.send(new PutObjectCommand({ Bucket: 'private-b', Key: 'secret', Body: 'alice only' }));
    await expect(bob.send(new PutObjectCommand({ Bucket: 'private-b', Key: 'k', Body: 'x' }))).rejects.toMatchObject({
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    const anonymous = await fetch(`${t.url}/private-b/secret`);
    expect(anonymous.status).toBe(403);
    expect(await anonymous.text()).toContain('<Code>AccessDenied</Code>');

    // As in S3, a public-read bucket lists for anyone; its objects stay private unless their ACL says otherwise.
    await alice.send(new PutBucketAclCommand({ Bucket: 'private-b', ACL: 'public-read' }));
    expect((await fetch(`${t.url}/private-b?list-type=2`)).status).toBe(200);
    expect((await fetch(`${t.url}/private-b/secret`)).status).toBe(403);
    await alice.send(new PutObjectCommand({ Bucket: 'private-b', Key: 'shared', Body: 'for all', ACL: 'public-read' }));
    const publicRead = await fetch(`${t.url}/private-b/shared`);
    expect(publicRead.status).toBe(200);
    expect(await publicRead.text()).toBe('for all');
    expect((await fetch(`${t.url}/private-b/new`, { method: 'PUT', body: 'x' })).status).toBe(403);
    await expect(bob.send(new PutObjectCommand({ Bucket: 'private-b', Key: 'k', Body: 'x' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 403 },
    });
    expect((await fetch(t.url)).status).toBe(403);
  });

  it('stores CORS rules and answers preflight requests from them', async () => {
    const s3 = t.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'cors-b' }));
    const preflight = (origin: string, method: string, headers?: string) =>
      fetch(`${t.url}/cors-b/some/key`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': method,
          ...(headers === undefined ? {} : { 'access-control-request-headers': headers }),
        },
      });
    expect((await preflight('https://app.example', 'GET')).status).toBe(403);
    await expect(s3.send(new GetBucketCorsCommand({ Bucket: 'cors-b' }))).rejects.toMatchObject({
      name: 'NoSuchCORSConfiguration',
    });
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: 'cors-b',
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: ['https://*.example'],
              AllowedMethods: ['GET', 'PUT'],
              AllowedHeaders: ['x-amz-*', 'content-type'],
              ExposeHeaders: ['ETag'],
              MaxAgeSeconds: 600,
            },
          ],
        },
      }),
    );
    const rules = await s3.send(new GetBucketCorsCommand({ Bucket: 'cors-b' }));
    expect(rules.CORSRules?.[0]).toMatchObject({ AllowedOrigins: ['https://*.example'], MaxAgeSeconds: 600 });
    const ok = await preflight('https://app.example', 'PUT', 'content-type, x-amz-date');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(ok.headers.get('access-control-allow-methods')).toBe('GET, PUT');
    expect(ok.headers.get('access-control-max-age')).toBe('600');
    expect((await preflight('https://app.example', 'DELETE')).status).toBe(403);
    expect((await preflight('https://evil.test', 'GET')).status).toBe(403);
    expect((await preflight('https://app.example', 'GET', 'authorization-x')).status).toBe(403);
    await s3.send(new DeleteBucketCorsCommand({ Bucket: 'cors-b' }));
    expect((await preflight('https://app.example', 'GET')).status).toBe(403);
  });

  it('stores bucket tags', async () => {
    const s3 = t.client();
    await s3.send(new CreateBucketCommand({ Bucket: 'tags-b' }));
    await expect(s3.send(new GetBucketTaggingCommand({ Bucket: 'tags-b' }))).rejects.toMatchObject({
      name: 'NoSuchTagSet',
    });
    await s3.send(
      new PutBucketTaggingCommand({ Bucket: 'tags-b', Tagging: { TagSet: [{ Key: 'team', Value: 'db' }] } }),
    );
    expect((await s3.send(new GetBucketTaggingCommand({ Bucket: 'tags-b' }))).TagSet).toEqual([
      { Key: 'team', Value: 'db' },
    ]);
    await s3.send(new DeleteBucketTaggingCommand({ Bucket: 'tags-b' }));
    await expect(s3.send(new GetBucketTaggingCommand({ Bucket: 'tags-b' }))).rejects.toMatchObject({
      name: 'NoSuchTagSet',
    });
  });

  it('serves Prometheus metrics', async () => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    expect(text).toMatch(/bucketdb_s3_requests_total\{operation="CreateBucket",status="200"\} \d+/);
    expect(text).toContain('bucketdb_s3_request_duration_seconds_bucket{operation="PutObject",le="+Inf"}');
    expect(text).toMatch(/bucketdb_s3_request_bytes_total\{operation="PutObject"\} [1-9]/);
  });
});

describe('bucket fidelity', () => {
  it('pages ListBuckets by max-buckets and continuation-token, filtered by prefix', async () => {
    const carol = t.client();
    const names = ['page-a', 'page-b', 'page-c', 'page-d', 'other-x'];
    for (const Bucket of names) await carol.send(new CreateBucketCommand({ Bucket }));
    const seen: string[] = [];
    let ContinuationToken: string | undefined;
    let pages = 0;
    do {
      const page = await carol.send(new ListBucketsCommand({ MaxBuckets: 3, Prefix: 'page-', ContinuationToken }));
      seen.push(...(page.Buckets ?? []).map((b) => b.Name ?? ''));
      expect(page.Prefix).toBe('page-');
      ContinuationToken = page.ContinuationToken;
      pages++;
    } while (ContinuationToken);
    expect([seen, pages]).toEqual([['page-a', 'page-b', 'page-c', 'page-d'], 2]);
  });

  it('answers BucketAlreadyOwnedByYou to re-creating one’s bucket outside us-east-1', async () => {
    const eu = await startTestServer({ region: 'eu-west-1' });
    const client = new S3Client({
      endpoint: eu.url,
      region: 'eu-west-1',
      forcePathStyle: true,
      credentials: { accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey },
    });
    try {
      const config = { LocationConstraint: 'eu-west-1' as const };
      await client.send(new CreateBucketCommand({ Bucket: 'eu-bucket', CreateBucketConfiguration: config }));
      await expect(
        client.send(new CreateBucketCommand({ Bucket: 'eu-bucket', CreateBucketConfiguration: config })),
      ).rejects.toMatchObject({ name: 'BucketAlreadyOwnedByYou', $metadata: { httpStatusCode: 409 } });
    } finally {
      client.destroy();
      await eu.close();
    }
  });

  it('refuses a request whose x-amz-expected-bucket-owner is not the bucket’s owner', async () => {
    const alice = t.client();
    await alice.send(new CreateBucketCommand({ Bucket: 'expected-owner' }));
    await alice.send(
      new PutObjectCommand({ Bucket: 'expected-owner', Key: 'k', Body: 'v', ExpectedBucketOwner: ALICE.accessKeyId }),
    );
    await expect(
      alice.send(new GetObjectCommand({ Bucket: 'expected-owner', Key: 'k', ExpectedBucketOwner: BOB.accessKeyId })),
    ).rejects.toMatchObject({ name: 'AccessDenied', $metadata: { httpStatusCode: 403 } });
    await expect(
      alice.send(
        new CopyObjectCommand({
          Bucket: 'expected-owner',
          Key: 'copy',
          CopySource: 'expected-owner/k',
          ExpectedSourceBucketOwner: BOB.accessKeyId,
        }),
      ),
    ).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});
