import type { DecodedBody } from '../auth/index.js';
import {
  CHECKSUM_ALGORITHMS,
  type ChecksumAlgorithm,
  checksumElement,
  checksumName,
  claimedObjectChecksumMatches,
  hashingBody,
  isValidChecksumValue,
  type MultipartChecksum,
  multipartObjectChecksum,
} from '../checksums/index.js';
import { invalidPart, type StoredPart, type UploadRecord } from '../engine/uploads.js';
import { header, type RequestContext } from '../http/context.js';
import { text } from '../http/xml.js';
import { S3Error } from '../s3-error.js';

/** `x-amz-checksum-algorithm` and `x-amz-checksum-type` as CreateMultipartUpload answers them. */
export function uploadChecksumHeaders(checksum: MultipartChecksum | undefined): Record<string, string> {
  if (!checksum) return {};
  return { 'x-amz-checksum-algorithm': checksumName(checksum.algorithm), 'x-amz-checksum-type': checksum.type };
}

/** ChecksumAlgorithm and ChecksumType elements of ListParts and ListMultipartUploads. */
export function uploadChecksumElements(checksum: MultipartChecksum | undefined) {
  return checksum ? { ChecksumAlgorithm: checksumName(checksum.algorithm), ChecksumType: checksum.type } : {};
}

const typeMismatch = (expected: ChecksumAlgorithm, actual: ChecksumAlgorithm | undefined) =>
  new S3Error(
    'InvalidRequest',
    `Checksum Type mismatch occurred, expected checksum Type: ${expected}, actual checksum Type: ${actual ?? 'null'}`,
  );

/**
 * An UploadPart body and a way to get its checksum in the upload's algorithm once it is stored.
 * The checksum the client sent is verified by the decoder; a part of a FULL_OBJECT upload sent
 * without one gets it computed here, as S3 does; a COMPOSITE upload needs the client's.
 */
export function partBody(upload: UploadRecord, decoded: DecodedBody) {
  const wanted = upload.checksum;
  const sent = decoded.checksumAlgorithm;
  const fromClient = async () =>
    sent === undefined ? undefined : ((await decoded.checksums()) as Record<string, string>)[sent];
  if (!wanted) return { body: decoded.body, algorithm: sent, checksum: fromClient };
  if (sent === undefined && wanted.type === 'FULL_OBJECT') {
    const hashed = hashingBody(decoded.body, wanted.algorithm);
    return { body: hashed.body, algorithm: wanted.algorithm, checksum: hashed.digest };
  }
  if (sent !== wanted.algorithm) throw typeMismatch(wanted.algorithm, sent);
  return { body: decoded.body, algorithm: sent, checksum: fromClient };
}

/** A part of a CompleteMultipartUpload request: its number, ETag and any checksums it lists. */
export interface RequestedPart {
  partNumber: number;
  etag: string;
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

/** The `Checksum*` elements of one requested part; a malformed value is InvalidArgument, as in S3. */
export function requestedChecksums(part: Record<string, unknown>): RequestedPart['checksums'] {
  const checksums: RequestedPart['checksums'] = {};
  for (const algorithm of CHECKSUM_ALGORITHMS) {
    const value = text(part[checksumElement(algorithm)])?.trim();
    if (value === undefined) continue;
    if (!isValidChecksumValue(algorithm, value)) {
      throw new S3Error('InvalidArgument', 'Invalid Base64 or multiple checksums present in request', {
        ArgumentName: 'Checksum',
        ArgumentValue: `${checksumName(algorithm)}:${value.slice(0, 100)};`,
      });
    }
    checksums[algorithm] = value;
  }
  return checksums;
}

/**
 * The checksum of the completed object, after the checks S3 makes: a COMPOSITE upload must list
 * every part's checksum; listed checksums must be the stored ones (InvalidPart); the request's
 * `x-amz-checksum-type` and `x-amz-checksum-<algorithm>` must describe the object (BadDigest).
 * A COMPOSITE checksum is compared as computed from the listed part checksums, as S3 does.
 */
export async function completedChecksum(
  ctx: RequestContext,
  upload: UploadRecord,
  requested: readonly RequestedPart[],
  parts: readonly StoredPart[],
): Promise<string | undefined> {
  const checksum = upload.checksum;
  if (!checksum) return undefined;
  const { algorithm, type } = checksum;
  const listed = requested.map((part) => {
    const value = part.checksums[algorithm];
    if (value === undefined && type === 'COMPOSITE') {
      throw new S3Error(
        'InvalidRequest',
        `The upload was created using a ${algorithm} checksum. The complete request must include the checksum for each part. It was missing for part ${part.partNumber} in the request.`,
      );
    }
    return value;
  });
  const claimedType = header(ctx, 'x-amz-checksum-type')?.trim().toUpperCase();
  if (claimedType !== undefined && claimedType !== type) {
    throw new S3Error('BadDigest', `The ${type} checksum type was expected for this upload, not ${claimedType}.`);
  }
  const claimed = header(ctx, `x-amz-checksum-${algorithm}`);
  const badDigest = () =>
    new S3Error('BadDigest', `The ${algorithm} you specified did not match the calculated checksum.`);
  if (claimed !== undefined && type === 'COMPOSITE') {
    const fromListed = await multipartObjectChecksum(
      checksum,
      listed.map((value, i) => ({ checksum: value ?? '', size: parts[i]?.size ?? 0 })),
    );
    if (!claimedObjectChecksumMatches(checksum, claimed, fromListed)) throw badDigest();
  }
  const stored = parts.map((part, i) => {
    const request = requested[i];
    const value = listed[i];
    // Every part of an upload with a checksum has one, unless its upload raced a re-upload of it.
    if (part.checksum === undefined || (value !== undefined && value !== part.checksum)) {
      if (request) throw invalidPart(upload.uploadId, request);
    }
    return { checksum: part.checksum ?? '', size: part.size };
  });
  const object = await multipartObjectChecksum(checksum, stored);
  if (claimed !== undefined && !claimedObjectChecksumMatches(checksum, claimed, object)) throw badDigest();
  return object;
}
