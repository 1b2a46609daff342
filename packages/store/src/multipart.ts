import type { ObjectStore, PutResult, RequestOptions } from './object-store.js';

/**
 * Multipart uploads: an optional capability beside the `ObjectStore` contract, for stores that
 * take an object in parts sent in parallel (S3 and the services that speak its API). Local
 * backends do not offer it: a streamed single put is as fast there. `multipartOf` finds it
 * through wrappers, which route each request through their hooks (metered, chaos, latency).
 *
 * Parts are numbered from 1; each but the last must be at least 5 MiB (S3's rule). A part's ETag
 * is the MD5 of its bytes, and the completed object's ETag is `"md5(md5s)-N"`.
 */
export interface MultipartUploads {
  create(key: string, options?: MultipartCreateOptions): Promise<string>;
  /** Uploads one part; `md5` (base64) makes the store refuse bytes damaged on the way. */
  uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: Uint8Array,
    options?: RequestOptions & { md5?: string },
  ): Promise<UploadedPart>;
  /** The parts uploaded so far, by part number (to resume an upload). */
  listParts(key: string, uploadId: string, options?: RequestOptions): Promise<UploadedPart[]>;
  complete(key: string, uploadId: string, parts: UploadedPart[], options?: RequestOptions): Promise<PutResult>;
  abort(key: string, uploadId: string, options?: RequestOptions): Promise<void>;
}

export interface MultipartCreateOptions extends RequestOptions {
  contentType?: string;
  metadata?: Record<string, string>;
}

export interface UploadedPart {
  partNumber: number;
  etag: string;
  size?: number;
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
