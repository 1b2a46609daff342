import type { CrcAlgorithm } from './checksums/crc.js';
import type { ObjectStore, PutResult, RequestOptions } from './object-store.js';

/**
 * Multipart uploads: an optional capability beside the `ObjectStore` contract, for stores that
 * take an object in parts sent in parallel (S3 and the services that speak its API). Local
 * backends do not offer it: a streamed single put is as fast there. `multipartOf` finds it
 * through wrappers, which route each request through their hooks (metered, chaos, latency).
 *
 * Parts are numbered from 1; each but the last must be at least 5 MiB (S3's rule). A part's ETag
 * is the MD5 of its bytes, and the completed object's ETag is `"md5(md5s)-N"`.
 *
 * A store listing CRCs in `checksums` also keeps a FULL_OBJECT checksum (S3's flexible checksums):
 * an upload created with one sends each part's CRC (the store refuses a part that does not match)
 * and the whole object's at completion (refused unless it matches what the parts combine to), and
 * `checksumOf` reads it back, so a download can check every byte without MD5.
 */
export interface MultipartUploads {
  /** The CRCs this store keeps as full-object checksums; empty when only ETags (MD5) are kept. */
  readonly checksums: readonly CrcAlgorithm[];
  create(key: string, options?: MultipartCreateOptions): Promise<string>;
  /**
   * Uploads one part. `md5` (base64) makes the store refuse bytes damaged on the way; so does
   * `checksum`, the part's CRC in the upload's algorithm, which also spares S3 clients
   * hashing the payload for the signature.
   */
  uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: Uint8Array,
    options?: RequestOptions & { md5?: string; checksum?: CrcValue },
  ): Promise<UploadedPart>;
  /** The parts uploaded so far, by part number (to resume an upload). */
  listParts(key: string, uploadId: string, options?: RequestOptions): Promise<UploadedPart[]>;
  /** `checksum`: the whole object's CRC, for an upload created with a checksum. */
  complete(
    key: string,
    uploadId: string,
    parts: UploadedPart[],
    options?: RequestOptions & { checksum?: CrcValue },
  ): Promise<PutResult>;
  abort(key: string, uploadId: string, options?: RequestOptions): Promise<void>;
  /** The object's full-object checksum, when it has one in an algorithm of `checksums`. */
  checksumOf(key: string, options?: RequestOptions): Promise<ObjectChecksum | undefined>;
}

export interface MultipartCreateOptions extends RequestOptions {
  contentType?: string;
  metadata?: Record<string, string>;
  /** Keep a FULL_OBJECT checksum in this algorithm (one of the store's `checksums`). */
  checksum?: CrcAlgorithm;
}

/** A CRC of a part or an object: big-endian, base64, as S3 shows it. */
export interface CrcValue {
  algorithm: CrcAlgorithm;
  value: string;
}

/** A whole object's CRC as the store keeps it, with the ETag and size of the version it belongs to. */
export interface ObjectChecksum extends CrcValue {
  etag: string;
  size: number;
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
  size?: number;
  /** The part's CRC (base64) in its upload's checksum algorithm, when it has one. */
  checksum?: string;
}

/** A store that offers multipart uploads (S3Store, and wrappers around one). */
export interface MultipartCapable {
  multipart(): MultipartUploads | undefined;
}

/** The store's multipart capability, or undefined when it takes objects only in one put. */
export function multipartOf(store: ObjectStore): MultipartUploads | undefined {
  const capable = store as Partial<MultipartCapable>;
  return typeof capable.multipart === 'function' ? capable.multipart() : undefined;
}

/** S3's limits: at most 10,000 parts, each but the last between 5 MiB and 5 GiB. */
export const MULTIPART_LIMITS = { maxParts: 10_000, minPartSize: 5 << 20, maxPartSize: 5 * 2 ** 30 } as const;
