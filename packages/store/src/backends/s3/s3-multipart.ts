import { quoteEtag } from '../../keys.js';
import type { CrcValue, MultipartCreateOptions, MultipartUploads, UploadedPart } from '../../multipart.js';
import type { RequestOptions } from '../../object-store.js';
import type { RequestKind } from './retry.js';
import type { Connection } from './s3-client.js';

/** How S3Store sends one request with its retry rules; `key` is the caller's key. */
export type SendRequest = <T>(
  kind: RequestKind,
  key: string,
  signal: AbortSignal | undefined,
  run: (connection: Connection) => Promise<T>,
) => Promise<T>;

/**
 * Multipart uploads through the SDK. Every request is idempotent as far as the object is
 * concerned (a part re-sent replaces itself; the object appears only at completion), so all go
 * with the unconditional-write retry rules. A retried completion whose first attempt landed
 * answers NoSuchUpload: the caller resolves that by comparing the object's ETag.
 */
export function s3Multipart(bucket: string, fullKey: (key: string) => string, send: SendRequest): MultipartUploads {
  return {
    checksums: ['crc32', 'crc32c'],
    async create(key: string, options: MultipartCreateOptions = {}) {
      const Key = fullKey(key);
      const out = await send('write', key, options.signal, ({ client, sdk }) =>
        client.send(
          new sdk.CreateMultipartUploadCommand({
            Bucket: bucket,
            Key,
            ContentType: options.contentType,
            Metadata: options.metadata,
            ...(options.checksum ? { ChecksumAlgorithm: SDK_NAME[options.checksum], ChecksumType: 'FULL_OBJECT' } : {}),
          }),
          { abortSignal: options.signal },
        ),
      );
      return out.UploadId ?? '';
    },
    async uploadPart(
      key,
      uploadId,
      partNumber,
      body,
      options: RequestOptions & { md5?: string; checksum?: CrcValue } = {},
    ) {
      const Key = fullKey(key);
      const out = await send('write', key, options.signal, ({ client, sdk }) => {
        const command = new sdk.UploadPartCommand({
          Bucket: bucket,
          Key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: body,
          ContentLength: body.length,
          ContentMD5: options.md5,
          ...checksumField(options.checksum),
        });
        if (options.checksum !== undefined) unsignedPayload(command);
        return client.send(command, { abortSignal: options.signal });
      });
      const part: UploadedPart = { partNumber, etag: quoteEtag(out.ETag ?? ''), size: body.length };
      if (options.checksum) part.checksum = options.checksum.value;
      return part;
    },
    async listParts(key, uploadId, options: RequestOptions = {}) {
      const Key = fullKey(key);
      const parts: UploadedPart[] = [];
      let marker: string | undefined;
      for (;;) {
        const out = await send('read', key, options.signal, ({ client, sdk }) =>
          client.send(new sdk.ListPartsCommand({ Bucket: bucket, Key, UploadId: uploadId, PartNumberMarker: marker }), {
            abortSignal: options.signal,
          }),
        );
        for (const p of out.Parts ?? []) {
          if (p.PartNumber === undefined) continue;
          const part: UploadedPart = { partNumber: p.PartNumber, etag: quoteEtag(p.ETag ?? '') };
          if (p.Size !== undefined) part.size = p.Size;
          const checksum = p.ChecksumCRC32C ?? p.ChecksumCRC32;
          if (checksum !== undefined) part.checksum = checksum;
          parts.push(part);
        }
        if (!out.IsTruncated || out.NextPartNumberMarker === undefined) return parts;
        marker = out.NextPartNumberMarker;
      }
    },
    async complete(key, uploadId, parts, options: RequestOptions & { checksum?: CrcValue } = {}) {
      const Key = fullKey(key);
      const out = await send('write', key, options.signal, ({ client, sdk }) =>
        client.send(
          new sdk.CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
            ...checksumField(options.checksum),
            ...(options.checksum === undefined ? {} : { ChecksumType: 'FULL_OBJECT' as const }),
          }),
          { abortSignal: options.signal },
        ),
      );
      const etag = quoteEtag(out.ETag ?? '');
      return out.VersionId === undefined ? { etag } : { etag, versionId: out.VersionId };
    },
    async abort(key, uploadId, options: RequestOptions = {}) {
      const Key = fullKey(key);
      await send('write', key, options.signal, ({ client, sdk }) =>
        client.send(new sdk.AbortMultipartUploadCommand({ Bucket: bucket, Key, UploadId: uploadId }), {
          abortSignal: options.signal,
        }),
      );
    },
    async checksumOf(key, options: RequestOptions = {}) {
      const Key = fullKey(key);
      const out = await send('read', key, options.signal, ({ client, sdk }) =>
        client.send(new sdk.HeadObjectCommand({ Bucket: bucket, Key, ChecksumMode: 'ENABLED' }), {
          abortSignal: options.signal,
        }),
      );
      if (out.ChecksumType !== undefined && out.ChecksumType !== 'FULL_OBJECT') return undefined;
      const etag = quoteEtag(out.ETag ?? '');
      const size = out.ContentLength ?? 0;
      if (out.ChecksumCRC32C !== undefined) return { algorithm: 'crc32c', value: out.ChecksumCRC32C, etag, size };
      if (out.ChecksumCRC32 !== undefined) return { algorithm: 'crc32', value: out.ChecksumCRC32, etag, size };
      return undefined;
    },
  };
}

const SDK_NAME = { crc32: 'CRC32', crc32c: 'CRC32C' } as const;

function checksumField(checksum: CrcValue | undefined) {
  if (checksum === undefined) return {};
  return checksum.algorithm === 'crc32' ? { ChecksumCRC32: checksum.value } : { ChecksumCRC32C: checksum.value };
}

/**
 * Signs the request without hashing its body (`UNSIGNED-PAYLOAD`): the part's CRC, checked by
 * the store, already protects the bytes, and SHA-256 over every byte was the client's largest
 * CPU cost per byte. The signer uses a payload hash the request already carries.
 */
function unsignedPayload(command: { middlewareStack: { add: (...args: never[]) => void } }): void {
  const add = command.middlewareStack.add as unknown as (
    middleware: (next: (args: { request: unknown }) => unknown) => (args: { request: unknown }) => unknown,
    options: { step: 'build'; name: string },
  ) => void;
  add(
    (next) => (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      return next(args);
    },
    { step: 'build', name: 'bucketdbUnsignedPayload' },
  );
}
