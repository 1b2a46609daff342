import { testBackendNames } from '@bucketdb/testkit';
import { describe, expect, it } from 'vitest';
import { useBackend } from './fixtures/backend.js';
import { RecordingStore } from './fixtures/recording-store.js';
import { open } from './index.js';
import { WRITE_ID_CHARS } from './write-id.js';

describe.each(testBackendNames())('value cache on %s', (backendName) => {
  const backend = useBackend(backendName);

  it('revalidates a hit with one conditional GET that transfers no body', async () => {
    const recording = new RecordingStore(await backend.newStore());
    const clock = { now: Date.UTC(2030, 0, 1) };
    await using kv = await open(recording, { cache: { maxEntries: 100 }, clock: () => clock.now });
    await using writer = await open(recording.inner); // another client, no cache
    const big = 'x'.repeat(10_000);
    await kv.put('k', big, { ttlSeconds: 60 });
    recording.reset();

    expect((await kv.get('k'))?.value).toBe(big);
    expect(recording.reset()).toMatchObject({ requests: { get: 1 }, notModified: 1, bytesIn: 0 });

    // A change by another client is seen at the next read, body and all.
    await writer.put('k', 'changed');
    expect((await kv.get('k'))?.value).toBe('changed');
    expect(recording.reset()).toMatchObject({ requests: { get: 1 }, notModified: 0, bytesIn: 7 + WRITE_ID_CHARS });
    expect((await kv.get('k'))?.value).toBe('changed');
    expect(recording.reset()).toMatchObject({ notModified: 1, bytesIn: 0 });

    // So is a delete.
    await writer.delete('k');
    expect(await kv.get('k')).toBeUndefined();
  });

  it('hands out copies: mutating a returned value does not change the cache', async () => {
    await using kv = await open(await backend.newStore(), { cache: true });
    await kv.put('b', new Uint8Array([1, 2, 3]));
    const first = (await kv.get('b'))?.value as Uint8Array;
    first[0] = 99;
    expect((await kv.get('b'))?.value).toEqual(new Uint8Array([1, 2, 3]));
    await kv.put('j', { list: [1] });
    const json = (await kv.get('j'))?.value as { list: number[] };
    json.list.push(2);
    expect((await kv.get('j'))?.value).toEqual({ list: [1] });
  });

  it('refetches whole an entry cached past its expiry', async () => {
    const recording = new RecordingStore(await backend.newStore());
    const clock = { now: Date.UTC(2030, 0, 1) };
    await using kv = await open(recording, { cache: true, clock: () => clock.now });
    await using writer = await open(recording.inner, { clock: () => clock.now });
    await kv.put('s', 'same', { ttlSeconds: 1 });
    clock.now += 2000;
    await writer.put('s', 'same', { ttlSeconds: 60 }); // identical value (its own ETag all the same)
    recording.reset();
    expect(await kv.get('s')).toMatchObject({ value: 'same', expiresAt: new Date(clock.now + 60_000) });
    expect(recording.reset()).toMatchObject({ notModified: 0, bytesIn: 4 + WRITE_ID_CHARS });
  });
});
