import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  checksumHeader,
  checksumName,
  isChecksumAlgorithm,
  isValidChecksumValue,
  parseChecksumAlgorithm,
} from '../checksums/index.js';
import { S3Error } from '../s3-error.js';

type Headers = Record<string, string | string[] | undefined>;

/** What the request says its body's checksums are, read before any of the body arrives. */
export interface ChecksumPlan {
  /** The flexible checksum the client declared, if any. */
  algorithm?: ChecksumAlgorithm;
  /** Its expected base64 value when sent as a header; undefined when it comes as a trailer. */
  expected?: string;
  /** Whether the value comes in the aws-chunked trailers (`x-amz-trailer`). */
  inTrailer: boolean;
  /** Base64 MD5 from Content-MD5. */
  md5?: string;
}

const header = (headers: Headers, name: string) => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

const invalid = (name: string) => new S3Error('InvalidRequest', `Value for ${name} header is invalid.`);

/**
 * Validates Content-MD5, `x-amz-checksum-*`, `x-amz-trailer` and `x-amz-sdk-checksum-algorithm`
 * up front, so a malformed request is refused before its body is read (and, with
 * `Expect: 100-continue`, before it is even sent).
 */
export function checksumPlan(headers: Headers, chunked: boolean): ChecksumPlan {
  const plan: ChecksumPlan = { inTrailer: false };
  const md5 = header(headers, 'content-md5');
  if (md5 !== undefined) {
    const bytes = Buffer.from(md5, 'base64');
    if (bytes.length !== 16 || bytes.toString('base64') !== md5.trim()) {
      throw new S3Error('InvalidDigest', 'The Content-MD5 you specified is not valid.');
    }
    plan.md5 = md5.trim();
  }

  const inHeaders = CHECKSUM_ALGORITHMS.filter((alg) => header(headers, checksumHeader(alg)) !== undefined);
  const trailer = header(headers, 'x-amz-trailer');
  const inTrailers = trailer === undefined ? [] : trailer.split(',').map((t) => t.trim().toLowerCase());
  const declared = [...inHeaders, ...inTrailers.map(trailerAlgorithm)];
  if (declared.length > 1) {
    throw new S3Error(
      'InvalidRequest',
      'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
    );
  }
  if (inTrailers.length > 0 && !chunked) {
    throw new S3Error('InvalidRequest', 'x-amz-trailer is only allowed with an aws-chunked body.');
  }
  const algorithm = declared[0];
  if (algorithm !== undefined) {
    plan.algorithm = algorithm;
    plan.inTrailer = inTrailers.length > 0;
    if (!plan.inTrailer) {
      const name = checksumHeader(algorithm);
      const value = (header(headers, name) ?? '').trim();
      if (!isValidChecksumValue(algorithm, value)) {
        // S3 answers a SHA digest that is not even the right length as one that does not match
        // (BadDigest, observed); a malformed CRC is InvalidRequest.
        if (algorithm === 'sha1' || algorithm === 'sha256') {
          throw new S3Error(
            'BadDigest',
            `The ${checksumName(algorithm)} you specified did not match the calculated checksum.`,
          );
        }
        throw invalid(name);
      }
      plan.expected = value;
    }
  }

  const sdkAlgorithm = header(headers, 'x-amz-sdk-checksum-algorithm');
  if (sdkAlgorithm !== undefined) {
    const named = parseChecksumAlgorithm(sdkAlgorithm);
    if (algorithm === undefined) {
      throw new S3Error(
        'InvalidRequest',
        'x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.',
      );
    }
    if (named !== algorithm) throw invalid('x-amz-sdk-checksum-algorithm');
  }
  return plan;
}

function trailerAlgorithm(name: string): ChecksumAlgorithm {
  const alg = name.startsWith('x-amz-checksum-') ? name.slice('x-amz-checksum-'.length) : '';
  if (!isChecksumAlgorithm(alg)) throw invalid('x-amz-trailer');
  return alg;
}
