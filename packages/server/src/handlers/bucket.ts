import { CANNED_ACLS, type CannedAcl, refusePublicAcl } from '../engine/buckets.js';
import { header, type RequestContext, requireBucket, type S3Response } from '../http/context.js';
import { xmlResponse } from '../http/respond.js';
import { text } from '../http/xml.js';
import { S3Error } from '../s3-error.js';
import { aclResponse, cannedAclOf } from './acl.js';
import { readXmlBody } from './request-xml.js';
import { isOwnerId } from '../http/owner-party.js';

function cannedAcl(ctx: RequestContext): CannedAcl | undefined {
  const value = header(ctx, 'x-amz-acl');
  if (value === undefined) return undefined;
  if (!(CANNED_ACLS as readonly string[]).includes(value)) {
    throw new S3Error('NotImplemented', `Only the canned ACLs ${CANNED_ACLS.join(', ')} are supported`, {
      Header: 'x-amz-acl',
    });
  }
  return value as CannedAcl;
}

export async function createBucket(ctx: RequestContext): Promise<S3Response> {
  const name = ctx.bucketName ?? '';
  const owner = ctx.user?.accessKeyId ?? '';
  const acl = cannedAcl(ctx) ?? 'private';
  const length = Number(header(ctx, 'content-length') ?? '0');
  if (length > 0 || header(ctx, 'transfer-encoding') !== undefined) {
    const doc = await readXmlBody(ctx, 'CreateBucketConfiguration');
    const location = text(doc.LocationConstraint)?.trim();
    if (location !== undefined && location !== '' && location !== ctx.state.region) {
      throw new S3Error('InvalidArgument', `This server's region is ${ctx.state.region}`, {
        ArgumentName: 'LocationConstraint',
        ArgumentValue: location.slice(0, 64),
      });
    }
  }
  try {
    await ctx.state.buckets.create(name, owner, acl);
  } catch (error) {
    // S3 in us-east-1 answers 200 to its owner re-creating a bucket, and leaves it as it is; other
    // regions answer BucketAlreadyOwnedByYou (observed; set-up code relies on the first).
    const owned = error instanceof S3Error && error.code === 'BucketAlreadyOwnedByYou';
    if (!owned || ctx.state.region !== 'us-east-1') throw error;
  }
  return { status: 200, headers: { location: `/${name}` } };
}

export async function deleteBucket(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  await ctx.state.buckets.remove(bucket.name);
  return { status: 204 };
}

export async function headBucket(ctx: RequestContext): Promise<S3Response> {
  requireBucket(ctx);
  return { status: 200, headers: { 'x-amz-bucket-region': ctx.state.region } };
}

export async function getBucketLocation(ctx: RequestContext): Promise<S3Response> {
  requireBucket(ctx);
  // S3 reports us-east-1 as an empty location constraint.
  const region = ctx.state.region === 'us-east-1' ? '' : ctx.state.region;
  return xmlResponse('LocationConstraint', { '#text': region });
}

export async function getBucketVersioning(ctx: RequestContext): Promise<S3Response> {
  const { versioning } = requireBucket(ctx);
  return xmlResponse('VersioningConfiguration', versioning === 'Unversioned' ? {} : { Status: versioning });
}

export async function putBucketVersioning(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const doc = await readXmlBody(ctx, 'VersioningConfiguration');
  const status = text(doc.Status)?.trim();
  if (status === undefined) return { status: 200 };
  if (status !== 'Enabled' && status !== 'Suspended') {
    throw new S3Error('IllegalVersioningConfigurationException', 'The versioning status must be Enabled or Suspended');
  }
  await ctx.state.buckets.update(bucket.name, (record) => {
    record.versioning = status;
  });
  return { status: 200 };
}

export async function getBucketAcl(ctx: RequestContext): Promise<S3Response> {
  return aclResponse(ctx, requireBucket(ctx));
}

/** A canned ACL (`x-amz-acl`, the documented way to make a bucket public) or a document that amounts to one. */
export async function putBucketAcl(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const acl =
    cannedAcl(ctx) ??
    cannedAclOf(await readXmlBody(ctx, 'AccessControlPolicy'), (id) => isOwnerId(ctx.state, bucket.owner, id));
  refusePublicAcl(bucket, acl);
  await ctx.state.buckets.update(bucket.name, (record) => {
    record.acl = acl;
  });
  return { status: 200 };
}
