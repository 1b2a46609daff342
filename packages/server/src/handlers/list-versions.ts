import { compareKeys, type ListEntry } from '@bucketdb/store';
import type { BucketRecord } from '../engine/buckets.js';
import { readHistory, visibleHistory } from '../engine/history.js';
import { isWellFormedId, seqOfId } from '../engine/ids.js';
import { type RequestContext, requireBucket, type S3Response } from '../http/context.js';
import { xmlDocumentInOrder } from '../http/xml.js';
import { paths } from '../paths.js';
import { S3Error } from '../s3-error.js';
import { type ListParams, listParams } from './list-params.js';
import { ownerParty } from '../http/owner-party.js';

interface VersionRow {
  kind: 'version';
  key: string;
  versionId: string;
  seq: number;
  isLatest: boolean;
  lastModified: string;
  owner: string;
  deleteMarker: boolean;
  etag?: string;
  size?: number;
}

type Row = { kind: 'prefix'; prefix: string } | VersionRow;

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

/**
 * Every version and delete marker of a key in one sequence, newest first, as S3 lists them:
 * IsLatest only on the first. Versions and markers interleave by recency (a key deleted, written
 * again and deleted again lists marker, version, marker, version).
 */
async function versionsOf(ctx: RequestContext, bucket: BucketRecord, key: string): Promise<VersionRow[]> {
  const { objects, store } = ctx.state;
  const current = await objects.current(bucket.name, key);
  const history = bucket.versioning === 'Unversioned' ? [] : (await readHistory(store, bucket.name, key)).records;
  const rows: VersionRow[] = [];
  if (current) {
    rows.push({
      kind: 'version',
      key,
      versionId: current.meta.versionId,
      seq: current.meta.seq,
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
      seq: record.seq,
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

/**
 * The rows of the marker key that come after the version-id marker. A marker version deleted since
 * the previous page is not found; its id still orders it among the others (ids carry their seq),
 * so the listing resumes where it would have.
 */
function afterVersionMarker(rows: VersionRow[], versionMarker: string): VersionRow[] {
  const at = rows.findIndex((r) => r.versionId === versionMarker);
  if (at >= 0) return rows.slice(at + 1);
  if (versionMarker === 'null') return [];
  const seq = seqOfId(versionMarker);
  return rows.filter((r) => r.seq < seq);
}

async function* rows(
  ctx: RequestContext,
  bucket: BucketRecord,
  params: ListParams,
  keyMarker: string,
  versionMarker: string | undefined,
): AsyncGenerator<Row> {
  if (versionMarker !== undefined) {
    yield* afterVersionMarker(await versionsOf(ctx, bucket, keyMarker), versionMarker);
  }
  for await (const { name, isPrefix } of mergedNames(ctx, bucket.name, params, keyMarker)) {
    if (isPrefix) {
      if (keyMarker === '' || compareKeys(name, keyMarker) > 0) yield { kind: 'prefix', prefix: name };
    } else {
      yield* await versionsOf(ctx, bucket, name);
    }
  }
}

/** key-marker and version-id-marker, refused as S3 refuses them. */
function markers(ctx: RequestContext): { keyMarker: string; versionMarker: string | undefined } {
  const keyMarker = ctx.query.get('key-marker') ?? '';
  const versionMarker = ctx.query.get('version-id-marker') ?? undefined;
  if (versionMarker === undefined) return { keyMarker, versionMarker };
  const refuse = (message: string) =>
    new S3Error('InvalidArgument', message, {
      ArgumentName: 'version-id-marker',
      ArgumentValue: versionMarker.slice(0, 100),
    });
  if (keyMarker === '') throw refuse('A version-id marker cannot be specified without a key marker.');
  if (versionMarker === '') throw refuse('A version-id marker cannot be empty.');
  if (versionMarker !== 'null' && !isWellFormedId(versionMarker)) throw refuse('Invalid version id specified');
  return { keyMarker, versionMarker };
}

export async function listObjectVersions(ctx: RequestContext): Promise<S3Response> {
  const bucket = requireBucket(ctx);
  const params = listParams(ctx);
  const { keyMarker, versionMarker } = markers(ctx);
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
  const owner = (id: string) => ownerParty(ctx.state, id);
  const entries = page.flatMap((r): Record<string, unknown>[] => {
    if (r.kind === 'prefix') return [];
    const common = {
      Key: params.encode(r.key),
      VersionId: r.versionId,
      IsLatest: r.isLatest,
      LastModified: r.lastModified,
    };
    return r.deleteMarker
      ? [{ DeleteMarker: { ...common, Owner: owner(r.owner) } }]
      : [{ Version: { ...common, ETag: r.etag, Size: r.size, StorageClass: 'STANDARD', Owner: owner(r.owner) } }];
  });
  // Element order as S3 sends it; Version and DeleteMarker stay interleaved in listing order.
  const body = xmlDocumentInOrder('ListVersionsResult', [
    {
      Name: bucket.name,
      Prefix: params.encode(params.prefix),
      KeyMarker: params.encode(keyMarker),
      VersionIdMarker: versionMarker ?? '',
      NextKeyMarker: truncated && last ? params.encode(last.kind === 'prefix' ? last.prefix : last.key) : undefined,
      NextVersionIdMarker: truncated && last?.kind === 'version' ? last.versionId : undefined,
      MaxKeys: params.maxKeys,
      Delimiter: params.delimiter === undefined ? undefined : params.encode(params.delimiter),
      EncodingType: params.encodingType,
      IsTruncated: truncated,
    },
    ...entries,
    { CommonPrefixes: page.flatMap((r) => (r.kind === 'prefix' ? [{ Prefix: params.encode(r.prefix) }] : [])) },
  ]);
  return { status: 200, headers: { 'content-type': 'application/xml' }, body };
}
