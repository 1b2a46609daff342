// The deliberate public surface of @bucketdb/store. Anything not exported here is internal.

// The contract and its errors.
export * from './errors.js';
export type * from './object-store.js';
export { bareEtag, compareKeys, etagsEqual, MAX_KEY_BYTES, md5Etag, validateKey } from './keys.js';
export { bodyText, collectBody, concatBytes } from './body.js';

// Backends, and the base class a new backend extends (docs/store-backends.md).
export { BaseStore, deleteEach, listAll } from './base-store.js';
export { FileStore, type FileStoreOptions } from './backends/file/file-store.js';
export { MemoryStore } from './backends/memory/memory-store.js';
export { S3Store, type S3StoreOptions } from './backends/s3/s3-store.js';
export { type OpenStoreOptions, openStore } from './open-store.js';

// Wrappers: they compose, metered(latency(chaos(store))).
export { STORE_OPS, type StoreCall, type StoreOp, WrappedStore } from './wrappers/wrapped-store.js';
export { IgnoresConditionsStore } from './wrappers/ignores-conditions.js';
export {
  type ChaosEvent,
  type ChaosOptions,
  ChaosStore,
  chaos,
  type Fault,
  type FaultRates,
} from './wrappers/chaos/chaos.js';
export { type LatencyOptions, LatencyStore, latency } from './wrappers/latency/latency.js';
export { RoundTripStore } from './wrappers/round-trips.js';
export {
  type DirectoryBucketOptions,
  DirectoryBucketStore,
  directoryBucket,
} from './wrappers/directory-bucket/directory-bucket.js';
export { type EmulateOptions, emulate, type StoreProfile } from './wrappers/emulate.js';
export {
  LATENCY_PROFILES,
  type LatencyDistribution,
  type LatencyProfile,
  type RateLimit,
  type RequestClass,
} from './wrappers/latency/latency-profiles.js';
export {
  type ComposeOptions,
  type ComposeSource,
  type Composition,
  type CompositionCapable,
  compositionOf,
} from './compose.js';
export {
  type CrcValue,
  MULTIPART_LIMITS,
  type MultipartCapable,
  type MultipartCreateOptions,
  type MultipartUploads,
  multipartOf,
  type ObjectChecksum,
  type UploadedPart,
} from './multipart.js';
export {
  type CostBreakdown,
  type CostOptions,
  cost,
  Meter,
  MeteredStore,
  type MeterSnapshot,
  metered,
} from './wrappers/metered/metered.js';
export {
  PRICE_TABLES,
  type PriceClass,
  type PriceTable,
  S3_EXPRESS_ONE_ZONE_US_EAST_1,
  S3_STANDARD_US_EAST_1,
} from './wrappers/metered/prices.js';

// The kernel every database shares.
export { type BackoffOptions, backoff, backoffDelay } from './backoff.js';
export { CodedError, type CodedErrorOptions, isCodedError } from './kernel/coded-error.js';
export {
  type CompareAndSwapOptions,
  type CompareAndSwapOutcome,
  compareAndSwap,
  EPOCH_META,
  FencedError,
  PREV_WRITE_ID_META,
  WRITE_ID_META,
} from './kernel/compare-and-swap.js';
export { KeyedMutex } from './kernel/keyed-mutex.js';
export {
  isLeaseError,
  LeaseError,
  type LeaseErrorCode,
  type LeaseGrant,
  type LeaseOptions,
  Leases,
} from './kernel/lease.js';
export { checkLeaseHistory, heldEvent, type LeaseEvent, type LeaseHolding } from './kernel/lease-checker.js';
export { mapConcurrent, streamConcurrent } from './kernel/map-concurrent.js';
export { Mutex } from './kernel/mutex.js';
export { type PutIfAbsentOptions, type PutIfAbsentOutcome, putIfAbsent } from './kernel/put-if-absent.js';
export { type PutResolvedOptions, type PutResolvedOutcome, putResolved } from './kernel/put-resolved.js';
export { isRetryableError, type RetryOptions, retry } from './kernel/retry.js';
export { type Clock, realClock, VirtualClock } from './latency-clock.js';
export { type Random, seededRandom } from './random.js';
export { Crc, CRC_ALGORITHMS, type CrcAlgorithm, crc32c, crc32cIsNative, crcOf } from './checksums/crc.js';
export { type CombinableCrc, fullObjectChecksum, isCombinableCrc } from './checksums/full-object-crc.js';
