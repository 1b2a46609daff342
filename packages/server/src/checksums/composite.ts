import type { ChecksumAlgorithm } from './algorithms.js';
import { createHasher } from './hasher.js';

/**
 * The checksum S3 gives a multipart object whose checksum type is COMPOSITE: the checksum of
 * the concatenated binary part checksums, then `-<part count>`. Part checksums are base64 as
 * UploadPart returned them, in part order. (FULL_OBJECT CRCs are not composed this way.)
 */
export async function compositeChecksum(
  algorithm: ChecksumAlgorithm,
  partChecksums: readonly string[],
): Promise<string> {
  const hasher = createHasher(algorithm);
  for (const part of partChecksums) hasher.update(Buffer.from(part, 'base64'));
  return `${Buffer.from(await hasher.digest()).toString('base64')}-${partChecksums.length}`;
}
