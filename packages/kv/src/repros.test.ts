import { testBackendNames } from '@bucketdb/testkit';
import { describe, expect, it } from 'vitest';
import { rejection, useBackend } from './fixtures/backend.js';
import { GatedStore } from './fixtures/gated-store.js';
import { isKvError, open } from './index.js';

const T0 = Date.UTC(2030, 0, 1);

// The five behaviours of issue 11, each replayed exactly with a gated store and a moved clock.
describe.each(testBackendNames())('issue 11 repros on %s', (backendName) => {
  const backend = useBackend(backendName);

  async function setup() {
    const gated = new GatedStore(await backend.newStore());
    const clock = { now: T0 };
    const kv = await open(gated, { clock: () => clock.now });
    return { gated, clock, kv };
  }

  it('1. a sweep racing a re-acquisition with identical bytes does not delete the new holder', async () => {
    const { gated, clock, kv } = await setup();
    const acquire = () => kv.put('lease', 'held', { ifAbsent: true, ttlSeconds: 10 });
    await acquire(); // holder A
    clock.now = T0 + 11_000; // A's entry has expired
    // The sweeper has seen the expired entry and is about to delete it (If-Match its version)...
    const held = gated.gate((call) => call.op === 'delete' && call.key === 'd/!lease');
    const sweeping = kv.sweep();
    await held.reached;
    await acquire(); // ...when holder B takes the lease with the same bytes.
    held.open();
    await sweeping;
    expect((await kv.get('lease'))?.value).toBe('held');
    // A third client must not get the lease B holds.
    expect(isKvError(await rejection(acquire()), 'Exists')).toBe(true);
  });

  it('2. put({ ifVersion }) on an expired entry fails with VersionMismatch and resurrects nothing', async () => {
    const { clock, kv } = await setup();
    const version = await kv.put('k', 'v1', { ttlSeconds: 1 });
    clock.now = T0 + 2000;
    expect(await kv.get('k')).toBeUndefined();
    expect(isKvError(await rejection(kv.put('k', 'v2', { ifVersion: version })), 'VersionMismatch')).toBe(true);
    expect(await kv.get('k')).toBeUndefined();
  });

  it('3. a cached reader sees a same-bytes re-put with a TTL expire, and keeps text and JSON apart', async () => {
    const { gated, clock } = await setup();
    await using reader = await open(gated, { cache: true, clock: () => clock.now });
    await using writer = await open(gated.inner, { clock: () => clock.now });
    await writer.put('k', 'same');
    expect((await reader.get('k'))?.value).toBe('same');
    await writer.put('k', 'same', { ttlSeconds: 1 });
    clock.now = T0 + 2000;
    expect(await reader.get('k')).toBeUndefined();

    await writer.put('j', '{}'); // text
    expect((await reader.get('j'))?.value).toBe('{}');
    await writer.put('j', {}); // JSON, the same two bytes
    expect((await reader.get('j'))?.value).toEqual({});
  });

  it('4. update() whose entry expires during the call does not write an expired value', async () => {
    const { clock, kv } = await setup();
    await kv.put('n', 5, { ttlSeconds: 10 });
    let calls = 0;
    const result = await kv.update('n', (n) => {
      calls++;
      if (calls === 1) clock.now = T0 + 20_000; // expiry passes while fn runs
      return ((n as number | undefined) ?? 0) + 1;
    });
    // Re-checked before writing: the expired entry counts as absent, so the update starts from 0.
    expect(result?.value).toBe(1);
    expect((await kv.get('n'))?.value).toBe(1);
  });

  it('5. a reader opened before the first write follows the layout that write records', async () => {
    const store = await backend.newStore();
    await using early = await open(store); // nothing written yet: default layout, unconfirmed
    await using writer = await open(store, { layout: 'hashed' });
    await writer.put('a', 1);
    expect((await early.get('a'))?.value).toBe(1);
    await early.put('b', 2);
    expect(early.layout).toBe('hashed');
    expect((await writer.get('b'))?.value).toBe(2);
    // A layout asked for explicitly still fails loudly.
    expect(isKvError(await rejection(open(store, { layout: 'ordered' })), 'LayoutMismatch')).toBe(true);
  });

  describe('an unknown outcome under contention is decided by the previous write id', () => {
    const increment = (n: unknown) => ((n as number | undefined) ?? 0) + 1;
    const conditionalPut = (call: { op: string; key: string; conditional: boolean }) =>
      call.op === 'put' && call.key === 'd/!n' && call.conditional;

    it.each(['ambiguous-after', 'ambiguous-instead'] as const)('%s: both increments count once', async (mode) => {
      const { gated, kv } = await setup();
      await kv.put('n', 0);
      // A's conditional write lands (or not), and before A learns anything B updates on top.
      const gate = gated.gate(conditionalPut, mode);
      const a = kv.update('n', increment);
      await gate.reached;
      await kv.update('n', increment);
      gate.open();
      // Landed: B's object names A's write as the one it replaced. Not landed: B's object replaced
      // the very object A was replacing, so A cannot have landed and runs again.
      await a;
      expect((await kv.get('n'))?.value).toBe(2);
    });
  });
});
