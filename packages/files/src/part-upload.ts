import {
  bareEtag,
  etagsEqual,
  isStoreError,
  type MultipartUploads,
  type ObjectStore,
  type PutBody,
  type PutResult,
  type UploadedPart,
} from '@bucketdb/store';
import { md5, PART_SIZE_METADATA } from './etag-check.js';
import { FilesError } from './errors.js';
import { type RetryOptions, withRetries } from './retry.js';

export interface UploadProgress {
  /** Bytes sent (or found already sent, when resuming) so far. */
  bytes: number;
  /** Bytes in all. */
  total: number;
}

/** What every upload entry point takes, besides part size and concurrency. */
export interface WriteOptions {
  signal?: AbortSignal;
  retry?: RetryOptions;
  onProgress?: (progress: UploadProgress) => void;
  contentType?: string;
  metadata?: Record<string, string>;
}

export interface UploadResult {
  key: string;
  size: number;
  etag: string;
  /** Parts sent (1 for a single put). */
  parts: number;
  /** Whether the store's ETag was checked against the bytes read (false when it is not an MD5). */
  verified: boolean;
  /** Parts found already uploaded by an interrupted run of the same transfer. */
  resumedParts: number;
}

const MD5_ETAG = /^[0-9a-f]{32}$/i;

/** Starts a multipart upload; its part size is recorded so that a later resume cuts the same parts. */
export function createUpload(
  uploads: MultipartUploads,
  key: string,
  partSize: number,
  options: WriteOptions,
): Promise<string> {
  return withRetries(
    () =>
      uploads.create(key, {
        metadata: { ...options.metadata, [PART_SIZE_METADATA]: String(partSize) },
        ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
        ...(options.signal ? { signal: options.signal } : {}),
      }),
    options.retry,
    options.signal,
  );
}

/** Sends one part with Content-MD5, so the store refuses damaged bytes, and checks its answer too. */
export async function sendPart(
  uploads: MultipartUploads,
  key: string,
  uploadId: string,
  partNumber: number,
  bytes: Uint8Array,
  digest: Buffer,
  options: WriteOptions & { signal: AbortSignal },
): Promise<UploadedPart> {
  const part = await withRetries(
    () =>
      uploads.uploadPart(key, uploadId, partNumber, bytes, { md5: digest.toString('base64'), signal: options.signal }),
    options.retry,
    options.signal,
  );
  if (MD5_ETAG.test(bareEtag(part.etag)) && bareEtag(part.etag).toLowerCase() !== digest.toString('hex')) {
    throw new FilesError('Corrupt', `part ${partNumber} of ${JSON.stringify(key)} was stored with the wrong checksum`);
  }
  return part;
}

/**
 * Completes an upload. A completion that landed but whose answer was lost is retried into
 * NoSuchUpload: the object's ETag, equal to the one our parts make, says it landed.
 */
export async function completeUpload(
  store: ObjectStore,
  uploads: MultipartUploads,
  key: string,
  uploadId: string,
  parts: UploadedPart[],
  expectedEtag: string,
  options: WriteOptions,
): Promise<PutResult> {
  try {
    return await withRetries(() => uploads.complete(key, uploadId, parts, { signal: options.signal }), options.retry);
  } catch (error) {
    if (!isStoreError(error) || options.signal?.aborted) throw error;
    const info = await store.head(key).catch(() => undefined);
    if (info && etagsEqual(info.etag, expectedEtag)) return { etag: info.etag };
    throw error;
  }
}

/** Checks a single put's ETag against the MD5 of what was sent; false when the store's ETag is not an MD5. */
export function checkPutEtag(key: string, etag: string, digest: Buffer): boolean {
  if (!MD5_ETAG.test(bareEtag(etag))) return false;
  if (bareEtag(etag).toLowerCase() !== digest.toString('hex')) {
    throw new FilesError(
      'Corrupt',
      `${JSON.stringify(key)} was stored with ETag ${etag}, not the MD5 of the bytes sent`,
    );
  }
  return true;
}

/** A whole object in one put, retried on retryable errors; `body` is called again for each attempt. */
export async function putWhole(
  store: ObjectStore,
  key: string,
  size: number | undefined,
  body: () => { body: PutBody; digest: () => Buffer },
  options: WriteOptions,
): Promise<UploadResult> {
  let digest: () => Buffer = () => Buffer.alloc(0);
  const result = await withRetries(
    () => {
      const attempt = body();
      digest = attempt.digest;
      return store.put(key, attempt.body, {
        ...(size === undefined ? {} : { contentLength: size }),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
        ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
      });
    },
    options.retry,
    options.signal,
  );
  const verified = checkPutEtag(key, result.etag, digest());
  options.onProgress?.({ bytes: size ?? 0, total: size ?? 0 });
  return { key, size: size ?? 0, etag: result.etag, parts: 1, verified, resumedParts: 0 };
}

export function bytesBody(bytes: Uint8Array): () => { body: PutBody; digest: () => Buffer } {
  const digest = md5(bytes);
  return () => ({ body: bytes, digest: () => digest });
}

/** Links the caller's signal with one the transfer aborts itself when a part fails for good. */
export function linkedAbort(signal: AbortSignal | undefined): AbortController & { linked: AbortSignal } {
  const controller = new AbortController();
  const linked = signal ? AbortSignal.any([signal, controller.signal]) : controller.signal;
  return Object.assign(controller, { linked });
}
