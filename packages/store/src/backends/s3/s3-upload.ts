import { Readable } from 'node:stream';
import type { PutObjectCommandInput, S3Client } from '@aws-sdk/client-s3';

type Sdk = typeof import('@aws-sdk/client-s3');

export interface StreamUploadOptions {
  client: S3Client;
  sdk: Sdk;
  params: PutObjectCommandInput;
  body: AsyncIterable<Uint8Array>;
  partSize: number;
  queueSize: number;
  /** Sends the request that makes the object visible (the single PUT or the completion) with the write's retry rules. */
  sendCommit: <T>(send: () => Promise<T>) => Promise<T>;
  /** Sends the other requests (create, parts, abort), which change nothing visible and may be retried freely. */
  sendOther: <T>(send: () => Promise<T>) => Promise<T>;
}

/**
 * Uploads a stream with lib-storage's `Upload`: bodies up to one part go in one PUT, longer ones
 * as a multipart upload, holding at most `queueSize` parts in memory. Only the commit request
 * (PUT or CompleteMultipartUpload, which carry If-None-Match / If-Match) can make the write land,
 * so it alone gets the conditional-write rules; a failed part leaves nothing behind (the upload is
 * aborted) and comes out as the part's error.
 */
export async function uploadStream(options: StreamUploadOptions): Promise<{ ETag?: string; VersionId?: string }> {
  const { client, sdk } = options;
  const { Upload } = await import('@aws-sdk/lib-storage');
  // Upload reads `client.config`; only `send` is routed, so inherit everything else from the real client.
  const routed = Object.create(client, {
    send: {
      value: (command: Parameters<S3Client['send']>[0]) => {
        const send = () => client.send(command);
        return command instanceof sdk.PutObjectCommand || command instanceof sdk.CompleteMultipartUploadCommand
          ? options.sendCommit(send)
          : options.sendOther(send);
      },
    },
  }) as S3Client;
  const upload = new Upload({
    client: routed,
    params: { ...options.params, Body: Readable.from(options.body, { objectMode: false }) },
    partSize: options.partSize,
    queueSize: options.queueSize,
  });
  // Errors from sendCommit/sendOther are store errors already; others come from the caller's stream.
  return upload.done();
}
