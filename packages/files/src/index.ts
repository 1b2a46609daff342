export { type CopyObjectOptions, copyObject } from './copy-object.js';
export { type DownloadFileOptions, type DownloadResult, downloadFile } from './download-file.js';
export { FILES_ERROR_CODES, FilesError, type FilesErrorCode, isFilesError } from './errors.js';
export { type FilterOptions, globFilter, globToRegExp } from './glob-filter.js';
export { baseName, type Location, parseLocation } from './location.js';
export { EtagCheck, multipartEtag, PART_SIZE_METADATA } from './etag-check.js';
export { type OpenedDownload, openDownload, type ReadOptions, verifiedChunks } from './open-download.js';
export {
  DEFAULT_CONCURRENCY,
  DEFAULT_PART_SIZE,
  downloadPartSize,
  MAX_DOWNLOAD_PART_SIZE,
  MAX_UPLOAD_PART_SIZE,
  type PartOptions,
  type PartPlan,
  planParts,
} from './part-plan.js';
export type { UploadProgress, UploadResult, WriteOptions } from './part-upload.js';
export type { RetryOptions } from './retry.js';
export { type UploadFileOptions, uploadFile } from './upload-file.js';
export { type UploadStreamOptions, uploadStream } from './upload-stream.js';
export { type SyncAction, type SyncOptions, type SyncResult, sync } from './sync.js';
export { isTransferArtifact, listTree, localPath, type TreeEndpoint, type TreeEntry } from './tree.js';
export {
  BucketFs,
  type BucketFsOptions,
  type BucketStats,
  type ReadStreamOptions,
  type WriteFileOptions,
} from './bucket-fs.js';
