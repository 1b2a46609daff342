/**
 * The one owner of the server's key layout inside its ObjectStore. Every store key the server
 * reads or writes is built here. Examples for bucket `photos`, key `2024/cat.jpg`:
 *
 * ```
 * b/photos                            bucket record (JSON: owner, created, versioning, cors, tags, acl)
 * o/photos/2024/cat.jpg               the current version: its bytes, its S3 metadata in store metadata
 * h/photos/2024/cat.jpg               version history (JSON) of a versioned key: noncurrent versions, delete markers
 * d/photos/01J9…-7f3a                 bytes of one noncurrent version, named by a unique id
 * u/photos/2024/cat.jpg␁01J9…c2d1     a multipart upload in progress (JSON: key, initiated, metadata),
 *                                     named by key then upload id (␁ = U+0001), so a LIST is ListMultipartUploads' order
 * p/photos/01J9…-c2d1/00007           part 7 of that upload
 * p/photos/01J9…-c2d1/00007.<tag>.<sum>  its checksum (empty object: tag = hash of the part's store ETag, sum in base64url)
 * c/photos/2024/cat.jpg               checksums that arrived in aws-chunked trailers (JSON, tied to a version by seq)
 * ```
 *
 * `o/` mirrors the bucket one to one, so ListObjects is one store LIST with the same prefix,
 * delimiter and start-after, and an unversioned PUT is one store PUT (atomic, conditional).
 */

/**
 * Between a key and an upload id in an upload record's name: it sorts before every character but
 * NUL, so a key's uploads come before longer keys'. Keys that themselves hold U+0001 (S3 allows
 * them; they are rare) may list out of order among ListMultipartUploads' uploads of similar keys.
 */
export const UPLOAD_ID_SEPARATOR = '\u0001';

/** Every namespace under which a bucket's data lives, for emptiness checks and cleanup. */
export const BUCKET_NAMESPACES = ['o', 'h', 'd', 'u', 'p', 'c'] as const;

export const paths = {
  bucket: (bucket: string) => `b/${bucket}`,
  bucketsPrefix: 'b/',
  bucketData: (namespace: (typeof BUCKET_NAMESPACES)[number], bucket: string) => `${namespace}/${bucket}/`,
  object: (bucket: string, key: string) => `o/${bucket}/${key}`,
  /** Where every bucket's current objects live (the scope of `--emulate s3-express`'s listing rules). */
  objectsRoot: 'o/',
  objectsPrefix: (bucket: string, prefix = '') => `o/${bucket}/${prefix}`,
  history: (bucket: string, key: string) => `h/${bucket}/${key}`,
  historyPrefix: (bucket: string, prefix = '') => `h/${bucket}/${prefix}`,
  versionData: (bucket: string, id: string) => `d/${bucket}/${id}`,
  versionDataPrefix: (bucket: string) => `d/${bucket}/`,
  checksums: (bucket: string, key: string) => `c/${bucket}/${key}`,
  upload: (bucket: string, key: string, uploadId: string) => `u/${bucket}/${key}${UPLOAD_ID_SEPARATOR}${uploadId}`,
  /** Where upload records lived before they were named by key (read for uploads begun then). */
  legacyUpload: (bucket: string, uploadId: string) => `u/${bucket}/${uploadId}`,
  uploadsPrefix: (bucket: string, keyPrefix = '') => `u/${bucket}/${keyPrefix}`,
  part: (bucket: string, uploadId: string, partNumber: number) =>
    `p/${bucket}/${uploadId}/${String(partNumber).padStart(5, '0')}`,
  /** Holds a part's checksum in its name, so one LIST of the upload gives parts and checksums. */
  partChecksum: (bucket: string, uploadId: string, partNumber: number, tag: string, checksum: string) =>
    `p/${bucket}/${uploadId}/${String(partNumber).padStart(5, '0')}.${tag}.${Buffer.from(checksum, 'base64').toString('base64url')}`,
  partsPrefix: (bucket: string, uploadId = '') => `p/${bucket}/${uploadId === '' ? '' : `${uploadId}/`}`,
} as const;

/** Strips `prefix` from a store key listed under it. */
export function stripPrefix(storeKey: string, prefix: string): string {
  return storeKey.slice(prefix.length);
}
