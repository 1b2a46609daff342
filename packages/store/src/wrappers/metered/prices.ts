import type { StoreOp } from '../wrapped-store.js';

/** How a provider bills one request: S3's class A (PUT, COPY, POST, LIST), class B (GET, HEAD...), or free. */
export type PriceClass = 'A' | 'B' | 'free';

/**
 * A provider's prices in USD, dated, with their source. Sizes in binary units as AWS bills them
 * (its own examples divide KB by 1,048,576 to get GB): 1 GB = 2^30 bytes.
 */
export interface PriceTable {
  name: string;
  /** The day the prices were read from the source. */
  asOf: string;
  source: string;
  /** USD per 1,000 requests. */
  classAPer1000: number;
  classBPer1000: number;
  classOf: Record<StoreOp, PriceClass>;
  storagePerGBMonth: number;
  /** USD per GB sent to the store (S3 Express One Zone's data upload charge). */
  uploadPerGB: number;
  /** USD per GB read from the store (S3 Express One Zone's data retrieval charge). */
  retrievalPerGB: number;
  /**
   * Bytes of each request that the upload and retrieval charges leave out: 512 KiB in S3 Express
   * One Zone's 2023 pricing, none since its April 2025 price change.
   */
  freeBytesPerRequest: 0 | 524288;
  /** USD per GB out to the internet (not charged within the region). */
  internetEgressPerGB: number;
}

/**
 * DELETE is free on S3. A batch delete (DeleteObjects) travels as a POST; we count it free like the
 * deletes it carries, an assumption the pricing page does not settle.
 */
const S3_CLASSES: Record<StoreOp, PriceClass> = {
  get: 'B',
  head: 'B',
  put: 'A',
  list: 'A',
  delete: 'free',
  deleteMany: 'free',
};

export const S3_STANDARD_US_EAST_1: PriceTable = {
  name: 'S3 Standard, US East (N. Virginia)',
  asOf: '2026-11-21',
  source:
    'Amazon S3 pricing page (aws.amazon.com/s3/pricing), "Storage & requests": first 50 TB/month $0.023 per GB; ' +
    'PUT, COPY, POST, LIST $0.005 per 1,000; GET, SELECT and all other $0.0004 per 1,000; DELETE free; ' +
    'data transfer out to the internet $0.09 per GB (first 10 TB/month)',
  classAPer1000: 0.005,
  classBPer1000: 0.0004,
  classOf: S3_CLASSES,
  storagePerGBMonth: 0.023,
  uploadPerGB: 0,
  retrievalPerGB: 0,
  freeBytesPerRequest: 0,
  internetEgressPerGB: 0.09,
};

export const S3_EXPRESS_ONE_ZONE_US_EAST_1: PriceTable = {
  name: 'S3 Express One Zone, US East (N. Virginia)',
  asOf: '2026-11-21',
  source:
    'Amazon S3 FAQs, "S3 Express One Zone" billing examples (prices after the April 2025 reduction): ' +
    'storage $0.11 per GB-month; PUT $0.00113 per 1,000; GET $0.00003 per 1,000; DELETE free; ' +
    'data upload $0.0032 per GB and data retrieval $0.0006 per GB, on every byte of every request',
  classAPer1000: 0.00113,
  classBPer1000: 0.00003,
  classOf: S3_CLASSES,
  storagePerGBMonth: 0.11,
  uploadPerGB: 0.0032,
  retrievalPerGB: 0.0006,
  freeBytesPerRequest: 0,
  internetEgressPerGB: 0.09,
};

/** The launch pricing (Nov 2023 to Apr 2025), kept because its 512 KB allowance changes which designs pay. */
export const S3_EXPRESS_ONE_ZONE_2023: PriceTable = {
  ...S3_EXPRESS_ONE_ZONE_US_EAST_1,
  name: 'S3 Express One Zone, US East (N. Virginia), launch pricing',
  asOf: '2023-11-28',
  source:
    'Amazon S3 pricing page at launch (re:Invent 2023): storage $0.16 per GB-month; PUT $0.0025 per 1,000; ' +
    'GET $0.0002 per 1,000; data upload $0.008 per GB and data retrieval $0.0015 per GB for the part of each ' +
    'request above 512 KB',
  classAPer1000: 0.0025,
  classBPer1000: 0.0002,
  storagePerGBMonth: 0.16,
  uploadPerGB: 0.008,
  retrievalPerGB: 0.0015,
  freeBytesPerRequest: 524288,
};

export const R2_STANDARD: PriceTable = {
  name: 'Cloudflare R2, Standard storage',
  asOf: '2026-11-21',
  source:
    'Cloudflare R2 pricing page (developers.cloudflare.com/r2/pricing): storage $0.015 per GB-month; ' +
    'Class A (PutObject, ListObjects, CopyObject, multipart...) $4.50 per million; Class B (GetObject, ' +
    'HeadObject) $0.36 per million; DeleteObject free; egress free. DeleteObjects is not listed: counted as ' +
    'Class A. Free tier (1M A, 10M B, 10 GB-month) not deducted',
  classAPer1000: 0.0045,
  classBPer1000: 0.00036,
  classOf: { get: 'B', head: 'B', put: 'A', list: 'A', delete: 'free', deleteMany: 'A' },
  storagePerGBMonth: 0.015,
  uploadPerGB: 0,
  retrievalPerGB: 0,
  freeBytesPerRequest: 0,
  internetEgressPerGB: 0,
};

export const PRICE_TABLES = {
  's3-standard': S3_STANDARD_US_EAST_1,
  's3-express': S3_EXPRESS_ONE_ZONE_US_EAST_1,
  's3-express-2023': S3_EXPRESS_ONE_ZONE_2023,
  r2: R2_STANDARD,
} as const;
