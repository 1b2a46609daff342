import type { BucketRecord } from '../engine/buckets.js';
import { grantsRead, grantsWrite } from '../engine/canned-grants.js';
import { S3Error } from '../s3-error.js';
import type { RequestContext } from './context.js';
import type { Access } from './routes.js';

export const denied = () => new S3Error('AccessDenied', 'Access Denied');

/**
 * Users own the buckets they create. Another user's bucket, or an anonymous request, is refused
 * unless the bucket's canned ACL makes it public, as in S3: `public-read` opens listings,
 * `public-read-write` also writes objects. Reading an object is the object's own ACL's decision
 * (`ctx.objectAclDecides`), whatever the bucket's. Loads the bucket record into `ctx.bucket`.
 */
export async function authorize(ctx: RequestContext, access: Access): Promise<void> {
  if (access === 'user' || ctx.bucketName === undefined) {
    if (!ctx.user) throw denied();
    return;
  }
  const bucket = await ctx.state.buckets.find(ctx.bucketName);
  if (!bucket) {
    throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', { BucketName: ctx.bucketName });
  }
  ctx.bucket = bucket;
  if (ctx.user && ctx.user.accessKeyId === bucket.owner) return;
  if (access === 'object-read') {
    ctx.objectAclDecides = true;
    return;
  }
  if (access === 'read' && canList(ctx, bucket)) return;
  if (access === 'write' && grantsWrite(bucket.acl)) return;
  throw denied();
}

/** Whether the bucket's canned ACL lets this requester list it (so learn which keys exist). */
export function canList(ctx: RequestContext, bucket: BucketRecord): boolean {
  return grantsRead(bucket.acl, ctx.user !== undefined);
}

/** Whether the requester owns `bucket`, and so may read every object in it (the source of a copy). */
export function ownsBucket(ctx: RequestContext, bucket: { owner: string }): boolean {
  return ctx.user?.accessKeyId === bucket.owner;
}
