export { detectCapabilities, FULL_CAPABILITIES, type StoreCapabilities } from './capabilities.js';
export {
  APPLICATION_JSON,
  autoCodec,
  bytesCodec,
  CODECS,
  type Codec,
  type CodecName,
  type JsonValue,
  jsonCodec,
  type KvValue,
  OCTET_STREAM,
  TEXT_PLAIN,
  textCodec,
} from './codec.js';
export { isKvError, KV_ERROR_CODES, KvError, type KvErrorCode } from './errors.js';
export { decodeKey, encodeKey, encodeKeyPrefix } from './key-codec.js';
export { KvStore, open } from './kv-store.js';
export { KvPaths, LAYOUTS, type Layout } from './paths.js';
export type { ScanOptions } from './scan.js';
export type { SweepOptions, SweepResult } from './sweep.js';
export type { Clock } from './ttl.js';
export type { WatchOptions, WatchTarget } from './watch.js';
export type {
  KvChange,
  KvDeleteOptions,
  KvEntry,
  KvLeaseOptions,
  KvOpenOptions,
  KvPutOptions,
  KvScanEntry,
  KvUpdateOptions,
  Updater,
} from './types.js';
export type { CacheOptions } from './value-cache.js';
export { isLeaseError, LeaseError, type LeaseGrant } from '@bucketdb/store';
