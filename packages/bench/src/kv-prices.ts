/**
 * Prices the KV benchmark compares against, dated and sourced. S3's own tables come from
 * @bucketdb/store (PRICE_TABLES), which the meter prices requests with.
 */

/** DynamoDB on-demand, Standard table class, US East (N. Virginia). */
export const DYNAMODB_ON_DEMAND = {
  name: 'DynamoDB on-demand (Standard table class, us-east-1)',
  asOf: '2026-11-21',
  source:
    'aws.amazon.com/dynamodb/pricing/on-demand/ (unit definitions: a write request unit writes up to 1 KB, a ' +
    'strongly consistent read of up to 4 KB takes one read request unit, an eventually consistent one half); ' +
    'prices as set by the 50% on-demand reduction of 1 Nov 2024 and quoted by secondary sources in 2025: ' +
    '$0.625 per million WRU, $0.125 per million RRU, storage $0.25 per GB-month after 25 GB free',
  perMillionWriteUnits: 0.625,
  perMillionReadUnits: 0.125,
  storagePerGBMonth: 0.25,
  /** DynamoDB bills 100 bytes of overhead per item on top of attribute names and values. */
  itemOverheadBytes: 100,
} as const;

/** A dedicated server for the Redis/PostgreSQL baseline: one instance, no replica. */
export const DEDICATED_SERVER = {
  name: 'one EC2 m7g.large (2 vCPU, 8 GiB) + 20 GB gp3, us-east-1',
  asOf: '2026-06-17',
  source:
    'EC2 on-demand Linux m7g.large $0.0816/hour in us-east-1 (June 2026, as quoted by factualminds.com, ' +
    '"Amazon EC2 On-Demand Pricing ... (2026)"); gp3 $0.08 per GB-month (EBS pricing page)',
  perMonth: 0.0816 * 730 + 20 * 0.08,
} as const;

/** Seconds in an average month (730 hours), as AWS's own monthly estimates use. */
export const SECONDS_PER_MONTH = 730 * 3600;

/** A DynamoDB item holding `keyBytes` of key (attribute "pk") and `valueBytes` of value (attribute "v"). */
export function dynamoItemBytes(keyBytes: number, valueBytes: number): number {
  return 'pk'.length + keyBytes + 'v'.length + valueBytes;
}

export function dynamoWriteUnits(itemBytes: number): number {
  return Math.ceil(itemBytes / 1024);
}

export function dynamoReadUnits(itemBytes: number, strong: boolean): number {
  const units = Math.ceil(itemBytes / 4096);
  return strong ? units : units / 2;
}

/** A monthly cost that grows linearly with the read rate: fixed + perRead × reads. */
export interface LinearCost {
  name: string;
  fixedPerMonth: number;
  perRead: number;
}

/** Reads per second above which `b` is cheaper than `a` (undefined if never, 0 if always). */
export function crossoverReadsPerSecond(a: LinearCost, b: LinearCost): number | undefined {
  if (b.fixedPerMonth <= a.fixedPerMonth && b.perRead <= a.perRead) return 0;
  if (b.perRead >= a.perRead) return undefined;
  return (b.fixedPerMonth - a.fixedPerMonth) / (a.perRead - b.perRead) / SECONDS_PER_MONTH;
}

export function monthlyCost(cost: LinearCost, readsPerSecond: number): number {
  return cost.fixedPerMonth + cost.perRead * readsPerSecond * SECONDS_PER_MONTH;
}
