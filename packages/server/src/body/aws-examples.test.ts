import { describe, expect, it } from 'vitest';
import { authenticate } from '../auth/authenticate.js';
import type { AuthInput, User } from '../auth/types.js';
import { S3Error } from '../s3-error.js';
import { decodeRequestBody } from './decode-request-body.js';

// AWS's chunked-upload examples ("Transferring Payload in Multiple Chunks" and its trailer
// variant): 66,560 bytes of 'a' as a 64 KiB chunk, a 1 KiB chunk and the final empty chunk.
const example: User = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const users = (id: string) => (id === example.accessKeyId ? example : undefined);
const now = new Date('2013-05-24T00:00:00Z');

const plain = {
  contentSha256: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  signedHeaders:
    'content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class',
  seed: '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
  chunks: [
    'ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648',
    '0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497',
    'b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9',
  ],
  trailer: '',
};
const withTrailer = {
  contentSha256: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  signedHeaders:
    'content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class;x-amz-trailer',
  seed: '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e',
  chunks: [
    'b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2',
    '1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7',
    '2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992',
  ],
  trailer:
    'x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n',
};
type Example = typeof plain;

function request(ex: Example): { input: AuthInput; body: Buffer } {
  const [c1, c2, c3] = ex.chunks;
  const body = Buffer.concat([
    Buffer.from(`10000;chunk-signature=${c1}\r\n`),
    Buffer.alloc(65536, 'a'),
    Buffer.from(`\r\n400;chunk-signature=${c2}\r\n`),
    Buffer.alloc(1024, 'a'),
    Buffer.from(`\r\n0;chunk-signature=${c3}\r\n${ex.trailer}\r\n`),
  ]);
  const headers: AuthInput['headers'] = {
    host: 's3.amazonaws.com',
    'content-encoding': 'aws-chunked',
    'x-amz-content-sha256': ex.contentSha256,
    'x-amz-date': '20130524T000000Z',
    'x-amz-decoded-content-length': '66560',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    authorization: `AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=${ex.signedHeaders},Signature=${ex.seed}`,
  };
  if (ex.trailer) headers['x-amz-trailer'] = 'x-amz-checksum-crc32c';
  else headers['content-length'] = String(body.length);
  return { input: { method: 'PUT', rawPath: '/examplebucket/chunkObject.txt', rawQuery: '', headers }, body };
}

/** Feeds `body` in pieces of `size` bytes, so framing splits at every possible place. */
async function* pieces(body: Uint8Array, size: number) {
  for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size);
}

async function readAll(iterable: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const part of iterable) parts.push(part);
  return Buffer.concat(parts);
}

async function decodeError(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return error instanceof S3Error ? error.code : `not an S3Error: ${String(error)}`;
}

describe('AWS published chunked-upload examples', () => {
  for (const [name, ex] of [
    ['signed chunks', plain],
    ['signed chunks with a signed CRC32C trailer', withTrailer],
  ] as const) {
    it(`decodes ${name}, fed in pieces of any size`, async () => {
      const { input, body } = request(ex);
      if (!ex.trailer) expect(body.length).toBe(66_824); // the example's Content-Length
      for (const size of [13, 100, 65_536, body.length]) {
        const auth = authenticate(input, users, { now });
        const decoded = decodeRequestBody(pieces(body, size), input.headers, auth);
        expect(await readAll(decoded.body)).toEqual(Buffer.alloc(66560, 'a'));
        if (ex.trailer) {
          expect(await decoded.checksums()).toEqual({ crc32c: 'sOO8/Q==' });
          expect(decoded.trailers()).toEqual({ 'x-amz-checksum-crc32c': 'sOO8/Q==' });
        }
      }
    });

    it(`refuses ${name} with one changed data byte`, async () => {
      const { input, body } = request(ex);
      body[30_000] = 'b'.charCodeAt(0);
      const decoded = decodeRequestBody(pieces(body, 4096), input.headers, authenticate(input, users, { now }));
      expect(await decodeError(readAll(decoded.body))).toBe('SignatureDoesNotMatch');
    });

    it(`refuses ${name} cut short`, async () => {
      const { input, body } = request(ex);
      for (const end of [10, 65_600, body.length - (ex.trailer ? 40 : 3)]) {
        const decoded = decodeRequestBody(
          pieces(body.subarray(0, end), 999),
          input.headers,
          authenticate(input, users, { now }),
        );
        expect(await decodeError(readAll(decoded.body))).toMatch(/IncompleteBody|SignatureDoesNotMatch/);
      }
    });
  }

  it('refuses a forged trailer signature', async () => {
    const { input, body } = request({ ...withTrailer, trailer: withTrailer.trailer.replace('d81f', 'd81e') });
    const decoded = decodeRequestBody(pieces(body, 65_536), input.headers, authenticate(input, users, { now }));
    expect(await decodeError(readAll(decoded.body))).toBe('SignatureDoesNotMatch');
  });
});
