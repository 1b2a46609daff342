export { BaseStore, deleteEach, listAll } from './base-store.js';
export { bodyText, bytesToStream, collectBody, concatBytes } from './body.js';
export * from './errors.js';
export { bareEtag, compareKeys, etagsEqual, MAX_KEY_BYTES, md5Etag, quoteEtag, validateKey } from './keys.js';
export { MemoryStore } from './memory-store.js';
export type * from './object-store.js';
export { resolveRange } from './range.js';
export { S3Store, type S3StoreOptions } from './s3/s3-store.js';
export { listSortedKeys, lowerBound, upperBound } from './sorted-listing.js';
