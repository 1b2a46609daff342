import type { ObjectInfo } from '@bucketdb/store';

/**
 * The S3 side of an object version, kept in the store object's metadata under one entry so that
 * bytes and metadata are written in the same atomic store PUT.
 */
export interface ObjectMeta {
  /** Version id, `null` for objects written while versioning was off or suspended. */
  versionId: string;
  /** Monotonic commit sequence: orders versions of a key and detects unfinished operations. */
  seq: number;
  /** The S3 ETag when it is not the MD5 of the bytes (multipart: `"md5-of-md5s-N"`). */
  etag?: string;
  /** Cache-Control, Content-Disposition, Content-Encoding, Content-Language, Expires. */
  headers: Record<string, string>;
  /** User metadata (`x-amz-meta-*`), lower-case names without the prefix. */
  user: Record<string, string>;
  tags: [string, string][];
  /** Verified checksums by algorithm (`crc32`, `sha256`, …), base64 as S3 returns them. */
  checksums: Record<string, string>;
  /** Set when the checksum arrives in a trailer, after the bytes: its value is in the sidecar (paths.checksums). */
  trailingChecksum?: string;
  /** The multipart upload that made this version, so that a repeated Complete of it answers again. */
  uploadId?: string;
  /** Part sizes of a multipart object, for GET with `partNumber`. */
  parts?: number[];
  /** Each part's checksum, in the algorithm of `checksums`, when its multipart upload had one. */
  partChecksums?: string[];
  owner: string;
  /** Who besides the bucket's owner may read the object (its canned ACL); absent: nobody. */
  acl?: ObjectAcl;
  /** Original Last-Modified, kept when the bytes are copied (archived, re-tagged, promoted). */
  modified?: string;
}

/**
 * The grants an object's canned ACL adds: READ for everyone (and WRITE, which S3 shows but which
 * means nothing on an object), or READ for every signed-in user.
 */
export type ObjectAcl = 'public-read' | 'public-read-write' | 'authenticated-read';

const META_ENTRY = 'bucketdb-s3';

/** JSON with every non-ASCII character escaped, so any backend can carry it as a header value. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

export function encodeMeta(meta: ObjectMeta): Record<string, string> {
  return { [META_ENTRY]: asciiJson(meta) };
}

export function decodeMeta(info: Pick<ObjectInfo, 'metadata'>): ObjectMeta {
  const raw = info.metadata[META_ENTRY];
  const parsed = raw === undefined ? {} : (JSON.parse(raw) as Partial<ObjectMeta>);
  // Optional fields are assigned only when present (every GET decodes this: no spread copies).
  const meta: ObjectMeta = {
    versionId: parsed.versionId ?? 'null',
    seq: parsed.seq ?? 0,
    headers: parsed.headers ?? {},
    user: parsed.user ?? {},
    tags: parsed.tags ?? [],
    checksums: parsed.checksums ?? {},
    owner: parsed.owner ?? '',
  };
  if (parsed.etag !== undefined) meta.etag = parsed.etag;
  if (parsed.parts !== undefined) meta.parts = parsed.parts;
  if (parsed.uploadId !== undefined) meta.uploadId = parsed.uploadId;
  if (parsed.partChecksums !== undefined) meta.partChecksums = parsed.partChecksums;
  if (parsed.trailingChecksum !== undefined) meta.trailingChecksum = parsed.trailingChecksum;
  if (parsed.modified !== undefined) meta.modified = parsed.modified;
  if (parsed.acl !== undefined) meta.acl = parsed.acl;
  return meta;
}

/** A stored version as the handlers see it: store facts plus S3 metadata. */
export interface ObjectVersion {
  storeKey: string;
  /** The store's ETag of `storeKey`, for compare-and-swap on it. */
  storeEtag: string;
  /** The ETag S3 clients see. */
  etag: string;
  size: number;
  lastModified: Date;
  contentType: string | undefined;
  meta: ObjectMeta;
}

export function toVersion(storeKey: string, info: ObjectInfo): ObjectVersion {
  const meta = decodeMeta(info);
  return {
    storeKey,
    storeEtag: info.etag,
    etag: meta.etag ?? info.etag,
    size: info.size,
    lastModified: meta.modified === undefined ? info.lastModified : new Date(meta.modified),
    contentType: info.contentType,
    meta,
  };
}

let lastSeq = 0;

/** Microsecond-ish timestamps, strictly increasing within the process. */
export function nextSeq(): number {
  lastSeq = Math.max(Date.now() * 1000, lastSeq + 1);
  return lastSeq;
}
