import { createHash, randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { request } from 'node:http';
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  PutBucketAclCommand,
  PutBucketCorsCommand,
  PutBucketTaggingCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { FileStore, seededRandom } from '@bucketdb/store';
import { type TempDir, tempDir } from '@bucketdb/testkit-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './fixtures/harness.js';

const Bucket = 'bad-input';
const CANARY = 'canary: must survive everything below';
let dir: TempDir;
let t: TestServer;
let s3: S3Client;
beforeAll(async () => {
  dir = await tempDir('bucketdb-bad-input');
  t = await startTestServer({ store: await FileStore.open(`${dir.path}/data`), metrics: true });
  s3 = t.client();
  await s3.send(new CreateBucketCommand({ Bucket }));
  await s3.send(new PutBucketAclCommand({ Bucket, ACL: 'public-read-write' }));
  await s3.send(new PutObjectCommand({ Bucket, Key: 'canary', Body: CANARY }));
});
afterAll(async () => {
  await t.close();
  await t.store.close();
  await dir.remove();
});

/** A client whose next requests carry `body` instead of the XML the SDK serialized (signed as such). */
function sendingBody(body: Uint8Array): S3Client {
  const client = t.client();
  type Middleware = Parameters<typeof client.middlewareStack.addRelativeTo>[0];
  type Args = { request: unknown };
  client.middlewareStack.addRelativeTo(
    ((next: (args: Args) => Promise<unknown>) => async (args: Args) => {
      const req = args.request as { body?: unknown; headers: Record<string, string> };
      req.body = body;
      for (const name of Object.keys(req.headers)) {
        if (/^(x-amz-checksum-|x-amz-sdk-checksum|content-md5|x-amz-trailer|x-amz-decoded)/i.test(name))
          delete req.headers[name];
      }
      req.headers['content-length'] = String(body.length);
      req.headers['x-amz-content-sha256'] = createHash('sha256').update(body).digest('hex');
      return next(args);
    }) as unknown as Middleware,
    { relation: 'before', toMiddleware: 'httpSigningMiddleware', name: 'replaceBody' },
  );
  return client;
}

const statusOf = (e: unknown) => (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;

function raw(
  method: string,
  path: string,
  headers: Record<string, string | number>,
  body?: Uint8Array,
): Promise<{ status: number; text: string }> {
  const url = new URL(t.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (s: string) => {
        text += s;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('bad input', () => {
  it('random bytes as XML bodies are refused with 4xx, never 500', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: 'mpu' }));
    for (let round = 0; round < 5; round++) {
      const garbage = sendingBody(randomBytes(1 + round * 300));
      const attempts = [
        garbage.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'canary' }] } })),
        garbage.send(new PutBucketCorsCommand({ Bucket, CORSConfiguration: { CORSRules: [] } })),
        garbage.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } })),
        garbage.send(new PutBucketTaggingCommand({ Bucket, Tagging: { TagSet: [] } })),
        garbage.send(
          new CompleteMultipartUploadCommand({ Bucket, Key: 'mpu', UploadId, MultipartUpload: { Parts: [] } }),
        ),
      ];
      for (const result of await Promise.allSettled(attempts)) {
        expect(result.status).toBe('rejected');
        const status = statusOf((result as PromiseRejectedResult).reason);
        expect(status).toBeGreaterThanOrEqual(400);
        expect(status).toBeLessThan(500);
      }
    }
    const wellFormedButWrong = sendingBody(new TextEncoder().encode('<Delete><Nope/></Delete>'));
    await expect(
      wellFormedButWrong.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: [{ Key: 'canary' }] } })),
    ).rejects.toMatchObject({ name: 'MalformedXML' });
  });

  it('mangled POST Object forms are refused with 4xx, never 500, and the server keeps serving', async () => {
    const random = seededRandom('post-forms');
    const boundary = 'bucketdb-fuzz-boundary';
    const form = (key: string) =>
      Buffer.from(
        [
          `--${boundary}`,
          'Content-Disposition: form-data; name="key"',
          '',
          key,
          `--${boundary}`,
          'Content-Disposition: form-data; name="Content-Type"',
          '',
          'text/plain',
          `--${boundary}`,
          'Content-Disposition: form-data; name="file"; filename="a.txt"',
          'Content-Type: text/plain',
          '',
          'posted body',
          `--${boundary}--`,
          '',
        ].join('\r\n'),
      );
    const mangle = (bytes: Buffer): Buffer => {
      const copy = Buffer.from(bytes);
      switch (random.int(4)) {
        case 0: // cut short anywhere
          return copy.subarray(0, random.int(copy.length));
        case 1: // bytes flipped
          for (let i = 0; i < 1 + random.int(8); i++) copy[random.int(copy.length)] = random.int(256);
          return copy;
        case 2: // a stretch repeated (duplicate fields, parts, boundaries)
          return Buffer.concat([copy, copy.subarray(random.int(copy.length))]);
        default: // garbage after a valid start
          return Buffer.concat([copy.subarray(0, random.int(copy.length)), randomBytes(random.int(200))]);
      }
    };
    const statuses = new Set<number>();
    for (let round = 0; round < 60; round++) {
      const body = mangle(form(`posted-${round}`));
      const { status } = await raw(
        'POST',
        `/${Bucket}`,
        { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': body.length },
        body,
      );
      statuses.add(status);
      expect(status, `round ${round}`).toBeLessThan(500);
    }
    // Some mangled forms still hold a valid upload; the rest are refused.
    expect([...statuses].some((s) => s >= 400)).toBe(true);
    const valid = form('posted-valid');
    const ok = await raw(
      'POST',
      `/${Bucket}`,
      { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': valid.length },
      valid,
    );
    expect(ok.status).toBe(204);
    const stored = await s3.send(new GetObjectCommand({ Bucket, Key: 'posted-valid' }));
    expect(await stored.Body?.transformToString()).toBe('posted body');
  });

  it('invalid names, keys, query values and unknown operations get precise 4xx answers', async () => {
    expect((await raw('GET', `/${Bucket}/%E0%A4%A`, {})).text).toContain('<Code>InvalidURI</Code>');
    const longest = await raw('PUT', `/${Bucket}/${'k'.repeat(1024)}`, { 'content-length': 1 }, new Uint8Array(1));
    expect(longest.status).toBe(200);
    const long = await raw('PUT', `/${Bucket}/${'k'.repeat(1025)}`, { 'content-length': 1 }, new Uint8Array(1));
    expect(long.status).toBe(400);
    expect(long.text).toContain('KeyTooLongError');
    const control = await raw('PUT', `/${Bucket}/a%00b`, { 'content-length': 1 }, new Uint8Array(1));
    expect(control.status).toBe(400);
    expect((await raw('GET', `/${Bucket}?list-type=2&max-keys=lots`, {})).text).toContain('InvalidArgument');
    expect((await raw('GET', `/${Bucket}?list-type=2&encoding-type=base64`, {})).status).toBe(400);
    const analytics = await raw('GET', `/${Bucket}?analytics`, {});
    expect(analytics.status).toBe(501);
    expect(analytics.text).toContain('<Code>NotImplemented</Code>');
    await expect(s3.send(new CreateBucketCommand({ Bucket: 'Not_Valid' }))).rejects.toMatchObject({
      name: 'InvalidBucketName',
    });
    const unknown = await fetch(`${t.url}/${Bucket}?lifecycle`, { method: 'PATCH' });
    expect(unknown.status).toBeGreaterThanOrEqual(400);
    expect(unknown.status).toBeLessThan(500);
  });

  it('oversized declared bodies and headers are refused before anything is read', async () => {
    const huge = await raw('PUT', `/${Bucket}/huge`, { 'content-length': 6 * 1024 ** 3 });
    expect(huge.status).toBe(400);
    expect(huge.text).toContain('EntityTooLarge');
    const headers = await raw('GET', `/${Bucket}/canary`, { 'x-amz-meta-big': 'x'.repeat(20_000) });
    expect(headers.status).toBe(400);
    expect(headers.text).toContain('RequestHeaderSectionTooLarge');
    // S3 answers a plain chunked body, whose size nothing declares, 501 naming Transfer-Encoding (observed).
    const noLength = await raw('PUT', `/${Bucket}/chunked`, { 'transfer-encoding': 'chunked' }, new Uint8Array(10));
    expect(noLength.status).toBe(501);
    expect(noLength.text).toContain('<Header>Transfer-Encoding</Header>');
  });

  it('a body shorter than its Content-Length stores nothing', async () => {
    const url = new URL(t.url);
    await new Promise<void>((resolve) => {
      const req = request({
        host: url.hostname,
        port: url.port,
        method: 'PUT',
        path: `/${Bucket}/torn`,
        headers: { 'content-length': 1000 },
      });
      req.on('error', () => resolve());
      req.on('response', () => resolve());
      req.write(new Uint8Array(10), () => req.destroy());
    });
    // The server has seen the connection close by the time it answers the next request on a new one.
    await expect(s3.send(new GetObjectCommand({ Bucket, Key: 'torn' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
  });

  it('path tricks in keys stay inside the store and round-trip literally', async () => {
    for (const Key of ['../../../outside', '..', '.', 'a/../../b', '/leading', 'x/./y']) {
      await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }));
      expect(await (await s3.send(new GetObjectCommand({ Bucket, Key }))).Body?.transformToString()).toBe(Key);
    }
    expect((await readdir(dir.path)).sort()).toEqual(['data']);
  });

  it('after all of it the server still serves, the data is intact, and nothing answered 500', async () => {
    const canary = await s3.send(new GetObjectCommand({ Bucket, Key: 'canary' }));
    expect(await canary.Body?.transformToString()).toBe(CANARY);
    const metrics = await (await fetch(`${t.url}/metrics`)).text();
    expect(metrics).toMatch(/status="4\d\d"/);
    expect(metrics).not.toMatch(/status="50[02-9]"/);
  });
});
