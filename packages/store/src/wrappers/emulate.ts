import type { ObjectStore } from '../object-store.js';
import { directoryBucket } from './directory-bucket/directory-bucket.js';
import { type LatencyOptions, latency } from './latency/latency.js';
import type { LATENCY_PROFILES } from './latency/latency-profiles.js';

/** The S3 storage classes a store can be made to behave like. */
export type StoreProfile = keyof typeof LATENCY_PROFILES;

export interface EmulateOptions extends LatencyOptions {
  /** For `s3-express`: the key prefix whose LISTs get directory-bucket rules (default: all). */
  directoryScope?: string;
}

/**
 * A store that behaves like the S3 class `profile`: its latency and request-rate model (latency.ts)
 * and, for `s3-express`, directory-bucket semantics (unsorted LIST, no StartAfter, `/`-terminated
 * prefixes, ETags that are not MD5s: DirectoryBucketStore). The server's `--emulate` uses it, so
 * an application meets the same rules through HTTP and in process.
 */
export function emulate(store: ObjectStore, profile: StoreProfile, options: EmulateOptions = {}): ObjectStore {
  const { directoryScope, ...latencyOptions } = options;
  const semantics =
    profile === 's3-express'
      ? directoryBucket(store, {
          ...(directoryScope === undefined ? {} : { scope: directoryScope }),
          ...(latencyOptions.seed === undefined ? {} : { seed: latencyOptions.seed }),
        })
      : store;
  return latency(semantics, profile, latencyOptions);
}
