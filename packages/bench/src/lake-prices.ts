/**
 * Prices the lake benchmark compares against, dated and sourced. S3's own request and transfer
 * prices come from @bucketdb/store (PRICE_TABLES), which the meter prices requests with.
 */

/** Amazon Athena (SQL queries, Trino engine), us-east-1. */
export const ATHENA = {
  name: 'Amazon Athena, per TB scanned',
  asOf: '2026-05-01',
  source:
    'aws.amazon.com/athena/pricing: $5.00 per TB of data scanned, rounded up to the nearest megabyte, with a ' +
    '10 MB minimum per query; unchanged since launch and quoted so in 2020 (athena.guide, "Athena Basics: ' +
    'Pricing Model", 2020-10-15), by rcpedia.stanford.edu, and in May 2026 (awsnegotiations.com, "Athena ' +
    'Query Cost Reduction"). S3 requests and Glue catalog calls Athena makes are billed on top (not counted here).',
  perTB: 5,
  minimumBytes: 10 * 2 ** 20,
} as const;

/** Aurora Serverless v2 (Aurora Standard, PostgreSQL-compatible), us-east-1. */
export const AURORA_SERVERLESS_V2 = {
  name: 'Aurora Serverless v2, 0.5 ACU floor',
  asOf: '2026-05-01',
  source:
    'aws.amazon.com/rds/aurora/pricing: $0.12 per ACU-hour in us-east-1 (Aurora Standard), capacity in 0.5 ' +
    'ACU steps, as quoted in May 2026 by awsnegotiations.com ("Aurora Serverless v2 Pricing") and c3x.dev; ' +
    'scale-to-zero (0 ACU with auto-pause) exists since 2024-11-20 but resumes in seconds, so an always-' +
    'answering database is modelled at the 0.5 ACU floor; storage ($0.10/GB-month) and I/O not counted',
  perACUHour: 0.12,
  floorACU: 0.5,
} as const;

export const HOURS_PER_MONTH = 730;

/** What Athena bills for a query that scans `bytes`. */
export function athenaQueryUsd(bytes: number): number {
  const billed = Math.max(ATHENA.minimumBytes, Math.ceil(bytes / 2 ** 20) * 2 ** 20);
  return (billed / 2 ** 40) * ATHENA.perTB;
}

export function auroraFloorPerMonth(): number {
  return AURORA_SERVERLESS_V2.floorACU * AURORA_SERVERLESS_V2.perACUHour * HOURS_PER_MONTH;
}
