import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  PutObjectCommand,
  type ChecksumAlgorithm as SdkChecksumAlgorithm,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { authenticate } from '../auth/authenticate.js';
import { S3Error } from '../s3-error.js';
import { decodeRequestBody } from './decode-request-body.js';
import { CAPTURE_USER, type CapturedRequest, captureSdk } from './fixtures/capture-sdk.js';

// Bodies exactly as the current AWS SDK v3 puts them on the wire (default settings: CRC32 for
// every upload, aws-chunked with an unsigned trailer for streams), replayed through the server's
// authentication and body decoding.

const users = (id: string) => (id === CAPTURE_USER.accessKeyId ? CAPTURE_USER : undefined);

async function* pieces(body: Uint8Array, size: number) {
  for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size);
}

async function decode(request: CapturedRequest, body = request.body, pieceSize = 16 * 1024) {
  const auth = authenticate(request.input, users);
  const decoded = decodeRequestBody(pieces(body, pieceSize), request.input.headers, auth);
  const parts: Uint8Array[] = [];
  for await (const part of decoded.body) parts.push(part);
  return { data: Buffer.concat(parts), checksums: await decoded.checksums(), decoded };
}

async function decodeCode(request: CapturedRequest, body: Buffer): Promise<string> {
  try {
    await decode(request, body);
    return 'accepted';
  } catch (error) {
    if (error instanceof S3Error) return `${error.code}: ${error.message}`;
    throw error;
  }
}

const streamOf = (data: Buffer, pieceSize = 64 * 1024) =>
  Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += pieceSize) yield data.subarray(i, i + pieceSize);
    })(),
  );

const data = randomBytes(300_000);

describe('bodies from the AWS SDK', () => {
  it('a buffer: signed SHA-256 payload and a CRC32 header', async () => {
    const [request] = await captureSdk((c) => c.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: data })));
    expect(request?.input.headers['x-amz-checksum-crc32']).toBeDefined();
    const { data: out, checksums, decoded } = await decode(request!);
    expect(out.equals(data)).toBe(true);
    expect(checksums.crc32).toBe(request?.input.headers['x-amz-checksum-crc32']);
    expect(decoded.checksumAlgorithm).toBe('crc32');
    expect(decoded.declaredLength).toBe(data.length);

    const flipped = Buffer.from(request!.body);
    flipped[1234]! ^= 1;
    expect(await decodeCode(request!, flipped)).toMatch(/^XAmzContentSHA256Mismatch/);
    expect(await decodeCode(request!, request!.body.subarray(0, 1000))).toMatch(/^IncompleteBody/);
  });

  it.each(['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as SdkChecksumAlgorithm[])(
    'a stream with a %s trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER)',
    async (algorithm) => {
      const [request] = await captureSdk((c) =>
        c.send(
          new PutObjectCommand({
            Bucket: 'b',
            Key: 'k',
            Body: streamOf(data),
            ContentLength: data.length,
            ChecksumAlgorithm: algorithm,
          }),
        ),
      );
      expect(request?.input.headers['x-amz-content-sha256']).toBe('STREAMING-UNSIGNED-PAYLOAD-TRAILER');
      const alg = algorithm.toLowerCase() as ChecksumAlgorithmName;
      for (const pieceSize of [1000, 65_536, request!.body.length]) {
        const { data: out, checksums, decoded } = await decode(request!, request!.body, pieceSize);
        expect(out.equals(data)).toBe(true);
        expect(decoded.trailers()[`x-amz-checksum-${alg}`]).toBe(checksums[alg]);
      }
      if (algorithm === 'SHA256') {
        const { checksums } = await decode(request!);
        expect(checksums.sha256).toBe(createHash('sha256').update(data).digest('base64'));
      }
    },
  );

  it('a stream with a flipped data byte, a wrong trailer or a cut-off end is refused', async () => {
    const [request] = await captureSdk((c) =>
      c.send(new PutObjectCommand({ Bucket: 'b', Key: 'k', Body: streamOf(data), ContentLength: data.length })),
    );
    const body = request!.body;
    const flipped = Buffer.from(body);
    flipped[200_000]! ^= 0x40;
    expect(await decodeCode(request!, flipped)).toBe(
      'BadDigest: The CRC32 you specified did not match the calculated checksum.',
    );
    const trailer = body.toString('latin1').match(/x-amz-checksum-crc32:(\S+)\r\n/)?.[1] ?? '';
    const wrongTrailer = Buffer.from(body.toString('latin1').replace(trailer, 'AAAAAA=='), 'latin1');
    expect(await decodeCode(request!, wrongTrailer)).toMatch(/^BadDigest/);
    const malformed = Buffer.from(body.toString('latin1').replace(trailer, 'not base64!'), 'latin1');
    expect(await decodeCode(request!, malformed)).toMatch(/^InvalidRequest/);
    for (const cut of [5, 70_000, body.length - 45, body.length - 30]) {
      expect(await decodeCode(request!, body.subarray(0, cut))).toMatch(/^IncompleteBody/);
    }
    const longerChunk = Buffer.from(body.toString('latin1').replace('\r\n0\r\n', 'xy\r\n0\r\n'), 'latin1');
    expect(await decodeCode(request!, longerChunk)).toMatch(/^IncompleteBody/);
  });

  it('an UploadPart with Content-MD5 (checked as well as the CRC32)', async () => {
    const md5 = createHash('md5').update(data).digest('base64');
    const [request] = await captureSdk((c) =>
      c.send(
        new UploadPartCommand({ Bucket: 'b', Key: 'k', UploadId: 'u', PartNumber: 1, Body: data, ContentMD5: md5 }),
      ),
    );
    const { checksums } = await decode(request!);
    expect(checksums.md5).toBe(md5);
    const wrongMd5 = {
      ...request!,
      input: {
        ...request!.input,
        headers: { ...request!.input.headers, 'content-md5': createHash('md5').digest('base64') },
      },
    };
    // The signature covers content-md5, so change it where it is unsigned: a fresh capture.
    const [unsigned] = await captureSdk((c) =>
      c.send(
        new UploadPartCommand({
          Bucket: 'b',
          Key: 'k',
          UploadId: 'u',
          PartNumber: 1,
          Body: data,
          ContentMD5: createHash('md5').update('other').digest('base64'),
        }),
      ),
    );
    expect(await decodeCode(unsigned!, unsigned!.body)).toMatch(
      /^BadDigest: The Content-MD5 you specified did not match/,
    );
    expect(() => authenticate(wrongMd5.input, users)).toThrow(S3Error);
  });
});

type ChecksumAlgorithmName = 'crc32' | 'crc32c' | 'crc64nvme' | 'sha1' | 'sha256';
