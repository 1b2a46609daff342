import { S3Error } from '../s3-error.js';

/** The flexible checksums S3 accepts, in the lower-case spelling of their header suffix. */
export const CHECKSUM_ALGORITHMS = ['crc32', 'crc32c', 'crc64nvme', 'sha1', 'sha256'] as const;
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** Digest lengths in bytes, used to reject a malformed base64 value before any data is read. */
export const CHECKSUM_BYTES: Record<ChecksumAlgorithm, number> = {
  crc32: 4,
  crc32c: 4,
  crc64nvme: 8,
  sha1: 20,
  sha256: 32,
};

export function isChecksumAlgorithm(value: string): value is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(value);
}

/** `crc32` → `x-amz-checksum-crc32`. */
export function checksumHeader(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm}`;
}

/** The name S3 uses in messages and in `x-amz-sdk-checksum-algorithm`: `CRC32`, `CRC64NVME`, `SHA256`. */
export function checksumName(algorithm: ChecksumAlgorithm): string {
  return algorithm.toUpperCase();
}

/** Parses `x-amz-sdk-checksum-algorithm` / `x-amz-checksum-algorithm` (case-insensitive). */
export function parseChecksumAlgorithm(value: string, header = 'x-amz-sdk-checksum-algorithm'): ChecksumAlgorithm {
  const lower = value.trim().toLowerCase();
  if (isChecksumAlgorithm(lower)) return lower;
  throw new S3Error('InvalidRequest', `Value for ${header} header is invalid.`);
}

/** True when `value` is canonical base64 of exactly the digest length of `algorithm`. */
export function isValidChecksumValue(algorithm: ChecksumAlgorithm, value: string): boolean {
  const bytes = Buffer.from(value, 'base64');
  return bytes.length === CHECKSUM_BYTES[algorithm] && bytes.toString('base64') === value;
}
