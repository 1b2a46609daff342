import { request } from 'node:http';
import { crc32 } from 'node:zlib';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeSha256 } from '../auth/fixtures/node-sha256.js';
import { CLIENT_USER, startTestServer } from './fixtures/test-server.js';

// Requests the SDK would never send, written by hand and signed with the SDK's signer: an
// `Expect: 100-continue` refused before the body is sent, and aws-chunked bodies that fail their
// checks over a real connection, after which nothing may be stored.

let server: Awaited<ReturnType<typeof startTestServer>>;
let client: S3Client;
let url: URL;
const bucket = 'raw';

beforeAll(async () => {
  server = await startTestServer();
  url = new URL(server.url);
  client = new S3Client({ endpoint: server.url, region: 'us-east-1', forcePathStyle: true, credentials: CLIENT_USER });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
});

afterAll(async () => {
  client?.destroy();
  await server?.close();
});

async function signed(key: string, headers: Record<string, string>, secret = CLIENT_USER.secretAccessKey) {
  const signer = new SignatureV4({
    service: 's3',
    region: 'us-east-1',
    credentials: { ...CLIENT_USER, secretAccessKey: secret },
    sha256: NodeSha256,
    uriEscapePath: false,
  });
  const req = await signer.sign({
    method: 'PUT',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: `/${bucket}/${key}`,
    query: {},
    headers: { host: url.host, ...headers },
  });
  return req.headers;
}

interface Answer {
  status: number;
  body: string;
  continued: boolean;
}

/** Sends headers; sends `body` only if the server answers 100 Continue (or if not expecting it). */
function send(key: string, headers: Record<string, string>, body: Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = request({ host: url.hostname, port: url.port, method: 'PUT', path: `/${bucket}/${key}`, headers });
    req.on('continue', () => {
      continued = true;
      req.end(body);
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (s: string) => {
        text += s;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, continued }));
    });
    req.on('error', reject);
    if (headers.expect === undefined) req.end(body);
    else req.flushHeaders();
  });
}

const code = (answer: Answer) => answer.body.match(/<Code>([^<]+)<\/Code>/)?.[1];

async function exists(key: string): Promise<boolean> {
  try {
    await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return false;
    throw error;
  }
}

function chunked(data: Buffer, trailer: string): Buffer {
  return Buffer.concat([
    Buffer.from(`${data.length.toString(16)}\r\n`),
    data,
    Buffer.from(`\r\n0\r\nx-amz-checksum-crc32:${trailer}\r\n\r\n`),
  ]);
}

const crc32Base64 = (data: Buffer) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(crc32(data));
  return out.toString('base64');
};

describe('hand-written requests', () => {
  it('Expect: 100-continue with a bad signature is refused before the body is sent', async () => {
    const body = Buffer.alloc(1024, 'x');
    const headers = await signed(
      'refused',
      { 'content-length': String(body.length), expect: '100-continue', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
      'wrong secret',
    );
    const answer = await send('refused', headers, body);
    expect(answer).toMatchObject({ status: 403, continued: false });
    expect(code(answer)).toBe('SignatureDoesNotMatch');
    expect(await exists('refused')).toBe(false);
  });

  it('Expect: 100-continue with a good signature gets 100, then stores the body', async () => {
    const body = Buffer.alloc(1024, 'y');
    const headers = await signed('accepted', {
      'content-length': String(body.length),
      expect: '100-continue',
      'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    });
    expect(await send('accepted', headers, body)).toMatchObject({ status: 200, continued: true });
    expect(await exists('accepted')).toBe(true);
  });

  it('an aws-chunked body whose trailer checksum is wrong is refused and not stored', async () => {
    const data = Buffer.alloc(100_000, 'z');
    const wire = chunked(data, crc32Base64(Buffer.from('something else')));
    const headers = await signed('bad-trailer', {
      'content-length': String(wire.length),
      'content-encoding': 'aws-chunked',
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'x-amz-decoded-content-length': String(data.length),
      'x-amz-trailer': 'x-amz-checksum-crc32',
    });
    const answer = await send('bad-trailer', headers, wire);
    expect(answer.status).toBe(400);
    expect(code(answer)).toBe('BadDigest');
    expect(await exists('bad-trailer')).toBe(false);
  });

  it('a truncated aws-chunked body is refused and not stored', async () => {
    const data = Buffer.alloc(100_000, 'w');
    const wire = chunked(data, crc32Base64(data)).subarray(0, 50_000);
    const headers = await signed('truncated', {
      'content-length': String(wire.length),
      'content-encoding': 'aws-chunked',
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'x-amz-decoded-content-length': String(data.length),
      'x-amz-trailer': 'x-amz-checksum-crc32',
    });
    const answer = await send('truncated', headers, wire);
    expect(answer.status).toBe(400);
    expect(code(answer)).toBe('IncompleteBody');
    expect(await exists('truncated')).toBe(false);
  });

  it('a correct aws-chunked body is stored without its framing', async () => {
    const data = Buffer.alloc(100_000, 'v');
    const wire = chunked(data, crc32Base64(data));
    const headers = await signed('good', {
      'content-length': String(wire.length),
      'content-encoding': 'aws-chunked',
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'x-amz-decoded-content-length': String(data.length),
      'x-amz-trailer': 'x-amz-checksum-crc32',
    });
    expect((await send('good', headers, wire)).status).toBe(200);
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'good', ChecksumMode: 'ENABLED' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data)).toBe(true);
    expect(got.ContentEncoding).toBeUndefined();
  });
});
