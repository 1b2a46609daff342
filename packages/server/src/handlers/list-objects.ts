import { compareKeys, type ListEntry } from '@bucketdb/store';
import { toVersion } from '../engine/object-meta.js';
import { type RequestContext, requireBucket, type S3Response } from '../http/context.js';
import { xmlResponse } from '../http/respond.js';
import { paths } from '../paths.js';
import { decodeToken, encodeToken, type ListParams, type ListResume, listParams } from './list-params.js';
import { ownerParty } from '../http/owner-party.js';

interface Listed {
  objects: { Key: string; LastModified: string; ETag: string; Size: number }[];
  prefixes: string[];
  /** Where the next page starts; undefined on the last page. */
  next: ListResume | undefined;
  lastKey: string | undefined;
}

/** One page of the bucket's current objects: a single store LIST under `o/<bucket>/`. */
async function listPage(ctx: RequestContext, params: ListParams, resume: Partial<ListResume>): Promise<Listed> {
  const bucket = requireBucket(ctx);
  const base = paths.objectsPrefix(bucket.name);
  const listed: Listed = { objects: [], prefixes: [], next: undefined, lastKey: undefined };
  if (params.maxKeys === 0) return listed;
  const startAfter = 'startAfter' in resume && resume.startAfter ? base + resume.startAfter : undefined;
  // Resuming after a common prefix, the store rolls the skipped keys up into it once more: one
  // entry more is asked for, so that a full page is left once it is dropped.
  const spare = startAfter !== undefined && params.delimiter !== undefined ? 1 : 0;
  const page = await ctx.state.store.listPage({
    prefix: base + params.prefix,
    pageSize: params.maxKeys + spare,
    ...(params.delimiter === undefined ? {} : { delimiter: params.delimiter }),
    ...(startAfter === undefined ? {} : { startAfter }),
    ...('storeToken' in resume && resume.storeToken !== undefined ? { continuationToken: resume.storeToken } : {}),
  });
  const entries = page.entries.filter(
    (entry) => entry.kind !== 'prefix' || startAfter === undefined || compareKeys(entry.prefix, startAfter) > 0,
  );
  const kept = entries.slice(0, params.maxKeys);
  for (const entry of await withS3Meta(ctx, base, kept, bucket.listingReadsMeta === true)) {
    if (entry.kind === 'prefix') {
      listed.prefixes.push(entry.prefix.slice(base.length));
      listed.lastKey = entry.prefix.slice(base.length);
    } else {
      const key = entry.key.slice(base.length);
      listed.objects.push({
        Key: key,
        LastModified: entry.lastModified.toISOString(),
        ETag: entry.etag,
        Size: entry.size,
      });
      listed.lastKey = key;
    }
  }
  if (kept.length < entries.length && listed.lastKey !== undefined) listed.next = { startAfter: listed.lastKey };
  else if (page.continuationToken !== undefined) listed.next = { storeToken: page.continuationToken };
  return listed;
}

/** The store's ETag and date, or (when they may differ) the S3 ones from each object's metadata. */
async function withS3Meta(ctx: RequestContext, base: string, entries: ListEntry[], readMeta: boolean) {
  if (!readMeta) return entries;
  return Promise.all(
    entries.map(async (entry) => {
      if (entry.kind !== 'object') return entry;
      try {
        const version = toVersion(entry.key, await ctx.state.store.head(entry.key));
        return { ...entry, etag: version.etag, lastModified: version.lastModified };
      } catch {
        return entry; // deleted meanwhile: S3 may list it too
      }
    }),
  ).then((list) => list.filter((e) => e.kind === 'prefix' || e.key.startsWith(base)));
}

const owner = (ctx: RequestContext) => ownerParty(ctx.state, requireBucket(ctx).owner);

function contents(ctx: RequestContext, params: ListParams, listed: Listed, withOwner: boolean) {
  return listed.objects.map((o) => ({
    Key: params.encode(o.Key),
    LastModified: o.LastModified,
    ETag: o.ETag,
    Size: o.Size,
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
