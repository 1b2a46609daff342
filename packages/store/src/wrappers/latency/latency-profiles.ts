import type { Random } from '../../random.js';
import type { StoreOp } from '../wrapped-store.js';

/** Reads are GET/HEAD, writes PUT/DELETE/batch delete, lists LIST (S3 counts LIST with GETs for rate limits). */
export type RequestClass = 'read' | 'write' | 'list';

export function requestClassOf(op: StoreOp): RequestClass {
  if (op === 'get' || op === 'head') return 'read';
  return op === 'list' ? 'list' : 'write';
}

/** A log-normal latency given by its median and 99th percentile. */
export interface LatencyDistribution {
  p50Ms: number;
  p99Ms: number;
}

export interface RateLimit {
  /** Requests per second per prefix: GET/HEAD/LIST, and PUT/COPY/POST/DELETE. */
  readsPerSecond: number;
  writesPerSecond: number;
  /** The partition a key falls in; by default everything up to its last `/`. */
  prefixOf?: (key: string) => string;
}

export interface LatencyProfile {
  name: string;
  /** Time to the first byte of the response, by request class. */
  firstByte: Record<RequestClass, LatencyDistribution>;
  /** Body throughput of one request, bytes per second. */
  bytesPerSecond: number;
  rateLimit?: RateLimit;
}

/** z of the 99th percentile of the standard normal. */
const Z99 = 2.3263478740408408;

/** mu and sigma of the log-normal whose median is p50 and whose 99th percentile is p99. */
export function logNormalParameters({ p50Ms, p99Ms }: LatencyDistribution): { mu: number; sigma: number } {
  if (!(p50Ms > 0) || !(p99Ms >= p50Ms)) throw new RangeError(`need 0 < p50 <= p99, got ${p50Ms} and ${p99Ms}`);
  return { mu: Math.log(p50Ms), sigma: (Math.log(p99Ms) - Math.log(p50Ms)) / Z99 };
}

export function sampleLatencyMs(distribution: LatencyDistribution, random: Random): number {
  const { mu, sigma } = logNormalParameters(distribution);
  return Math.exp(mu + sigma * random.normal());
}

/** Numbers and their sources: docs/design/store-wrappers.md. */
export const LATENCY_PROFILES: Record<'s3-standard' | 's3-express', LatencyProfile> = {
  's3-standard': {
    name: 's3-standard',
    firstByte: {
      read: { p50Ms: 30, p99Ms: 200 },
      write: { p50Ms: 50, p99Ms: 300 },
      list: { p50Ms: 50, p99Ms: 300 },
    },
    bytesPerSecond: 88e6,
    rateLimit: { readsPerSecond: 5500, writesPerSecond: 3500 },
  },
  's3-express': {
    name: 's3-express',
    firstByte: {
      read: { p50Ms: 3, p99Ms: 8 },
      write: { p50Ms: 5, p99Ms: 9 },
      list: { p50Ms: 5, p99Ms: 9 },
    },
    bytesPerSecond: 88e6,
    // Directory buckets: 200,000 reads and 100,000 writes per second per bucket by default.
    rateLimit: { readsPerSecond: 200_000, writesPerSecond: 100_000, prefixOf: () => '' },
  },
};
