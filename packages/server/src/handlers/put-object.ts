import type { DecodedBody } from '../auth/index.js';
import type { ObjectMeta } from '../engine/object-meta.js';
import type { WriteConditions, WriteResult } from '../engine/objects.js';
import { header, type RequestContext, requireBucket, requireKey, type S3Response } from '../http/context.js';
import { S3Error } from '../s3-error.js';
import { newObjectMeta } from './object-headers.js';

/** S3's largest single PUT. */
export const MAX_PUT_BYTES = 5 * 1024 ** 3;

export async function putObject(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const key = requireKey(ctx);
  const conditions = writeConditions(ctx);
  const { meta, contentType } = newObjectMeta(ctx, {});
  const decoded = ctx.body();
  const length = requireLength(ctx, decoded.declaredLength, MAX_PUT_BYTES);
  const checksum = declareChecksum(ctx, decoded, meta);
  const result = await ctx.state.objects.put(
    bucket,
    key,
    { body: decoded.body, contentLength: length, meta, ...(contentType === undefined ? {} : { contentType }) },
    conditions,
  );
  const checksumHeaders = await finishChecksum(ctx, decoded, checksum, result);
  return {
    status: 200,
    headers: {
      etag: result.etag,
      'x-amz-version-id': bucket.versioning === 'Enabled' ? result.versionId : undefined,
      ...checksumHeaders,
    },
  };
}

/** `If-Match` / `If-None-Match` of a write request. */
export function writeConditions(ctx: RequestContext): WriteConditions {
  const conditions: WriteConditions = {};
  const ifMatch = header(ctx, 'if-match');
  const ifNoneMatch = header(ctx, 'if-none-match');
  if (ifMatch !== undefined) conditions.ifMatch = ifMatch;
  if (ifNoneMatch !== undefined) conditions.ifNoneMatch = ifNoneMatch;
  return conditions;
}

/**
 * The body's declared size, required, at most `max` bytes: Content-Length, or for aws-chunked
 * bodies x-amz-decoded-content-length (which S3 accepts with `Transfer-Encoding: chunked` and no
 * Content-Length). S3 answers a plain chunked body (no aws-chunked framing, so no size anywhere)
 * with 501 NotImplemented naming Transfer-Encoding, and an aws-chunked one without
 * x-amz-decoded-content-length with 411 MissingContentLength (both observed).
 */
export function requireLength(ctx: RequestContext, declared: number | undefined, max: number): number {
  const awsChunked = header(ctx, 'x-amz-content-sha256')?.startsWith('STREAMING-') === true;
  if (declared === undefined && header(ctx, 'transfer-encoding') !== undefined && !awsChunked) {
    throw new S3Error('NotImplemented', 'A header you provided implies functionality that is not implemented', {
      Header: 'Transfer-Encoding',
    });
  }
  if (declared === undefined)
    throw new S3Error('MissingContentLength', 'You must provide the Content-Length HTTP header.');
  if (declared > max) {
    throw new S3Error('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size', {
      ProposedSize: String(declared),
      MaxSizeAllowed: String(max),
    });
  }
  return declared;
}

/**
 * Records the flexible checksum the client declared: a header value goes into the metadata now
 * (the decoder refuses the body if it does not match); a trailer's value is known only at the end.
 */
export function declareChecksum(
  ctx: RequestContext,
  decoded: DecodedBody,
  meta: Pick<ObjectMeta, 'checksums' | 'trailingChecksum'>,
) {
  const algorithm = decoded.checksumAlgorithm;
  if (algorithm === undefined) return undefined;
  const value = header(ctx, `x-amz-checksum-${algorithm}`);
  if (value !== undefined) meta.checksums[algorithm] = value;
  else meta.trailingChecksum = algorithm;
  return algorithm;
}

/** Stores a trailing checksum once the body has been read; returns the checksum response header. */
export async function finishChecksum(
  ctx: RequestContext,
  decoded: DecodedBody,
  algorithm: string | undefined,
  result: WriteResult,
): Promise<Record<string, string>> {
  if (algorithm === undefined) return {};
  const checksums = (await decoded.checksums()) as Record<string, string>;
  const value = checksums[algorithm];
  if (value === undefined) return {};
  if (header(ctx, `x-amz-checksum-${algorithm}`) === undefined) {
    await ctx.state.objects.recordChecksums(requireBucket(ctx).name, requireKey(ctx), result.seq, {
      [algorithm]: value,
    });
  }
  // A single PUT's checksum is always of the whole object.
  return { [`x-amz-checksum-${algorithm}`]: value, 'x-amz-checksum-type': 'FULL_OBJECT' };
}
