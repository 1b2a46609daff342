import {
  latency,
  type LatencyProfile,
  MemoryStore,
  Meter,
  metered,
  type ObjectStore,
  VirtualClock,
} from '@bucketdb/store';
import { openTestBackend, type TestBackend, testBackendNames } from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventStore } from './event-store.js';
import { MAX_PROBES, pollCap } from './follow.js';
import type { RecordedEvent } from './types.js';

/** Takes `n` events from a subscription, then closes it. */
async function take(
  sub: AsyncIterable<RecordedEvent> & { close(): Promise<void> },
  n: number,
): Promise<RecordedEvent[]> {
  const out: RecordedEvent[] = [];
  if (n === 0) return out;
  for await (const e of sub) {
    out.push(e);
    if (out.length >= n) break;
  }
  await sub.close();
  return out;
}

const tags = (events: RecordedEvent[]) => events.map((e) => `${e.stream}@${e.revision}`);

describe.each(testBackendNames())('subscriptions on %s', (backendName) => {
  let backend: TestBackend;
  let store: ObjectStore;
  beforeAll(async () => {
    backend = await openTestBackend(backendName);
  });
  afterAll(async () => {
    await backend.close();
  });

  it('catches up on $all, then follows live appends, in order, from a saved position', async () => {
    store = await backend.newStore();
    const events = await EventStore.open(store, { prefix: 'p' });
    await events.append('a', [{ type: 'A' }, { type: 'A' }]);
    const saved = (await events.append('b', [{ type: 'B' }])).position;
    await events.append('a', [{ type: 'A' }]);
    const all = events.subscribeToAll({ pollMaxMs: 10 });
    const resumed = events.subscribeToAll({ from: saved, pollMaxMs: 10 });
    const typed = events.subscribeToAll({ filter: { streamPrefix: 'c' }, pollMaxMs: 10 });
    const reading = [take(all, 6), take(resumed, 3), take(typed, 2)];
    // Live appends from another client of the same store, while the subscriptions wait.
    const writer = await EventStore.open(store, { prefix: 'p' });
    await writer.append('c', [{ type: 'C' }]);
    await writer.append('c', [{ type: 'C' }]);
    const [a, r, t] = await Promise.all(reading);
    expect(tags(a as RecordedEvent[])).toEqual(['a@0', 'a@1', 'b@0', 'a@2', 'c@0', 'c@1']);
    expect(tags(r as RecordedEvent[])).toEqual(['a@2', 'c@0', 'c@1']);
    expect(tags(t as RecordedEvent[])).toEqual(['c@0', 'c@1']);
    await writer.close();
    await events.close();
  });

  it('follows one stream through its index, from a revision or from the end', async () => {
    store = await backend.newStore();
    const events = await EventStore.open(store, { prefix: 'p', checkpointEvery: 4 });
    for (let i = 0; i < 10; i++) await events.append(i % 2 ? 'odd' : 'even', [{ type: 'N', data: i }]);
    const fromStart = events.subscribeToStream('odd', { pollMaxMs: 10 });
    const fromTwo = events.subscribeToStream('odd', { from: 2, pollMaxMs: 10 });
    const fromEnd = events.subscribeToStream('odd', { from: 'end', pollMaxMs: 10 });
    const endReading = take(fromEnd, 1);
    await fromEnd.started;
    const reading = [take(fromStart, 6), take(fromTwo, 3), endReading];
    await events.append('odd', [{ type: 'N', data: 11 }]);
    const [s, two, end] = await Promise.all(reading);
    expect((s as RecordedEvent[]).map((e) => e.data)).toEqual([1, 3, 5, 7, 9, 11]);
    expect((two as RecordedEvent[]).map((e) => e.revision)).toEqual([3, 4, 5]);
    expect((end as RecordedEvent[]).map((e) => e.data)).toEqual([11]);
    await events.close();
  });
});

describe('subscription polling', () => {
  it('caps the poll wait at a quarter of the usual gap between records, growing back to the maximum in silence', () => {
    expect(pollCap(10, 200, undefined, undefined)).toBe(200);
    expect(pollCap(10, 200, 100, 30)).toBe(25);
    expect(pollCap(10, 200, 20, 5)).toBe(10);
    expect(pollCap(10, 200, 100, 500)).toBe(125);
    expect(pollCap(10, 200, 100, 5000)).toBe(200);
  });

  it('waits on the injected clock, backing off while idle, and delivers once the next slot fills', async () => {
    const clock = new VirtualClock();
    const store = new MemoryStore('poll');
    const events = await EventStore.open(store, { clock });
    const sub = events.subscribeToAll({ pollMinMs: 10, pollMaxMs: 80 });
    const reading = take(sub, 1);
    // Idle for a virtual second: the waits double to 80 ms, so about 16 polls, not 100.
    await clock.sleep(1000);
    const t0 = clock.now();
    await events.append('s', [{ type: 'Late' }]);
    const [got] = await reading;
    expect(got?.type).toBe('Late');
    expect(clock.now() - t0).toBeLessThanOrEqual(80);
    await events.close();
  });

  it('has a probe on its way when a record lands: found within the probe spacing plus one GET, not a GET and a wait later', async () => {
    // Every request takes exactly 40 ms (half on the way in: a PUT lands 20 ms after it starts).
    const fixed = { p50Ms: 40, p99Ms: 40 };
    const profile: LatencyProfile = {
      name: 'fixed-40ms',
      firstByte: { read: fixed, write: fixed, list: fixed },
      bytesPerSecond: 1e15,
    };
    const clock = new VirtualClock();
    const meter = new Meter();
    const store = metered(latency(new MemoryStore('probe'), profile, { clock }), meter);
    const writer = await EventStore.open(store, { clock });
    await writer.append('s', [{ type: 'Warm', data: -1 }]); // loads the writer's state: later appends are one PUT
    const reader = await EventStore.open(store, { clock });
    const sub = reader.subscribeToAll({ from: 'end', pollMinMs: 10, pollMaxMs: 10 });
    const landed: number[] = [];
    const delays: number[] = [];
    const reading = (async () => {
      for await (const e of sub) {
        delays.push(clock.now() - (landed[e.data as number] as number));
        if (delays.length === 30) break;
      }
    })();
    await sub.started;
    await clock.sleep(200); // past the catch-up LIST: live
    // Idle, the 10 ms waits do not pile up GETs: at most MAX_PROBES per 40 ms GET.
    meter.reset();
    await clock.sleep(1000);
    expect(meter.snapshot().requests.get).toBeLessThanOrEqual((1000 / 40) * MAX_PROBES + MAX_PROBES);
    for (let i = 0; i < 30; i++) {
      // Appends at every phase of the probe cycle.
      await clock.sleep(7 + ((i * 13) % 41));
      landed[i] = clock.now() + 20;
      await writer.append('s', [{ type: 'N', data: i }]);
    }
    await reading;
    // Two probes in flight, a new one 10 ms after the last start: a probe reaches the store at
    // least every 30 ms, and its answer takes 20 ms back. One probe at a time (a GET, then the
    // 10 ms wait) leaves 50 ms between probes: up to 70 ms.
    expect(Math.max(...delays)).toBeLessThan(50.001);
    await sub.close();
    await reader.close();
    await writer.close();
  });
});
