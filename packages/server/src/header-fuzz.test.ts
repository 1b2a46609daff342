import { connect } from 'node:net';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { type Random, seededRandom } from '@bucketdb/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeMeta, encodeMeta } from './engine/object-meta.js';
import { startTestServer, type TestServer } from './fixtures/harness.js';
import { paths } from './paths.js';

// Random header bytes stored through every path that stores a header (PutObject, POST form
// fields, presigned query parameters, CopyObject with REPLACE, CreateMultipartUpload), response
// overrides and CORS rules; afterwards no request — GET, HEAD, with or without an Origin — may
// answer 5xx. Raw sockets send what an HTTP client would refuse to. Seeded: a failure replays.

const SEED = 'header-fuzz-1';
const ROUNDS = 40;
const Bucket = 'fuzz-open';

let t: TestServer;
let s3: S3Client;
let host: string;
let port: number;
const statuses: { what: string; status: number }[] = [];

beforeAll(async () => {
  t = await startTestServer();
  s3 = t.client();
  const url = new URL(t.url);
  host = url.hostname;
  port = Number(url.port);
  await s3.send(new CreateBucketCommand({ Bucket, ACL: 'public-read-write' }));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'source', Body: 'copy me', ACL: 'public-read' }));
});
afterAll(() => t.close());

/** Bytes a header might carry, hostile ones often: controls, NUL, obs-text, U+2028, spaces, CR/LF. */
function hostileBytes(random: Random, max = 12): Buffer {
  const pieces: Buffer[] = [];
  const length = 1 + random.int(max);
  for (let i = 0; i < length; i++) {
    const pick = random.int(10);
    if (pick < 3) pieces.push(Buffer.from([0x61 + random.int(26)]));
    else if (pick === 3) pieces.push(Buffer.from([random.int(0x20)]));
    else if (pick === 4) pieces.push(Buffer.from([0x80 + random.int(0x80)]));
    else if (pick === 5) pieces.push(Buffer.from('\u2028'));
    else if (pick === 6) pieces.push(Buffer.from(' '));
    else if (pick === 7) pieces.push(Buffer.from([0x7f]));
    else if (pick === 8) pieces.push(Buffer.from(random.int(4) === 0 ? '\r\n' : '\t'));
    else pieces.push(Buffer.from(String.fromCodePoint(0xa0 + random.int(0x2000))));
  }
  return Buffer.concat(pieces);
}

/** A random text (for ways that carry text, not bytes: form fields, query parameters, XML). */
const hostileText = (random: Random) => hostileBytes(random).toString('utf8');

/** One request over a raw socket, bytes as given; the answer's status (400 when Node refused the request). */
function raw(head: Buffer, body: Buffer = Buffer.alloc(0)): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(Buffer.concat(chunks).toString('latin1'));
      if (status) resolve(Number(status[1]));
      else reject(new Error('no answer'));
    });
    socket.end(Buffer.concat([head, body]));
  });
}

function rawHead(method: string, path: string, headers: [string | Buffer, string | Buffer][], length: number): Buffer {
  const lines: Buffer[] = [Buffer.from(`${method} ${path} HTTP/1.1\r\nhost: ${host}:${port}\r\nconnection: close\r\n`)];
  for (const [name, value] of headers)
    lines.push(Buffer.concat([Buffer.from(name), Buffer.from(': '), Buffer.from(value), Buffer.from('\r\n')]));
  lines.push(Buffer.from(`content-length: ${length}\r\n\r\n`));
  return Buffer.concat(lines);
}

/** Random stored headers: standard ones and user metadata, names hostile too. */
function hostileHeaders(random: Random): [string | Buffer, Buffer][] {
  const names = [
    'content-type',
    'content-disposition',
    'cache-control',
    'content-language',
    'expires',
    'content-encoding',
  ];
  const headers: [string | Buffer, Buffer][] = [
    [names[random.int(names.length)] as string, hostileBytes(random)],
    [Buffer.concat([Buffer.from('x-amz-meta-'), hostileBytes(random, 4)]), hostileBytes(random)],
    ['x-amz-meta-plain', hostileBytes(random)],
  ];
  return headers;
}

async function record(what: string, status: Promise<number>) {
  statuses.push({ what, status: await status });
}

/** Every way of reading the object back, anonymous and signed, with and without an Origin. */
async function readBack(key: string) {
  const path = `/${Bucket}/${encodeURIComponent(key)}`;
  for (const method of ['GET', 'HEAD']) {
    await record(`${method} ${key}`, raw(rawHead(method, path, [], 0)));
    await record(`${method} ${key} with Origin`, raw(rawHead(method, path, [['origin', 'https://app.example']], 0)));
  }
  const got = await fetch(await getSignedUrl(s3, new GetObjectCommand({ Bucket, Key: key })));
  await got.arrayBuffer();
  await record(`signed GET ${key}`, Promise.resolve(got.status));
}

describe('header fuzz: hostile header bytes through every upload path never lead to a 5xx', () => {
  it('PutObject, POST form, presigned metadata, CopyObject REPLACE, multipart create', async () => {
    const random = seededRandom(SEED);
    for (let round = 0; round < ROUNDS; round++) {
      const r = random.fork(String(round));
      const key = `object-${round}`;
      const path = `/${Bucket}/${key}`;
      const body = Buffer.from(`body ${round}`);
      switch (round % 5) {
        case 0:
          await record(
            `PUT ${key}`,
            raw(rawHead('PUT', path, [['x-amz-acl', 'public-read'], ...hostileHeaders(r)], body.length), body),
          );
          break;
        case 1: {
          const form = new FormData();
          form.append('key', key);
          form.append('acl', 'public-read');
          form.append(`x-amz-meta-${hostileText(r)}`, hostileText(r));
          form.append(['Content-Type', 'Content-Disposition', 'Cache-Control'][r.int(3)] as string, hostileText(r));
          form.append('file', new Blob([body]), 'file.txt');
          const posted = await fetch(`${t.url}/${Bucket}`, { method: 'POST', body: form });
          await posted.arrayBuffer();
          await record(`POST ${key}`, Promise.resolve(posted.status));
          break;
        }
        case 2: {
          const command = new PutObjectCommand({
            Bucket,
            Key: key,
            ACL: 'public-read',
            Metadata: { [`m${r.int(10)}`]: hostileText(r) },
          });
          const url = await getSignedUrl(s3, command, { unhoistableHeaders: new Set() });
          const put = await fetch(url, { method: 'PUT', body });
          await put.arrayBuffer();
          await record(`presigned PUT ${key}`, Promise.resolve(put.status));
          break;
        }
        case 3:
          await record(
            `CopyObject ${key}`,
            raw(
              rawHead(
                'PUT',
                path,
                [
                  ['x-amz-copy-source', `/${Bucket}/source`],
                  ['x-amz-metadata-directive', 'REPLACE'],
                  ['x-amz-acl', 'public-read'],
                  ...hostileHeaders(r),
                ],
                0,
              ),
            ),
          );
          break;
        case 4:
          await record(
            `CreateMultipartUpload ${key}`,
            raw(rawHead('POST', `${path}?uploads`, [['x-amz-acl', 'public-read'], ...hostileHeaders(r)], 0)),
          );
          break;
      }
      await readBack(key);
      const override = r.int(2) === 0 ? 'ResponseContentType' : 'ResponseContentDisposition';
      const withOverride = await getSignedUrl(
        s3,
        new GetObjectCommand({ Bucket, Key: 'source', [override]: hostileText(r) }),
      );
      const overridden = await fetch(withOverride);
      await overridden.arrayBuffer();
      await record(`GET with ${override}`, Promise.resolve(overridden.status));
    }
    expect(statuses.length).toBeGreaterThan(ROUNDS * 6);
    expect(statuses.filter((s) => s.status >= 500)).toEqual([]);
    // The fuzz reaches the refusals, not only the happy path.
    expect(statuses.some((s) => s.status === 400)).toBe(true);
    expect(statuses.some((s) => s.status === 200)).toBe(true);
  }, 120_000);

  it('a CORS ExposeHeader or AllowedOrigin HTTP cannot carry is refused, and requests with an Origin still answer', async () => {
    const random = seededRandom(`${SEED}/cors`);
    for (let round = 0; round < 20; round++) {
      const value = hostileText(random.fork(String(round)));
      const put = s3.send(
        new PutBucketCorsCommand({
          Bucket,
          CORSConfiguration: {
            CORSRules: [
              {
                AllowedMethods: ['GET'],
                AllowedOrigins: [round % 2 ? value : '*'],
                ExposeHeaders: [round % 2 ? 'etag' : value],
              },
            ],
          },
        }),
      );
      const result = await put.then(
        () => 200,
        (e: { $metadata?: { httpStatusCode?: number } }) => e.$metadata?.httpStatusCode ?? 0,
      );
      expect(result).toBeLessThan(500);
      const status = await raw(rawHead('GET', `/${Bucket}/source`, [['origin', 'https://app.example']], 0));
      expect(status).toBe(200);
    }
  }, 60_000);
});

describe('values stored before they were refused', () => {
  it('leave the object readable: the header HTTP cannot carry is left out of the answer', async () => {
    await s3.send(
      new PutObjectCommand({ Bucket, Key: 'legacy', Body: 'old', ACL: 'public-read', Metadata: { ok: 'yes' } }),
    );
    const storeKey = paths.object(Bucket, 'legacy');
    const info = await t.store.head(storeKey);
    const meta = decodeMeta(info);
    meta.user.bad = 'line\r\nbreak';
    meta.headers['content-disposition'] = 'inline\u2028';
    await t.store.put(storeKey, 'old', { metadata: encodeMeta(meta) });
    const read = await fetch(`${t.url}/${Bucket}/legacy`);
    expect([read.status, await read.text()]).toEqual([200, 'old']);
    expect([read.headers.get('x-amz-meta-ok'), read.headers.get('x-amz-meta-bad')]).toEqual(['yes', null]);
    expect(read.headers.get('content-disposition')).toBe(null);
  });
});
