import {
  type ChecksumAlgorithm,
  checksumElement,
  checksumHeader,
  checksumTypeOf,
  hashingBody,
  parseMultipartChecksum,
} from '../checksums/index.js';
import type { BucketRecord } from '../engine/buckets.js';
import { assembleParts, type UploadRecord } from '../engine/uploads.js';
import { requesterId } from '../http/access.js';
import { header, type RequestContext, requireBucket, requireKey, type S3Response } from '../http/context.js';
import { resolveByteRange } from '../http/range-header.js';
import { xmlResponse } from '../http/respond.js';
import { many, record, text } from '../http/xml.js';
import { S3Error } from '../s3-error.js';
import { copySource } from './copy-source.js';
import {
  completedChecksum,
  partBody,
  type RequestedPart,
  requestedChecksums,
  uploadChecksumHeaders,
} from './multipart-checksums.js';
import { newObjectMeta } from './object-headers.js';
import { MAX_PUT_BYTES, requireLength, writeConditions } from './put-object.js';
import { readXmlBody } from './request-xml.js';

const MAX_PART_NUMBER = 10000;

function partNumberOf(ctx: RequestContext): number {
  const raw = ctx.query.get('partNumber') ?? '';
  const n = Number(raw);
  if (!/^\d{1,5}$/.test(raw) || n < 1 || n > MAX_PART_NUMBER) {
    throw new S3Error('InvalidArgument', `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`, {
      ArgumentName: 'partNumber',
      ArgumentValue: raw.slice(0, 20),
    });
  }
  return n;
}

const uploadIdOf = (ctx: RequestContext) => ctx.query.get('uploadId') ?? '';

export async function createMultipartUpload(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const key = requireKey(ctx);
  const checksum = parseMultipartChecksum(header(ctx, 'x-amz-checksum-algorithm'), header(ctx, 'x-amz-checksum-type'));
  const { meta, contentType } = newObjectMeta(ctx, {});
  const upload = await ctx.state.uploads.create(bucket.name, {
    key,
    owner: meta.owner,
    initiator: requesterId(ctx),
    meta,
    ...(contentType === undefined ? {} : { contentType }),
    ...(checksum === undefined ? {} : { checksum }),
  });
  const response = xmlResponse('InitiateMultipartUploadResult', {
    Bucket: bucket.name,
    Key: key,
    UploadId: upload.uploadId,
  });
  response.headers = { ...response.headers, ...uploadChecksumHeaders(checksum) };
  return response;
}

export async function uploadPart(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const partNumber = partNumberOf(ctx);
  const uploadId = uploadIdOf(ctx);
  const upload = await ctx.state.uploads.get(bucket.name, uploadId, requireKey(ctx));
  const decoded = ctx.body();
  const length = requireLength(ctx, decoded.declaredLength, MAX_PUT_BYTES);
  const part = partBody(upload, decoded);
  const result = await ctx.state.uploads.putPart(
    bucket.name,
    upload.key,
    uploadId,
    partNumber,
    part.body,
    length,
    upload.checksum ? part.checksum : undefined,
  );
  const headers: Record<string, string> = { etag: result.etag };
  const checksum = result.checksum ?? (await part.checksum());
  if (part.algorithm !== undefined && checksum !== undefined) headers[checksumHeader(part.algorithm)] = checksum;
  return { status: 200, headers };
}

export async function uploadPartCopy(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const partNumber = partNumberOf(ctx);
  const uploadId = uploadIdOf(ctx);
  const upload = await ctx.state.uploads.get(bucket.name, uploadId, requireKey(ctx));
  const { version } = await copySource(ctx);
  const rangeText = header(ctx, 'x-amz-copy-source-range');
  let start = 0;
  let end = version.size;
  if (rangeText !== undefined) {
    const match = /^bytes=(\d+)-(\d+)$/.exec(rangeText.trim());
    if (!match) {
      throw new S3Error('InvalidArgument', 'The x-amz-copy-source-range value must be of the form bytes=first-last', {
        ArgumentName: 'x-amz-copy-source-range',
      });
    }
    const first = Number(match[1]);
    const last = Number(match[2]);
    if (last < first || last >= version.size) {
      throw new S3Error('InvalidRange', 'The requested range is not satisfiable', {
        RangeRequested: rangeText.slice(0, 100),
        ActualObjectSize: String(version.size),
      });
    }
    ({ start, end } = resolveByteRange({ offset: first, length: last - first + 1 }, version.size, rangeText));
  }
  if (end - start > MAX_PUT_BYTES) throw new S3Error('InvalidRequest', 'A copied part can be at most 5 GiB');
  const { objects } = ctx.state;
  async function* body() {
    yield* await objects.read(version, { offset: start, length: end - start });
  }
  // A copied part gets the checksum its upload needs computed as it is copied, as S3 does.
  const algorithm = upload.checksum?.algorithm;
  const hashed = algorithm === undefined ? undefined : hashingBody(body(), algorithm);
  const result = await ctx.state.uploads.putPart(
    bucket.name,
    upload.key,
    uploadId,
    partNumber,
    hashed?.body ?? body(),
    end - start,
    hashed?.digest,
  );
  const { checksum } = result;
  return xmlResponse('CopyPartResult', {
    LastModified: new Date().toISOString(),
    ETag: result.etag,
    ...(algorithm === undefined ? {} : { [checksumElement(algorithm)]: checksum }),
  });
}

export async function completeMultipartUpload(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const key = requireKey(ctx);
  const uploadId = uploadIdOf(ctx);
  let upload: UploadRecord;
  try {
    upload = await ctx.state.uploads.get(bucket.name, uploadId, key);
  } catch (error) {
    // S3 answers a Complete repeated after it succeeded with the same success (retries rely on it).
    const current =
      error instanceof S3Error && error.code === 'NoSuchUpload' && (await ctx.state.objects.current(bucket.name, key));
    if (!current || current.meta.uploadId !== uploadId) throw error;
    const [algorithm, checksum] = Object.entries(current.meta.checksums).find(([name]) => name !== 'md5') ?? [];
    return completed(
      bucket,
      key,
      current.etag,
      current.meta.versionId,
      algorithm as ChecksumAlgorithm | undefined,
      checksum,
    );
  }
  const doc = await readXmlBody(ctx, 'CompleteMultipartUpload', withoutObjectChecksums(ctx.headers));
  const requested = many(doc.Part).map((p): RequestedPart => {
    const part = record(p);
    const n = Number(text(part.PartNumber)?.trim());
    const etag = text(part.ETag);
    if (!Number.isInteger(n) || etag === undefined)
      throw new S3Error('MalformedXML', 'Each Part needs a PartNumber and an ETag');
    return { partNumber: n, etag, checksums: requestedChecksums(part) };
  });
  if (requested.length === 0) {
    throw new S3Error('MalformedXML', 'You must specify at least one part');
  }
  const stored = await ctx.state.uploads.parts(bucket.name, uploadId);
  const { parts, etag, size } = assembleParts(uploadId, requested, stored);
  const checksum = await completedChecksum(ctx, upload, requested, parts);
  const algorithm = upload.checksum?.algorithm;
  const checksums = algorithm === undefined || checksum === undefined ? {} : { [algorithm]: checksum };
  await ctx.state.buckets.markListingReadsMeta(bucket);
  const result = await ctx.state.objects.put(
    bucket,
    key,
    {
      body: ctx.state.uploads.read(bucket.name, uploadId, parts),
      compose: { sources: ctx.state.uploads.sources(bucket.name, uploadId, parts), etag },
      contentLength: size,
      meta: {
        ...upload.meta,
        etag,
        uploadId,
        parts: parts.map((p) => p.size),
        checksums,
        ...(checksum === undefined ? {} : { partChecksums: parts.map((p) => p.checksum ?? '') }),
      },
      ...(upload.contentType === undefined ? {} : { contentType: upload.contentType }),
    },
    writeConditions(ctx),
  );
  await ctx.state.uploads.remove(bucket.name, requireKey(ctx), uploadId);
  return completed(bucket, key, result.etag, result.versionId, algorithm, checksum);
}

/** CompleteMultipartUpload's answer. */
function completed(
  bucket: BucketRecord,
  key: string,
  etag: string,
  versionId: string,
  algorithm: ChecksumAlgorithm | undefined,
  checksum: string | undefined,
): S3Response {
  const response = xmlResponse('CompleteMultipartUploadResult', {
    Location: `/${bucket.name}/${key}`,
    Bucket: bucket.name,
    Key: key,
    ETag: etag,
    ...(algorithm === undefined || checksum === undefined
      ? {}
      : { [checksumElement(algorithm)]: checksum, ChecksumType: checksumTypeOf(checksum) }),
  });
  response.headers = {
    ...response.headers,
    'x-amz-version-id': bucket.versioning === 'Enabled' ? versionId : undefined,
  };
  return response;
}

/**
 * The request's headers for reading its XML: a CompleteMultipartUpload's `x-amz-checksum-*`
 * state the object's checksum, not the checksum of the XML, so the body decoder must not see them.
 */
function withoutObjectChecksums(headers: RequestContext['headers']): RequestContext['headers'] {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith('x-amz-checksum-')));
}

export async function abortMultipartUpload(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const uploadId = uploadIdOf(ctx);
  await ctx.state.uploads.get(bucket.name, uploadId, requireKey(ctx));
  await ctx.state.uploads.remove(bucket.name, requireKey(ctx), uploadId);
  return { status: 204 };
}
