import { compareKeys, seededRandom } from '@bucketdb/store';
import { testBackendNames } from '@bucketdb/testkit';
import { describe, expect, it } from 'vitest';
import { allKeys, rejection, useBackend } from './fixtures/backend.js';
import { randomKey } from './fixtures/random-keys.js';
import { RecordingStore } from './fixtures/recording-store.js';
import { bytesCodec, isKvError, type KvOpenOptions, KvStore, type KvValue, open } from './index.js';

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe.each(testBackendNames())('KvStore on %s', (backendName) => {
  const backend = useBackend(backendName);
  const openKv = async (options: KvOpenOptions<KvValue> = {}) => open(await backend.newStore(), options);

  it('round-trips bytes, strings and JSON with their content types', async () => {
    await using kv = await openKv({ prefix: 'app' });
    const bytes = new Uint8Array([0, 1, 2, 255]);
    await kv.put('b', bytes);
    await kv.put('s', 'héllo');
    await kv.put('j', { n: 1, list: [true, null, 'x'], nested: { a: 1.5 } });
    await kv.put('html', '<p>', { contentType: 'text/html' });
    expect(await kv.get('b')).toMatchObject({ value: bytes, contentType: 'application/octet-stream' });
    expect(await kv.get('s')).toMatchObject({ value: 'héllo', contentType: 'text/plain; charset=utf-8' });
    expect((await kv.get('j'))?.value).toEqual({ n: 1, list: [true, null, 'x'], nested: { a: 1.5 } });
    expect(await kv.get('html')).toMatchObject({ value: '<p>', contentType: 'text/html' });
    expect(await kv.get('missing')).toBeUndefined();
    // The store holds the bytes as the body and the layout file beside the data.
    expect(await allKeys(kv.store)).toEqual(['app/d/!b', 'app/d/!html', 'app/d/!j', 'app/d/!s', 'app/kv.json']);
  });

  it('reads its own writes and reports versions that work as conditions', async () => {
    await using kv = await openKv();
    const v1 = await kv.put('k', 1);
    expect(await kv.get('k')).toMatchObject({ value: 1, version: v1 });
    const v2 = await kv.put('k', 2, { ifVersion: v1 });
    expect(v2).not.toBe(v1);
    expect(isKvError(await rejection(kv.put('k', 3, { ifVersion: v1 })), 'VersionMismatch')).toBe(true);
    expect(isKvError(await rejection(kv.put('k', 3, { ifAbsent: true })), 'Exists')).toBe(true);
    expect(isKvError(await rejection(kv.put('nope', 3, { ifVersion: v1 })), 'VersionMismatch')).toBe(true);
    expect(isKvError(await rejection(kv.delete('k', { ifVersion: v1 })), 'VersionMismatch')).toBe(true);
    expect((await kv.get('k'))?.value).toBe(2);
    await kv.delete('k', { ifVersion: v2 });
    expect(await kv.get('k')).toBeUndefined();
    await kv.delete('k'); // deleting a missing key without a condition succeeds
    expect(await kv.put('k', 'new', { ifAbsent: true })).toMatch(/\S/);
    expect((await kv.get('k'))?.value).toBe('new');
  });

  it('update() is read-modify-write: increments, creates, and deletes on undefined', async () => {
    await using kv = await openKv();
    const increment = (n: KvValue | undefined) => ((n as number | undefined) ?? 0) + 1;
    await Promise.all(Array.from({ length: 20 }, () => kv.update('counter', increment)));
    expect((await kv.get('counter'))?.value).toBe(20);
    expect(await kv.update('counter', () => undefined)).toBeUndefined();
    expect(await kv.get('counter')).toBeUndefined();
    expect(await kv.update('absent', () => undefined)).toBeUndefined();
  });

  it('scans random unicode keys in code-point order, with prefix, start, end and limit', async () => {
    await using kv = await openKv({ prefix: 'scan/' });
    const random = seededRandom(99);
    const keys = [...new Set(Array.from({ length: 120 }, () => randomKey(random, 6)))].sort(compareKeys);
    await Promise.all(keys.map((key) => kv.put(key, key)));
    const scanned = await collect(kv.scan());
    expect(scanned.map((e) => e.key)).toEqual(keys);
    expect(await kv.count()).toBe(keys.length);

    const withValues = await collect(kv.scan({ values: true, limit: 50, concurrency: 7 }));
    expect(withValues.map((e) => [e.key, e.value])).toEqual(keys.slice(0, 50).map((k) => [k, k]));

    const prefix = keys[10]?.slice(0, 1) as string;
    const byPrefix = keys.filter((k) => k.startsWith(prefix));
    expect((await collect(kv.scan({ prefix }))).map((e) => e.key)).toEqual(byPrefix);
    expect(await kv.count(prefix)).toBe(byPrefix.length);

    const start = keys[20] as string;
    const end = keys[60] as string;
    expect((await collect(kv.scan({ start, end }))).map((e) => e.key)).toEqual(keys.slice(20, 60));
    // Bounds need not be stored keys.
    const between = `${start}\u0000`;
    expect((await collect(kv.scan({ start: between, limit: 3 }))).map((e) => e.key)).toEqual(keys.slice(21, 24));
    expect(await collect(kv.scan({ limit: 0 }))).toEqual([]);

    // Pagination: each page resumes after the previous page's last cursor, with or without values.
    const pages: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const got = await collect(kv.scan({ limit: 7, values: page % 2 === 0, ...(cursor ? { cursor } : {}) }));
      if (got.length === 0) break;
      pages.push(...got.map((e) => e.key));
      cursor = got.at(-1)?.cursor;
    }
    expect(pages).toEqual(keys);
    expect(isKvError(await rejection(collect(kv.scan({ cursor: 'bm90LWEtY3Vyc29y' }))), 'InvalidArgument')).toBe(true);
  });

  it('getMany returns entries in the order asked, undefined where absent', async () => {
    await using kv = await openKv();
    await kv.put('a', 'A');
    await kv.put('c', 'C');
    const got = await kv.getMany(['c', 'b', 'a'], { concurrency: 2 });
    expect(got.map((e) => e?.value)).toEqual(['C', undefined, 'A']);
  });

  it('putMany and deleteMany check everything first, then write each entry', async () => {
    const store = await backend.newStore();
    await using kv = await open(store);
    const bad = await rejection(
      kv.putMany([
        { key: 'a', value: 1 },
        { key: 'b', value: 2, options: { ttlSeconds: -1 } },
      ]),
    );
    expect(isKvError(bad, 'InvalidArgument')).toBe(true);
    expect(await allKeys(store)).toEqual([]);
    const versions = await kv.putMany(
      Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: i })),
      { concurrency: 3 },
    );
    expect(new Set(versions).size).toBe(10);
    expect((await kv.getMany(['k0', 'k9'])).map((e) => e?.value)).toEqual([0, 9]);
    await kv.deleteMany(['k0', 'k1', 'missing'], { concurrency: 2 });
    expect(await kv.count()).toBe(8);
  });

  it('spreads the hashed layout over shards: no ordered scan, but unordered scan and count', async () => {
    const store = await backend.newStore();
    await using kv = await open(store, { layout: 'hashed' });
    const keys = Array.from({ length: 40 }, (_, i) => `user/${i}`);
    await Promise.all(keys.map((key) => kv.put(key, { i: key })));
    expect(new Set((await allKeys(store)).map((k) => k.split('/')[1])).size).toBeGreaterThan(10);
    expect(isKvError(await rejection(collect(kv.scan())), 'Unsupported')).toBe(true);
    const scanned = await collect(kv.scan({ unordered: true, prefix: 'user/1' }));
    expect(scanned.map((e) => e.key).sort()).toEqual(keys.filter((k) => k.startsWith('user/1')).sort());
    expect(await kv.count()).toBe(40);
    // Cursors page through the shards too.
    const paged: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const got = await collect(kv.scan({ unordered: true, limit: 6, ...(cursor ? { cursor } : {}) }));
      if (got.length === 0) break;
      paged.push(...got.map((e) => e.key));
      cursor = got.at(-1)?.cursor;
    }
    expect(paged.sort()).toEqual([...keys].sort());
    expect((await kv.get('user/7'))?.value).toEqual({ i: 'user/7' });
    // The layout is recorded: reopening picks it up, asking for another fails.
    expect((await open(store)).layout).toBe('hashed');
    expect(isKvError(await rejection(open(store, { layout: 'ordered' })), 'LayoutMismatch')).toBe(true);
  });

  it('rejects bad input with precise errors and writes nothing', async () => {
    const store = await backend.newStore();
    await using kv = await open(store, { maxValueBytes: 1000 });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    // 1008 bytes for the encoded key with no prefix anywhere; S3Store's own prefix takes its share.
    const room = kv.paths.maxEncodedKeyBytes;
    const cases: [string, () => Promise<unknown>][] = [
      ['KeyTooLong', () => kv.put('x'.repeat(room), 1)],
      ['KeyTooLong', () => kv.put('/'.repeat(Math.ceil(room / 2)), 1)],
      ['InvalidKey', () => kv.put('', 1)],
      ['InvalidKey', () => kv.put('bad\ud800', 1)],
      ['ValueTooLarge', () => kv.put('k', 'x'.repeat(1001))],
      ['InvalidValue', () => kv.put('k', { n: 10n } as unknown as KvValue)],
      ['InvalidValue', () => kv.put('k', cyclic as KvValue)],
      ['InvalidValue', () => kv.put('k', new Map() as unknown as KvValue)],
      ['InvalidValue', () => kv.put('k', [1, undefined] as unknown as KvValue)],
      ['InvalidValue', () => kv.put('k', Number.NaN)],
      ['InvalidValue', () => kv.put('k', (() => 1) as unknown as KvValue)],
      ['InvalidValue', () => kv.put('k', 'text', { contentType: 'application/json' })],
      ['InvalidArgument', () => kv.put('k', 1, { ttlSeconds: -1 })],
      ['InvalidArgument', () => kv.put('k', 1, { ifAbsent: true, ifVersion: '"x"' })],
      ['InvalidArgument', () => kv.put('k', 1, { ifVersion: '' })],
      ['InvalidArgument', () => kv.delete('k', { ifVersion: ' ' })],
      ['InvalidArgument', () => kv.getMany(['a'], { concurrency: 0 })],
      ['InvalidArgument', () => collect(kv.scan({ limit: -1 }))],
      ['InvalidValue', () => kv.update('k', () => 10n as unknown as KvValue)],
    ];
    for (const [code, attempt] of cases) {
      const error = await rejection(attempt());
      expect(isKvError(error) ? error.code : error, String(attempt)).toBe(code);
    }
    expect(await allKeys(store)).toEqual([]);
    // At the limit exactly, both succeed.
    await kv.put('x'.repeat(room - 1), 'x'.repeat(1000));
    expect(await kv.count()).toBe(1);
  });

  it('rejects bad TTLs and content types before sending any request', async () => {
    const recording = new RecordingStore(await backend.newStore());
    await using kv = await open(recording);
    recording.reset();
    const cases: (() => Promise<unknown>)[] = [
      () => kv.update('k', () => 1, { ttlSeconds: 0 }),
      () => kv.update('k', () => 1, { ttlSeconds: Number.NaN }),
      () => kv.update('k', () => 'x', { contentType: 'text/plain\r\nx-amz-acl: public-read' }),
      () => kv.update('k', () => 'x', { contentType: 'text' }),
      () => kv.put('k', 'x', { contentType: 'text/html\n' }),
      () => kv.put('k', 'x', { ttlSeconds: Number.POSITIVE_INFINITY }),
    ];
    for (const attempt of cases) {
      const error = await rejection(attempt());
      expect(isKvError(error) ? error.code : error, String(attempt)).toBe('InvalidArgument');
    }
    expect(recording.reset().requests).toEqual({ get: 0, head: 0, put: 0, delete: 0, list: 0 });
  });

  it('reports a corrupt stored value as Corrupt and a closed store as Closed', async () => {
    const store = await backend.newStore();
    const kv = await open(store);
    await kv.put('j', { a: 1 });
    await store.put('d/!j', '{not json', { contentType: 'application/json' });
    expect(isKvError(await rejection(kv.get('j')), 'Corrupt')).toBe(true);
    await kv.close();
    expect(isKvError(await rejection(kv.get('j')), 'Closed')).toBe(true);
  });

  it('takes a codec: bytes only', async () => {
    await using kv = await KvStore.open(await backend.newStore(), { codec: bytesCodec });
    await kv.put('k', new TextEncoder().encode('raw'), { contentType: 'image/png' });
    expect(await kv.get('k')).toMatchObject({ value: new TextEncoder().encode('raw'), contentType: 'image/png' });
    expect(isKvError(await rejection(kv.put('k', 'str' as unknown as Uint8Array)), 'InvalidValue')).toBe(true);
  });
});
