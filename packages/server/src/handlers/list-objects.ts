import { compareKeys, type ListEntry } from '@bucketdb/store';
import { toVersion } from '../engine/object-meta.js';
import { type RequestContext, requireBucket, type S3Response } from '../http/context.js';
import { xmlResponse } from '../http/respond.js';
import { paths } from '../paths.js';
import { decodeToken, encodeToken, type ListParams, listParams } from './list-params.js';

interface Listed {
  objects: { Key: string; LastModified: string; ETag: string; Size: number }[];
  prefixes: string[];
  storeToken: string | undefined;
  lastKey: string | undefined;
}

/** One page of the bucket's current objects: a single store LIST under `o/<bucket>/`. */
async function listPage(
  ctx: RequestContext,
  params: ListParams,
  options: { startAfter?: string; storeToken?: string },
): Promise<Listed> {
  const bucket = requireBucket(ctx);
  const base = paths.objectsPrefix(bucket.name);
  const listed: Listed = { objects: [], prefixes: [], storeToken: undefined, lastKey: undefined };
  if (params.maxKeys === 0) return listed;
  const page = await ctx.state.store.listPage({
    prefix: base + params.prefix,
    pageSize: params.maxKeys,
    ...(params.delimiter === undefined ? {} : { delimiter: params.delimiter }),
    ...(options.startAfter ? { startAfter: base + options.startAfter } : {}),
    ...(options.storeToken === undefined ? {} : { continuationToken: options.storeToken }),
  });
  const objects = await withS3Meta(ctx, base, page.entries, bucket.listingReadsMeta === true);
  for (const entry of objects) {
    if (entry.kind === 'prefix') {
      // Resuming after a common prefix: the store rolls the skipped keys up into it once more.
      if (options.startAfter && compareKeys(entry.prefix, base + options.startAfter) <= 0) continue;
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
  listed.storeToken = page.continuationToken;
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

function owner(ctx: RequestContext) {
  const id = requireBucket(ctx).owner;
  return { ID: id, DisplayName: ctx.state.users.get(id)?.name ?? id };
}

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
  const listed = await listPage(ctx, params, {
    ...(token === null
      ? { ...(startAfter === undefined ? {} : { startAfter }) }
      : { storeToken: decodeToken(bucket.name, token) }),
  });
  return xmlResponse('ListBucketResult', {
    Name: bucket.name,
    Prefix: params.encode(params.prefix),
    Delimiter: params.delimiter === undefined ? undefined : params.encode(params.delimiter),
    MaxKeys: params.maxKeys,
    EncodingType: params.encodingType,
    KeyCount: listed.objects.length + listed.prefixes.length,
    IsTruncated: listed.storeToken !== undefined,
    ContinuationToken: token ?? undefined,
    NextContinuationToken: listed.storeToken === undefined ? undefined : encodeToken(bucket.name, listed.storeToken),
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
  const truncated = listed.storeToken !== undefined;
  return xmlResponse('ListBucketResult', {
    Name: bucket.name,
    Prefix: params.encode(params.prefix),
    Marker: params.encode(marker),
    NextMarker: truncated && listed.lastKey !== undefined ? params.encode(listed.lastKey) : undefined,
    MaxKeys: params.maxKeys,
    Delimiter: params.delimiter === undefined ? undefined : params.encode(params.delimiter),
    EncodingType: params.encodingType,
    IsTruncated: truncated,
    Contents: contents(ctx, params, listed, true),
    CommonPrefixes: listed.prefixes.map((p) => ({ Prefix: params.encode(p) })),
  });
}
