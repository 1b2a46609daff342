import { compareKeys, type ListEntry, type ObjectStore } from '@bucketdb/store';
import { paths } from '../paths.js';
import type { BucketRecord } from './buckets.js';
import { toVersion } from './object-meta.js';

/**
 * Where the next page starts: the store's own continuation token, or after a key (a page cut
 * short of what the store returned, which the store's token would skip past).
 */
export type ListResume = { storeToken: string } | { startAfter: string };

export interface ObjectListQuery {
  prefix: string;
  delimiter: string | undefined;
  maxKeys: number;
  resume: Partial<ListResume>;
}

export interface ListedObject {
  key: string;
  lastModified: Date;
  etag: string;
  size: number;
}

export interface ObjectPage {
  objects: ListedObject[];
  prefixes: string[];
  /** Where the next page starts; undefined on the last page. */
  next: ListResume | undefined;
  /** The last key or common prefix of the page (V1's NextMarker). */
  lastKey: string | undefined;
}

/** One page of a bucket's current objects: a single store LIST under `o/<bucket>/`. */
export async function listObjectPage(store: ObjectStore, bucket: BucketRecord, query: ObjectListQuery) {
  const base = paths.objectsPrefix(bucket.name);
  const listed: ObjectPage = { objects: [], prefixes: [], next: undefined, lastKey: undefined };
  if (query.maxKeys === 0) return listed;
  const { resume } = query;
  const startAfter = 'startAfter' in resume && resume.startAfter ? base + resume.startAfter : undefined;
  // Resuming after a common prefix, the store rolls the skipped keys up into it once more: one
  // entry more is asked for, so that a full page is left once it is dropped.
  const spare = startAfter !== undefined && query.delimiter !== undefined ? 1 : 0;
  const page = await store.listPage({
    prefix: base + query.prefix,
    pageSize: query.maxKeys + spare,
    ...(query.delimiter === undefined ? {} : { delimiter: query.delimiter }),
    ...(startAfter === undefined ? {} : { startAfter }),
    ...('storeToken' in resume && resume.storeToken !== undefined ? { continuationToken: resume.storeToken } : {}),
  });
  const entries = page.entries.filter(
    (entry) => entry.kind !== 'prefix' || startAfter === undefined || compareKeys(entry.prefix, startAfter) > 0,
  );
  const kept = entries.slice(0, query.maxKeys);
  for (const entry of await withS3Meta(store, base, kept, bucket.listingReadsMeta === true)) {
    if (entry.kind === 'prefix') {
      listed.prefixes.push(entry.prefix.slice(base.length));
      listed.lastKey = entry.prefix.slice(base.length);
    } else {
      const key = entry.key.slice(base.length);
      listed.objects.push({ key, lastModified: entry.lastModified, etag: entry.etag, size: entry.size });
      listed.lastKey = key;
    }
  }
  if (kept.length < entries.length && listed.lastKey !== undefined) listed.next = { startAfter: listed.lastKey };
  else if (page.continuationToken !== undefined) listed.next = { storeToken: page.continuationToken };
  return listed;
}

/** The store's ETag and date, or (when they may differ) the S3 ones from each object's metadata. */
async function withS3Meta(store: ObjectStore, base: string, entries: ListEntry[], readMeta: boolean) {
  if (!readMeta) return entries;
  return Promise.all(
    entries.map(async (entry) => {
      if (entry.kind !== 'object') return entry;
      try {
        const version = toVersion(entry.key, await store.head(entry.key));
        return { ...entry, etag: version.etag, lastModified: version.lastModified };
      } catch {
        return entry; // deleted meanwhile: S3 may list it too
      }
    }),
  ).then((list) => list.filter((e) => e.kind === 'prefix' || e.key.startsWith(base)));
}
