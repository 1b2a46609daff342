import { createHash, createHmac, randomBytes } from 'node:crypto';
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutBucketAclCommand,
  PutBucketCorsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createPresignedPost, type PresignedPostOptions } from '@aws-sdk/s3-presigned-post';
import { MemoryStore, type ObjectStore, type PutBody, type StoreCall, WrappedStore } from '@bucketdb/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, BOB, bodyBytes, failure, startWithBuckets, type TestServer } from './fixtures/harness.js';

// Browser-style uploads: the AWS SDK's own POST-policy signer, plain fetch with FormData.

/** Tells when the store first receives bytes of an object under `prefix`. */
class WatchingStore extends WrappedStore {
  firstBytes: Promise<void>;
  #seen!: () => void;
  constructor(
    inner: ObjectStore,
    readonly prefix: string,
  ) {
    super(inner);
    this.firstBytes = new Promise((resolve) => {
      this.#seen = resolve;
    });
  }
  protected around<T>(_call: StoreCall, run: () => Promise<T>): Promise<T> {
    return run();
  }
  protected override requestBody(call: StoreCall, body: PutBody): PutBody {
    if (!call.key.startsWith(this.prefix) || typeof body === 'string' || body instanceof Uint8Array) return body;
    const seen = this.#seen;
    return (async function* () {
      for await (const chunk of body) {
        seen();
        yield chunk;
      }
    })();
  }
}

const bucket = 'uploads';
let t: TestServer;
let s3: S3Client;
let store: WatchingStore;

beforeAll(async () => {
  store = new WatchingStore(new MemoryStore(), `o/${bucket}/big/`);
  ({ t, s3 } = await startWithBuckets([bucket, 'other', 'public'], { store }));
  await s3.send(new PutBucketAclCommand({ Bucket: 'public', ACL: 'public-read-write' }));
});

afterAll(async () => {
  await t?.close();
});

type Presigned = { url: string; fields: Record<string, string> };

const presign = (options: Partial<PresignedPostOptions> & { Key: string }, client: S3Client = s3): Promise<Presigned> =>
  createPresignedPost(client as never, { Bucket: bucket, Expires: 300, ...options });

/** POSTs a form as a browser does: the fields in order, the file last. */
function post(url: string, fields: Record<string, string>, file: Blob | string, filename = 'upload.bin') {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  form.append('file', typeof file === 'string' ? new Blob([file]) : file, filename);
  return fetch(url, { method: 'POST', body: form, redirect: 'manual' });
}

/** An S3 error answer as `[code, status]`. */
async function refusal(res: Response): Promise<[string | undefined, number]> {
  const text = await res.text();
  return [/<Code>([^<]+)<\/Code>/.exec(text)?.[1], res.status];
}

const md5Etag = (bytes: Uint8Array | string) => `"${createHash('md5').update(bytes).digest('hex')}"`;
const absent = (Key: string, Bucket = bucket) => failure(s3.send(new HeadObjectCommand({ Bucket, Key })));
const read = async (Key: string, Bucket = bucket) => s3.send(new GetObjectCommand({ Bucket, Key }));

describe('POST Object with createPresignedPost', () => {
  it('stores the file with the form’s Content-Type and metadata, answering 204 with ETag and Location', async () => {
    const { url, fields } = await presign({
      Key: 'photos/cat.png',
      Fields: { 'Content-Type': 'image/png', 'x-amz-meta-owner': 'alice' },
      Conditions: [['content-length-range', 1, 1024]],
    });
    const file = randomBytes(700);
    const res = await post(url, fields, new Blob([file], { type: 'application/octet-stream' }), 'cat.png');
    expect(res.status, await res.clone().text()).toBe(204);
    expect(res.headers.get('etag')).toBe(md5Etag(file));
    expect(res.headers.get('location')).toBe(`${t.url}/${bucket}/photos%2Fcat.png`);
    const got = await read('photos/cat.png');
    expect((await bodyBytes(got.Body)).equals(file)).toBe(true);
    expect(got.ContentType).toBe('image/png');
    expect(got.Metadata).toEqual({ owner: 'alice' });
    expect(got.ETag).toBe(md5Etag(file));
  });

  it('replaces ${filename} in the key with the uploaded file’s name', async () => {
    const { url, fields } = await presign({ Key: 'inbox/${filename}' });
    const res = await post(url, fields, 'quarterly numbers', 'report 2024.txt');
    expect(res.status).toBe(204);
    expect(res.headers.get('location')).toBe(`${t.url}/${bucket}/inbox%2Freport%202024.txt`);
    expect((await bodyBytes((await read('inbox/report 2024.txt')).Body)).toString()).toBe('quarterly numbers');
  });

  it('answers success_action_status 201 with a PostResponse document, 200 with nothing', async () => {
    const created = await presign({ Key: 'status/201', Fields: { success_action_status: '201' } });
    const res = await post(created.url, created.fields, 'made');
    expect(res.status).toBe(201);
    const xml = await res.text();
    expect(xml).toContain('<PostResponse>');
    expect(/<Location>([^<]*)<\/Location>/.exec(xml)?.[1]).toBe(`${t.url}/${bucket}/status%2F201`);
    expect(/<Bucket>([^<]*)<\/Bucket>/.exec(xml)?.[1]).toBe(bucket);
    expect(/<Key>([^<]*)<\/Key>/.exec(xml)?.[1]).toBe('status/201');
    expect(/<ETag>([^<]*)<\/ETag>/.exec(xml)?.[1]).toBe(md5Etag('made').replaceAll('"', '&#34;'));

    const ok = await presign({ Key: 'status/200', Fields: { success_action_status: '200' } });
    const plain = await post(ok.url, ok.fields, 'fine');
    expect([plain.status, await plain.text()]).toEqual([200, '']);

    // Any other value is S3's default.
    const odd = await presign({ Key: 'status/404', Fields: { success_action_status: '404' } });
    expect((await post(odd.url, odd.fields, 'x')).status).toBe(204);
  });

  it('redirects to success_action_redirect with bucket, key and etag in the query', async () => {
    const target = 'http://localhost:8080/done?upload=7';
    const { url, fields } = await presign({ Key: 'forms/a b', Fields: { success_action_redirect: target } });
    const res = await post(url, fields, 'redirected');
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location') ?? '');
    expect(location.origin + location.pathname).toBe('http://localhost:8080/done');
    expect(Object.fromEntries(location.searchParams)).toEqual({
      upload: '7',
      bucket,
      key: 'forms/a b',
      etag: md5Etag('redirected'),
    });
    expect((await bodyBytes((await read('forms/a b')).Body)).toString()).toBe('redirected');
  });

  it('verifies an x-amz-checksum-* field against the file and keeps it', async () => {
    const file = 'checked bytes';
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE((await import('node:zlib')).crc32(file));
    const good = await presign({ Key: 'sums/good', Fields: { 'x-amz-checksum-crc32': crc.toString('base64') } });
    const res = await post(good.url, good.fields, file);
    expect(res.status).toBe(204);
    expect(res.headers.get('x-amz-checksum-crc32')).toBe(crc.toString('base64'));
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'sums/good', ChecksumMode: 'ENABLED' }));
    expect(head.ChecksumCRC32).toBe(crc.toString('base64'));

    const bad = await presign({ Key: 'sums/bad', Fields: { 'x-amz-checksum-crc32': 'AAAAAA==' } });
    expect(await refusal(await post(bad.url, bad.fields, file))).toEqual(['BadDigest', 400]);
    expect(await absent('sums/bad')).toEqual(['NotFound', 404]);
  });

  it('gives the object the canned ACL of its acl field', async () => {
    const open = await presign({ Key: 'acl/open', Fields: { acl: 'public-read' } });
    expect((await post(open.url, open.fields, 'for all')).status).toBe(204);
    const closed = await presign({ Key: 'acl/closed' });
    expect((await post(closed.url, closed.fields, 'for me')).status).toBe(204);
    const anonymous = await fetch(`${t.url}/${bucket}/acl/open`);
    expect([anonymous.status, await anonymous.text()]).toEqual([200, 'for all']);
    expect((await fetch(`${t.url}/${bucket}/acl/closed`)).status).toBe(403);

    const bogus = await presign({ Key: 'acl/bogus', Fields: { acl: 'everyone-please' } });
    expect(await refusal(await post(bogus.url, bogus.fields, 'x'))).toEqual(['InvalidArgument', 400]);
    expect(await absent('acl/bogus')).toEqual(['NotFound', 404]);
  });

  it('writes a new version in a versioned bucket', async () => {
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'other', VersioningConfiguration: { Status: 'Enabled' } }));
    const first = await s3.send(new PutObjectCommand({ Bucket: 'other', Key: 'v', Body: 'one' }));
    const { url, fields } = await presign({ Bucket: 'other', Key: 'v' });
    const res = await post(url, fields, 'two');
    expect(res.status).toBe(204);
    const versionId = res.headers.get('x-amz-version-id');
    expect(versionId).toBeTruthy();
    expect(versionId).not.toBe(first.VersionId);
    const old = await s3.send(new GetObjectCommand({ Bucket: 'other', Key: 'v', VersionId: first.VersionId }));
    expect((await bodyBytes(old.Body)).toString()).toBe('one');
    expect((await bodyBytes((await read('v', 'other')).Body)).toString()).toBe('two');
  });
});

describe('POST Object refusals: S3’s error, nothing stored', () => {
  it('an expired policy', async () => {
    const { url, fields } = await presign({ Key: 'no/expired', Expires: -60 });
    expect(await refusal(await post(url, fields, 'x'))).toEqual(['AccessDenied', 403]);
    expect(await absent('no/expired')).toEqual(['NotFound', 404]);
  });

  it('a wrong signature, an altered policy, an unknown key id', async () => {
    const { url, fields } = await presign({ Key: 'no/forged' });
    const signature = fields['X-Amz-Signature'] ?? '';
    const forged = { ...fields, 'X-Amz-Signature': (signature[0] === '0' ? '1' : '0') + signature.slice(1) };
    expect(await refusal(await post(url, forged, 'x'))).toEqual(['SignatureDoesNotMatch', 403]);

    const policy = JSON.parse(Buffer.from(fields.Policy ?? '', 'base64').toString()) as { expiration: string };
    policy.expiration = new Date(Date.now() + 86_400_000).toISOString();
    const extended = { ...fields, Policy: Buffer.from(JSON.stringify(policy)).toString('base64') };
    expect(await refusal(await post(url, extended, 'x'))).toEqual(['SignatureDoesNotMatch', 403]);

    const stranger = new S3Client({
      region: 'us-east-1',
      endpoint: t.url,
      forcePathStyle: true,
      credentials: { accessKeyId: 'nobody', secretAccessKey: 'nothing' },
    });
    const unknown = await presign({ Key: 'no/forged' }, stranger);
    expect(await refusal(await post(unknown.url, unknown.fields, 'x'))).toEqual(['InvalidAccessKeyId', 403]);
    stranger.destroy();
    expect(await absent('no/forged')).toEqual(['NotFound', 404]);
  });

  it('a field the policy does not name, a condition that fails', async () => {
    const { url, fields } = await presign({ Key: 'no/${filename}' });
    const extra = { ...fields, 'x-amz-meta-sneaky': 'yes' };
    const res = await post(url, extra, 'x', 'extra');
    const text = await res.text();
    expect([res.status, /<Code>([^<]+)/.exec(text)?.[1]]).toEqual([403, 'AccessDenied']);
    expect(text).toContain('Extra input fields: x-amz-meta-sneaky');
    // The key must start with `no/`.
    expect(await refusal(await post(url, { ...fields, key: 'elsewhere/${filename}' }, 'x', 'f'))).toEqual([
      'AccessDenied',
      403,
    ]);
    const typed = await presign({ Key: 'no/typed', Conditions: [['starts-with', '$Content-Type', 'image/']] });
    const wrongType = { ...typed.fields, 'Content-Type': 'text/html' };
    expect(await refusal(await post(typed.url, wrongType, 'x'))).toEqual(['AccessDenied', 403]);
    expect(await absent('no/extra')).toEqual(['NotFound', 404]);
    expect(await absent('elsewhere/f')).toEqual(['NotFound', 404]);
    expect(await absent('no/typed')).toEqual(['NotFound', 404]);
  });

  it('a file outside content-length-range, leaving the object that was there', async () => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'sized', Body: 'original' }));
    const { url, fields } = await presign({ Key: 'sized', Conditions: [['content-length-range', 10, 100]] });
    expect(await refusal(await post(url, fields, randomBytes(101).toString('hex')))).toEqual(['EntityTooLarge', 400]);
    expect(await refusal(await post(url, fields, 'tiny'))).toEqual(['EntityTooSmall', 400]);
    expect((await bodyBytes((await read('sized')).Body)).toString()).toBe('original');
  });

  it('a file far over the range is refused mid-stream', async () => {
    const { url, fields } = await presign({ Key: 'huge', Conditions: [['content-length-range', 0, 1024 * 1024]] });
    expect(await refusal(await post(url, fields, new Blob([randomBytes(8 * 1024 * 1024)])))).toEqual([
      'EntityTooLarge',
      400,
    ]);
    expect(await absent('huge')).toEqual(['NotFound', 404]);
  });

  it('a policy for another bucket', async () => {
    const { fields } = await presign({ Key: 'misplaced' });
    expect(await refusal(await post(`${t.url}/other`, fields, 'x'))).toEqual(['AccessDenied', 403]);
    expect(await absent('misplaced', 'other')).toEqual(['NotFound', 404]);
  });

  it('a policy signed by someone without access to the bucket', async () => {
    const bob = t.client(BOB);
    const { url, fields } = await presign({ Key: 'bobs' }, bob);
    expect(await refusal(await post(url, fields, 'x'))).toEqual(['AccessDenied', 403]);
    expect(await absent('bobs')).toEqual(['NotFound', 404]);
  });

  it('a form without a file, without a key, a body that is not a form or not well-formed', async () => {
    const { url, fields } = await presign({ Key: 'no/form' });
    const noFile = new FormData();
    for (const [name, value] of Object.entries(fields)) noFile.append(name, value);
    expect(await refusal(await fetch(url, { method: 'POST', body: noFile }))).toEqual([
      'IncorrectNumberOfFilesInPostRequest',
      400,
    ]);
    const { key: _key, ...keyless } = fields;
    expect(await refusal(await post(url, keyless, 'x'))).toEqual(['InvalidArgument', 400]);
    const notForm = await fetch(url, { method: 'POST', body: 'key=x', headers: { 'content-type': 'text/plain' } });
    expect(await refusal(notForm)).toEqual(['PreconditionFailed', 412]);
    const boundary = 'XyZ';
    const cut = [
      `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nno/form\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n\r\nhalf a file`,
    ].join('');
    // To the public bucket, where an unsigned form gets as far as its file.
    const truncated = await fetch(`${t.url}/public`, {
      method: 'POST',
      body: cut,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    });
    expect(await refusal(truncated)).toEqual(['MalformedPOSTRequest', 400]);
    expect(await absent('no/form')).toEqual(['NotFound', 404]);
    expect(await absent('no/form', 'public')).toEqual(['NotFound', 404]);
  });
});

describe('POST Object with a hand-made policy, signed with Signature Version 2', () => {
  /** The form s3-tests and older tools send: AWSAccessKeyId and a base64 HMAC-SHA1 of the policy. */
  function v2Form(document: unknown, fields: Record<string, string>) {
    const policy = typeof document === 'string' ? document : Buffer.from(JSON.stringify(document)).toString('base64');
    const signature = createHmac('sha1', ALICE.secretAccessKey).update(policy).digest('base64');
    return { ...fields, AWSAccessKeyId: ALICE.accessKeyId, policy, signature };
  }
  const expiration = () => new Date(Date.now() + 300_000).toISOString();

  it('compares condition operators and field names without regard to case; x-ignore-* needs no condition', async () => {
    const form = v2Form(
      {
        expiration: expiration(),
        conditions: [{ bUcKeT: bucket }, ['StArTs-WiTh', '$KeY', 'v2/'], ['eq', '$cOnTeNt-TyPe', 'text/plain']],
      },
      { kEy: 'v2/mixed', 'Content-Type': 'text/plain', 'x-ignore-page': 'settings' },
    );
    const res = await post(`${t.url}/${bucket}`, form, 'mixed case');
    expect(res.status, await res.clone().text()).toBe(204);
    expect((await read('v2/mixed')).ContentType).toBe('text/plain');
  });

  it('refuses a policy document S3 would not take with InvalidPolicyDocument', async () => {
    const fields = { key: 'v2/invalid' };
    const documents = [
      { conditions: [{ bucket }] },
      { expiration: expiration() },
      { EXPIRATION: expiration(), conditions: [{ bucket }] },
      { expiration: '2030/01/01', conditions: [{ bucket }] },
      { expiration: expiration(), conditions: [{}] },
      { expiration: expiration(), conditions: [{ bucket }, ['content-length-range', 0]] },
      { expiration: expiration(), conditions: [{ bucket }, ['content-length-range', -1, 10]] },
      { expiration: expiration(), conditions: [{ bucket }, ['matches', '$key', 'v2/']] },
    ];
    for (const document of documents) {
      const res = await post(`${t.url}/${bucket}`, v2Form(document, fields), 'x');
      expect(await refusal(res), JSON.stringify(document)).toEqual(['InvalidPolicyDocument', 400]);
    }
    const garbled = v2Form('not base64!', fields);
    expect(await refusal(await post(`${t.url}/${bucket}`, garbled, 'x'))).toEqual(['InvalidPolicyDocument', 400]);
    expect(await absent('v2/invalid')).toEqual(['NotFound', 404]);
  });

  it('answers a browser on another origin with the bucket’s CORS headers', async () => {
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: 'public',
        CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['https://app.example'], AllowedMethods: ['POST'] }] },
      }),
    );
    const form = new FormData();
    form.append('key', 'cors.txt');
    form.append('file', new Blob(['from the app']), 'cors.txt');
    const res = await fetch(`${t.url}/public`, {
      method: 'POST',
      body: form,
      headers: { origin: 'https://app.example' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
  });
});

describe('POST Object without a policy', () => {
  it('is anonymous: a public-read-write bucket takes it, a private one refuses it', async () => {
    const res = await post(`${t.url}/public`, { key: 'anon.txt', 'Content-Type': 'text/plain' }, 'hello');
    expect(res.status).toBe(204);
    const got = await read('anon.txt', 'public');
    expect([(await bodyBytes(got.Body)).toString(), got.ContentType]).toEqual(['hello', 'text/plain']);
    expect(await refusal(await post(`${t.url}/${bucket}`, { key: 'anon.txt' }, 'hello'))).toEqual([
      'AccessDenied',
      403,
    ]);
    expect(await absent('anon.txt')).toEqual(['NotFound', 404]);
  });
});

describe('POST Object streams its file', () => {
  it('stores 20 MiB while it arrives, and shows nothing before the upload is complete', async () => {
    const { url, fields } = await presign({ Key: 'big/${filename}' });
    const boundary = `----bucketdb${randomBytes(8).toString('hex')}`;
    const head = Object.entries(fields)
      .map(([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
      .join('');
    const fileHead = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="video.bin"\r\n\r\n`;
    const chunk = randomBytes(1024 * 1024);
    const chunks = 20;
    const md5 = createHash('md5');
    let sent = 0;
    let seenMidway = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === 0) controller.enqueue(Buffer.from(head + fileHead));
        if (sent === chunks / 2) {
          // Half the file is out: the store must be receiving it already (a server that buffered
          // the whole form would wait here for ever), and no reader may see the object yet.
          await store.firstBytes;
          seenMidway = (await absent('big/video.bin'))?.[1] === 404;
        }
        if (sent === chunks) {
          controller.enqueue(Buffer.from(`\r\n--${boundary}--\r\n`));
          controller.close();
          return;
        }
        md5.update(chunk);
        controller.enqueue(chunk);
        sent++;
      },
    });
    const res = await fetch(url, {
      method: 'POST',
      body,
      duplex: 'half',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    } as RequestInit);
    expect(res.status, await res.clone().text()).toBe(204);
    expect(seenMidway).toBe(true);
    const etag = `"${md5.digest('hex')}"`;
    expect(res.headers.get('etag')).toBe(etag);
    const got = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'big/video.bin' }));
    expect([got.ContentLength, got.ETag]).toEqual([chunks * chunk.length, etag]);
  });
});
