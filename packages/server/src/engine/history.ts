import { isStoreError, type ObjectStore } from '@bucketdb/store';
import { paths } from '../paths.js';
import type { ObjectVersion } from './object-meta.js';

/** A noncurrent version or a delete marker of one key. */
export interface HistoryRecord {
  versionId: string;
  seq: number;
  lastModified: string;
  owner: string;
  deleteMarker?: true;
  /** Where the bytes are (`d/<bucket>/<dataId>`); absent for delete markers. */
  dataId?: string;
  etag?: string;
  size?: number;
}

export interface History {
  records: HistoryRecord[];
  /** Store ETag of the history object, undefined when it does not exist yet. */
  storeEtag: string | undefined;
}

export async function readHistory(store: ObjectStore, bucket: string, key: string): Promise<History> {
  try {
    const result = await store.get(paths.history(bucket, key));
    const records = JSON.parse(new TextDecoder().decode(result.body)) as HistoryRecord[];
    return { records, storeEtag: result.etag };
  } catch (error) {
    if (isStoreError(error, 'NotFound')) return { records: [], storeEtag: undefined };
    throw error;
  }
}

/** Replaces the history with compare-and-swap (the caller holds the key lock; the CAS guards the rest). */
export async function writeHistory(
  store: ObjectStore,
  bucket: string,
  key: string,
  history: History,
  records: HistoryRecord[],
): Promise<void> {
  const storeKey = paths.history(bucket, key);
  if (records.length === 0) {
    if (history.storeEtag !== undefined) await store.delete(storeKey, { ifMatch: history.storeEtag });
    return;
  }
  const body = JSON.stringify(records);
  const options = history.storeEtag === undefined ? { ifNoneMatch: '*' as const } : { ifMatch: history.storeEtag };
  await store.put(storeKey, body, { ...options, contentType: 'application/json' });
}

/**
 * The versions of a key newest first, as clients see them. The history may hold traces of an
 * operation that stopped half-way (a crash, a dropped connection): an archived copy of the version
 * that is still current (same seq), or a delete marker newer than the current object (the delete
 * never completed). Only records older than the current object count: it is always the truth.
 */
export function visibleHistory(records: HistoryRecord[], current: ObjectVersion | undefined): HistoryRecord[] {
  const visible = current ? records.filter((r) => r.seq < current.meta.seq) : records;
  return [...visible].sort((a, b) => b.seq - a.seq);
}
