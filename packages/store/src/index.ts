export { type BackoffOptions, backoff, backoffDelay } from './backoff.js';
export { BaseStore, deleteEach, listAll } from './base-store.js';
export { bodyText, bytesToStream, collectBody, concatBytes } from './body.js';
export { type ChaosEvent, type ChaosOptions, ChaosStore, chaos, type Fault, type FaultRates } from './chaos.js';
export * from './errors.js';
export { FileStore, type FileStoreOptions } from './file/file-store.js';
export {
  bareEtag,
  compareKeys,
  etagsEqual,
  LOCAL_MAX_KEY_BYTES,
  MAX_KEY_BYTES,
  md5Etag,
  quoteEtag,
  validateKey,
} from './keys.js';
export { CodedError, type CodedErrorOptions, isCodedError } from './kernel/coded-error.js';
export {
  type CompareAndSwapOptions,
  type CompareAndSwapOutcome,
  compareAndSwap,
  EPOCH_META,
  FencedError,
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
export { mapConcurrent } from './kernel/map-concurrent.js';
export { Mutex } from './kernel/mutex.js';
export { type PutIfAbsentOptions, type PutIfAbsentOutcome, putIfAbsent } from './kernel/put-if-absent.js';
export { type LatencyOptions, LatencyStore, latency } from './latency.js';
export { type Clock, realClock, VirtualClock } from './latency-clock.js';
export {
  LATENCY_PROFILES,
  type LatencyDistribution,
  type LatencyProfile,
  logNormalParameters,
  type RateLimit,
  type RequestClass,
  requestClassOf,
  sampleLatencyMs,
} from './latency-profiles.js';
export { MemoryStore } from './memory-store.js';
export {
  type CostBreakdown,
  type CostOptions,
  cost,
  Meter,
  MeteredStore,
  type MeterSnapshot,
  metered,
} from './metered.js';
export type * from './object-store.js';
export { type OpenStoreOptions, openStore } from './open-store.js';
export {
  PRICE_TABLES,
  type PriceClass,
  type PriceTable,
  R2_STANDARD,
  S3_EXPRESS_ONE_ZONE_2023,
  S3_EXPRESS_ONE_ZONE_US_EAST_1,
  S3_STANDARD_US_EAST_1,
} from './prices.js';
export { type Random, seededRandom } from './random.js';
export { isRetryableError, type RetryOptions, retry } from './kernel/retry.js';
export { resolveRange } from './range.js';
export { S3Store, type S3StoreOptions } from './s3/s3-store.js';
export { listSortedKeys, lowerBound, upperBound } from './sorted-listing.js';
export { knownSize, STORE_OPS, type StoreCall, type StoreOp, WrappedStore } from './wrapped-store.js';
