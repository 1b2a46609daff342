import type { ObjectStore } from '@bucketdb/store';
import { PART_SIZE_METADATA } from './etag-check.js';
import { openDownload, verifiedChunks } from './open-download.js';
import type { PartOptions } from './part-plan.js';
import type { UploadResult, WriteOptions } from './part-upload.js';
import { uploadStream } from './upload-stream.js';

export interface CopyObjectOptions extends PartOptions, WriteOptions {}

/**
 * Copies an object between two stores (or two keys of one) through this process: ranged reads
 * in parallel feed a parallel multipart upload. The source is checked against its ETag as it
 * streams, and a mismatch aborts the upload before it completes. Memory: about twice
 * concurrency × part size (the read window and the upload window).
 */
export async function copyObject(
  source: ObjectStore,
  sourceKey: string,
  target: ObjectStore,
  targetKey: string,
  options: CopyObjectOptions = {},
): Promise<UploadResult> {
  const download = await openDownload(source, sourceKey, options);
  const { [PART_SIZE_METADATA]: _partSize, ...metadata } = download.info.metadata;
  return uploadStream(target, targetKey, verifiedChunks(download, sourceKey), {
    ...options,
    size: download.info.size,
    metadata: { ...metadata, ...options.metadata },
    ...(download.info.contentType === undefined || options.contentType !== undefined
      ? {}
      : { contentType: download.info.contentType }),
  });
}
