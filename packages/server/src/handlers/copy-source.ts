import type { ObjectVersion } from '../engine/object-meta.js';
import { canList, checkExpectedOwner, denied, objectReadable, ownsBucket } from '../http/access.js';
import { checkReadConditions } from '../http/conditions.js';
import { header, type RequestContext } from '../http/context.js';
import { checkKey } from '../http/target.js';
import { S3Error } from '../s3-error.js';

export interface CopySource {
  bucket: string;
  key: string;
  versionId: string | undefined;
  version: ObjectVersion;
}

const invalid = (why: string) =>
  new S3Error('InvalidArgument', `Invalid copy source: ${why}`, { ArgumentName: 'x-amz-copy-source' });

/**
 * Resolves `x-amz-copy-source: [/]bucket/key[?versionId=…]` (URL-encoded) to a readable version
 * and checks the `x-amz-copy-source-if-*` conditions (any failure is 412).
 */
export async function copySource(ctx: RequestContext): Promise<CopySource> {
  const raw = header(ctx, 'x-amz-copy-source') ?? '';
  const q = raw.indexOf('?');
  const pathPart = (q < 0 ? raw : raw.slice(0, q)).replace(/^\//, '');
  const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  let path: string;
  try {
    path = decodeURIComponent(pathPart);
  } catch {
    throw invalid('it is not URL-encoded correctly');
  }
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) throw invalid('it must name a bucket and a key');
  const bucketName = path.slice(0, slash);
  const key = path.slice(slash + 1);
  const bucket = await ctx.state.buckets.find(bucketName);
  if (!bucket) throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucketName });
  checkExpectedOwner(ctx, ctx.headers['x-amz-source-expected-bucket-owner'], bucket);
  checkKey(bucketName, key);
  const versionId = params.get('versionId') ?? undefined;
  const owner = ownsBucket(ctx, bucket);
  // Someone else's object is read under its ACL (object-read in authorization.ts), and who may
  // not list its bucket learns nothing about which keys exist.
  const resolved = await ctx.state.objects.resolve(bucket, key, versionId).catch((error: unknown) => {
    throw !owner && !canList(ctx, bucket) && error instanceof S3Error ? denied() : error;
  });
  if (!owner && (resolved.kind !== 'object' || !objectReadable(ctx, bucket, resolved.version.meta))) throw denied();
  if (resolved.kind === 'marker') {
    throw new S3Error(
      'InvalidRequest',
      'The source of a copy request may not specifically refer to a delete marker by version id.',
    );
  }
  checkReadConditions(ctx.headers, resolved.version.etag, resolved.version.lastModified, 'x-amz-copy-source-');
  return { bucket: bucketName, key, versionId, version: resolved.version };
}
