import type { AuthResult } from '../auth/types.js';
import {
  type ChecksumAlgorithm,
  checksumHeader,
  checksumName,
  createHasher,
  type Hasher,
  isValidChecksumValue,
} from '../checksums/index.js';
import { S3Error } from '../s3-error.js';
import { readAwsChunked } from './aws-chunked.js';
import { checksumPlan } from './checksum-plan.js';
import { ChunkSignatureChain } from './chunk-signature-chain.js';

type Headers = Record<string, string | string[] | undefined>;
export type BodyChecksums = Partial<Record<ChecksumAlgorithm | 'md5', string>>;

export interface DecodeOptions {
  /** Checksums to compute besides those the client declared (e.g. `md5` for an ETag). */
  compute?: readonly (ChecksumAlgorithm | 'md5')[];
}

export interface DecodedBody {
  /** The object's bytes: framing stripped, every signature and checksum verified. Read once. */
  body: AsyncIterable<Uint8Array>;
  /** The object size the client declared (x-amz-decoded-content-length, else Content-Length). */
  declaredLength: number | undefined;
  /** The flexible checksum the client sent or announced (header, trailer or SDK header). */
  checksumAlgorithm: ChecksumAlgorithm | undefined;
  /** Base64 checksums of the body, by algorithm: the declared one, `md5` when Content-MD5 was sent, and `compute`'s. Only after `body` has been read to its end. */
  checksums(): Promise<BodyChecksums>;
  /** Trailing headers of an aws-chunked body (lower-case names); empty otherwise. After `body` ends. */
  trailers(): Record<string, string>;
}

const header = (headers: Headers, name: string) => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

function parseLength(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value.trim())) {
    throw new S3Error('InvalidArgument', `${name} must be a non-negative integer.`, { ArgumentName: name });
  }
  return Number(value);
}

/**
 * Turns a request body into the object's bytes, verifying everything the request claims about
 * them while they stream: aws-chunked framing and chunk signatures, the signed payload SHA-256,
 * Content-MD5 and `x-amz-checksum-*` (as headers or trailers). Header problems throw here,
 * before any byte is read; body problems are thrown by the iterator at the point they are
 * found, and the last check runs before it reports its end, so a store write consuming it aborts
 * and stores nothing.
 */
export function decodeRequestBody(
  source: AsyncIterable<Uint8Array>,
  requestHeaders: Headers,
  auth: AuthResult,
  options: DecodeOptions = {},
): DecodedBody {
  // A presigned URL's x-amz-* query parameters count as headers (real headers win).
  const headers =
    auth.kind === 'user' && auth.queryHeaders ? { ...auth.queryHeaders, ...requestHeaders } : requestHeaders;
  const payload = auth.payload;
  const chunked = payload.kind === 'streaming-signed' || payload.kind === 'streaming-unsigned-trailer';
  const plan = checksumPlan(headers, chunked);
  const declaredLength = chunked
    ? parseLength(header(headers, 'x-amz-decoded-content-length'), 'x-amz-decoded-content-length')
    : parseLength(header(headers, 'content-length'), 'Content-Length');

  const hashers = new Map<ChecksumAlgorithm | 'md5', Hasher>();
  const want = (alg: ChecksumAlgorithm | 'md5') => {
    if (!hashers.has(alg)) hashers.set(alg, createHasher(alg));
  };
  if (plan.algorithm) want(plan.algorithm);
  if (plan.md5) want('md5');
  if (payload.kind === 'sha256') want('sha256');
  for (const alg of options.compute ?? []) want(alg);

  let trailers = new Map<string, string>();
  let results: BodyChecksums | undefined;

  const framed = chunked
    ? readAwsChunked(source, {
        chain: payload.kind === 'streaming-signed' ? new ChunkSignatureChain(payload) : undefined,
        trailers:
          payload.kind === 'streaming-unsigned-trailer' || (payload.kind === 'streaming-signed' && payload.trailer),
        onTrailers: (t) => {
          trailers = t;
        },
      })
    : source;

  async function* decode(): AsyncGenerator<Uint8Array> {
    let length = 0;
    const all = [...hashers.values()];
    for await (const chunk of framed) {
      length += chunk.length;
      if (declaredLength !== undefined && length > declaredLength) {
        throw new S3Error('IncompleteBody', 'The request body is longer than its declared length.');
      }
      for (const hasher of all) hasher.update(chunk);
      yield chunk;
    }
    if (declaredLength !== undefined && length < declaredLength) {
      throw new S3Error(
        'IncompleteBody',
        'You did not provide the number of bytes specified by the Content-Length HTTP header.',
      );
    }
    const digests: BodyChecksums = {};
    for (const [alg, hasher] of hashers) digests[alg] = Buffer.from(await hasher.digest()).toString('base64');
    verify(digests);
    results = digests;
  }

  function verify(digests: BodyChecksums): void {
    if (payload.kind === 'sha256') {
      const computed = Buffer.from(digests.sha256 ?? '', 'base64').toString('hex');
      if (computed !== payload.sha256) {
        throw new S3Error(
          'XAmzContentSHA256Mismatch',
          "The provided 'x-amz-content-sha256' header does not match what was computed.",
          { ClientComputedContentSHA256: payload.sha256, S3ComputedContentSHA256: computed },
        );
      }
    }
    if (plan.md5 !== undefined && digests.md5 !== plan.md5) {
      throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.', {
        ExpectedDigest: Buffer.from(plan.md5, 'base64').toString('hex'),
        CalculatedDigest: Buffer.from(digests.md5 ?? '', 'base64').toString('hex'),
      });
    }
    if (plan.algorithm === undefined) return;
    const name = checksumHeader(plan.algorithm);
    const expected = plan.inTrailer ? trailers.get(name) : plan.expected;
    if (expected === undefined) {
      throw new S3Error('IncompleteBody', `The body ended without the ${name} trailer it announced.`);
    }
    if (!isValidChecksumValue(plan.algorithm, expected)) {
      throw new S3Error('InvalidRequest', `Value for ${name} trailing header is invalid.`);
    }
    if (digests[plan.algorithm] !== expected) {
      throw new S3Error(
        'BadDigest',
        `The ${checksumName(plan.algorithm)} you specified did not match the calculated checksum.`,
      );
    }
  }

  return {
    body: decode(),
    declaredLength,
    checksumAlgorithm: plan.algorithm,
    async checksums() {
      if (!results) throw new Error('checksums() is available only after the body has been read to its end');
      return results;
    },
    trailers: () => Object.fromEntries(trailers),
  };
}
