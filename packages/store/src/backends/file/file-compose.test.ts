import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { spawnTs, tempDir } from '@bucketdb/testkit-base';
import { describe, expect, it } from 'vitest';
import { collectBody } from '../../body.js';
import { compositionOf } from '../../compose.js';
import { isStoreError } from '../../errors.js';
import { seededRandom } from '../../random.js';
import { metered } from '../../wrappers/metered/metered.js';
import { FileStore } from './file-store.js';
import { checkBody, makeBody } from './fixtures/self-checking-body.js';
import { watchChild } from './fixtures/watch-child.js';

const blobDirs = (root: string) => readdir(join(root, 'blobs'));
const child = (name: string, args: string[]) => watchChild(spawnTs(new URL(name, import.meta.url), args));

async function read(store: FileStore, key: string, range?: { offset: number; length: number }) {
  return Buffer.from(await collectBody((await store.getStream(key, range ? { range } : {})).body));
}

describe('FileStore composition (a completed multipart upload without copying its parts)', () => {
  it('reads any range across the pieces after the sources are deleted, and survives a reopen', async () => {
    await using dir = await tempDir('bucketdb-file-compose');
    const seed = Date.now();
    const random = seededRandom(seed);
    const rand = (n: number) => random.int(n);
    for (let round = 0; round < 4; round++) {
      const store = await FileStore.open(dir.path);
      // Sizes around the first read of a GET (16 KiB), empty pieces included.
      const sizes = Array.from({ length: 1 + rand(5) }, () => [0, 1, 16_383, 16_385, 40_000][rand(5)] as number);
      const parts = sizes.map((size, i) => Buffer.alloc(size, 0).map((_, j) => (i * 31 + j * 7 + round) & 255));
      const sources = [];
      for (const [i, part] of parts.entries()) {
        sources.push({ key: `p/${round}/${i}`, etag: (await store.put(`p/${round}/${i}`, part)).etag });
      }
      const { etag } = await store.composition().compose('obj', sources, {
        etag: `"r${round}-${parts.length}"`,
        metadata: { round: String(round) },
        contentType: 'application/x-test',
      });
      await store.deleteMany(sources.map((s) => s.key));
      const whole = Buffer.concat(parts);
      const info = await store.head('obj');
      expect([info.etag, info.size, info.metadata, info.contentType], `seed ${seed}`).toEqual([
        etag,
        whole.length,
        { round: String(round) },
        'application/x-test',
      ]);
      expect((await read(store, 'obj')).equals(whole), `seed ${seed}`).toBe(true);
      for (let i = 0; i < 40 && whole.length > 0; i++) {
        const offset = rand(whole.length);
        const length = 1 + rand(whole.length - offset);
        const got = await read(store, 'obj', { offset, length });
        expect(got.equals(whole.subarray(offset, offset + length)), `seed ${seed} range ${offset}+${length}`).toBe(
          true,
        );
      }
      const listed = [];
      for await (const entry of store.list({ prefix: 'obj' })) listed.push(entry);
      expect(listed.map((e) => e.kind === 'object' && [e.size, e.etag])).toEqual([[whole.length, etag]]);
      // Each round replaces the last round's object: only the current one's blobs remain.
      expect(await blobDirs(dir.path)).toHaveLength(1);
      await store.close();
    }
  });

  it('removes the blobs of an object replaced by a put, by a composition, or deleted', async () => {
    await using dir = await tempDir('bucketdb-file-compose');
    const store = await FileStore.open(dir.path);
    const compose = async (key: string, fill: number, options = {}) => {
      const a = await store.put('a', Buffer.alloc(100, fill));
      const b = await store.put('b', Buffer.alloc(50, fill + 1));
      return store.composition().compose(
        key,
        [
          { key: 'a', etag: a.etag },
          { key: 'b', etag: b.etag },
        ],
        {
          etag: `"${fill}-2"`,
          ...options,
        },
      );
    };
    await compose('k', 1);
    const first = await blobDirs(dir.path);
    expect(first).toHaveLength(1);
    await compose('k', 3);
    const second = await blobDirs(dir.path);
    expect(second).toHaveLength(1);
    expect(second).not.toEqual(first);
    expect((await read(store, 'k')).equals(Buffer.concat([Buffer.alloc(100, 3), Buffer.alloc(50, 4)]))).toBe(true);
    await store.put('k', 'plain');
    expect(await blobDirs(dir.path)).toEqual([]);
    await compose('k', 5, { ifMatch: (await store.head('k')).etag });
    await store.delete('k');
    expect(await blobDirs(dir.path)).toEqual([]);
    await expect(store.head('k')).rejects.toSatisfy((e) => isStoreError(e, 'NotFound'));
  });

  it('refuses a changed or missing source and a failed condition, leaving nothing behind', async () => {
    await using dir = await tempDir('bucketdb-file-compose');
    const store = await FileStore.open(dir.path);
    const a = await store.put('a', 'aaaa');
    await store.put('k', 'old');
    const compose = store.composition().compose;
    const refusals: [Parameters<typeof compose>, string][] = [
      [['k', [{ key: 'a', etag: '"0123"' }], { etag: '"x-1"' }], 'PreconditionFailed'],
      [
        [
          'k',
          [
            { key: 'a', etag: a.etag },
            { key: 'missing', etag: a.etag },
          ],
          { etag: '"x-2"' },
        ],
        'NotFound',
      ],
      [['k', [{ key: 'a', etag: a.etag }], { etag: '"x-1"', ifNoneMatch: '*' }], 'PreconditionFailed'],
      [['k', [{ key: 'a', etag: a.etag }], { etag: '"x-1"', ifMatch: '"nope"' }], 'PreconditionFailed'],
      [['k', [], { etag: '"x-0"' }], 'InvalidArgument'],
    ];
    for (const [args, code] of refusals) {
      await expect(compose(...args)).rejects.toSatisfy((e) => isStoreError(e, code as 'NotFound'));
      expect(await blobDirs(dir.path)).toEqual([]);
      expect((await read(store, 'k')).toString()).toBe('old');
    }
  });

  it('keeps a read that began on the replaced version, and composes a composed source', async () => {
    await using dir = await tempDir('bucketdb-file-compose');
    const store = await FileStore.open(dir.path);
    const parts = [Buffer.alloc(30_000, 1), Buffer.alloc(30_000, 2)];
    const sources = [];
    for (const [i, part] of parts.entries())
      sources.push({ key: `s${i}`, etag: (await store.put(`s${i}`, part)).etag });
    const composed = await store.composition().compose('k', sources, { etag: '"k-2"' });
    const tail = await store.put('tail', 'end');
    await store.composition().compose(
      'nested',
      [
        { key: 'k', ...composed },
        { key: 'tail', ...tail },
      ],
      { etag: '"n-2"' },
    );
    const reading = await store.getStream('k');
    await store.put('k', 'replaced');
    await store.delete('s0');
    expect(Buffer.from(await collectBody(reading.body)).equals(Buffer.concat(parts))).toBe(true);
    expect((await read(store, 'nested')).equals(Buffer.concat([...parts, Buffer.from('end')]))).toBe(true);
    expect((await read(store, 'k')).toString()).toBe('replaced');
  });

  it('reports an object whose blobs were removed behind its back as Corrupt', async () => {
    await using dir = await tempDir('bucketdb-file-compose');
    const store = await FileStore.open(dir.path);
    const a = await store.put('a', 'xyz');
    await store.composition().compose('k', [{ key: 'a', etag: a.etag }], { etag: '"c-1"' });
    await rm(join(dir.path, 'blobs'), { recursive: true });
    await expect(store.getStream('k')).rejects.toSatisfy((e) => isStoreError(e, 'Corrupt'));
  });

  it('is found through wrappers', async () => {
    await using dir = await tempDir('bucketdb-file-compose');
    const store = metered(await FileStore.open(dir.path));
    const a = await store.put('a', 'xyz');
    await compositionOf(store)?.compose('k', [{ key: 'a', etag: a.etag }], { etag: '"w-1"' });
    expect((await store.get('k')).etag).toBe('"w-1"');
  });

  it('never shows a torn object after kill -9 mid-composition, and removes orphan blobs on reopen', async () => {
    await using dir = await tempDir('bucketdb-file-compose');
    for (let round = 0; round < 4; round++) {
      const composer = watchChild(
        spawnTs(new URL('./file-compose.child.ts', import.meta.url), [dir.path, `c${round}`]),
      );
      await composer.line((l) => l === `op ${3 + round * 5}`);
      composer.child.kill('SIGKILL');
      expect((await composer.result).signal).toBe('SIGKILL');
      const store = await FileStore.open(dir.path);
      let present = true;
      try {
        checkBody('c', await read(store, 'c'));
      } catch (error) {
        if (!isStoreError(error, 'NotFound')) throw error;
        present = false;
      }
      // Opening removed every blob directory but the one `c` is made of.
      expect(await blobDirs(dir.path)).toHaveLength(present ? 1 : 0);
      await store.close();
    }
  });

  it('leaves the old object and no blobs when killed between linking the pieces and the commit', async () => {
    await using dir = await tempDir('bucketdb-file-compose');
    const store = await FileStore.open(dir.path);
    await store.put('c', makeBody('c', 'old', 1000));
    // The composer links its pieces, then waits for the key's lock (held here) to commit.
    const holder = child('./key-lock-holder.child.ts', [dir.path, 'c']);
    await holder.line((l) => l === 'holding');
    const composer = child('./file-compose.child.ts', [dir.path, 'new', 'once']);
    await composer.line((l) => l === 'composing');
    const linked = async () => {
      const [id] = await blobDirs(dir.path);
      return (
        id !== undefined &&
        (await readdir(join(dir.path, 'blobs', id))).length === 4 &&
        (await readdir(join(dir.path, 'tmp'))).length > 0
      );
    };
    while (!(await linked())) await new Promise((resolve) => setImmediate(resolve));
    composer.child.kill('SIGKILL');
    holder.child.kill('SIGKILL');
    await Promise.all([composer.result, holder.result]);
    const reopened = await FileStore.open(dir.path);
    expect(checkBody('c', await read(reopened, 'c'))).toBe('old');
    expect(await blobDirs(dir.path)).toEqual([]);
  });
});
