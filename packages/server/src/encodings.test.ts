import { PassThrough, Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beforeSigning, bodyBytes, failure, startWithBuckets, type TestServer } from './fixtures/harness.js';

// Request bodies framed and encoded as the AWS SDK sends them: aws-chunked streams carry other
// content encodings and no Content-Length (Transfer-Encoding: chunked plus x-amz-decoded-content-length).

const Bucket = 'encodings';
let t: TestServer;
let s3: S3Client;
beforeAll(async () => {
  ({ t, s3 } = await startWithBuckets([Bucket]));
});
afterAll(() => t.close());

const data = Buffer.from('pretend this is gzip '.repeat(500));

/** A streamed PutObject of `data` with a known length, which the SDK sends aws-chunked. */
const putStream = (client: S3Client, Key: string, ContentEncoding?: string) =>
  client.send(
    new PutObjectCommand({ Bucket, Key, Body: Readable.from([data]), ContentLength: data.length, ContentEncoding }),
  );

/** A client whose requests get Content-Encoding `value` just before they are signed. */
function clientSendingContentEncoding(value: string): S3Client {
  const client = t.client();
  beforeSigning(client, 'setContentEncoding', (request) => {
    if (request.headers['content-encoding'] !== undefined) request.headers['content-encoding'] = value;
  });
  return client;
}

describe('content encodings with aws-chunked', () => {
  it('a streamed PUT with ContentEncoding gzip (sent as "gzip,aws-chunked", chunked, no Content-Length) stores "gzip"', async () => {
    const Key = 'gzip-stream';
    const sent: Record<string, string>[] = [];
    const client = t.client();
    client.middlewareStack.add(
      (next) => async (args) => {
        sent.push({ ...(args.request as { headers: Record<string, string> }).headers });
        return next(args);
      },
      { step: 'finalizeRequest', name: 'record' },
    );
    await putStream(client, Key, 'gzip');
    expect(sent[0]).toMatchObject({ 'content-encoding': 'gzip,aws-chunked', 'transfer-encoding': 'chunked' });
    expect(sent[0]?.['content-length']).toBeUndefined();
    const head = await s3.send(new HeadObjectCommand({ Bucket, Key }));
    expect([head.ContentEncoding, head.ContentLength]).toEqual(['gzip', data.length]);
    const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
    expect(got.ContentEncoding).toBe('gzip');
    expect((await bodyBytes(got.Body)).equals(data)).toBe(true);
  });

  it('keeps the rest of Content-Encoding exactly as sent, wherever aws-chunked stands in it', async () => {
    const cases: [string, string | undefined][] = [
      ['aws-chunked,gzip', 'gzip'],
      ['gzip, aws-chunked', 'gzip'],
      ['aws-chunked, gzip, br', 'gzip, br'],
      ['aws-chunked', undefined],
    ];
    for (const [sent, stored] of cases) {
      const Key = `encoding ${sent}`;
      const client = clientSendingContentEncoding(sent);
      await putStream(client, Key, 'x');
      expect((await s3.send(new HeadObjectCommand({ Bucket, Key }))).ContentEncoding, sent).toBe(stored);
    }
  });
});

describe('chunked uploads without Content-Length', () => {
  it('a stream of unknown length is refused as S3 refuses it: 411 framed as aws-chunked, 501 plain', async () => {
    // Default settings frame a stream as aws-chunked with a CRC32 trailer; here its decoded length is left out.
    const framedClient = t.client();
    beforeSigning(framedClient, 'dropDecodedLength', (request) => {
      delete request.headers['x-amz-decoded-content-length'];
    });
    expect(await failure(putStream(framedClient, 'unknown-length'))).toEqual(['MissingContentLength', 411]);
    // Without a checksum the SDK sends it as plain Transfer-Encoding: chunked.
    const plainClient = t.client();
    plainClient.config.requestChecksumCalculation = () => Promise.resolve('WHEN_REQUIRED');
    const plain = new PassThrough();
    plain.end(data);
    expect(
      await failure(plainClient.send(new PutObjectCommand({ Bucket, Key: 'unknown-length', Body: plain }))),
    ).toEqual(['NotImplemented', 501]);
    expect(await failure(s3.send(new HeadObjectCommand({ Bucket, Key: 'unknown-length' })))).toEqual(['NotFound', 404]);
  });
});
