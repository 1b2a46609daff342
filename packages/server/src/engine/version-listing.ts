import { compareKeys, type ListEntry, type ObjectStore } from '@bucketdb/store';
import { paths } from '../paths.js';
import type { BucketRecord } from './buckets.js';
import { readHistory, visibleHistory } from './history.js';
import { seqOfId } from './ids.js';
import type { ObjectVersion } from './object-meta.js';

export interface VersionRow {
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

export type VersionListRow = { kind: 'prefix'; prefix: string } | VersionRow;

export interface VersionListQuery {
  prefix: string;
  delimiter: string | undefined;
  keyMarker: string;
  /** Resume after this version of `keyMarker` (already checked to be well formed). */
  versionMarker: string | undefined;
}

type CurrentOf = (bucket: string, key: string) => Promise<ObjectVersion | undefined>;

/**
 * Every version, delete marker and common prefix of a bucket in ListObjectVersions' order: keys
 * in order (current objects `o/` and histories `h/` merged), each key's versions newest first.
 */
export async function* versionRows(
  store: ObjectStore,
  current: CurrentOf,
  bucket: BucketRecord,
  query: VersionListQuery,
): AsyncGenerator<VersionListRow> {
  const { keyMarker, versionMarker } = query;
  if (versionMarker !== undefined) {
    yield* afterVersionMarker(await versionsOf(store, current, bucket, keyMarker), versionMarker);
  }
  for await (const { name, isPrefix } of mergedNames(store, bucket.name, query)) {
    if (isPrefix) {
      if (keyMarker === '' || compareKeys(name, keyMarker) > 0) yield { kind: 'prefix', prefix: name };
    } else {
      yield* await versionsOf(store, current, bucket, name);
    }
  }
}

/** Names under a store prefix with the prefix stripped: keys or common prefixes, in order. */
async function* names(store: ObjectStore, base: string, query: VersionListQuery) {
  for await (const entry of store.list({
    prefix: base + query.prefix,
    ...(query.delimiter === undefined ? {} : { delimiter: query.delimiter }),
    ...(query.keyMarker === '' ? {} : { startAfter: base + query.keyMarker }),
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
async function* mergedNames(store: ObjectStore, bucket: string, query: VersionListQuery) {
  const a = names(store, paths.objectsPrefix(bucket), query)[Symbol.asyncIterator]();
  const b = names(store, paths.historyPrefix(bucket), query)[Symbol.asyncIterator]();
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
async function versionsOf(
  store: ObjectStore,
  currentOf: CurrentOf,
  bucket: BucketRecord,
  key: string,
): Promise<VersionRow[]> {
  const current = await currentOf(bucket.name, key);
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
