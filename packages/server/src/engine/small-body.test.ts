import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeSha256 } from '../auth/fixtures/node-sha256.js';
import { CLIENT_USER, startTestServer } from '../clients/fixtures/test-server.js';
import { SMALL_BODY_BYTES } from './small-body.js';

// Bodies up to SMALL_BODY_BYTES are read whole before the store write, larger ones streamed; both
// over the real server and a FileStore. A bad body stores nothing either way, and a request
// refused by its conditions is answered before its body is read.

let server: Awaited<ReturnType<typeof startTestServer>>;
let client: S3Client;
const Bucket = 'small-body';

beforeAll(async () => {
  server = await startTestServer();
  client = new S3Client({ endpoint: server.url, region: 'us-east-1', forcePathStyle: true, credentials: CLIENT_USER });
  await client.send(new CreateBucketCommand({ Bucket }));
});

afterAll(async () => {
  client?.destroy();
  await server?.close();
});

const md5 = (data: Buffer) => createHash('md5').update(data).digest('base64');

async function read(Key: string): Promise<Buffer> {
  const got = await client.send(new GetObjectCommand({ Bucket, Key }));
  return Buffer.from(await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

describe('request bodies by size', () => {
  for (const size of [0, 4096, SMALL_BODY_BYTES, SMALL_BODY_BYTES + 1, 3 * SMALL_BODY_BYTES]) {
    it(`stores a ${size}-byte body, and keeps it when a bad body replaces it`, async () => {
      const Key = `sized/${size}`;
      const good = Buffer.alloc(size, 'g');
      const put = await client.send(new PutObjectCommand({ Bucket, Key, Body: good, ContentMD5: md5(good) }));
      expect(put.ETag).toBe(`"${createHash('md5').update(good).digest('hex')}"`);
      const bad = Buffer.alloc(size, 'b');
      await expect(
        client.send(new PutObjectCommand({ Bucket, Key, Body: bad, ContentMD5: md5(Buffer.from('other')) })),
      ).rejects.toMatchObject({ name: 'BadDigest' });
      expect((await read(Key)).equals(good)).toBe(true);
    });
  }

  it('refuses a small conditional PUT that fails its condition before the body is sent', async () => {
    const url = new URL(server.url);
    const Key = 'conditional';
    await client.send(new PutObjectCommand({ Bucket, Key, Body: 'v1' }));
    const body = Buffer.alloc(4096, 'x');
    const signer = new SignatureV4({
      service: 's3',
      region: 'us-east-1',
      credentials: CLIENT_USER,
      sha256: NodeSha256,
      uriEscapePath: false,
    });
    const { headers } = await signer.sign({
      method: 'PUT',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: `/${Bucket}/${Key}`,
      query: {},
      headers: {
        host: url.host,
        'content-length': String(body.length),
        expect: '100-continue',
        'if-match': '"00000000000000000000000000000000"',
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      },
    });
    const answer = await new Promise<{ status: number; continued: boolean }>((resolve, reject) => {
      let continued = false;
      const req = request({ host: url.hostname, port: url.port, method: 'PUT', path: `/${Bucket}/${Key}`, headers });
      req.on('continue', () => {
        continued = true;
        req.end(body);
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, continued }));
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(answer).toEqual({ status: 412, continued: false });
    expect((await read(Key)).toString()).toBe('v1');
  });
});
