import { testBackendNames } from '@bucketdb/testkit';
import { describe, expect, it } from 'vitest';
import { allKeys, useBackend } from './fixtures/backend.js';
import { RecordingStore } from './fixtures/recording-store.js';
import { open } from './index.js';

async function keysOf(iterable: AsyncIterable<{ key: string }>): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of iterable) out.push(entry.key);
  return out;
}

const T0 = Date.UTC(2030, 0, 1);

describe.each(testBackendNames())('TTL on %s', (backendName) => {
  const backend = useBackend(backendName);

  /** A KV store whose clock the test moves: expiry without sleeping. */
  async function clockedKv(store?: Awaited<ReturnType<typeof backend.newStore>>) {
    const clock = { now: T0 };
    const target = store ?? (await backend.newStore());
    const kv = await open(target, { clock: () => clock.now });
    return { kv, clock, store: target };
  }

  it('hides expired entries from get, scan and count, and treats them as absent', async () => {
    const { kv, clock } = await clockedKv();
    await kv.put('a', 'A', { ttlSeconds: 10 });
    await kv.put('b', 'B');
    await kv.put('c', 'C', { ttlSeconds: 20 });
    expect((await kv.get('a'))?.expiresAt?.getTime()).toBe(T0 + 10_000);
    expect(await keysOf(kv.scan())).toEqual(['a', 'b', 'c']);

    clock.now = T0 + 10_000; // expiry is inclusive
    expect(await kv.get('a')).toBeUndefined();
    expect(await keysOf(kv.scan())).toEqual(['b', 'c']);
    expect(await keysOf(kv.scan({ values: true }))).toEqual(['b', 'c']);
    expect(await kv.count()).toBe(2);
    expect((await kv.getMany(['a', 'b'])).map((e) => e?.value)).toEqual([undefined, 'B']);

    // Absent for ifAbsent and update, which replace the expired object.
    await kv.put('a', 'A2', { ifAbsent: true });
    expect(await kv.get('a')).toMatchObject({ value: 'A2' });
    expect((await kv.get('a'))?.expiresAt).toBeUndefined();
    clock.now = T0 + 20_000;
    expect(await kv.update('c', (v) => (v === undefined ? 'fresh' : 'stale'))).toMatchObject({ value: 'fresh' });
    await kv.close();
  });

  it('keeps a re-put entry visible past its old marker, and update keeps the expiry', async () => {
    const { kv, clock } = await clockedKv();
    await kv.put('k', 1, { ttlSeconds: 5 });
    await kv.put('k', 2); // no TTL now: the old marker is stale
    await kv.put('u', 1, { ttlSeconds: 30 });
    await kv.update('u', (n) => (n as number) + 1);
    clock.now = T0 + 10_000;
    expect(await keysOf(kv.scan())).toEqual(['k', 'u']);
    expect(await kv.get('u')).toMatchObject({ value: 2, expiresAt: new Date(T0 + 30_000) });
    clock.now = T0 + 30_000;
    expect(await keysOf(kv.scan())).toEqual(['k']);
    await kv.close();
  });

  it('sweep() deletes expired values and markers, and keeps stale markers through the grace period', async () => {
    const { kv, clock, store } = await clockedKv();
    await kv.put('gone', 'x', { ttlSeconds: 1 });
    await kv.put('kept', 'y', { ttlSeconds: 1 });
    await kv.put('kept', 'z'); // re-put without TTL
    await kv.put('later', 'w', { ttlSeconds: 3600 });
    clock.now = T0 + 2000;
    expect(await kv.sweep()).toEqual({ deleted: 1, markersRemoved: 1, markersKept: 1 });
    expect(await allKeys(store)).toEqual(
      [
        'd/!kept',
        'd/!later',
        'kv.json',
        kv.paths.ttlMarker(T0 + 1000, '!kept'),
        kv.paths.ttlMarker(T0 + 3_600_000, '!later'),
      ].sort(),
    );
    clock.now = T0 + 1000 + 600_000;
    expect(await kv.sweep()).toEqual({ deleted: 0, markersRemoved: 1, markersKept: 0 });
    clock.now = T0 + 3_600_000;
    expect(await kv.sweep({ graceSeconds: 0 })).toEqual({ deleted: 1, markersRemoved: 1, markersKept: 0 });
    expect(await allKeys(store)).toEqual(['d/!kept', 'kv.json']);
    expect(await kv.get('kept')).toMatchObject({ value: 'z' });
    await kv.close();
  });

  it('spreads TTL markers over several prefixes, and sweeps every one, legacy t/ markers included', async () => {
    const { kv, clock, store } = await clockedKv();
    const keys = Array.from({ length: 40 }, (_, i) => `user/${i}`);
    for (const key of keys) await kv.put(key, key, { ttlSeconds: 1 });
    const markers = (await allKeys(store)).filter((k) => k.startsWith('t'));
    expect(markers).toHaveLength(keys.length);
    const dirs = new Set(markers.map((k) => k.slice(0, k.indexOf('/') + 1)));
    expect(dirs.size).toBeGreaterThan(8);
    for (const dir of dirs) expect(kv.paths.ttlDirs).toContain(dir);
    // A marker written where markers lived before they were spread is still found.
    const moved = markers[0] as string;
    const legacy = `t/${moved.slice(moved.indexOf('/') + 1)}`;
    await store.put(legacy, new Uint8Array(0));
    await store.delete(moved);
    clock.now = T0 + 2000;
    expect(await kv.count()).toBe(0);
    expect(await kv.sweep()).toEqual({ deleted: keys.length, markersRemoved: keys.length, markersKept: 0 });
    expect(await allKeys(store)).toEqual(['kv.json']);
    await kv.close();
  });

  it('sweep() does not delete a value re-put between its check and its delete', async () => {
    const recording = new RecordingStore(await backend.newStore());
    const { kv, clock } = await clockedKv(recording);
    const other = await open(recording.inner);
    await kv.put('session', 'old', { ttlSeconds: 1 });
    clock.now = T0 + 5000;
    recording.beforeDelete = async (key, options) => {
      if (key === 'd/!session' && options.ifMatch) await other.put('session', 'renewed');
    };
    expect(await kv.sweep()).toEqual({ deleted: 0, markersRemoved: 0, markersKept: 1 });
    recording.beforeDelete = undefined;
    expect(await kv.get('session')).toMatchObject({ value: 'renewed' });
    // The next sweep sees the re-put value and, past the grace period, drops the marker.
    clock.now = T0 + 1000 + 600_000;
    expect(await kv.sweep()).toEqual({ deleted: 0, markersRemoved: 1, markersKept: 0 });
    expect(await kv.get('session')).toMatchObject({ value: 'renewed' });
    await kv.close();
  });
});
