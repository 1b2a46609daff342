import type { ListResume, ObjectPage } from '../engine/object-listing.js';
import { type RequestContext, requireBucket, type S3Response } from '../http/context.js';
import { ownerParty } from '../http/owner-party.js';
import { xmlResponse } from '../http/respond.js';
import { decodeToken, encodeToken, type ListParams, listParams } from './list-params.js';

/** One page of the bucket's current objects. */
function listPage(ctx: RequestContext, params: ListParams, resume: Partial<ListResume>): Promise<ObjectPage> {
  return ctx.state.objects.list(requireBucket(ctx), {
    prefix: params.prefix,
    delimiter: params.delimiter,
    maxKeys: params.maxKeys,
    resume,
  });
}

const owner = (ctx: RequestContext) => ownerParty(ctx.state, requireBucket(ctx).owner);

function contents(ctx: RequestContext, params: ListParams, listed: ObjectPage, withOwner: boolean) {
  return listed.objects.map((o) => ({
    Key: params.encode(o.key),
    LastModified: o.lastModified.toISOString(),
    ETag: o.etag,
    Size: o.size,
    Owner: withOwner ? owner(ctx) : undefined,
    StorageClass: 'STANDARD',
  }));
}

export async function listObjectsV2(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const params = listParams(ctx);
  const token = ctx.query.get('continuation-token');
  const startAfter = ctx.query.get('start-after') ?? undefined;
  // An empty token (what a loop starting from `''` sends) is the first page, as in S3.
  const listed = await listPage(
    ctx,
    params,
    token === null || token === ''
      ? { ...(startAfter === undefined ? {} : { startAfter }) }
      : decodeToken(bucket.name, token),
  );
  return xmlResponse('ListBucketResult', {
    Name: bucket.name,
    Prefix: params.encode(params.prefix),
    Delimiter: params.delimiter === undefined ? undefined : params.encode(params.delimiter),
    MaxKeys: params.maxKeys,
    EncodingType: params.encodingType,
    KeyCount: listed.objects.length + listed.prefixes.length,
    IsTruncated: listed.next !== undefined,
    ContinuationToken: token ?? undefined,
    NextContinuationToken: listed.next === undefined ? undefined : encodeToken(bucket.name, listed.next),
    StartAfter: startAfter === undefined ? undefined : params.encode(startAfter),
    Contents: contents(ctx, params, listed, ctx.query.get('fetch-owner') === 'true'),
    CommonPrefixes: listed.prefixes.map((p) => ({ Prefix: params.encode(p) })),
  });
}

export async function listObjects(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const params = listParams(ctx);
  const marker = ctx.query.get('marker') ?? '';
  const listed = await listPage(ctx, params, { startAfter: marker });
  const truncated = listed.next !== undefined;
  return xmlResponse('ListBucketResult', {
    Name: bucket.name,
    Prefix: params.encode(params.prefix),
    Marker: params.encode(marker),
    // S3 gives NextMarker only with a delimiter; without one the last key is the next marker.
    NextMarker:
      truncated && params.delimiter !== undefined && listed.lastKey !== undefined
        ? params.encode(listed.lastKey)
        : undefined,
    MaxKeys: params.maxKeys,
    Delimiter: params.delimiter === undefined ? undefined : params.encode(params.delimiter),
    EncodingType: params.encodingType,
    IsTruncated: truncated,
    Contents: contents(ctx, params, listed, true),
    CommonPrefixes: listed.prefixes.map((p) => ({ Prefix: params.encode(p) })),
  });
}
