import { checksumsOf } from '../engine/checksum-sidecar.js';
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
  const meta: Omit<ObjectMeta, 'versionId' | 'seq'> = {
    headers: metadataDirective === 'REPLACE' ? replaced.meta.headers : version.meta.headers,
    user: metadataDirective === 'REPLACE' ? replaced.meta.user : version.meta.user,
    tags: taggingDirective === 'REPLACE' ? parseTagHeader(header(ctx, 'x-amz-tagging')) : version.meta.tags,
    checksums: await checksumsOf(ctx.state.store, source.bucket, source.key, version),
    owner: replaced.meta.owner,
  };
  const contentType = metadataDirective === 'REPLACE' ? replaced.contentType : version.contentType;
  const conditions = writeConditions(ctx);
  const { store } = ctx.state;
  // Opened only when the write starts reading, so a refused write leaves no stream open.
  async function* body() {
    yield* (await store.getStream(version.storeKey, { ifMatch: version.storeEtag })).body;
  }
  const result = await ctx.state.objects.put(
    bucket,
    key,
    { body: body(), contentLength: version.size, meta, ...(contentType === undefined ? {} : { contentType }) },
    conditions,
  );
  const response = xmlResponse('CopyObjectResult', { LastModified: new Date().toISOString(), ETag: result.etag });
  response.headers = {
    ...response.headers,
    'x-amz-version-id': bucket.versioning === 'Enabled' ? result.versionId : undefined,
    'x-amz-copy-source-version-id': version.meta.versionId === 'null' ? undefined : version.meta.versionId,
  };
  return response;
}
