import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_USER, startTestServer } from './fixtures/test-server.js';

// Presigned URLs from @aws-sdk/s3-request-presigner, used with plain fetch as a browser would.

let server: Awaited<ReturnType<typeof startTestServer>>;
let client: S3Client;
const bucket = 'presigned';

beforeAll(async () => {
  server = await startTestServer();
  client = new S3Client({
    endpoint: server.url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: CLIENT_USER,
    // Otherwise the presigner signs a CRC32 of the (absent) body into the URL, and S3, like this
    // server, then refuses any upload whose bytes differ.
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  client?.destroy();
  await server?.close();
});

const errorCode = async (res: Response) => (await res.text()).match(/<Code>([^<]+)<\/Code>/)?.[1];

describe('presigned URLs with fetch', () => {
  it('PUT then GET an object, with an awkward key', async () => {
    const key = 'dir/with space/ünïcödé+plus(1).bin';
    const body = randomBytes(100_000);
    const putUrl = await getSignedUrl(client, new PutObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 300 });
    const put = await fetch(putUrl, { method: 'PUT', body });
    expect(put.status, await put.clone().text()).toBe(200);
    const getUrl = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: 300 });
    const got = await fetch(getUrl);
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(body)).toBe(true);
  });

  it('honours response-* overrides signed into the URL', async () => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'doc', Body: 'hello' }));
    const url = await getSignedUrl(
      client,
      new GetObjectCommand({ Bucket: bucket, Key: 'doc', ResponseContentType: 'text/x-test' }),
      { expiresIn: 60 },
    );
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/x-test');
  });

  it('refuses an expired URL with 403 AccessDenied', async () => {
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'old', Body: 'x' }));
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: 'old' }), {
      expiresIn: 60,
      signingDate: new Date(Date.now() - 3600_000),
    });
    const res = await fetch(url);
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe('AccessDenied');
  });

  it('refuses a URL whose signature, expiry or key was changed', async () => {
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: 'doc' }), { expiresIn: 60 });
    const forged = url.replace(
      /X-Amz-Signature=([0-9a-f])/,
      (_, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`,
    );
    const longer = url.replace('X-Amz-Expires=60', 'X-Amz-Expires=600');
    const otherKey = url.replace('/doc?', '/old?');
    for (const bad of [forged, longer, otherKey]) {
      const res = await fetch(bad);
      expect(res.status).toBe(403);
      expect(await errorCode(res)).toBe('SignatureDoesNotMatch');
    }
  });

  it('checks a checksum signed into a PUT URL against the uploaded bytes', async () => {
    const checked = new S3Client({
      endpoint: server.url,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: CLIENT_USER,
    });
    try {
      const command = new PutObjectCommand({ Bucket: bucket, Key: 'checked', Body: 'expected bytes' });
      const url = await getSignedUrl(checked, command, { expiresIn: 60 });
      expect(url).toContain('x-amz-checksum-crc32=');
      // Same length: Content-Length is signed too, and another length fails the signature.
      const wrong = await fetch(url, { method: 'PUT', body: 'expected bytez' });
      expect(wrong.status).toBe(400);
      expect(await errorCode(wrong)).toBe('BadDigest');
      const right = await fetch(url, { method: 'PUT', body: 'expected bytes' });
      expect(right.status).toBe(200);
    } finally {
      checked.destroy();
    }
  });
});
