import { MULTIPART_LIMITS } from '@bucketdb/store';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PART_SIZE, downloadPartSize, MAX_UPLOAD_PART_SIZE, planParts } from './part-plan.js';

const MiB = 1 << 20;
const GiB = 1024 * MiB;

describe('planParts', () => {
  it('uploads up to 512 MiB in 8 MiB parts, larger files in about 64 parts of at most 16 MiB', () => {
    expect(planParts(100 * MiB, {}, true).partSize).toBe(DEFAULT_PART_SIZE);
    expect(planParts(512 * MiB, {}, true).partSize).toBe(DEFAULT_PART_SIZE);
    expect(planParts(768 * MiB, {}, true)).toEqual({ partSize: 12 * MiB, parts: 64, concurrency: 8 });
    expect(planParts(GiB, {}, true)).toEqual({ partSize: 16 * MiB, parts: 64, concurrency: 8 });
    expect(planParts(50 * GiB, {}, true).partSize).toBe(MAX_UPLOAD_PART_SIZE);
  });

  it('keeps a part size the caller chose, and reads in the default size', () => {
    expect(planParts(GiB, { partSize: 5 * MiB }, true).partSize).toBe(5 * MiB);
    expect(planParts(GiB).partSize).toBe(DEFAULT_PART_SIZE);
    expect(planParts(Number.MAX_SAFE_INTEGER).partSize).toBe(DEFAULT_PART_SIZE);
  });

  it('raises the part size when an upload would need more than 10,000 parts', () => {
    const plan = planParts(200 * GiB, {}, true);
    expect(plan.parts).toBeLessThanOrEqual(MULTIPART_LIMITS.maxParts);
    expect(plan.partSize).toBeGreaterThan(MAX_UPLOAD_PART_SIZE);
    expect(planParts(6 * MiB, { partSize: MiB }, true).partSize).toBe(MULTIPART_LIMITS.minPartSize);
  });

  it('refuses a bad concurrency or part size', () => {
    expect(() => planParts(GiB, { concurrency: 0 })).toThrow(/concurrency/);
    expect(() => planParts(GiB, { partSize: 0 })).toThrow(/part size/);
  });
});

describe('downloadPartSize', () => {
  it('spreads the rest over the connections, between the first part and 32 MiB', () => {
    expect(downloadPartSize(24 * MiB, 8 * MiB, 8)).toBe(8 * MiB);
    expect(downloadPartSize(248 * MiB, 8 * MiB, 8)).toBe(31 * MiB);
    expect(downloadPartSize(GiB, 8 * MiB, 8)).toBe(32 * MiB);
  });
});
