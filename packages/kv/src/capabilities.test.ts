import { directoryBucket } from '@bucketdb/store';
import { testBackendNames } from '@bucketdb/testkit';
import { describe, expect, it } from 'vitest';
import { allKeys, rejection, useBackend } from './fixtures/backend.js';
import { UnconditionalDeleteStore } from './fixtures/limited-stores.js';
import { FULL_CAPABILITIES, isKvError, open } from './index.js';

const T0 = Date.UTC(2030, 0, 1);

async function keysOf(iterable: AsyncIterable<{ key: string }>): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of iterable) out.push(entry.key);
  return out;
}

describe.each(testBackendNames())('store capabilities on %s', (backendName) => {
  const backend = useBackend(backendName);

  it('detects every capability on the backend itself, and leaves no probe behind', async () => {
    const store = await backend.newStore();
    await using kv = await open(store, { prefix: 'app' });
    expect(await kv.capabilities()).toEqual(FULL_CAPABILITIES);
    expect(await allKeys(store)).toEqual([]);
  });

  it('meets S3 Express directory-bucket semantics: unsorted LIST, no StartAfter, "/" prefixes', async () => {
    const store = directoryBucket(await backend.newStore());
    const clock = { now: T0 };
    await using kv = await open(store, { clock: () => clock.now });
    expect(await kv.capabilities()).toEqual({
      sortedList: false,
      startAfter: false,
      anyPrefix: false,
      conditionalDelete: true,
    });
    const keys = ['a/1', 'a/2', 'a/3', 'b/1', 'b/2', 'c'];
    for (const key of keys) await kv.put(key, key);
    await kv.put('a/0', 'gone soon', { ttlSeconds: 1 });
    await kv.put('b/9', 'later', { ttlSeconds: 3600 });
    clock.now = T0 + 2000;

    // Ordered scans fail loudly instead of returning keys out of order.
    const ordered = await rejection(keysOf(kv.scan()));
    expect(isKvError(ordered, 'Unsupported') && ordered.message).toMatch(/unsorted.*unordered: true/);
    // Unordered scans filter what the store cannot: prefix, start, end; expired entries hidden.
    const scan = (options: Parameters<typeof kv.scan>[0]) => keysOf(kv.scan({ ...options, unordered: true }));
    expect((await scan({})).sort()).toEqual([...keys, 'b/9'].sort());
    expect((await scan({ prefix: 'a/' })).sort()).toEqual(['a/1', 'a/2', 'a/3']);
    expect((await scan({ prefix: 'b', start: 'b/2', end: 'b/9' })).sort()).toEqual(['b/2']);
    expect((await scan({ values: true, prefix: 'a' })).sort()).toEqual(['a/1', 'a/2', 'a/3']);
    expect(await kv.count('a')).toBe(3);
    // Every marker is listed (no early stop), and only the expired entry goes.
    expect(await kv.sweep()).toEqual({ deleted: 1, markersRemoved: 1, markersKept: 0 });
    expect((await kv.get('b/9'))?.value).toBe('later');
  });

  it('refuses to sweep on a store that ignores If-Match on DELETE', async () => {
    const store = new UnconditionalDeleteStore(await backend.newStore());
    await using kv = await open(store);
    expect((await kv.capabilities()).conditionalDelete).toBe(false);
    await kv.put('k', 1, { ttlSeconds: 1 });
    const error = await rejection(kv.sweep());
    expect(isKvError(error, 'Unsupported') && error.message).toMatch(/ignores If-Match on DELETE/);
    // Given at open, no probe is sent.
    await using declared = await open(store, { capabilities: FULL_CAPABILITIES });
    expect(await declared.capabilities()).toEqual(FULL_CAPABILITIES);
  });
});
