import { type RequestContext, requireBucket, requireKey, type S3Response } from '../http/context.js';
import { xmlResponse } from '../http/respond.js';
import { S3Error } from '../s3-error.js';
import { readXmlBody } from './request-xml.js';
import { parseTagSet, tagSetXml } from './tag-set.js';

const MAX_BUCKET_TAGS = 50;

export async function putBucketTagging(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const tags = parseTagSet(await readXmlBody(ctx, 'Tagging'), MAX_BUCKET_TAGS);
  await ctx.state.buckets.update(bucket.name, (r) => {
    r.tags = tags;
  });
  return { status: 204 };
}

export async function getBucketTagging(ctx: RequestContext): Promise<S3Response> {
  const { tags, name } = requireBucket(ctx);
  if (!tags || tags.length === 0) throw new S3Error('NoSuchTagSet', 'The TagSet does not exist', { BucketName: name });
  return xmlResponse('Tagging', tagSetXml(tags));
}

export async function deleteBucketTagging(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  await ctx.state.buckets.update(bucket.name, (r) => {
    delete r.tags;
  });
  return { status: 204 };
}

const versionOf = (ctx: RequestContext) => ctx.query.get('versionId') ?? undefined;

export async function getObjectTagging(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const resolved = await ctx.state.objects.resolve(bucket, requireKey(ctx), versionOf(ctx));
  if (resolved.kind === 'marker') {
    throw new S3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.', {
      Method: 'GET',
      ResourceType: 'DeleteMarker',
    });
  }
  const { meta } = resolved.version;
  return {
    ...xmlResponse('Tagging', tagSetXml(meta.tags)),
    headers: { 'content-type': 'application/xml', 'x-amz-version-id': meta.versionId },
  };
}

export async function putObjectTagging(ctx: RequestContext): Promise<S3Response> {
  const tags = parseTagSet(await readXmlBody(ctx, 'Tagging'));
  return setTags(ctx, tags);
}

export async function deleteObjectTagging(ctx: RequestContext): Promise<S3Response> {
  const response = await setTags(ctx, []);
  return { ...response, status: 204 };
}

async function setTags(ctx: RequestContext, tags: [string, string][]): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  await ctx.state.buckets.markListingReadsMeta(bucket);
  const version = await ctx.state.objects.updateMeta(bucket, requireKey(ctx), versionOf(ctx), (meta) => ({
    ...meta,
    tags,
  }));
  return { status: 200, headers: { 'x-amz-version-id': version.meta.versionId } };
}
