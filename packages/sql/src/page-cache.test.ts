import { readdirSync } from 'node:fs';
import { seededRandom } from '@bucketdb/store';
import { tempDir } from '@bucketdb/testkit';
import { expect, test } from 'vitest';
import { openSpills } from './fixtures/open-spills.js';
import { unpackPage, packPage } from './page-codec.js';
import { PageCache } from './page-cache.js';

const PAGE = 512;

/** A page whose bytes say which page and which version of it it is. */
function image(pgno: number, version: number): Uint8Array {
  const page = new Uint8Array(PAGE);
  for (let i = 0; i < PAGE; i += 8) {
    new DataView(page.buffer).setUint32(i, pgno);
    new DataView(page.buffer).setUint32(i + 4, version);
  }
  return page;
}

test('pinned pages beyond the limit spill to disk and read back intact; memory stays within the limit', async () => {
  await using dir = await tempDir('page-cache');
  const cache = new PageCache(10 * PAGE, dir.path);
  for (let p = 1; p <= 100; p++) {
    cache.set(p, image(p, 1), true);
    expect(cache.bytes).toBeLessThanOrEqual(10 * PAGE);
  }
  expect(cache.peakBytes).toBeLessThanOrEqual(11 * PAGE);
  expect(cache.spilled).toBe(90);
  // A restarted statement finds every page it fetched, from memory or from the spill.
  for (let p = 1; p <= 100; p++) {
    expect(cache.has(p)).toBe(true);
    expect(cache.get(p)).toEqual(image(p, 1));
  }
  expect(cache.spillReads).toBe(90);
  expect(cache.bytes).toBeLessThanOrEqual(10 * PAGE);
  // The file is unlinked while open: nothing is left in the directory, even if the process dies.
  expect(readdirSync(dir.path)).toEqual([]);
  expect(openSpills(dir.path) ?? 1).toBe(1);

  // The operation ends: the spill empties, the most recently used pages stay resident.
  cache.unpinAll();
  expect(cache.spilled).toBe(0);
  expect(cache.has(1)).toBe(false);
  expect(cache.get(100)).toEqual(image(100, 1));
  cache.close();
  expect(openSpills(dir.path) ?? 0).toBe(0);
});

test('a changed, deleted or truncated page is never served from its spilled image', async () => {
  await using dir = await tempDir('page-cache');
  const cache = new PageCache(4 * PAGE, dir.path);
  for (let p = 1; p <= 20; p++) cache.set(p, image(p, 1), true);
  expect(cache.spilled).toBe(16);

  // A new record's image of page 2 (applied unpinned), then pressure that evicts what is unpinned.
  cache.set(2, image(2, 2));
  for (let p = 21; p <= 30; p++) cache.set(p, image(p, 1), true);
  expect(cache.get(2)).toEqual(image(2, 2));

  cache.delete(3);
  expect(cache.has(3)).toBe(false);
  expect(cache.get(3)).toBeUndefined();

  cache.truncate(10);
  for (let p = 11; p <= 30; p++) expect(cache.has(p), `page ${p}`).toBe(false);
  // The database grows again: the new page 12 is the new image, not the spilled old one.
  cache.set(12, image(12, 3));
  for (let p = 31; p <= 40; p++) cache.set(p, image(p, 1), true);
  expect(cache.get(12) ?? image(12, 3)).toEqual(image(12, 3));

  cache.clear();
  for (let p = 1; p <= 40; p++) expect(cache.has(p), `page ${p}`).toBe(false);
  cache.close();
});

test('without a spill directory pinned pages stay resident (over the limit) and nothing is written', () => {
  const cache = new PageCache(4 * PAGE);
  for (let p = 1; p <= 20; p++) cache.set(p, image(p, 1), true);
  expect(cache.bytes).toBe(20 * PAGE);
  expect(cache.spills).toBe(0);
  cache.unpinAll();
  expect(cache.bytes).toBe(4 * PAGE);
});

test('a spill directory that cannot be written leaves pages resident and records the error', async () => {
  await using dir = await tempDir('page-cache');
  const cache = new PageCache(4 * PAGE, `${dir.path}/\0bad`);
  for (let p = 1; p <= 20; p++) cache.set(p, image(p, 1), true);
  expect(cache.spillError).toBeDefined();
  for (let p = 1; p <= 20; p++) expect(cache.get(p)).toEqual(image(p, 1));
  cache.close();
});

test('a decompressed page keeps only its own bytes alive (not zlib’s 16 KiB output chunk)', () => {
  const page = image(7, 1);
  const { bytes, crc } = packPage(page);
  const out = unpackPage(bytes, crc, PAGE, 'test');
  expect(out).toEqual(page);
  expect(out.buffer.byteLength).toBe(PAGE);
});

test('random sets, deletes, truncations and operation ends: every page the cache answers is the image last set', async () => {
  await using dir = await tempDir('page-cache');
  for (const seed of [1, 2, 3]) {
    const random = seededRandom(seed);
    const cache = new PageCache(8 * PAGE, dir.path);
    const model = new Map<number, Uint8Array>();
    let version = 0;
    for (let step = 0; step < 3000; step++) {
      const pgno = 1 + random.int(40);
      const r = random.next();
      if (r < 0.5) {
        const page = image(pgno, ++version);
        cache.set(pgno, page, random.next() < 0.5);
        model.set(pgno, page);
      } else if (r < 0.8) {
        const got = cache.get(pgno, new Uint8Array(PAGE));
        if (got !== undefined) expect(got, `seed ${seed} step ${step} page ${pgno}`).toEqual(model.get(pgno));
      } else if (r < 0.87) {
        cache.delete(pgno);
        model.delete(pgno);
      } else if (r < 0.9) {
        cache.truncate(pgno);
        for (const p of model.keys()) if (p > pgno) model.delete(p);
      } else cache.unpinAll();
      expect(cache.bytes).toBeLessThanOrEqual(9 * PAGE);
    }
    cache.close();
  }
});
