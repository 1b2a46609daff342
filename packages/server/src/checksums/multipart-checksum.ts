import { S3Error } from '../s3-error.js';
import { type ChecksumAlgorithm, checksumName, isValidChecksumValue, parseChecksumAlgorithm } from './algorithms.js';
import { compositeChecksum } from './composite.js';
import { fullObjectChecksum, isCombinableCrc } from './full-object.js';

export const CHECKSUM_TYPES = ['COMPOSITE', 'FULL_OBJECT'] as const;
export type ChecksumType = (typeof CHECKSUM_TYPES)[number];

/** How a multipart upload's object checksum is made: chosen at CreateMultipartUpload. */
export interface MultipartChecksum {
  algorithm: ChecksumAlgorithm;
  type: ChecksumType;
}

/**
 * `x-amz-checksum-algorithm` and `x-amz-checksum-type` of a CreateMultipartUpload. As in S3, the
 * type defaults to FULL_OBJECT for CRC64NVME (which has no composite form) and to COMPOSITE for
 * the others; SHA digests cannot be combined into a FULL_OBJECT checksum.
 */
export function parseMultipartChecksum(
  algorithmHeader: string | undefined,
  typeHeader: string | undefined,
): MultipartChecksum | undefined {
  if (algorithmHeader === undefined) {
    if (typeHeader === undefined) return undefined;
    throw new S3Error(
      'InvalidRequest',
      'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.',
    );
  }
  const algorithm = parseChecksumAlgorithm(algorithmHeader, 'x-amz-checksum-algorithm');
  const type = typeHeader === undefined ? defaultType(algorithm) : parseType(typeHeader);
  if (type === 'FULL_OBJECT' ? !isCombinableCrc(algorithm) : algorithm === 'crc64nvme') {
    throw new S3Error(
      'InvalidRequest',
      `The ${type} checksum type cannot be used with the ${algorithm} checksum algorithm.`,
    );
  }
  return { algorithm, type };
}

function defaultType(algorithm: ChecksumAlgorithm): ChecksumType {
  return algorithm === 'crc64nvme' ? 'FULL_OBJECT' : 'COMPOSITE';
}

function parseType(value: string): ChecksumType {
  const upper = value.trim().toUpperCase();
  if ((CHECKSUM_TYPES as readonly string[]).includes(upper)) return upper as ChecksumType;
  throw new S3Error('InvalidRequest', 'Value for x-amz-checksum-type header is invalid.');
}

/**
 * The object's checksum from its parts' checksums (base64, in part order): the checksum of the
 * concatenated part checksums with `-<count>` (COMPOSITE), or the CRC of the whole object
 * (FULL_OBJECT), both without reading the data again.
 */
export async function multipartObjectChecksum(
  checksum: MultipartChecksum,
  parts: readonly { checksum: string; size: number }[],
): Promise<string> {
  const { algorithm, type } = checksum;
  if (type === 'FULL_OBJECT' && isCombinableCrc(algorithm)) return fullObjectChecksum(algorithm, parts);
  return compositeChecksum(
    algorithm,
    parts.map((p) => p.checksum),
  );
}

/**
 * Whether `claimed` (a CompleteMultipartUpload's `x-amz-checksum-*` header) states `actual`. A
 * composite value may leave out its `-<count>`; a malformed value is InvalidRequest.
 */
export function claimedObjectChecksumMatches(checksum: MultipartChecksum, claimed: string, actual: string): boolean {
  const match = /^([^-]*)(?:-(\d+))?$/.exec(claimed.trim());
  const digest = match?.[1] ?? '';
  const count = match?.[2];
  if (!isValidChecksumValue(checksum.algorithm, digest) || (count !== undefined && checksum.type !== 'COMPOSITE')) {
    throw new S3Error('InvalidRequest', `Value for x-amz-checksum-${checksum.algorithm} header is invalid.`);
  }
  const [actualDigest, actualCount] = actual.split('-');
  return digest === actualDigest && (count === undefined || count === actualCount);
}

/** `ChecksumCRC32`, `ChecksumSHA256`, …: the XML element S3 uses for a checksum. */
export function checksumElement(algorithm: ChecksumAlgorithm): string {
  return `Checksum${checksumName(algorithm)}`;
}

/** The checksum type S3 reports for a stored checksum value: composite ones end in `-<parts>`. */
export function checksumTypeOf(value: string): ChecksumType {
  return /-\d+$/.test(value) ? 'COMPOSITE' : 'FULL_OBJECT';
}
