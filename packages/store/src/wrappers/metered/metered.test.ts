import { describe, expect, it } from 'vitest';
import { bytesToStream } from '../../body.js';
import { isStoreError } from '../../errors.js';
import { MemoryStore } from '../../backends/memory/memory-store.js';
import { cost, Meter, metered } from './metered.js';
import {
  R2_STANDARD,
  S3_EXPRESS_ONE_ZONE_2023,
  S3_EXPRESS_ONE_ZONE_US_EAST_1,
  S3_STANDARD_US_EAST_1,
} from './prices.js';

const KiB = 1024;
const GB = 2 ** 30;

/** A workload whose counts are easy to work out by hand (see the comments). */
async function workload() {
  const store = metered(new MemoryStore());
  await store.put('small', new Uint8Array(10)); //           PUT 1, in 10
  await store.put('big', new Uint8Array(1024 * KiB)); //     PUT 2, in 1 MiB (512 KiB over)
  await store.put('streamed', bytesToStream(new Uint8Array(600 * KiB), 100 * KiB)); // PUT 3, in 600 KiB (88 over)
  await store.get('big'); //                                 GET 1, out 1 MiB (512 KiB over)
  await store.get('big', { range: { offset: 0, length: 100 } }); // GET 2, out 100
  await store.head('small'); //                              HEAD 1
  await store.get('missing').catch((e) => expect(isStoreError(e, 'NotFound')).toBe(true)); // GET 3, billed too
  for (let i = 0; i < 2500; i++) await store.inner.put(`many/${i}`, 'x'); // unmetered setup
  let listed = 0;
  for await (const _ of store.list({ prefix: 'many/' })) listed++; // LIST 1-3 (pages of 1000)
  expect(listed).toBe(2500);
  await store.delete('small'); //                            DELETE 1
  await store.deleteMany(Array.from({ length: 2500 }, (_, i) => `many/${i}`)); // 3 batch requests
  return store;
}

describe('metered', () => {
  it('counts requests by operation and body bytes in and out', async () => {
    const { meter } = await workload();
    expect(meter.snapshot()).toEqual({
      requests: { get: 3, head: 1, put: 3, delete: 1, deleteMany: 3, list: 3 },
      bytesIn: 10 + 1024 * KiB + 600 * KiB,
      bytesOut: 1024 * KiB + 100,
      bytesInOver512KiB: 512 * KiB + 88 * KiB,
      bytesOutOver512KiB: 512 * KiB,
    });
    meter.reset();
    expect(meter.snapshot().requests.get).toBe(0);
  });

  it('offers no in-memory shortcut around the body it counts', async () => {
    const store = metered(new MemoryStore());
    await store.put('k', 'hello');
    expect((await store.inner.getStream('k')).bytes).toBeDefined();
    const read = await store.getStream('k');
    expect(read.bytes).toBeUndefined();
    for await (const _ of read.body);
    expect(store.meter.snapshot().bytesOut).toBe(5);
  });

  it('prices the workload as worked out by hand for each table', async () => {
    const { meter } = await workload();
    const classA = 3 + 3; // puts and lists
    const classB = 3 + 1; // gets and head
    const inBytes = 10 + 1624 * KiB;
    const outBytes = 1024 * KiB + 100;

    const standard = cost(meter, S3_STANDARD_US_EAST_1, { storageGBMonths: 10 });
    expect(standard.requests).toBeCloseTo((classA * 0.005 + classB * 0.0004) / 1000, 12);
    expect(standard.transfer).toBe(0);
    expect(standard.storage).toBeCloseTo(0.23, 12);
    expect(standard.total).toBeCloseTo(standard.requests + 0.23, 12);
    expect(cost(meter, S3_STANDARD_US_EAST_1, { internetEgress: true }).transfer).toBeCloseTo(
      (outBytes / GB) * 0.09,
      12,
    );

    const express = cost(meter, S3_EXPRESS_ONE_ZONE_US_EAST_1);
    expect(express.requests).toBeCloseTo((classA * 0.00113 + classB * 0.00003) / 1000, 12);
    expect(express.transfer).toBeCloseTo((inBytes * 0.0032 + outBytes * 0.0006) / GB, 12);

    const launch = cost(meter, S3_EXPRESS_ONE_ZONE_2023);
    expect(launch.transfer).toBeCloseTo((600 * KiB * 0.008 + 512 * KiB * 0.0015) / GB, 12);

    // R2: lists are class A as on S3, a batch delete is class A, single deletes free.
    const r2 = cost(meter, R2_STANDARD, { internetEgress: true, storageGBMonths: 1 });
    expect(r2.requests).toBeCloseTo(((classA + 3) * 4.5 + classB * 0.36) / 1e6, 12);
    expect(r2.transfer).toBe(0);
    expect(r2.storage).toBeCloseTo(0.015, 12);
  });

  it('reproduces the S3 FAQ example for S3 Express One Zone ($2.58)', () => {
    const meter = new Meter();
    meter.request('put', 1_000_000);
    meter.request('get', 9_000_000);
    meter.request('delete', 1_000_000);
    for (let i = 0; i < 1_000_000; i++) meter.bytes('in', 0, 10 * KiB);
    for (let i = 0; i < 9_000_000; i++) meter.bytes('out', 0, 10 * KiB);
    const result = cost(meter, S3_EXPRESS_ONE_ZONE_US_EAST_1, { storageGBMonths: 10 });
    expect(result.total.toFixed(2)).toBe('2.58');
  });

  it('shares one meter between stores and counts failed requests', async () => {
    const meter = new Meter();
    const a = metered(new MemoryStore(), meter);
    const b = metered(new MemoryStore(), meter);
    await a.put('k', 'v', { ifNoneMatch: '*' });
    await expect(a.put('k', 'v', { ifNoneMatch: '*' })).rejects.toThrow(/precondition/);
    await b.head('k').catch(() => {});
    expect(meter.snapshot().requests).toMatchObject({ put: 2, head: 1 });
  });
});
