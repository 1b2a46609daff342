import type { ObjectStore, PutOptions, PutResult } from '@bucketdb/store';
import { encodeMeta, type ObjectMeta, type ObjectVersion } from './object-meta.js';

/**
 * Copies one stored version to another store key, streaming, with its metadata changed by
 * `meta`. The source is read only if it is still the version described (store If-Match).
 */
export async function copyVersion(
  store: ObjectStore,
  source: ObjectVersion,
  target: string,
  meta: (meta: ObjectMeta) => ObjectMeta,
  options: Pick<PutOptions, 'ifMatch' | 'ifNoneMatch'> = {},
): Promise<PutResult> {
  const read = await store.getStream(source.storeKey, { ifMatch: source.storeEtag });
  const newMeta = meta({ ...source.meta, modified: source.meta.modified ?? source.lastModified.toISOString() });
  return store.put(target, read.body, {
    ...options,
    contentLength: source.size,
    metadata: encodeMeta(newMeta),
    ...(source.contentType === undefined ? {} : { contentType: source.contentType }),
  });
}
