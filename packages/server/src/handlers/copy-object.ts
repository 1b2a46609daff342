import {
  type ChecksumAlgorithm,
  checksumElement,
  checksumTypeOf,
  hashingBody,
  isChecksumAlgorithm,
  parseChecksumAlgorithm,
} from '../checksums/index.js';
import type { ObjectMeta } from '../engine/object-meta.js';
import { header, type RequestContext, requireBucket, requireKey, type S3Response } from '../http/context.js';
import { xmlResponse } from '../http/respond.js';
import { S3Error } from '../s3-error.js';
import { copySource } from './copy-source.js';
import { newObjectMeta } from './object-headers.js';
import { MAX_PUT_BYTES, writeConditions } from './put-object.js';
import { parseTagHeader } from './tag-set.js';

function directive(ctx: RequestContext, name: string): 'COPY' | 'REPLACE' {
  const value = (header(ctx, name) ?? 'COPY').toUpperCase();
  if (value !== 'COPY' && value !== 'REPLACE') {
    throw new S3Error('InvalidArgument', `Unknown ${name}`, { ArgumentName: name, ArgumentValue: value.slice(0, 20) });
  }
  return value;
}

/** Headers that change an object without changing its metadata: S3 lets such a copy onto itself through. */
const CHANGES_ONLY_STORAGE = ['x-amz-storage-class', 'x-amz-server-side-encryption', 'x-amz-website-redirect-location'];

export async function copyObject(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const key = requireKey(ctx);
  const metadataDirective = directive(ctx, 'x-amz-metadata-directive');
  const taggingDirective = directive(ctx, 'x-amz-tagging-directive');
  const source = await copySource(ctx);
  const { version } = source;
  const onItself =
    source.bucket === bucket.name &&
    source.key === key &&
    (source.versionId === undefined ||
      source.versionId === (await ctx.state.objects.current(bucket.name, key))?.meta.versionId);
  if (onItself && metadataDirective === 'COPY' && !CHANGES_ONLY_STORAGE.some((h) => header(ctx, h) !== undefined)) {
    throw new S3Error(
      'InvalidRequest',
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  if (version.size > MAX_PUT_BYTES) {
    throw new S3Error(
      'InvalidRequest',
      `The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_PUT_BYTES}`,
    );
  }
  const replaced = newObjectMeta(ctx, {});
  const sourceChecksums = await ctx.state.objects.checksums(source.bucket, source.key, version);
  const computed = checksumToCompute(ctx, sourceChecksums);
  const meta: Omit<ObjectMeta, 'versionId' | 'seq'> = {
    headers: metadataDirective === 'REPLACE' ? replaced.meta.headers : version.meta.headers,
    user: metadataDirective === 'REPLACE' ? replaced.meta.user : version.meta.user,
    tags: taggingDirective === 'REPLACE' ? parseTagHeader(header(ctx, 'x-amz-tagging')) : version.meta.tags,
    checksums: computed === undefined ? sourceChecksums : {},
    owner: replaced.meta.owner,
  };
  // As in S3, the ACL is not copied: the copy gets the one the request names, or none.
  if (replaced.meta.acl !== undefined) meta.acl = replaced.meta.acl;
  // Known only once the bytes are through: kept like a trailing checksum (engine/checksum-sidecar.ts).
  if (computed !== undefined) meta.trailingChecksum = computed;
  const contentType = metadataDirective === 'REPLACE' ? replaced.contentType : version.contentType;
  const conditions = writeConditions(ctx);
  const { objects } = ctx.state;
  // Opened only when the write starts reading, so a refused write leaves no stream open.
  async function* body() {
    yield* await objects.read(version);
  }
  const hashed = computed === undefined ? undefined : hashingBody(body(), computed);
  const result = await ctx.state.objects.put(
    bucket,
    key,
    {
      body: hashed?.body ?? body(),
      contentLength: version.size,
      meta,
      ...(contentType === undefined ? {} : { contentType }),
    },
    conditions,
  );
  let checksums = meta.checksums;
  if (hashed && computed !== undefined) {
    checksums = { [computed]: await hashed.digest() };
    await objects.recordChecksums(bucket.name, key, result.seq, checksums);
  }
  const response = xmlResponse('CopyObjectResult', {
    LastModified: new Date().toISOString(),
    ETag: result.etag,
    ...checksumElements(checksums),
  });
  response.headers = {
    ...response.headers,
    'x-amz-version-id': bucket.versioning === 'Enabled' ? result.versionId : undefined,
    'x-amz-copy-source-version-id': version.meta.versionId === 'null' ? undefined : version.meta.versionId,
  };
  return response;
}

/**
 * The checksum a copy computes as its bytes go through: the one `x-amz-checksum-algorithm` asks
 * for, or the source's algorithm when the source's checksum is COMPOSITE (a multipart object's,
 * which would not describe the copy, a single part).
 */
function checksumToCompute(ctx: RequestContext, source: Record<string, string>): ChecksumAlgorithm | undefined {
  const requested = header(ctx, 'x-amz-checksum-algorithm');
  if (requested !== undefined) return parseChecksumAlgorithm(requested, 'x-amz-checksum-algorithm');
  const [algorithm, value] = Object.entries(source).find(([name]) => isChecksumAlgorithm(name)) ?? [];
  if (algorithm === undefined || value === undefined || !isChecksumAlgorithm(algorithm)) return undefined;
  return checksumTypeOf(value) === 'COMPOSITE' ? algorithm : undefined;
}

/** `ChecksumCRC32` (…) and `ChecksumType` of the copy's result. */
function checksumElements(checksums: Record<string, string>): Record<string, string> {
  const [algorithm, value] = Object.entries(checksums).find(([name]) => isChecksumAlgorithm(name)) ?? [];
  if (algorithm === undefined || value === undefined || !isChecksumAlgorithm(algorithm)) return {};
  return { [checksumElement(algorithm)]: value, ChecksumType: checksumTypeOf(value) };
}
