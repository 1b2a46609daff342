import { describe, expect, it } from 'vitest';
import { bodyText } from '../../body.js';
import { chaos } from './chaos.js';
import { isStoreError } from '../../errors.js';
import { VirtualClock } from '../../latency-clock.js';
import { MemoryStore } from '../../backends/memory/memory-store.js';

/** A sequential workload; returns what each request answered and what the store holds afterwards. */
async function run(seed: string) {
  const inner = new MemoryStore();
  const store = chaos(inner, { seed, faults: { before: 0.2, after: 0.2 }, record: true });
  const answers: string[] = [];
  for (let i = 0; i < 200; i++) {
    const key = `k${i % 17}`;
    try {
      if (i % 3 === 0) await store.put(key, `v${i}`, { ifNoneMatch: '*' });
      else if (i % 3 === 1) await store.put(key, `v${i}`);
      else await store.delete(key);
      answers.push('ok');
    } catch (error) {
      answers.push(isStoreError(error) ? error.code : 'other');
    }
  }
  const state: string[] = [];
  for await (const entry of inner.list())
    if (entry.kind === 'object') state.push(`${entry.key}=${bodyText((await inner.get(entry.key)).body)}`);
  return { answers, state, events: store.events, counts: store.counts };
}

describe('chaos()', () => {
  it('replays exactly from its seed, and another seed gives other faults', async () => {
    const a = await run('seed-1');
    expect(await run('seed-1')).toEqual(a);
    expect(a.counts.before).toBeGreaterThan(10);
    expect(a.counts.after).toBeGreaterThan(10);
    expect((await run('seed-2')).events).not.toEqual(a.events);
  });

  it('fails "before" without touching the store', async () => {
    const inner = new MemoryStore();
    const store = chaos(inner, { faults: { before: 1 } });
    const error = await store.put('k', 'v').catch((e: unknown) => e);
    expect(isStoreError(error, 'Transient')).toBe(true);
    await expect(inner.head('k')).rejects.toThrow(/no object/);
  });

  it('fails "after" a write that really happened: Ambiguous when conditional, Transient otherwise', async () => {
    const inner = new MemoryStore();
    const store = chaos(inner, { ops: { put: { after: 1 }, delete: { after: 1 } } });
    const conditional = await store.put('a', 'one', { ifNoneMatch: '*' }).catch((e: unknown) => e);
    expect(isStoreError(conditional, 'AmbiguousWrite')).toBe(true);
    expect(bodyText((await inner.get('a')).body)).toBe('one');

    const { etag } = await inner.head('a');
    const cas = await store.put('a', 'two', { ifMatch: etag }).catch((e: unknown) => e);
    expect(isStoreError(cas, 'AmbiguousWrite')).toBe(true);
    expect(bodyText((await inner.get('a')).body)).toBe('two');

    const plain = await store.delete('a').catch((e: unknown) => e);
    expect(isStoreError(plain, 'Transient')).toBe(true);
    await expect(inner.head('a')).rejects.toThrow(/no object/);
    // Reads were left alone: ops override the defaults per operation.
    await inner.put('b', 'x');
    expect(bodyText((await store.get('b')).body)).toBe('x');
  });

  it("passes the store's own errors through untouched", async () => {
    const store = chaos(new MemoryStore(), { faults: { after: 1 } });
    const error = await store.get('missing').catch((e: unknown) => e);
    expect(isStoreError(error, 'NotFound')).toBe(true);
  });

  it('reorders completions of concurrent requests, reproducibly, and applies every write', async () => {
    const order = async (seed: string) => {
      const inner = new MemoryStore();
      const store = chaos(inner, { seed, faults: { reorder: 1 } });
      const done: number[] = [];
      await Promise.all(Array.from({ length: 20 }, (_, i) => store.put(`k${i}`, 'v').then(() => done.push(i))));
      let stored = 0;
      for await (const _ of inner.list()) stored++;
      expect(stored).toBe(20);
      return done;
    };
    const first = await order('r');
    expect(first).not.toEqual([...first].sort((a, b) => a - b));
    expect(await order('r')).toEqual(first);
    expect(await order('other')).not.toEqual(first);
  });

  it('adds delays drawn from the seed', async () => {
    const clock = new VirtualClock();
    const store = chaos(new MemoryStore(), { faults: { delay: 1 }, delayMs: { min: 10, max: 20 }, clock });
    await store.put('k', 'v');
    expect(clock.now()).toBeGreaterThanOrEqual(10);
    expect(clock.now()).toBeLessThanOrEqual(20);
  });

  it('rejects rates outside [0, 1]', () => {
    expect(() => chaos(new MemoryStore(), { faults: { before: 2 } })).toThrow(/\[0, 1\]/);
  });
});
