import { S3Store } from '@bucketdb/store';
import { openTestBackend, type TestBackend } from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejection } from './fixtures/backend.js';
import { isKvError, open } from './index.js';

const T0 = Date.UTC(2030, 0, 1);

async function keysOf(iterable: AsyncIterable<{ key: string }>): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of iterable) out.push(entry.key);
  return out;
}

describe('KV on the real server with --emulate s3-express (AWS SDK)', () => {
  let backend: TestBackend;
  beforeAll(async () => {
    backend = await openTestBackend('s3', { emulate: 's3-express' });
  });
  afterAll(async () => {
    await backend.close();
  });

  it('detects the directory-bucket restrictions, works for get/put/CAS/TTL, refuses ordered scans loudly', async () => {
    const store = await backend.newStore();
    expect(store).toBeInstanceOf(S3Store);
    const clock = { now: T0 };
    await using kv = await open(store, { clock: () => clock.now });
    expect(await kv.capabilities()).toEqual({
      sortedList: false,
      startAfter: false,
      anyPrefix: false,
      conditionalDelete: true,
    });

    // Single-key operations need none of what is missing.
    const first = await kv.put('users/alice', { n: 1 });
    expect(await kv.get('users/alice')).toMatchObject({ value: { n: 1 }, version: first });
    await kv.put('users/alice', { n: 2 }, { ifVersion: first });
    expect(isKvError(await rejection(kv.put('users/alice', { n: 3 }, { ifVersion: first })), 'VersionMismatch')).toBe(
      true,
    );
    expect(isKvError(await rejection(kv.put('users/alice', 0, { ifAbsent: true })), 'Exists')).toBe(true);
    expect(await kv.update('users/bob', (n) => ((n as number | undefined) ?? 0) + 1)).toMatchObject({ value: 1 });
    await kv.put('users/carol', 'soon gone', { ttlSeconds: 1 });

    // Ordered scans and cursors fail loudly rather than return keys out of order.
    const ordered = await rejection(keysOf(kv.scan({ prefix: 'users/' })));
    expect(isKvError(ordered, 'Unsupported') && ordered.message).toMatch(/unsorted/);
    const cursor = await rejection(keysOf(kv.scan({ unordered: true, cursor: 'eA' })));
    expect(isKvError(cursor, 'Unsupported')).toBe(true);

    // What can be answered by listing whole "/"-terminated prefixes and filtering is answered right.
    clock.now = T0 + 2000;
    expect((await keysOf(kv.scan({ prefix: 'users/', unordered: true }))).sort()).toEqual(['users/alice', 'users/bob']);
    expect(await kv.count('users/')).toBe(2);
    expect(await kv.sweep()).toEqual({ deleted: 1, markersRemoved: 1, markersKept: 0 });
    expect(await kv.get('users/carol')).toBeUndefined();
  });
});
