import { describe, expect, it } from 'vitest';
import { isStoreError } from '../../errors.js';
import { latency } from './latency.js';
import { VirtualClock } from '../../latency-clock.js';
import { LATENCY_PROFILES, type LatencyProfile, logNormalParameters, sampleLatencyMs } from './latency-profiles.js';
import { MemoryStore } from '../../backends/memory/memory-store.js';
import { seededRandom } from '../../random.js';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

describe('latency distributions', () => {
  it('derives mu and sigma of a log-normal from p50 and p99', () => {
    const { mu, sigma } = logNormalParameters({ p50Ms: 30, p99Ms: 200 });
    expect(mu).toBeCloseTo(Math.log(30), 12);
    expect(Math.exp(mu + 2.3263478740408408 * sigma)).toBeCloseTo(200, 9);
    expect(() => logNormalParameters({ p50Ms: 10, p99Ms: 5 })).toThrow(RangeError);
  });

  for (const [name, profile] of Object.entries(LATENCY_PROFILES)) {
    it(`reproduces the p50 and p99 of every request class of ${name} within 3%`, () => {
      for (const distribution of Object.values(profile.firstByte)) {
        const random = seededRandom(`percentiles/${name}`);
        const samples = Array.from({ length: 100_000 }, () => sampleLatencyMs(distribution, random)).sort(
          (a, b) => a - b,
        );
        expect(Math.abs(percentile(samples, 0.5) / distribution.p50Ms - 1)).toBeLessThan(0.03);
        expect(Math.abs(percentile(samples, 0.99) / distribution.p99Ms - 1)).toBeLessThan(0.03);
      }
    });
  }
});

describe('latency()', () => {
  it('delays each request by a sample drawn from the seed, plus transfer time for bodies', async () => {
    const clock = new VirtualClock();
    const profile = LATENCY_PROFILES['s3-standard'];
    const store = latency(new MemoryStore(), 's3-standard', { seed: 7, clock });
    const body = new Uint8Array(1 << 20);
    await store.put('k', body);
    const afterPut = clock.now();
    await store.get('k');
    const afterGet = clock.now();
    await store.head('k');

    // The same draws, in the same order, from the same seed.
    const random = seededRandom(7);
    const transfer = ((1 << 20) / profile.bytesPerSecond) * 1000;
    const put = sampleLatencyMs(profile.firstByte.write, random) + transfer;
    const get = sampleLatencyMs(profile.firstByte.read, random) + transfer;
    const head = sampleLatencyMs(profile.firstByte.read, random);
    expect(afterPut).toBeCloseTo(put, 9);
    expect(afterGet - afterPut).toBeCloseTo(get, 9);
    expect(clock.now() - afterGet).toBeCloseTo(head, 9);
  });

  it('overlaps concurrent requests instead of adding them up', async () => {
    const clock = new VirtualClock();
    const store = latency(new MemoryStore(), 's3-express', { seed: 1, clock });
    await Promise.all(Array.from({ length: 50 }, (_, i) => store.put(`k${i}`, 'v')));
    // 50 writes in a row would take at least 50 x the smallest sample; together they take one p99 or so.
    expect(clock.now()).toBeLessThan(3 * LATENCY_PROFILES['s3-express'].firstByte.write.p99Ms);
    expect((await store.inner.head('k49')).size).toBe(1);
  });

  it('throttles a burst above the per-prefix rate with ThrottledError, per prefix, and refills over time', async () => {
    const clock = new VirtualClock();
    const profile: LatencyProfile = {
      name: 'tiny',
      firstByte: { read: { p50Ms: 1, p99Ms: 1 }, write: { p50Ms: 1, p99Ms: 1 }, list: { p50Ms: 1, p99Ms: 1 } },
      bytesPerSecond: 1e9,
      rateLimit: { readsPerSecond: 20, writesPerSecond: 10 },
    };
    const store = latency(new MemoryStore(), profile, { clock, throttle: true });
    const burst = (prefix: string) =>
      Promise.allSettled(Array.from({ length: 15 }, (_, i) => store.put(`${prefix}/${i}`, 'v')));
    const first = await burst('a');
    const throttled = first.filter((r) => r.status === 'rejected' && isStoreError(r.reason, 'Throttled'));
    expect(throttled).toHaveLength(5);
    expect((await burst('b')).filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    await clock.sleep(1000);
    expect((await burst('a')).filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    // Reads have their own budget.
    expect(
      (await Promise.allSettled(Array.from({ length: 20 }, () => store.head('a/0')))).every(
        (r) => r.status === 'fulfilled',
      ),
    ).toBe(true);
  });
});
