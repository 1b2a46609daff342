import { isStoreError, type ObjectStore } from '@bucketdb/store';
import { paths } from '../paths.js';
import type { ObjectVersion } from './object-meta.js';

/**
 * Checksums sent as aws-chunked trailers are known only after the last byte, when the object's
 * metadata has already been written; they go to a small sidecar object tied to the version by its
 * seq. A crash between the two writes loses only the stored checksum, never the object.
 */
export async function writeChecksumSidecar(
  store: ObjectStore,
  bucket: string,
  key: string,
  seq: number,
  checksums: Record<string, string>,
): Promise<void> {
  await store.put(paths.checksums(bucket, key), JSON.stringify({ seq, checksums }), {
    contentType: 'application/json',
  });
}

/** The version's verified checksums, from its metadata or its sidecar. */
export async function checksumsOf(
  store: ObjectStore,
  bucket: string,
  key: string,
  version: ObjectVersion,
): Promise<Record<string, string>> {
  if (version.meta.trailingChecksum === undefined) return version.meta.checksums;
  try {
    const result = await store.get(paths.checksums(bucket, key));
    const sidecar = JSON.parse(new TextDecoder().decode(result.body)) as {
      seq: number;
      checksums: Record<string, string>;
    };
    return sidecar.seq === version.meta.seq
      ? { ...version.meta.checksums, ...sidecar.checksums }
      : version.meta.checksums;
  } catch (error) {
    if (isStoreError(error, 'NotFound')) return version.meta.checksums;
    throw error;
  }
}
