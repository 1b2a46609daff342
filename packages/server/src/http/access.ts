import { type BucketRecord, bucketAclInEffect, objectAclInEffect } from '../engine/buckets.js';
import { grantsRead, grantsWrite } from '../engine/canned-grants.js';
import type { ObjectMeta } from '../engine/object-meta.js';
import { S3Error } from '../s3-error.js';
import { AUTHORIZATION, type Rule } from './authorization.js';
import type { RequestContext } from './context.js';
import type { RoutedOperation } from './operations.js';
import { isOwnerId } from './owner-party.js';

export const denied = () => new S3Error('AccessDenied', 'Access Denied');

/** S3's canonical id of anonymous requesters: the initiator of an upload nobody signed. */
export const ANONYMOUS_ID = '65a011a29cdf8ec533ec3d1ccaae921c';

/** Who the requester is, as owners and initiators are recorded. */
export const requesterId = (ctx: Pick<RequestContext, 'user'>): string => ctx.user?.accessKeyId ?? ANONYMOUS_ID;

/**
 * Runs the authorization table's rule for `operation` (authorization.ts) before the handler.
 * Loads the bucket record into `ctx.bucket`. Object and upload rules read the object's metadata
 * or the upload's record, for requesters other than the bucket's owner only.
 */
export async function authorize(ctx: RequestContext, operation: RoutedOperation): Promise<void> {
  const rule = AUTHORIZATION[operation];
  if (rule.resource === 'service' || ctx.bucketName === undefined) {
    if (!ctx.user) throw denied();
    return;
  }
  const bucket = await ctx.state.buckets.find(ctx.bucketName);
  if (!bucket) {
    throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: ctx.bucketName });
  }
  ctx.bucket = bucket;
  checkExpectedOwner(ctx, ctx.headers['x-amz-expected-bucket-owner'], bucket);
  if (ownsBucket(ctx, bucket)) return;
  if (!(await allowed(ctx, bucket, rule))) throw denied();
}

async function allowed(ctx: RequestContext, bucket: BucketRecord, rule: Rule): Promise<boolean> {
  switch (rule.resource) {
    case 'service':
    case 'bucket-owner':
      return false;
    case 'bucket-read':
      return canList(ctx, bucket);
    case 'bucket-write':
      if (rule.versionId === 'bucket-owner' && ctx.query.has('versionId')) return false;
      return grantsWrite(bucketAclInEffect(bucket));
    case 'form':
      // The form's signer is known once the form is read: the handler checks `bucket-write` then.
      return true;
    case 'object-read':
    case 'object-owner': {
      const meta = await objectMeta(ctx, bucket);
      return rule.resource === 'object-read' ? objectReadable(ctx, bucket, meta) : ownsObject(ctx, meta);
    }
    case 'upload': {
      if (rule.bucketWrite && !grantsWrite(bucketAclInEffect(bucket))) return false;
      const key = ctx.key ?? '';
      const upload = await ctx.state.uploads.get(bucket.name, ctx.query.get('uploadId') ?? '', key).catch(hide(ctx));
      return (upload.initiator ?? upload.owner) === requesterId(ctx);
    }
  }
}

/** The metadata of the version the request names; a requester who cannot list learns nothing from a miss. */
async function objectMeta(ctx: RequestContext, bucket: BucketRecord): Promise<ObjectMeta> {
  const versionId = ctx.query.get('versionId') ?? undefined;
  const resolved = await ctx.state.objects.resolve(bucket, ctx.key ?? '', versionId).catch(hide(ctx));
  // A delete marker has no grants: only the bucket's owner reaches it by version id.
  if (resolved.kind !== 'object') throw denied();
  return resolved.version.meta;
}

/** Turns a NoSuchKey/NoSuchUpload into AccessDenied for requesters who may not list the bucket. */
function hide(ctx: RequestContext) {
  return (error: unknown): never => {
    if (error instanceof S3Error && ctx.bucket && !canList(ctx, ctx.bucket)) throw denied();
    throw error;
  };
}

/** `x-amz-expected-bucket-owner` (or `x-amz-source-expected-bucket-owner`): S3 refuses with 403 when another account owns the bucket. */
export function checkExpectedOwner(
  ctx: Pick<RequestContext, 'state'>,
  expected: string | string[] | undefined,
  bucket: BucketRecord,
): void {
  if (expected !== undefined && (typeof expected !== 'string' || !isOwnerId(ctx.state, bucket.owner, expected))) {
    throw denied();
  }
}

/** Whether the bucket's canned ACL lets this requester list it (so learn which keys exist). */
export function canList(ctx: Pick<RequestContext, 'user'>, bucket: BucketRecord): boolean {
  return grantsRead(bucketAclInEffect(bucket), ctx.user !== undefined);
}

/** Whether the requester owns `bucket`, and so may do anything in it. */
export function ownsBucket(ctx: Pick<RequestContext, 'user'>, bucket: { owner: string }): boolean {
  return ctx.user !== undefined && ctx.user.accessKeyId === bucket.owner;
}

/** Whether the requester owns the object (a signed-in writer of it). */
function ownsObject(ctx: Pick<RequestContext, 'user'>, meta: ObjectMeta): boolean {
  return ctx.user !== undefined && ctx.user.accessKeyId === meta.owner;
}

/** Whether the object's ACL (or its ownership) lets this requester read it; the bucket's owner always may. */
export function objectReadable(ctx: Pick<RequestContext, 'user'>, bucket: BucketRecord, meta: ObjectMeta): boolean {
  return ownsObject(ctx, meta) || grantsRead(objectAclInEffect(bucket, meta.acl), ctx.user !== undefined);
}
