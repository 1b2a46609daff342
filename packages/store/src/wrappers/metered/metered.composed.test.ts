import { describeStoreConformance } from '../../conformance/index.js';
import { describe, expect, it } from 'vitest';
import { chaos } from '../chaos/chaos.js';
import { isStoreError } from '../../errors.js';
import { latency } from '../latency/latency.js';
import { VirtualClock } from '../../latency-clock.js';
import { MemoryStore } from '../../backends/memory/memory-store.js';
import { metered } from './metered.js';

// The three wrappers stacked keep the contract: the whole conformance suite passes through them,
// with latency on virtual time and chaos delaying and reordering (but not failing) requests.
describeStoreConformance('metered(latency(chaos(MemoryStore)))', async () => {
  const clock = new VirtualClock();
  const faulty = chaos(new MemoryStore(), { seed: 'conformance', faults: { delay: 0.3, reorder: 0.5 }, clock });
  return metered(latency(faulty, 's3-express', { seed: 'conformance', clock }));
});

describe('composed wrappers', () => {
  it('meter every request, including those chaos failed, and keep the inner store consistent', async () => {
    const inner = new MemoryStore();
    const faulty = chaos(inner, { seed: 3, faults: { before: 0.3, after: 0.3 } });
    const store = metered(latency(faulty, 's3-standard', { seed: 3, clock: new VirtualClock() }));
    let ok = 0;
    let failed = 0;
    for (let i = 0; i < 100; i++) {
      try {
        await store.put(`k${i}`, 'v', { ifNoneMatch: '*' });
        ok++;
      } catch (error) {
        expect(isStoreError(error, 'Transient') || isStoreError(error, 'AmbiguousWrite')).toBe(true);
        failed++;
      }
    }
    expect(store.meter.snapshot().requests.put).toBe(100);
    expect(failed).toBe(faulty.counts.before + faulty.counts.after);
    let stored = 0;
    for await (const _ of inner.list()) stored++;
    // Every success and every "after" failure left its object; "before" failures did not.
    expect(stored).toBe(ok + faulty.counts.after);
  });
});
