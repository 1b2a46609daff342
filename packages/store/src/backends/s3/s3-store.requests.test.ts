import { afterEach, describe, expect, it } from 'vitest';
import type { StoreError } from '../../errors.js';
import {
  ok,
  type Reply,
  type ScriptedRequest,
  type ScriptedS3,
  startScriptedS3,
  xml,
  xmlError,
} from './fixtures/scripted-s3.js';
import { S3Store } from './s3-store.js';

const ETAG = '"0123456789abcdef0123456789abcdef"';
const MiB = 1 << 20;
let peer: ScriptedS3 | undefined;
let store: S3Store | undefined;

afterEach(async () => {
  await store?.close();
  await peer?.close();
  store = peer = undefined;
});

async function scripted(script: (request: ScriptedRequest, index: number) => Reply, prefix = 'tenant/') {
  peer = await startScriptedS3(script);
  store = new S3Store({
    bucket: 'b',
    prefix,
    endpoint: peer.url,
    credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    retryBaseDelayMs: 1,
    partSize: 5 * MiB,
  });
  return { peer, store };
}

async function* chunks(total: number, chunkSize = 256 * 1024): AsyncIterable<Uint8Array> {
  for (let sent = 0; sent < total; sent += chunkSize) yield new Uint8Array(Math.min(chunkSize, total - sent)).fill(7);
}

/** Answers the requests of a multipart upload; `complete` decides how CompleteMultipartUpload goes. */
function multipart(complete: (attempt: number) => Reply, part: (n: number) => Reply = () => ok({ etag: ETAG })) {
  let completions = 0;
  return (request: ScriptedRequest): Reply => {
    if (request.method === 'POST' && request.query.has('uploads')) {
      return xml('<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>');
    }
    if (request.method === 'PUT' && request.query.has('partNumber'))
      return part(Number(request.query.get('partNumber')));
    if (request.method === 'POST' && request.query.has('uploadId')) return complete(completions++);
    if (request.method === 'DELETE' && request.query.has('uploadId')) return { status: 204 };
    return xmlError(400, 'InvalidRequest', `unexpected ${request.method}`);
  };
}

const completed = xml(`<CompleteMultipartUploadResult><ETag>"abc-3"</ETag></CompleteMultipartUploadResult>`);
const isPart = (r: ScriptedRequest) => r.query.has('partNumber');
const isComplete = (r: ScriptedRequest) => r.method === 'POST' && r.query.has('uploadId');
const isAbort = (r: ScriptedRequest) => r.method === 'DELETE' && r.query.has('uploadId');

describe('S3Store streamed puts', () => {
  it('uploads a long stream of unknown length in parts and conditions the completion', async () => {
    const { peer, store } = await scripted(multipart(() => completed));
    const result = await store.put('big', chunks(12 * MiB), { ifNoneMatch: '*' });
    expect(result.etag).toBe('"abc-3"');
    const parts = peer.requests.filter(isPart);
    parts.sort((a, b) => Number(a.query.get('partNumber')) - Number(b.query.get('partNumber')));
    expect(parts.map((r) => r.body.length)).toEqual([5 * MiB, 5 * MiB, 2 * MiB]);
    expect(parts.every((r) => r.path === '/b/tenant/big')).toBe(true);
    expect(peer.requests.find(isComplete)?.headers['if-none-match']).toBe('*');
  });

  it('sends a short stream as one PUT', async () => {
    const { peer, store } = await scripted(() => ok({ etag: ETAG }));
    await store.put('small', chunks(300_000), { ifNoneMatch: '*', contentType: 'text/plain', metadata: { a: '1' } });
    expect(peer.requests).toHaveLength(1);
    const [put] = peer.requests;
    expect(put?.method).toBe('PUT');
    expect(put?.headers['if-none-match']).toBe('*');
    expect(put?.headers['content-type']).toBe('text/plain');
    expect(put?.headers['x-amz-meta-a']).toBe('1');
  });

  it('sends a stream of known length in one streaming PUT, and does not retry it', async () => {
    const { peer, store } = await scripted(() => ok({ etag: ETAG }));
    await store.put('known', chunks(6 * MiB), { contentLength: 6 * MiB, ifNoneMatch: '*' });
    expect(peer.requests).toHaveLength(1);
    const [put] = peer.requests;
    expect(put?.query.has('uploadId')).toBe(false);
    expect(Number(put?.headers['x-amz-decoded-content-length'] ?? put?.headers['content-length'])).toBe(6 * MiB);

    await peer.close();
    const failing = await scripted(() => xmlError(500, 'InternalError'));
    const error = await failing.store
      .put('known', chunks(MiB), { contentLength: MiB, ifNoneMatch: '*' })
      .catch((e: unknown) => e);
    expect((error as StoreError).code).toBe('AmbiguousWrite');
    expect(failing.peer.requests).toHaveLength(1);
  });

  it('reports a completion that failed with 500 and then answered 412 as AmbiguousWrite', async () => {
    const { peer, store } = await scripted(
      multipart((n) => (n === 0 ? xmlError(500, 'InternalError') : xmlError(412, 'PreconditionFailed'))),
    );
    const error = await store.put('big', chunks(11 * MiB), { ifNoneMatch: '*' }).catch((e: unknown) => e);
    expect((error as StoreError).code).toBe('AmbiguousWrite');
    expect(peer.requests.filter(isComplete)).toHaveLength(2);
  });

  it('retries a failed part, since nothing is visible before completion', async () => {
    const { peer, store } = await scripted(
      multipart(
        () => completed,
        (n) =>
          n === 2 && peer?.requests.filter((r) => r.query.get('partNumber') === '2').length === 1
            ? 'drop'
            : ok({ etag: ETAG }),
      ),
    );
    await store.put('big', chunks(11 * MiB), { ifMatch: ETAG });
    expect(peer.requests.filter((r) => r.query.get('partNumber') === '2')).toHaveLength(2);
    expect(peer.requests.find(isComplete)?.headers['if-match']).toBe(ETAG);
  });

  it('reports a part that keeps failing as Transient (not ambiguous), never completes, and aborts the upload', async () => {
    const { peer, store } = await scripted(
      multipart(
        () => completed,
        () => xmlError(500, 'InternalError'),
      ),
    );
    const error = await store.put('big', chunks(11 * MiB), { ifNoneMatch: '*' }).catch((e: unknown) => e);
    expect((error as StoreError).code).toBe('Transient');
    expect(peer.requests.some(isComplete)).toBe(false);
    expect(peer.requests.some(isAbort)).toBe(true);
  });
});

describe('S3Store listing and batch delete', () => {
  it('merges objects and common prefixes in key order, strips the prefix and decodes url-encoded keys', async () => {
    const listing = xml(`<ListBucketResult><Name>b</Name><Prefix>tenant%2F</Prefix><EncodingType>url</EncodingType>
      <KeyCount>3</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated><NextContinuationToken>t2</NextContinuationToken>
      <Contents><Key>tenant%2Fa+b%C3%A9</Key><Size>3</Size><ETag>${ETAG}</ETag><LastModified>2024-01-01T00:00:00.000Z</LastModified></Contents>
      <Contents><Key>tenant%2Fz</Key><Size>1</Size><ETag>${ETAG}</ETag><LastModified>2024-01-01T00:00:00.000Z</LastModified></Contents>
      <CommonPrefixes><Prefix>tenant%2Fm%2F</Prefix></CommonPrefixes></ListBucketResult>`);
    const { peer, store } = await scripted(() => listing);
    const page = await store.listPage({ delimiter: '/', pageSize: 2, startAfter: 'a' });
    expect(page.entries.map((e) => (e.kind === 'object' ? e.key : e.prefix))).toEqual(['a bé', 'm/', 'z']);
    expect(page.continuationToken).toBe('t2');
    const query = peer.requests[0]?.query;
    expect([query?.get('prefix'), query?.get('start-after'), query?.get('max-keys')]).toEqual([
      'tenant/',
      'tenant/a',
      '2',
    ]);
  });

  it('deletes in batches of 1000 and reports per-key errors', async () => {
    const { peer, store } = await scripted((request) =>
      request.body.includes('tenant/k7<')
        ? xml(
            `<DeleteResult><Error><Key>tenant/k7</Key><Code>AccessDenied</Code><Message>no</Message></Error></DeleteResult>`,
          )
        : xml('<DeleteResult></DeleteResult>'),
    );
    const keys = Array.from({ length: 2500 }, (_, i) => `k${i}`);
    const result = await store.deleteMany([...keys, '']);
    expect(peer.requests.map((r) => r.body.toString().match(/<Key>/g)?.length)).toEqual([1000, 1000, 500]);
    expect(result.deleted).toHaveLength(2499);
    expect(result.errors.map((e) => [e.key, (e.error as StoreError).code])).toEqual([
      ['', 'InvalidKey'],
      ['k7', 'InvalidArgument'],
    ]);
  });
});
