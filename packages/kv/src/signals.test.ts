import { MemoryStore } from '@bucketdb/store';
import { describe, expect, it } from 'vitest';
import { allKeys, rejection } from './fixtures/backend.js';
import { RecordingStore } from './fixtures/recording-store.js';
import { isLeaseError, open } from './index.js';

const stop = new Error('stopped by the caller');

describe('AbortSignal on the long operations', () => {
  it('an aborted signal stops scan, count, getMany, putMany, deleteMany, sweep and update before they write', async () => {
    const store = new RecordingStore(new MemoryStore());
    await using kv = await open(store);
    await kv.put('a', 1);
    await kv.capabilities();
    const before = await allKeys(store);
    store.reset();
    const signal = AbortSignal.abort(stop);
    const scanned = async () => {
      for await (const _ of kv.scan({ signal })) return;
    };
    const outcomes = await Promise.allSettled([
      scanned(),
      kv.count('', { signal }),
      kv.getMany(['a', 'b'], { signal }),
      kv.putMany([{ key: 'b', value: 2 }], { signal }),
      kv.deleteMany(['a'], { signal }),
      kv.sweep({ signal }),
      kv.update('a', () => 2, { signal }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(Array(7).fill('rejected'));
    expect(store.reset().requests.put + store.reset().requests.delete).toBe(0);
    expect(await allKeys(store)).toEqual(before);
    expect((await kv.get('a'))?.value).toBe(1);
  });

  it('stops update retrying once aborted', async () => {
    await using kv = await open(new MemoryStore());
    await kv.put('n', 0);
    const controller = new AbortController();
    let calls = 0;
    const error = await rejection(
      kv.update(
        'n',
        async (n) => {
          calls++;
          // Another writer gets in first every time: the update would retry 50 times.
          await kv.put('n', 100 + calls);
          if (calls === 3) controller.abort(stop);
          return (n as number) + 1;
        },
        { signal: controller.signal },
      ),
    );
    expect(error).toBe(stop);
    expect(calls).toBe(3);
    expect((await kv.get('n'))?.value).toBe(103);
  });

  it('acquire waits for a held lease when asked to, and its signal ends the wait', async () => {
    const store = new MemoryStore();
    await using a = await open(store);
    await using b = await open(store);
    const held = await a.acquire('job', { ttlSeconds: 60 });
    expect(isLeaseError(await rejection(b.acquire('job', { ttlSeconds: 60 })), 'LeaseHeld')).toBe(true);

    const waiting = b.acquire('job', { ttlSeconds: 60, waitSeconds: 60 });
    await a.release(held);
    const granted = await waiting;
    expect(granted.fencingToken).toBe(held.fencingToken + 1);

    const controller = new AbortController();
    const blocked = b.acquire('job', { ttlSeconds: 60, waitSeconds: 600, signal: controller.signal });
    controller.abort(stop);
    expect(await rejection(blocked)).toBe(stop);
    expect(isLeaseError(await rejection(a.acquire('job', { ttlSeconds: 1, waitSeconds: 0 })), 'LeaseHeld')).toBe(true);
  });
});
