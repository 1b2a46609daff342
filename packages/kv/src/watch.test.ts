import { testBackendNames } from '@bucketdb/testkit';
import { describe, expect, it } from 'vitest';
import { useBackend } from './fixtures/backend.js';
import { RecordingStore } from './fixtures/recording-store.js';
import { isKvError, type KvChange, type KvValue, open } from './index.js';

const T0 = Date.UTC(2030, 0, 1);

/** Pulls `n` changes from a watch, as `put key=value` / `delete key` lines. */
async function take(changes: AsyncIterator<KvChange<KvValue>>, n: number): Promise<string[]> {
  const out: string[] = [];
  while (out.length < n) {
    const next = await changes.next();
    if (next.done) throw new Error(`the watch ended after ${out.length} of ${n} changes`);
    const c = next.value;
    out.push(c.type === 'put' ? `put ${c.key}=${JSON.stringify(c.entry.value)}` : `delete ${c.key}`);
  }
  return out;
}

describe.each(testBackendNames())('watch on %s', (backendName) => {
  const backend = useBackend(backendName);

  it('reports a key as it is, then each change, with conditional GETs while nothing changes', async () => {
    const store = new RecordingStore(await backend.newStore());
    const clock = { now: T0 };
    await using kv = await open(store, { clock: () => clock.now });
    await kv.put('k', 1);
    const abort = new AbortController();
    const changes = kv.watch({ key: 'k' }, { intervalMs: 1, signal: abort.signal })[Symbol.asyncIterator]();
    expect(await take(changes, 1)).toEqual(['put k=1']);
    await kv.put('k', 2);
    expect(await take(changes, 1)).toEqual(['put k=2']);
    // Same value, new write: a new version, reported.
    await kv.put('k', 2);
    expect(await take(changes, 1)).toEqual(['put k=2']);
    store.reset();
    await kv.delete('k');
    expect(await take(changes, 1)).toEqual(['delete k']);
    await kv.put('k', 'short', { ttlSeconds: 5 });
    expect(await take(changes, 1)).toEqual(['put k="short"']);
    store.reset();
    clock.now = T0 + 5000; // expiry is a deletion for the watcher too
    expect(await take(changes, 1)).toEqual(['delete k']);
    // The poll that saw it expire was a conditional GET answered 304, without a body.
    const quiet = store.reset();
    expect(quiet.notModified).toBeGreaterThan(0);
    expect(quiet.bytesIn).toBe(0);
    abort.abort();
    expect((await changes.next()).done).toBe(true);
  });

  it('reports a prefix: what exists, then puts, changes, deletes and expiries under it only', async () => {
    const clock = { now: T0 };
    await using kv = await open(await backend.newStore(), { clock: () => clock.now });
    await kv.put('a/1', 1);
    await kv.put('a/2', 2);
    await kv.put('b/1', 'elsewhere');
    const abort = new AbortController();
    const changes = kv.watch({ prefix: 'a/' }, { intervalMs: 1, signal: abort.signal })[Symbol.asyncIterator]();
    expect((await take(changes, 2)).sort()).toEqual(['put a/1=1', 'put a/2=2']);
    await kv.put('b/2', 'elsewhere');
    await kv.put('a/3', 3, { ttlSeconds: 10 });
    await kv.update('a/1', (n) => (n as number) + 10);
    await kv.delete('a/2');
    expect((await take(changes, 3)).sort()).toEqual(['delete a/2', 'put a/1=11', 'put a/3=3']);
    clock.now = T0 + 10_000;
    expect(await take(changes, 1)).toEqual(['delete a/3']);
    abort.abort();
    expect((await changes.next()).done).toBe(true);
  });

  it('refuses a bad interval and a bad key before any request', async () => {
    const store = new RecordingStore(await backend.newStore());
    await using kv = await open(store);
    store.reset();
    const first = async (target: Parameters<typeof kv.watch>[0], options = {}) => {
      const changes = kv.watch(target, options)[Symbol.asyncIterator]();
      return changes.next().then(
        () => undefined,
        (error: unknown) => error,
      );
    };
    expect(isKvError(await first({ key: 'k' }, { intervalMs: -1 }), 'InvalidArgument')).toBe(true);
    expect(isKvError(await first({ key: '' }), 'InvalidKey')).toBe(true);
    expect(Object.values(store.reset().requests).reduce((a, b) => a + b)).toBe(0);
  });
});
