import { setMaxListeners } from 'node:events';
import {
  bareEtag,
  type CrcAlgorithm,
  crc32cIsNative,
  crcOf,
  etagsEqual,
  fullObjectChecksum,
  isStoreError,
  type MultipartUploads,
  type ObjectStore,
  type PutBody,
  type PutResult,
  type UploadedPart,
} from '@bucketdb/store';
import { md5, multipartEtag, PART_SIZE_METADATA } from './etag-check.js';
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
  /**
   * The checksum of multipart uploads where the store keeps full-object CRCs: `crc32c` (default
   * where it runs natively) or `crc32` (default otherwise); `md5` sends Content-MD5 and checks ETags
   * instead, as on stores without CRCs.
   */
  checksum?: CrcAlgorithm | 'md5';
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

/** The CRC this upload uses: the caller's choice if the store keeps it, else the fastest it keeps. */
export function chooseChecksum(uploads: MultipartUploads, options: WriteOptions): CrcAlgorithm | undefined {
  if (options.checksum === 'md5') return undefined;
  const wanted = options.checksum ?? (crc32cIsNative ? 'crc32c' : 'crc32');
  if (uploads.checksums.includes(wanted)) return wanted;
  return options.checksum === undefined ? uploads.checksums[0] : undefined;
}

/**
 * Starts a multipart upload; its part size is recorded so that a later resume cuts the same
 * parts, and with `checksum` the store keeps (and checks) the object's full CRC.
 */
export function createUpload(
  uploads: MultipartUploads,
  key: string,
  partSize: number,
  checksum: CrcAlgorithm | undefined,
  options: WriteOptions,
): Promise<string> {
  return withRetries(
    () =>
      uploads.create(key, {
        metadata: { ...options.metadata, [PART_SIZE_METADATA]: String(partSize) },
        ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
        ...(options.signal ? { signal: options.signal } : {}),
        ...(checksum ? { checksum } : {}),
      }),
    options.retry,
    options.signal,
  );
}

/** A part's fingerprint: its CRC in the upload's algorithm, or its MD5 (what the store's ETag shows). */
export type PartDigest = { crc: string } | { md5: Buffer };

export function digestOf(bytes: Uint8Array, checksum: CrcAlgorithm | undefined): PartDigest {
  return checksum ? { crc: crcOf(checksum, bytes) } : { md5: md5(bytes) };
}

/** Whether a part found stored by an earlier run holds these bytes. */
export function samePart(part: UploadedPart, digest: PartDigest): boolean {
  if ('crc' in digest) return part.checksum === digest.crc;
  return bareEtag(part.etag).toLowerCase() === digest.md5.toString('hex');
}

/**
 * Sends one part with its CRC or Content-MD5, so the store refuses damaged bytes; an MD5 ETag in
 * the answer is checked too.
 */
export async function sendPart(
  uploads: MultipartUploads,
  key: string,
  uploadId: string,
  partNumber: number,
  bytes: Uint8Array,
  digest: PartDigest,
  checksum: CrcAlgorithm | undefined,
  options: WriteOptions & { signal: AbortSignal },
): Promise<UploadedPart> {
  const integrity =
    'crc' in digest && checksum
      ? { checksum: { algorithm: checksum, value: digest.crc } }
      : 'md5' in digest
        ? { md5: digest.md5.toString('base64') }
        : {};
  const part = await withRetries(
    () => uploads.uploadPart(key, uploadId, partNumber, bytes, { ...integrity, signal: options.signal }),
    options.retry,
    options.signal,
  );
  if (
    'md5' in digest &&
    MD5_ETAG.test(bareEtag(part.etag)) &&
    bareEtag(part.etag).toLowerCase() !== digest.md5.toString('hex')
  ) {
    throw new FilesError('Corrupt', `part ${partNumber} of ${JSON.stringify(key)} was stored with the wrong checksum`);
  }
  return 'crc' in digest ? { ...part, checksum: digest.crc } : part;
}

/**
 * Completes an upload whose parts were all sent (`parts` and `digests` in part order) and checks
 * the result: with CRCs the store compares the object's full CRC with the one the parts combine
 * to and refuses a mismatch; with MD5s the ETag must be the one the parts' MD5s make.
 */
export async function finishUpload(
  store: ObjectStore,
  uploads: MultipartUploads,
  key: string,
  uploadId: string,
  parts: UploadedPart[],
  digests: PartDigest[],
  checksum: CrcAlgorithm | undefined,
  options: WriteOptions,
): Promise<{ etag: string; verified: boolean }> {
  if (checksum) {
    const value = fullObjectChecksum(
      checksum,
      parts.map((p, i) => ({ checksum: (digests[i] as { crc: string }).crc, size: p.size ?? 0 })),
    );
    const full = { algorithm: checksum, value };
    const result = await completeUpload(uploads, key, uploadId, parts, options, full, async () => {
      const found = await uploads.checksumOf(key).catch(() => undefined);
      return found?.value === value && found.algorithm === checksum ? found.etag : undefined;
    });
    return { etag: result.etag, verified: true };
  }
  const expected = multipartEtag(digests.map((d) => (d as { md5: Buffer }).md5));
  const result = await completeUpload(uploads, key, uploadId, parts, options, undefined, async () => {
    const info = await store.head(key).catch(() => undefined);
    return info && etagsEqual(info.etag, expected) ? info.etag : undefined;
  });
  const verified = /-\d+$/.test(bareEtag(result.etag));
  if (verified && bareEtag(result.etag) !== bareEtag(expected)) {
    throw new FilesError(
      'Corrupt',
      `${JSON.stringify(key)} was completed with ETag ${result.etag}, expected ${expected}`,
    );
  }
  return { etag: result.etag, verified };
}

/**
 * Completes an upload. A completion that landed but whose answer was lost is retried into
 * NoSuchUpload: `landed` (the object's checksum or ETag, equal to the one our parts make) says it
 * landed, and gives its ETag.
 */
async function completeUpload(
  uploads: MultipartUploads,
  key: string,
  uploadId: string,
  parts: UploadedPart[],
  options: WriteOptions,
  checksum: { algorithm: CrcAlgorithm; value: string } | undefined,
  landed: () => Promise<string | undefined>,
): Promise<PutResult> {
  try {
    return await withRetries(
      () =>
        uploads.complete(key, uploadId, parts, {
          ...(options.signal ? { signal: options.signal } : {}),
          ...(checksum ? { checksum } : {}),
        }),
      options.retry,
    );
  } catch (error) {
    if (!isStoreError(error) || options.signal?.aborted) throw error;
    const etag = await landed();
    if (etag !== undefined) return { etag };
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

/**
 * Links the caller's signal with one the transfer aborts itself when a part fails for good. Every
 * request in flight listens to `linked` (the SDK until its response closes, backoff sleeps), a few
 * more for a moment while parts hand over: allowed without Node's listener-leak warning.
 */
export function linkedAbort(
  signal: AbortSignal | undefined,
  inFlight: number,
): AbortController & { linked: AbortSignal } {
  const controller = new AbortController();
  const linked = signal ? AbortSignal.any([signal, controller.signal]) : controller.signal;
  setMaxListeners(2 * inFlight + 10, linked);
  return Object.assign(controller, { linked });
}
