import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signingKey } from '../auth/crypto.js';
import type { AuthResult, PayloadMode } from '../auth/types.js';
import { checksumOf } from '../checksums/index.js';
import { S3Error } from '../s3-error.js';
import { storedContentEncoding } from './content-encoding.js';
import { decodeRequestBody } from './decode-request-body.js';
import { signChunks } from './fixtures/sign-chunks.js';

type Headers = Record<string, string>;
const user = { accessKeyId: 'k', secretAccessKey: 's' };
const as = (payload: PayloadMode): AuthResult => ({ kind: 'user', user, payload });
const unsigned = as({ kind: 'unsigned' });

async function* pieces(body: Uint8Array, size: number) {
  for (let i = 0; i < body.length; i += size) yield body.subarray(i, i + size);
}

async function run(body: Uint8Array, headers: Headers, auth: AuthResult = unsigned, pieceSize = 4096) {
  const decoded = decodeRequestBody(pieces(body, pieceSize), headers, auth);
  const parts: Uint8Array[] = [];
  for await (const part of decoded.body) parts.push(part);
  return { data: Buffer.concat(parts), checksums: await decoded.checksums(), trailers: decoded.trailers() };
}

async function outcome(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
    return 'accepted';
  } catch (error) {
    if (error instanceof S3Error) return error.code;
    throw error;
  }
}

const data = randomBytes(200_000);

describe('plain bodies', () => {
  it('verify x-amz-checksum-* headers of every algorithm, and say which failed', async () => {
    for (const alg of ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const) {
      const value = await checksumOf(alg, data);
      const { checksums } = await run(data, { [`x-amz-checksum-${alg}`]: value });
      expect(checksums[alg]).toBe(value);
      const other = await checksumOf(alg, data.subarray(1));
      const error = await run(data, { [`x-amz-checksum-${alg}`]: other }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(S3Error);
      expect((error as S3Error).code).toBe('BadDigest');
      expect((error as S3Error).message).toBe(
        `The ${alg.toUpperCase()} you specified did not match the calculated checksum.`,
      );
    }
  });

  it('verify Content-MD5 and the signed payload SHA-256', async () => {
    const md5 = createHash('md5').update(data).digest('base64');
    const sha256 = createHash('sha256').update(data).digest('hex');
    const { checksums } = await run(data, { 'content-md5': md5 }, as({ kind: 'sha256', sha256 }));
    expect(checksums.md5).toBe(md5);
    expect(await outcome(() => run(data.subarray(1), { 'content-md5': md5 }))).toBe('BadDigest');
    expect(await outcome(() => run(data.subarray(1), {}, as({ kind: 'sha256', sha256 })))).toBe(
      'XAmzContentSHA256Mismatch',
    );
  });

  it('refuse bad checksum headers before reading any byte', () => {
    const never: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]() {
        throw new Error('the body must not be read');
      },
    };
    const refuse = (headers: Headers) => {
      try {
        decodeRequestBody(never, headers, unsigned);
        return 'accepted';
      } catch (error) {
        return error instanceof S3Error ? error.code : String(error);
      }
    };
    expect(refuse({ 'content-md5': 'nope' })).toBe('InvalidDigest');
    expect(refuse({ 'content-md5': Buffer.alloc(15).toString('base64') })).toBe('InvalidDigest');
    expect(refuse({ 'x-amz-checksum-crc32': 'AAAA' })).toBe('InvalidRequest');
    expect(refuse({ 'x-amz-checksum-crc32': 'AAAAAA==', 'x-amz-checksum-sha1': 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' })).toBe(
      'InvalidRequest',
    );
    expect(refuse({ 'x-amz-sdk-checksum-algorithm': 'CRC32' })).toBe('InvalidRequest');
    expect(refuse({ 'x-amz-sdk-checksum-algorithm': 'MD4', 'x-amz-checksum-crc32': 'AAAAAA==' })).toBe(
      'InvalidRequest',
    );
    expect(refuse({ 'x-amz-sdk-checksum-algorithm': 'CRC32C', 'x-amz-checksum-crc32': 'AAAAAA==' })).toBe(
      'InvalidRequest',
    );
    expect(refuse({ 'x-amz-trailer': 'x-amz-checksum-crc32' })).toBe('InvalidRequest');
    expect(refuse({ 'content-length': '-1' })).toBe('InvalidArgument');
    expect(refuse({ 'x-amz-sdk-checksum-algorithm': 'crc32', 'x-amz-checksum-crc32': 'AAAAAA==' })).toBe('accepted');
  });

  it('check the length against Content-Length and compute extra checksums on request', async () => {
    expect(await outcome(() => run(data.subarray(0, 10), { 'content-length': '11' }))).toBe('IncompleteBody');
    expect(await outcome(() => run(data.subarray(0, 12), { 'content-length': '11' }))).toBe('IncompleteBody');
    const decoded = decodeRequestBody(pieces(data, 999), {}, unsigned, { compute: ['md5', 'crc64nvme'] });
    await expect(decoded.checksums()).rejects.toThrow(/only after/);
    for await (const _ of decoded.body);
    expect(await decoded.checksums()).toEqual({
      md5: await checksumOf('md5', data),
      crc64nvme: await checksumOf('crc64nvme', data),
    });
  });

  it('take x-amz-checksum-* of a presigned URL from its query', async () => {
    const auth: AuthResult = {
      kind: 'user',
      user,
      payload: { kind: 'unsigned' },
      via: 'presigned',
      queryHeaders: { 'x-amz-checksum-crc32': await checksumOf('crc32', Buffer.from('other')) },
    };
    expect(await outcome(() => run(data, {}, auth))).toBe('BadDigest');
  });
});

describe('aws-chunked bodies', () => {
  const context = {
    seedSignature: 'a'.repeat(64),
    signingKey: signingKey('secret', '20260301', 'us-east-1', 's3'),
    scope: '20260301/us-east-1/s3/aws4_request',
    amzDate: '20260301T000000Z',
  };
  const signed = (trailer: boolean) => as({ kind: 'streaming-signed', trailer, ...context });
  const chunksOf = (bytes: Buffer, sizes: number[]) => {
    const out: Buffer[] = [];
    let at = 0;
    for (let i = 0; at < bytes.length; i++) {
      const size = sizes[i % sizes.length]!;
      out.push(bytes.subarray(at, at + size));
      at += size;
    }
    return out;
  };

  it('decode signed chunks of any sizes, split anywhere', async () => {
    for (const sizes of [[65_536], [8192, 1, 70_000], [200_000], [3]]) {
      const body = signChunks(context, chunksOf(data.subarray(0, sizes[0] === 3 ? 3000 : data.length), sizes));
      for (const pieceSize of [1 + (body.length % 97), 8191, 65_536 + 7]) {
        const expected = sizes[0] === 3 ? data.subarray(0, 3000) : data;
        const headers = { 'x-amz-decoded-content-length': String(expected.length) };
        const { data: out } = await run(body, headers, signed(false), pieceSize);
        expect(out.equals(expected)).toBe(true);
      }
    }
  });

  it('decode signed chunks with a signed checksum trailer', async () => {
    const crc = await checksumOf('crc32c', data);
    const body = signChunks(context, chunksOf(data, [65_536]), { 'x-amz-checksum-crc32c': crc });
    const headers = { 'x-amz-trailer': 'x-amz-checksum-crc32c', 'x-amz-decoded-content-length': String(data.length) };
    const { data: out, checksums, trailers } = await run(body, headers, signed(true));
    expect(out.equals(data)).toBe(true);
    expect(checksums).toEqual({ crc32c: crc });
    expect(trailers).toEqual({ 'x-amz-checksum-crc32c': crc });
    const wrong = signChunks(context, chunksOf(data, [65_536]), { 'x-amz-checksum-crc32c': 'AAAAAA==' });
    expect(await outcome(() => run(wrong, headers, signed(true)))).toBe('BadDigest');
  });

  it('refuse reordered, dropped, re-signed or unsigned chunks', async () => {
    const chunks = chunksOf(data, [65_536]);
    const good = signChunks(context, chunks);
    const framed = 88 + 65_536 + 2; // `10000;chunk-signature=<64 hex>\r\n` + data + CRLF
    const reordered = Buffer.concat([
      good.subarray(framed, 2 * framed),
      good.subarray(0, framed),
      good.subarray(2 * framed),
    ]);
    // Chunk 2 and later carried over from a body whose first chunk differed.
    const spliced = Buffer.concat([signChunks(context, [chunks[1]!]).subarray(0, framed), good.subarray(framed)]);
    const otherKey = signChunks({ ...context, signingKey: signingKey('other', '20260301', 'us-east-1', 's3') }, chunks);
    const bare = Buffer.from(good.toString('latin1').replace(/;chunk-signature=[0-9a-f]+/g, ''), 'latin1');
    for (const body of [reordered, spliced, otherKey, bare]) {
      expect(await outcome(() => run(body, {}, signed(false)))).toBe('SignatureDoesNotMatch');
    }
    const unsignedTrailer = signChunks(context, chunks, { 'x-amz-checksum-crc32': await checksumOf('crc32', data) });
    const noSignature = Buffer.from(
      unsignedTrailer.toString('latin1').replace(/x-amz-trailer-signature:\w+\r\n/, ''),
      'latin1',
    );
    const headers = { 'x-amz-trailer': 'x-amz-checksum-crc32' };
    expect(await outcome(() => run(unsignedTrailer, headers, signed(true)))).toBe('accepted');
    expect(await outcome(() => run(noSignature, headers, signed(true)))).toBe('SignatureDoesNotMatch');
  });

  it('refuse malformed framing without buffering it', async () => {
    const mode = as({ kind: 'streaming-unsigned-trailer' });
    const framing = (text: string) => outcome(() => run(Buffer.from(text, 'latin1'), {}, mode));
    expect(await framing('zz\r\nab\r\n0\r\n\r\n')).toBe('IncompleteBody');
    expect(await framing(`${'1'.repeat(5000)}`)).toBe('IncompleteBody');
    expect(await framing('2\r\nabc\r\n0\r\n\r\n')).toBe('IncompleteBody');
    expect(await framing('2\nab\r\n0\r\n\r\n')).toBe('IncompleteBody');
    expect(await framing('2\r\nab\r\n')).toBe('IncompleteBody');
    expect(await framing('2\r\nab\r\n0\r\nnot a trailer\r\n\r\n')).toBe('IncompleteBody');
    expect(await framing('2\r\nab\r\n0\r\n\r\n')).toBe('accepted');
    expect(await framing('2\r\nab\r\n0\r\n\r\nleftover bytes are ignored')).toBe('accepted');
    const declared = { 'x-amz-decoded-content-length': '3' };
    expect(await outcome(() => run(Buffer.from('2\r\nab\r\n0\r\n\r\n'), declared, mode))).toBe('IncompleteBody');
  });
});

describe('storedContentEncoding', () => {
  it('drops aws-chunked and keeps the rest', () => {
    expect(storedContentEncoding('aws-chunked')).toBeUndefined();
    expect(storedContentEncoding('aws-chunked,gzip')).toBe('gzip');
    expect(storedContentEncoding('gzip, AWS-CHUNKED')).toBe('gzip');
    expect(storedContentEncoding(undefined)).toBeUndefined();
  });
});
