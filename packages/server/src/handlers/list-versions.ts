import { compareKeys, type ListEntry } from '@bucketdb/store';
import type { BucketRecord } from '../engine/buckets.js';
import { readHistory, visibleHistory } from '../engine/history.js';
import type { ObjectVersion } from '../engine/object-meta.js';
import { type RequestContext, requireBucket, type S3Response } from '../http/context.js';
import { xmlResponse } from '../http/respond.js';
import { paths } from '../paths.js';
import { type ListParams, listParams } from './list-params.js';

type Row =
  | { kind: 'prefix'; prefix: string }
  | {
      kind: 'version';
      key: string;
      versionId: string;
      isLatest: boolean;
      lastModified: string;
      owner: string;
      deleteMarker: boolean;
      etag?: string;
      size?: number;
    };

/** Names under a store prefix with the prefix stripped: keys or common prefixes, in order. */
async function* names(ctx: RequestContext, base: string, params: ListParams, keyMarker: string) {
  for await (const entry of ctx.state.store.list({
    prefix: base + params.prefix,
    ...(params.delimiter === undefined ? {} : { delimiter: params.delimiter }),
    ...(keyMarker === '' ? {} : { startAfter: base + keyMarker }),
  })) {
    yield nameOf(entry, base);
  }
}

function nameOf(entry: ListEntry, base: string) {
  return entry.kind === 'prefix'
    ? { name: entry.prefix.slice(base.length), isPrefix: true }
    : { name: entry.key.slice(base.length), isPrefix: false };
}

/** Merges the current objects (`o/`) and the histories (`h/`) by key, without duplicates. */
async function* mergedNames(ctx: RequestContext, bucket: string, params: ListParams, keyMarker: string) {
  const a = names(ctx, paths.objectsPrefix(bucket), params, keyMarker)[Symbol.asyncIterator]();
  const b = names(ctx, paths.historyPrefix(bucket), params, keyMarker)[Symbol.asyncIterator]();
  let x = await a.next();
  let y = await b.next();
  while (!x.done || !y.done) {
    const order = x.done ? 1 : y.done ? -1 : compareKeys(x.value.name, y.value.name);
    const next = (order <= 0 ? x.value : y.value) as { name: string; isPrefix: boolean };
    if (order <= 0) x = await a.next();
    if (order >= 0) y = await b.next();
    yield next;
  }
}

async function versionsOf(ctx: RequestContext, bucket: BucketRecord, key: string): Promise<Row[]> {
  const { objects, store } = ctx.state;
  const current: ObjectVersion | undefined = await objects.current(bucket.name, key);
  const history = bucket.versioning === 'Unversioned' ? [] : (await readHistory(store, bucket.name, key)).records;
  const rows: Row[] = [];
  if (current) {
    rows.push({
      kind: 'version',
      key,
      versionId: current.meta.versionId,
      isLatest: true,
      lastModified: current.lastModified.toISOString(),
      owner: current.meta.owner || bucket.owner,
      deleteMarker: false,
      etag: current.etag,
      size: current.size,
    });
  }
  for (const record of visibleHistory(history, current)) {
    rows.push({
      kind: 'version',
      key,
      versionId: record.versionId,
      isLatest: rows.length === 0,
      lastModified: record.lastModified,
      owner: record.owner || bucket.owner,
      deleteMarker: record.deleteMarker === true,
      ...(record.etag === undefined ? {} : { etag: record.etag }),
      ...(record.size === undefined ? {} : { size: record.size }),
    });
  }
  return rows;
}

async function* rows(
  ctx: RequestContext,
  bucket: BucketRecord,
  params: ListParams,
  keyMarker: string,
  versionMarker: string,
) {
  if (keyMarker !== '' && versionMarker !== '') {
    const all = await versionsOf(ctx, bucket, keyMarker);
    const at = all.findIndex((r) => r.kind === 'version' && r.versionId === versionMarker);
    yield* at < 0 ? [] : all.slice(at + 1);
  }
  for await (const { name, isPrefix } of mergedNames(ctx, bucket.name, params, keyMarker)) {
    if (isPrefix) {
      if (keyMarker === '' || compareKeys(name, keyMarker) > 0) yield { kind: 'prefix', prefix: name } as Row;
    } else {
      yield* await versionsOf(ctx, bucket, name);
    }
  }
}

export async function listObjectVersions(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const params = listParams(ctx);
  const keyMarker = ctx.query.get('key-marker') ?? '';
  const versionMarker = ctx.query.get('version-id-marker') ?? '';
  const page: Row[] = [];
  let truncated = false;
  for await (const row of rows(ctx, bucket, params, keyMarker, versionMarker)) {
    if (page.length >= params.maxKeys) {
      truncated = true;
      break;
    }
    page.push(row);
  }
  const last = page.at(-1);
  const owner = (id: string) => ({ ID: id, DisplayName: ctx.state.users.get(id)?.name ?? id });
  const versions = page.flatMap((r) => (r.kind === 'version' && !r.deleteMarker ? [r] : []));
  const markers = page.flatMap((r) => (r.kind === 'version' && r.deleteMarker ? [r] : []));
  return xmlResponse('ListVersionsResult', {
    Name: bucket.name,
    Prefix: params.encode(params.prefix),
    KeyMarker: params.encode(keyMarker),
    VersionIdMarker: versionMarker,
    NextKeyMarker: truncated && last ? params.encode(last.kind === 'prefix' ? last.prefix : last.key) : undefined,
    NextVersionIdMarker: truncated && last?.kind === 'version' ? last.versionId : undefined,
    MaxKeys: params.maxKeys,
    Delimiter: params.delimiter === undefined ? undefined : params.encode(params.delimiter),
    EncodingType: params.encodingType,
    IsTruncated: truncated,
    Version: versions.map((v) => ({
      Key: params.encode(v.key),
      VersionId: v.versionId,
      IsLatest: v.isLatest,
      LastModified: v.lastModified,
      ETag: v.etag,
      Size: v.size,
      Owner: owner(v.owner),
      StorageClass: 'STANDARD',
    })),
    DeleteMarker: markers.map((m) => ({
      Key: params.encode(m.key),
      VersionId: m.versionId,
      IsLatest: m.isLatest,
      LastModified: m.lastModified,
      Owner: owner(m.owner),
    })),
    CommonPrefixes: page.flatMap((r) => (r.kind === 'prefix' ? [{ Prefix: params.encode(r.prefix) }] : [])),
  });
}
