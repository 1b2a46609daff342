import { createHash } from 'node:crypto';
import { bodyText, collectBody } from '../body.js';
import { isStoreError, type StoreErrorCode } from '../errors.js';
import { compareKeys } from '../keys.js';
import type { ListEntry, ObjectStore } from '../object-store.js';
import { afterEach, describe, expect, it } from 'vitest';

export interface StoreConformanceOptions {
  /** Size of the streamed large-object case (default 64 MiB). */
  largeObjectBytes?: number;
}

/** Awaits `promise` and asserts it rejects with a store error of `code`. */
export async function expectStoreError(promise: Promise<unknown>, code: StoreErrorCode): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isStoreError(error, code)) {
    throw new Error(`expected a ${code} store error, got ${error === undefined ? 'success' : String(error)}`, {
      cause: error,
    });
  }
}

function entryKey(entry: ListEntry): string {
  return entry.kind === 'object' ? entry.key : entry.prefix;
}

async function listKeys(store: ObjectStore, options: Parameters<ObjectStore['list']>[0] = {}): Promise<string[]> {
  const keys: string[] = [];
  for await (const entry of store.list(options)) keys.push(entryKey(entry));
  return keys;
}

/** Every page of a listing, walked by hand with `listPage` and continuation tokens. */
async function listPages(store: ObjectStore, options: Parameters<ObjectStore['listPage']>[0] = {}) {
  const pages: string[][] = [];
  let continuationToken: string | undefined;
  do {
    const page = await store.listPage(continuationToken ? { ...options, continuationToken } : options);
    pages.push(page.entries.map(entryKey));
    continuationToken = page.continuationToken;
  } while (continuationToken !== undefined && pages.length < 1000);
  return pages;
}

/** Deterministic bytes (xorshift32), in chunks so no test ever holds a large object in memory. */
async function* pseudoRandomChunks(total: number, seed: number, chunkSize = 1 << 20): AsyncIterable<Uint8Array> {
  let x = seed | 1;
  for (let sent = 0; sent < total; sent += chunkSize) {
    const words = new Uint32Array(Math.ceil(Math.min(chunkSize, total - sent) / 4));
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[i] = x;
    }
    yield new Uint8Array(words.buffer, 0, Math.min(chunkSize, total - sent));
  }
}

const md5 = (bytes: Uint8Array | string) => `"${createHash('md5').update(bytes).digest('hex')}"`;

/**
 * The ObjectStore contract as tests, run against any backend: `newStore` must return a fresh,
 * empty store on every call.
 */
export function describeStoreConformance(
  name: string,
  newStore: () => Promise<ObjectStore>,
  options: StoreConformanceOptions = {},
): void {
  describe(`${name}: ObjectStore conformance`, () => {
    const open: ObjectStore[] = [];
    const fresh = async () => {
      const store = await newStore();
      open.push(store);
      return store;
    };
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()));
    });

    it('round-trips bytes, strings and empty objects with an MD5 ETag', async () => {
      const store = await fresh();
      const bytes = new Uint8Array([0, 1, 2, 255, 254]);
      expect((await store.put('bin', bytes)).etag).toBe(md5(bytes));
      expect((await store.put('text', 'héllo')).etag).toBe(md5('héllo'));
      expect((await store.put('empty', new Uint8Array())).etag).toBe(md5(''));
      expect([...(await store.get('bin')).body]).toEqual([...bytes]);
      expect(bodyText((await store.get('text')).body)).toBe('héllo');
      const empty = await store.get('empty');
      expect(empty.body.length).toBe(0);
      expect(empty.size).toBe(0);
      const head = await store.head('text');
      expect(head).toMatchObject({ key: 'text', size: 6, etag: md5('héllo') });
      expect(head.lastModified).toBeInstanceOf(Date);
    });

    it('overwrites, deletes, and treats a missing key as NotFound', async () => {
      const store = await fresh();
      await store.put('k', 'one');
      const second = await store.put('k', 'two');
      expect(second.etag).toBe(md5('two'));
      expect(bodyText((await store.get('k')).body)).toBe('two');
      await store.delete('k');
      await expectStoreError(store.get('k'), 'NotFound');
      await expectStoreError(store.head('k'), 'NotFound');
      await expectStoreError(store.getStream('k'), 'NotFound');
      await store.delete('k'); // deleting a missing key succeeds, as in S3
      expect(await listKeys(store)).toEqual([]);
    });

    it('keeps content type and user metadata', async () => {
      const store = await fresh();
      const metadata = { owner: 'ana', 'x-trace': 'a b=c' };
      await store.put('m', '{}', { contentType: 'application/json', metadata });
      const streamed = await store.getStream('m');
      expect(bodyText(await collectBody(streamed.body))).toBe('{}');
      for (const info of [await store.head('m'), await store.get('m'), streamed]) {
        expect(info.contentType).toBe('application/json');
        expect(info.metadata).toEqual(metadata);
      }
      await store.put('m', 'plain');
      expect((await store.head('m')).metadata).toEqual({});
    });

    it('serves byte ranges and rejects unsatisfiable ones', async () => {
      const store = await fresh();
      await store.put('r', '0123456789');
      const read = async (range: Parameters<ObjectStore['get']>[1] & object) => {
        const got = await store.get('r', range);
        return { text: bodyText(got.body), range: got.range, size: got.size };
      };
      expect(await read({ range: { offset: 0, length: 1 } })).toEqual({
        text: '0',
        range: { start: 0, end: 1 },
        size: 10,
      });
      expect((await read({ range: { offset: 3, length: 4 } })).text).toBe('3456');
      expect((await read({ range: { offset: 7 } })).text).toBe('789');
      expect(await read({ range: { offset: 8, length: 100 } })).toMatchObject({
        text: '89',
        range: { start: 8, end: 10 },
      });
      expect(await read({ range: { offset: 9 } })).toMatchObject({ text: '9', range: { start: 9, end: 10 } });
      expect((await read({ range: { suffix: 3 } })).text).toBe('789');
      expect((await read({ range: { suffix: 50 } })).text).toBe('0123456789');
      const streamed = await store.getStream('r', { range: { offset: 2, length: 2 } });
      expect(bodyText(await collectBody(streamed.body))).toBe('23');
      // `bytes`, where a store offers them, are exactly the body's bytes.
      for (const options of [{}, { range: { offset: 2, length: 3 } }, { range: { suffix: 1 } }]) {
        const got = await store.getStream('r', options);
        const body = bodyText(await collectBody(got.body));
        if (got.bytes) expect(bodyText(got.bytes)).toBe(body);
      }
      await expectStoreError(store.get('r', { range: { offset: 10 } }), 'InvalidRange');
      await expectStoreError(store.get('r', { range: { offset: 11, length: 1 } }), 'InvalidRange');
      expect(bodyText((await store.get('r')).body)).toBe('0123456789');
    });

    it('creates only when absent with If-None-Match: *', async () => {
      const store = await fresh();
      const { etag } = await store.put('c', 'first', { ifNoneMatch: '*' });
      expect(etag).toBe(md5('first'));
      await expectStoreError(store.put('c', 'second', { ifNoneMatch: '*' }), 'PreconditionFailed');
      expect(bodyText((await store.get('c')).body)).toBe('first');
      await store.delete('c');
      await store.put('c', 'third', { ifNoneMatch: '*' });
      expect(bodyText((await store.get('c')).body)).toBe('third');
    });

    it('compares and swaps with If-Match', async () => {
      const store = await fresh();
      const v1 = await store.put('s', 'v1');
      const v2 = await store.put('s', 'v2', { ifMatch: v1.etag });
      await expectStoreError(store.put('s', 'stale', { ifMatch: v1.etag }), 'PreconditionFailed');
      expect(bodyText((await store.get('s')).body)).toBe('v2');
      // Bare (unquoted) ETags are accepted too.
      await store.put('s', 'v3', { ifMatch: v2.etag.replaceAll('"', '') });
      expect(bodyText((await store.get('s')).body)).toBe('v3');
      await expectStoreError(store.put('missing', 'x', { ifMatch: v1.etag }), 'NotFound');
      await expectStoreError(store.head('missing'), 'NotFound');
    });

    it('answers conditional reads', async () => {
      const store = await fresh();
      const { etag } = await store.put('g', 'body');
      expect(await store.get('g', { ifNoneMatch: etag })).toEqual({ notModified: true, key: 'g', etag });
      expect(await store.getStream('g', { ifNoneMatch: etag })).toMatchObject({ notModified: true, etag });
      const changed = await store.get('g', { ifNoneMatch: md5('other') });
      expect(changed.notModified).toBeFalsy();
      expect(bodyText((changed as { body: Uint8Array }).body)).toBe('body');
      expect(bodyText((await store.get('g', { ifMatch: etag })).body)).toBe('body');
      await expectStoreError(store.get('g', { ifMatch: md5('other') }), 'PreconditionFailed');
    });

    it('deletes conditionally', async () => {
      const store = await fresh();
      const { etag } = await store.put('d', 'one');
      await expectStoreError(store.delete('d', { ifMatch: md5('stale') }), 'PreconditionFailed');
      expect(bodyText((await store.get('d')).body)).toBe('one');
      await store.delete('d', { ifMatch: etag });
      await expectStoreError(store.head('d'), 'NotFound');
      await expectStoreError(store.delete('d', { ifMatch: etag }), 'NotFound');
    });

    it('lets exactly one of 20 concurrent create-only writes win', async () => {
      const store = await fresh();
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => store.put('race', `writer ${i}`, { ifNoneMatch: '*' })),
      );
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      expect(winners).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') {
          expect(isStoreError(r.reason, 'PreconditionFailed') || isStoreError(r.reason, 'ConflictInFlight')).toBe(true);
        }
      }
      expect(bodyText((await store.get('race')).body)).toBe(`writer ${winners[0]}`);
    });

    it('lets exactly one of 20 concurrent If-Match writes from the same ETag win', async () => {
      const store = await fresh();
      const { etag } = await store.put('cas', 'start');
      const results = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => store.put('cas', `writer ${i}`, { ifMatch: etag })),
      );
      const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      expect(winners).toHaveLength(1);
      for (const r of results) {
        if (r.status === 'rejected') {
          expect(isStoreError(r.reason, 'PreconditionFailed') || isStoreError(r.reason, 'ConflictInFlight')).toBe(true);
        }
      }
      expect(bodyText((await store.get('cas')).body)).toBe(`writer ${winners[0]}`);
    });

    it('lists in UTF-8 byte order, `a` beside `a/` and `a/b`', async () => {
      const store = await fresh();
      // Expected S3 order: by UTF-8 bytes. '.' < '/' < '0'; U+FFFD (EF BF BD) < U+1F600 (F0 9F 98 80),
      // although JavaScript's `<` puts the astral character (a surrogate pair) first.
      const expected = ['A', 'a', 'a.b', 'a/', 'a//x', 'a/b', 'a/b/c', 'a0', 'b', 'é', '\uFFFD', '\u{1F600}'];
      await Promise.all([...expected].reverse().map((k) => store.put(k, k)));
      expect(await listKeys(store)).toEqual(expected);
      expect([...expected].sort(compareKeys)).toEqual(expected);
      for (const key of ['a', 'a/', 'a/b']) expect(bodyText((await store.get(key)).body)).toBe(key);
      expect(await listKeys(store, { prefix: 'a/' })).toEqual(['a/', 'a//x', 'a/b', 'a/b/c']);
      expect(await listKeys(store, { prefix: 'a/b' })).toEqual(['a/b', 'a/b/c']);
      expect(await listKeys(store, { prefix: 'zz' })).toEqual([]);
      expect(await listKeys(store, { startAfter: 'a/b' })).toEqual(['a/b/c', 'a0', 'b', 'é', '\uFFFD', '\u{1F600}']);
      expect(await listKeys(store, { startAfter: 'a/a' })).toEqual(expected.slice(5));
      expect(await listKeys(store, { startAfter: '\u{1F600}' })).toEqual([]);
      expect(await listKeys(store, { prefix: 'a/', startAfter: 'a' })).toEqual(['a/', 'a//x', 'a/b', 'a/b/c']);
      expect(await listKeys(store, { limit: 3 })).toEqual(expected.slice(0, 3));
    });

    it('groups common prefixes by delimiter', async () => {
      const store = await fresh();
      const keys = ['a', 'a/', 'a/b', 'a/c/d', 'a/c/e', 'a//x', 'b/1', 'b/2', 'c-1', 'c-2', 'd'];
      await Promise.all(keys.map((k) => store.put(k, k)));
      expect(await listKeys(store, { delimiter: '/' })).toEqual(['a', 'a/', 'b/', 'c-1', 'c-2', 'd']);
      expect(await listKeys(store, { prefix: 'a/', delimiter: '/' })).toEqual(['a/', 'a//', 'a/b', 'a/c/']);
      expect(await listKeys(store, { prefix: 'a/c/', delimiter: '/' })).toEqual(['a/c/d', 'a/c/e']);
      expect(await listKeys(store, { delimiter: '-' })).toEqual([
        'a',
        'a/',
        'a//x',
        'a/b',
        'a/c/d',
        'a/c/e',
        'b/1',
        'b/2',
        'c-',
        'd',
      ]);
      const page = await store.listPage({ delimiter: '/' });
      expect(page.entries).toContainEqual({ kind: 'prefix', prefix: 'b/' });
      const object = page.entries.find((e) => e.kind === 'object' && e.key === 'd');
      expect(object).toMatchObject({ kind: 'object', key: 'd', size: 1, etag: md5('d') });
    });

    it('paginates with continuation tokens, across common prefixes too', async () => {
      const store = await fresh();
      const keys = Array.from({ length: 23 }, (_, i) => `k/${String(i).padStart(2, '0')}`);
      const dirs = Array.from({ length: 9 }, (_, i) => `p/${i}/x`);
      await Promise.all([...keys, ...dirs, 'p/0/y', 'p/5/y'].map((k) => store.put(k, 'v')));
      for (const pageSize of [1, 4, 7, 1000]) {
        const pages = await listPages(store, { prefix: 'k/', pageSize });
        expect(pages.flat()).toEqual(keys);
        expect(pages.slice(0, -1).every((p) => p.length === pageSize)).toBe(true);
        const grouped = await listPages(store, { prefix: 'p/', delimiter: '/', pageSize });
        expect(grouped.flat()).toEqual(dirs.map((d) => d.slice(0, 4)));
      }
      const after = await listPages(store, { prefix: 'k/', startAfter: 'k/10', pageSize: 5 });
      expect(after.flat()).toEqual(keys.slice(11));
      expect(await listKeys(store, { prefix: 'p/', delimiter: '/', startAfter: 'p/4/x' })).toEqual([
        'p/5/',
        'p/6/',
        'p/7/',
        'p/8/',
      ]);
      await expectStoreError(store.listPage({ continuationToken: '%%%not-a-token' }), 'InvalidArgument');
    });

    it('deletes many keys, present or not', async () => {
      const store = await fresh();
      await Promise.all(['x/1', 'x/2', 'x/3', 'y'].map((k) => store.put(k, k)));
      const result = await store.deleteMany(['x/1', 'x/3', 'missing', 'y']);
      expect(result.errors).toEqual([]);
      expect([...result.deleted].sort()).toEqual(['missing', 'x/1', 'x/3', 'y']);
      expect(await listKeys(store)).toEqual(['x/2']);
    });

    it('rejects invalid keys with InvalidKey and accepts keys of maxKeyBytes', async () => {
      const store = await fresh();
      const maxBytes = store.maxKeyBytes;
      const long = 'é'.repeat(Math.floor(maxBytes / 2)) + (maxBytes % 2 ? 'x' : '');
      await store.put(long, 'ok');
      expect(bodyText((await store.get(long)).body)).toBe('ok');
      expect(await listKeys(store)).toEqual([long]);
      const tooLong = ['x'.repeat(maxBytes + 1), `${'é'.repeat(Math.ceil(maxBytes / 2))}x`];
      for (const bad of ['', ...tooLong, 'lone \uD800 surrogate']) {
        await expectStoreError(store.put(bad, 'x'), 'InvalidKey');
        await expectStoreError(store.get(bad), 'InvalidKey');
        await expectStoreError(store.head(bad), 'InvalidKey');
        await expectStoreError(store.delete(bad), 'InvalidKey');
      }
      expect(await listKeys(store)).toEqual([long]);
    });

    it('streams a large object in and out without corruption', async () => {
      const store = await fresh();
      const size = options.largeObjectBytes ?? 64 * 2 ** 20;
      const hashIn = createHash('md5');
      let last: Uint8Array = new Uint8Array();
      const hashing = async function* () {
        for await (const chunk of pseudoRandomChunks(size, 42)) {
          hashIn.update(chunk);
          last = chunk;
          yield chunk;
        }
      };
      const { etag } = await store.put('large', hashing(), { contentLength: size });
      const expected = `"${hashIn.digest('hex')}"`;
      expect(etag).toBe(expected);
      const got = await store.getStream('large');
      expect(got.size).toBe(size);
      const hashOut = createHash('md5');
      let received = 0;
      for await (const chunk of got.body) {
        hashOut.update(chunk);
        received += chunk.length;
      }
      expect(received).toBe(size);
      expect(`"${hashOut.digest('hex')}"`).toBe(expected);
      // A reader that takes lent chunks, holding each across an await until it asks for the next.
      const range = { offset: 2 ** 20 + 3, length: Math.min(5 * 2 ** 20, size - 2 ** 20 - 3) };
      const copies: Buffer[] = [];
      for await (const chunk of (await store.getStream('large', { range, lendChunks: true })).body) {
        await new Promise((resolve) => setImmediate(resolve));
        copies.push(Buffer.from(chunk));
      }
      expect(Buffer.concat(copies).equals((await store.get('large', { range })).body)).toBe(true);
      const tail = await store.get('large', { range: { suffix: 100 } });
      expect(Buffer.from(tail.body).equals(Buffer.from(last.subarray(last.length - 100)))).toBe(true);
    });
  });
}
