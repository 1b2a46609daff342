import { describe, expect, it } from 'vitest';
import { mapConcurrent, streamConcurrent } from './map-concurrent.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A task that records how many calls are in flight and finishes after `delays[i]` ticks. */
function tracked(delays: number[]) {
  const state = { inFlight: 0, most: 0, started: [] as number[] };
  const fn = async (item: number, index: number) => {
    state.started.push(index);
    state.most = Math.max(state.most, ++state.inFlight);
    for (let t = 0; t < (delays[index] ?? 0); t++) await tick();
    state.inFlight--;
    return item * 10;
  };
  return { state, fn };
}

describe('mapConcurrent', () => {
  it('keeps input order and at most `concurrency` calls in flight', async () => {
    const { state, fn } = tracked([5, 1, 3, 0, 2, 4]);
    expect(await mapConcurrent([1, 2, 3, 4, 5, 6], 2, fn)).toEqual([10, 20, 30, 40, 50, 60]);
    expect(state.most).toBe(2);
  });

  it('rejects a concurrency that is not a positive integer', async () => {
    await expect(mapConcurrent([1], 0, async (x) => x)).rejects.toThrow(/concurrency/);
  });
});

describe('streamConcurrent', () => {
  it('yields in input order with at most `concurrency` calls in flight', async () => {
    const { state, fn } = tracked([5, 1, 3, 0, 2, 4]);
    const out: number[] = [];
    for await (const value of streamConcurrent([1, 2, 3, 4, 5, 6], 3, fn)) out.push(value);
    expect(out).toEqual([10, 20, 30, 40, 50, 60]);
    expect(state.most).toBe(3);
  });

  it('starts nothing new once the consumer stops', async () => {
    const { state, fn } = tracked([0, 0, 0, 0, 0, 0, 0, 0]);
    for await (const value of streamConcurrent([1, 2, 3, 4, 5, 6, 7, 8], 2, fn)) {
      if (value === 20) break;
    }
    await tick();
    expect(state.started).toEqual([0, 1, 2]);
  });

  it("passes a call's failure to the consumer at its place in the order", async () => {
    const out: number[] = [];
    const run = async () => {
      for await (const value of streamConcurrent([1, 2, 3], 3, async (x) => {
        if (x === 2) throw new Error('two');
        return x;
      }))
        out.push(value);
    };
    await expect(run()).rejects.toThrow('two');
    expect(out).toEqual([1]);
  });
});
