import { describe, expect, it } from 'vitest';
import { seededRandom } from './random.js';

const take = (seed: number | string, n: number) => {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => random.next());
};

describe('seededRandom', () => {
  it('replays the same sequence from the same seed and a different one from another seed', () => {
    expect(take(42, 100)).toEqual(take(42, 100));
    expect(take('run-a', 100)).toEqual(take('run-a', 100));
    expect(take(42, 100)).not.toEqual(take(43, 100));
    expect(seededRandom(1).fork('x').next()).toBe(seededRandom(1).fork('x').next());
    expect(seededRandom(1).fork('x').next()).not.toBe(seededRandom(1).fork('y').next());
  });

  it('is uniform in [0, 1) and its normals have mean 0 and variance 1', () => {
    const random = seededRandom('stats');
    const n = 200_000;
    const buckets = new Array<number>(10).fill(0);
    let sum = 0;
    let sumSq = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const u = random.next();
      if (!(u >= 0 && u < 1)) outside++;
      buckets[Math.floor(u * 10)]!++;
      const z = random.normal();
      sum += z;
      sumSq += z * z;
    }
    expect(outside).toBe(0);
    for (const count of buckets) expect(Math.abs(count - n / 10)).toBeLessThan(n / 10 / 20);
    expect(Math.abs(sum / n)).toBeLessThan(0.01);
    expect(Math.abs(sumSq / n - 1)).toBeLessThan(0.02);
    for (let i = 0; i < 1000; i++) expect(random.int(7)).toBeLessThan(7);
  });
});
