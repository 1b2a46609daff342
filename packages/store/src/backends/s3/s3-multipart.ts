import { quoteEtag } from '../../keys.js';
import type { MultipartCreateOptions, MultipartUploads, UploadedPart } from '../../multipart.js';
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
    async create(key: string, options: MultipartCreateOptions = {}) {
      const Key = fullKey(key);
      const out = await send('write', key, options.signal, ({ client, sdk }) =>
        client.send(
          new sdk.CreateMultipartUploadCommand({
            Bucket: bucket,
            Key,
            ContentType: options.contentType,
            Metadata: options.metadata,
          }),
          { abortSignal: options.signal },
        ),
      );
      return out.UploadId ?? '';
    },
    async uploadPart(key, uploadId, partNumber, body, options: RequestOptions & { md5?: string } = {}) {
      const Key = fullKey(key);
      const out = await send('write', key, options.signal, ({ client, sdk }) =>
        client.send(
          new sdk.UploadPartCommand({
            Bucket: bucket,
            Key,
            UploadId: uploadId,
            PartNumber: partNumber,
            Body: body,
            ContentLength: body.length,
            ContentMD5: options.md5,
          }),
          { abortSignal: options.signal },
        ),
      );
      return { partNumber, etag: quoteEtag(out.ETag ?? ''), size: body.length };
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
          parts.push(part);
        }
        if (!out.IsTruncated || out.NextPartNumberMarker === undefined) return parts;
        marker = out.NextPartNumberMarker;
      }
    },
    async complete(key, uploadId, parts, options: RequestOptions = {}) {
      const Key = fullKey(key);
      const out = await send('write', key, options.signal, ({ client, sdk }) =>
        client.send(
          new sdk.CompleteMultipartUploadCommand({
            Bucket: bucket,
            Key,
            UploadId: uploadId,
            MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })) },
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
  };
}
