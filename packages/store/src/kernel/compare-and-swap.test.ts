import { describe, expect, it } from 'vitest';
import { bodyText } from '../body.js';
import { chaos } from '../wrappers/chaos/chaos.js';
import { AmbiguousWriteError, isStoreError, ThrottledError } from '../errors.js';
import { md5Etag } from '../keys.js';
import { MemoryStore } from '../backends/memory/memory-store.js';
import type { ObjectStore } from '../object-store.js';
import { seededRandom } from '../random.js';
import { type StoreCall, WrappedStore } from '../wrappers/wrapped-store.js';
import {
  type CompareAndSwapOutcome,
  compareAndSwap,
  EPOCH_META,
  FencedError,
  PREV_WRITE_ID_META,
  WRITE_ID_META,
} from './compare-and-swap.js';
import { putResolved } from './put-resolved.js';

const noWait = { random: () => 0 };

/** Passes every request to `inner` except puts, which `onPut` performs (or not) with `run`. */
class ScriptedPuts extends WrappedStore {
  constructor(
    inner: ObjectStore,
    readonly onPut: (key: string, run: () => Promise<unknown>) => Promise<unknown>,
  ) {
    super(inner);
  }

  protected around<T>(call: StoreCall, run: () => Promise<T>): Promise<T> {
    return call.op === 'put' ? (this.onPut(call.key, run) as Promise<T>) : run();
  }
}

describe('compareAndSwap', () => {
  it('creates, swaps and reports conflicts with what the key holds', async () => {
    const store = new MemoryStore();
    const created = await compareAndSwap(store, 'k', 'one', { expected: null, ...noWait });
    expect(created.swapped).toBe(true);
    const again = await compareAndSwap(store, 'k', 'other', { expected: null, ...noWait });
    expect(again.swapped).toBe(false);
    expect(!again.swapped && again.current && bodyText(again.current.body)).toBe('one');

    const { etag } = await store.head('k');
    const swapped = await compareAndSwap(store, 'k', 'two', { expected: etag, metadata: { a: 'b' }, ...noWait });
    expect(swapped).toEqual({ swapped: true, etag: (await store.head('k')).etag });
    const stored = await store.get('k');
    expect(bodyText(stored.body)).toBe('two');
    expect(stored.metadata.a).toBe('b');
    expect(stored.metadata[WRITE_ID_META]).toMatch(/^[\w-]{16}$/);

    const stale = await compareAndSwap(store, 'k', 'three', { expected: etag, ...noWait });
    expect(stale.swapped).toBe(false);
    expect(!stale.swapped && stale.current?.etag).toBe(stored.etag);

    const gone = await compareAndSwap(store, 'missing', 'x', { expected: etag, ...noWait });
    expect(gone).toEqual({ swapped: false, current: undefined });
    await expect(store.head('missing')).rejects.toThrow(/no object/);
  });

  it('resolves a write that landed and then failed by reading its write id back', async () => {
    const inner = new MemoryStore();
    const store = chaos(inner, { ops: { put: { after: 1 } } });
    const created = await compareAndSwap(store, 'k', 'one', { expected: null, writeId: 'w1', ...noWait });
    expect(created).toEqual({ swapped: true, etag: (await inner.head('k')).etag });
    const { etag } = await inner.head('k');
    const swapped = await compareAndSwap(store, 'k', 'two', { expected: etag, writeId: 'w2', ...noWait });
    expect(swapped.swapped).toBe(true);
    const stored = await inner.get('k');
    expect(bodyText(stored.body)).toBe('two');
    expect(stored.metadata[WRITE_ID_META]).toBe('w2');
  });

  it('resolves by an id in the body when isOurs is given, and adds no metadata then', async () => {
    const inner = new MemoryStore();
    const store = chaos(inner, { ops: { put: { after: 1 } } });
    const outcome = await compareAndSwap(store, 'k', 'id=7', {
      expected: null,
      isOurs: (current) => bodyText(current.body) === 'id=7',
      ...noWait,
    });
    expect(outcome.swapped).toBe(true);
    expect((await inner.head('k')).metadata).toEqual({});
  });

  it('does not call an unknown outcome a failure when another writer replaced the key since', async () => {
    const inner = new MemoryStore();
    const { etag } = await inner.put('k', 'zero');
    // Our write lands, the answer is lost, and another writer swaps the key before we read it back.
    const store = new ScriptedPuts(inner, async (key, run) => {
      const result = (await run()) as { etag: string };
      await inner.put(key, 'theirs', { ifMatch: result.etag });
      throw new AmbiguousWriteError(key);
    });
    const error = await compareAndSwap(store, 'k', 'ours', { expected: etag, ...noWait }).catch((e: unknown) => e);
    expect(isStoreError(error, 'AmbiguousWrite')).toBe(true);
  });

  it('decides by the previous write id when another writer replaced the key after an unknown outcome', async () => {
    // Ours lands, the answer is lost, and a writer that read ours replaces it: ours landed.
    const inner = new MemoryStore();
    const zero = await inner.put('k', 'zero', { metadata: { [WRITE_ID_META]: 'w0' } });
    const landedThenReplaced = new ScriptedPuts(inner, async (key, run) => {
      const result = (await run()) as { etag: string };
      await inner.put(key, 'theirs', {
        ifMatch: result.etag,
        metadata: { [WRITE_ID_META]: 'w2', [PREV_WRITE_ID_META]: 'w1' },
      });
      throw new AmbiguousWriteError(key);
    });
    const superseded = await compareAndSwap(landedThenReplaced, 'k', 'ours', {
      expected: zero.etag,
      writeId: 'w1',
      previousWriteId: 'w0',
      ...noWait,
    });
    expect(superseded).toMatchObject({ swapped: true, superseded: true });
    expect(superseded.swapped && superseded.etag).not.toBe((await inner.head('k')).etag);

    // Ours is lost before reaching the store, and another writer replaces the object we were
    // replacing: ours, conditional on that object, cannot have landed.
    const other = new MemoryStore();
    const base = await other.put('k', 'zero', { metadata: { [WRITE_ID_META]: 'w0' } });
    const lostThenRaced = new ScriptedPuts(other, async (key) => {
      await other.put(key, 'theirs', {
        ifMatch: base.etag,
        metadata: { [WRITE_ID_META]: 'w3', [PREV_WRITE_ID_META]: 'w0' },
      });
      throw new AmbiguousWriteError(key);
    });
    const lost = await compareAndSwap(lostThenRaced, 'k', 'ours', {
      expected: base.etag,
      writeId: 'w1',
      previousWriteId: 'w0',
      ...noWait,
    });
    expect(lost.swapped).toBe(false);
    expect(!lost.swapped && lost.current && bodyText(lost.current.body)).toBe('theirs');
    // The previous write id is stored with the write.
    const plain = await compareAndSwap(other, 'k', 'next', {
      expected: (await other.head('k')).etag,
      previousWriteId: 'w3',
      ...noWait,
    });
    expect(plain.swapped).toBe(true);
    expect((await other.head('k')).metadata[PREV_WRITE_ID_META]).toBe('w3');
  });

  it('writes again when a lost write left the key unchanged, and the write lands once', async () => {
    const inner = new MemoryStore();
    const { etag } = await inner.put('k', 'zero');
    let puts = 0;
    const store = new ScriptedPuts(inner, async (key, run) => {
      if (++puts === 1) throw new AmbiguousWriteError(key); // never reached the store
      return run();
    });
    const outcome = await compareAndSwap(store, 'k', 'one', { expected: etag, ...noWait });
    expect(outcome.swapped).toBe(true);
    expect(puts).toBe(2);
    expect(bodyText((await inner.get('k')).body)).toBe('one');
  });

  it('fences a writer whose conflict comes from a newer epoch', async () => {
    const store = new MemoryStore();
    const first = await compareAndSwap(store, 'lease', 'a', { expected: null, epoch: 5, ...noWait });
    expect(first.swapped).toBe(true);
    expect((await store.head('lease')).metadata[EPOCH_META]).toBe('5');
    const fenced = await compareAndSwap(store, 'lease', 'b', { expected: null, epoch: 4, ...noWait }).catch(
      (e: unknown) => e,
    );
    expect(fenced).toBeInstanceOf(FencedError);
    expect(fenced).toMatchObject({ code: 'Fenced', epoch: 4, newerEpoch: 5, key: 'lease' });
    // Same or newer epoch: an ordinary conflict the caller may retry.
    const conflict = await compareAndSwap(store, 'lease', 'c', { expected: null, epoch: 6, ...noWait });
    expect(conflict.swapped).toBe(false);
    expect(bodyText((await store.get('lease')).body)).toBe('a');
  });

  it('writes nothing once its signal has aborted, and calls a possibly landed write unknown', async () => {
    const store = new MemoryStore();
    const reason = new Error('stop');
    await expect(compareAndSwap(store, 'k', 'v', { expected: null, signal: AbortSignal.abort(reason) })).rejects.toBe(
      reason,
    );
    await expect(store.head('k')).rejects.toThrow(/no object/);
    const controller = new AbortController();
    const lossy = new ScriptedPuts(store, async (key, run) => {
      await run();
      controller.abort(reason);
      throw new AmbiguousWriteError(key);
    });
    const error = await compareAndSwap(lossy, 'k', 'v', { expected: null, signal: controller.signal, ...noWait }).catch(
      (e: unknown) => e,
    );
    expect(isStoreError(error, 'AmbiguousWrite')).toBe(true);
  });

  it('rejects bad arguments', async () => {
    const store = new MemoryStore();
    await expect(compareAndSwap(store, 'k', 'v', { expected: null, maxAttempts: 0 })).rejects.toThrow(/maxAttempts/);
    await expect(compareAndSwap(store, 'k', 'v', { expected: null, epoch: -1 })).rejects.toThrow(/epoch/);
  });
});

/** The shape of compareAndSwap, so that the checker can also be pointed at a broken one. */
type Cas = (store: ObjectStore, key: string, body: string, expected: string | null) => Promise<CompareAndSwapOutcome>;

/**
 * Writers append their operation ids to a list held in one key, each by read + compare-and-swap,
 * through a store that fails requests before and after they take effect and reorders answers.
 * Returns the violations of exactly-once: an operation reported applied must be in the final list
 * once; one reported not applied (every try lost) must be absent; one whose outcome was reported
 * unknown may be there at most once.
 */
async function exactlyOnceViolations(seed: string, cas: Cas): Promise<string[]> {
  const inner = new MemoryStore();
  const store = chaos(inner, { seed, faults: { before: 0.15, after: 0.15, reorder: 0.3 } });
  const random = seededRandom(seed);
  const reported = new Map<string, 'applied' | 'lost' | 'unknown'>();
  const writer = async (w: number) => {
    for (let op = 0; op < 6; op++) {
      const id = `w${w}.${op}`;
      let outcome: 'applied' | 'lost' | 'unknown' = 'lost';
      for (let attempt = 0; attempt < 20 && outcome === 'lost'; attempt++) {
        const current = await inner.get('list').catch(() => undefined);
        const list = current ? (JSON.parse(bodyText(current.body)) as string[]) : [];
        try {
          const result = await cas(store, 'list', JSON.stringify([...list, id]), current?.etag ?? null);
          if (result.swapped) outcome = 'applied';
        } catch (error) {
          if (isStoreError(error, 'AmbiguousWrite')) outcome = 'unknown';
          else if (!isStoreError(error) || !error.retryable) throw error;
        }
        if (random.next() < 0.5) await new Promise((resolve) => setImmediate(resolve));
      }
      reported.set(id, outcome);
    }
  };
  await Promise.all([0, 1, 2, 3].map(writer));
  const final = JSON.parse(bodyText((await inner.get('list')).body)) as string[];
  const violations: string[] = [];
  for (const [id, outcome] of reported) {
    const times = final.filter((x) => x === id).length;
    if (outcome === 'applied' && times !== 1) violations.push(`${id} reported applied, found ${times} times`);
    if (outcome === 'lost' && times !== 0) violations.push(`${id} reported lost, found ${times} times`);
    if (outcome === 'unknown' && times > 1) violations.push(`${id} reported unknown, found ${times} times`);
  }
  return violations;
}

describe('compareAndSwap under injected faults (randomized checker)', () => {
  const seeds = Array.from({ length: 25 }, (_, i) => `cas-${i}`);
  const real: Cas = (store, key, body, expected) =>
    compareAndSwap(store, key, body, { expected, random: seededRandom(key).next });

  it('applies every write it reports applied exactly once, and none it reports lost', async () => {
    for (const seed of seeds) expect(await exactlyOnceViolations(seed, real), seed).toEqual([]);
  }, 60_000);

  it('catches a compare-and-swap that calls an unknown outcome a failure', async () => {
    const naive: Cas = async (store, key, body, expected) => {
      try {
        const { etag } = await store.put(key, body, expected === null ? { ifNoneMatch: '*' } : { ifMatch: expected });
        return { swapped: true, etag };
      } catch (error) {
        if (isStoreError(error, 'AmbiguousWrite') || isStoreError(error, 'PreconditionFailed')) {
          return { swapped: false, current: undefined };
        }
        throw error;
      }
    };
    const found: string[] = [];
    for (const seed of seeds) found.push(...(await exactlyOnceViolations(seed, naive)));
    expect(found.length).toBeGreaterThan(0);
  }, 60_000);

  it('catches a compare-and-swap that wrongly assumes the key is never replaced', async () => {
    const immutable: Cas = (store, key, body, expected) =>
      compareAndSwap(store, key, body, { expected, immutable: true, random: seededRandom(key).next });
    const found: string[] = [];
    for (const seed of seeds) found.push(...(await exactlyOnceViolations(seed, immutable)));
    expect(found.length).toBeGreaterThan(0);
  }, 60_000);
});

describe('putResolved', () => {
  const body = new TextEncoder().encode('value');

  it('settles a write that landed and lost its answer by its write id, sending it once', async () => {
    const inner = new MemoryStore();
    let puts = 0;
    const store = new ScriptedPuts(inner, async (_key, run) => {
      puts++;
      await run();
      throw new AmbiguousWriteError('k');
    });
    const outcome = await putResolved(store, 'k', body, { writeId: 'w1', ...noWait });
    expect(outcome).toEqual({ etag: (await inner.head('k')).etag });
    expect(puts).toBe(1);
  });

  it('knows ours landed when a later write recorded it as the one it replaced', async () => {
    const inner = new MemoryStore();
    const store = new ScriptedPuts(inner, async (key, run) => {
      await run();
      await inner.put(key, 'later', { metadata: { [PREV_WRITE_ID_META]: 'w1', [WRITE_ID_META]: 'w2' } });
      throw new AmbiguousWriteError(key);
    });
    const outcome = await putResolved(store, 'k', body, { writeId: 'w1', ...noWait });
    expect(outcome).toEqual({ etag: md5Etag(body), superseded: true });
  });

  it('reports an outcome nothing decides as unknown, and resends only after throttling', async () => {
    const inner = new MemoryStore();
    await inner.put('k', 'other', { metadata: { [WRITE_ID_META]: 'someone' } });
    const lost = new ScriptedPuts(inner, async (key) => {
      throw new AmbiguousWriteError(key);
    });
    await expect(putResolved(lost, 'k', body, { writeId: 'w1', ...noWait })).rejects.toBeInstanceOf(
      AmbiguousWriteError,
    );
    let puts = 0;
    const throttled = new ScriptedPuts(inner, async (_key, run) => {
      if (++puts < 3) throw new ThrottledError();
      return run();
    });
    await putResolved(throttled, 'k', body, { writeId: 'w3', ...noWait });
    expect(puts).toBe(3);
    expect((await inner.head('k')).metadata[WRITE_ID_META]).toBe('w3');
  });
});
