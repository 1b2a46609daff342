import { S3Error } from '../s3-error.js';
import type { PayloadMode } from './types.js';

export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
export const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
export const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
export const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/** What the chunk signatures of a signed streaming body are chained from. */
export interface StreamingContext {
  seedSignature: string;
  signingKey: Uint8Array;
  scope: string;
  amzDate: string;
}

/**
 * Reads `x-amz-content-sha256` into a payload mode. `streaming` is present only for requests
 * whose signature was verified; without it a signed-streaming body cannot be checked.
 */
export function payloadMode(contentSha256: string | undefined, streaming?: StreamingContext): PayloadMode {
  if (contentSha256 === undefined || contentSha256 === UNSIGNED_PAYLOAD) return { kind: 'unsigned' };
  if (SHA256_HEX.test(contentSha256)) return { kind: 'sha256', sha256: contentSha256.toLowerCase() };
  if (contentSha256 === STREAMING_UNSIGNED_TRAILER) return { kind: 'streaming-unsigned-trailer' };
  if (contentSha256 === STREAMING_SIGNED || contentSha256 === STREAMING_SIGNED_TRAILER) {
    if (!streaming) {
      throw new S3Error('AccessDenied', 'A signed streaming payload needs a request signed with AWS4-HMAC-SHA256.');
    }
    return { kind: 'streaming-signed', trailer: contentSha256 === STREAMING_SIGNED_TRAILER, ...streaming };
  }
  throw new S3Error(
    'InvalidArgument',
    'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.',
    { ArgumentName: 'x-amz-content-sha256', ArgumentValue: contentSha256 },
  );
}
