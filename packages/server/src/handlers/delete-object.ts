import { mapConcurrent } from '@bucketdb/store';
import { header, type RequestContext, requireBucket, requireKey, type S3Response } from '../http/context.js';
import { xmlResponse } from '../http/respond.js';
import { checkKey } from '../http/target.js';
import { toS3Error } from '../http/to-s3-error.js';
import { many, record, text } from '../http/xml.js';
import { S3Error } from '../s3-error.js';
import { readXmlBody } from './request-xml.js';

export async function deleteObject(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const ifMatch = header(ctx, 'if-match');
  const result = await ctx.state.objects.delete(bucket, requireKey(ctx), {
    ...(ctx.query.has('versionId') ? { versionId: ctx.query.get('versionId') ?? '' } : {}),
    ...(ifMatch === undefined ? {} : { ifMatch }),
  });
  return {
    status: 204,
    headers: {
      'x-amz-version-id': bucket.versioning === 'Unversioned' ? undefined : result.versionId,
      'x-amz-delete-marker': result.deleteMarker ? 'true' : undefined,
    },
  };
}

const MAX_KEYS_PER_DELETE = 1000;
const CONCURRENCY = 8;

export async function deleteObjects(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const doc = await readXmlBody(ctx, 'Delete');
  const quiet = text(doc.Quiet)?.trim().toLowerCase() === 'true';
  const objects = many(doc.Object).map((o) => {
    const entry = record(o);
    const key = text(entry.Key);
    if (key === undefined) throw new S3Error('MalformedXML', 'Each Object needs a Key');
    return { key, versionId: text(entry.VersionId), etag: text(entry.ETag) };
  });
  if (objects.length === 0 || objects.length > MAX_KEYS_PER_DELETE) {
    throw new S3Error('MalformedXML', `A Delete names 1 to ${MAX_KEYS_PER_DELETE} objects`);
  }
  const results = await mapConcurrent(
    objects,
    CONCURRENCY,
    async ({
      key,
      versionId,
      etag,
    }): Promise<{ Deleted?: Record<string, unknown>; Error?: Record<string, unknown> }> => {
      try {
        checkKey(bucket.name, key);
        const result = await ctx.state.objects.delete(bucket, key, {
          ...(versionId === undefined ? {} : { versionId }),
          ...(etag === undefined ? {} : { ifMatch: etag }),
        });
        return {
          Deleted: {
            Key: key,
            VersionId: versionId,
            DeleteMarker: result.deleteMarker ? true : undefined,
            DeleteMarkerVersionId: result.deleteMarker && versionId === undefined ? result.versionId : undefined,
          },
        };
      } catch (thrown) {
        const { error, unexpected } = toS3Error(thrown, key);
        if (unexpected) throw thrown;
        return { Error: { Key: key, VersionId: versionId, Code: error.code, Message: error.message } };
      }
    },
  );
  const deleted = results.flatMap((r) => (r.Deleted && !quiet ? [r.Deleted] : []));
  const errors = results.flatMap((r) => (r.Error ? [r.Error] : []));
  return xmlResponse('DeleteResult', { Deleted: deleted, Error: errors });
}
