import { constants, crc32, deflateRawSync } from 'node:zlib';
import { CommitLog } from '@bucketdb/log';
import { MemoryStore, type ObjectStore, type StoreCall, WrappedStore } from '@bucketdb/store';
import { expect, test } from 'vitest';
import { writeBaseCheckpoint } from './base-checkpoint.js';
import { packPage } from './page-codec.js';
import { restoreDatabase } from './restore.js';
import { Snapshot } from './snapshot.js';

/** Holds each page-map segment upload until `releaseAll`, or until a deadlock breaker gives up on it. */
class HeldSegments extends WrappedStore {
  readonly #held = new Set<() => void>();
  brokenHolds = 0;
  protected around<T>(call: StoreCall, run: () => Promise<T>): Promise<T> {
    if (call.op !== 'put' || !call.key.includes('/segment-')) return run();
    return new Promise<void>((resolve) => {
      const release = () => {
        clearTimeout(breaker);
        this.#held.delete(release);
        resolve();
      };
      // Only a build that waits for each segment upload before taking the next page gets here.
      const breaker = setTimeout(() => {
        this.brokenHolds++;
        release();
      }, 5000);
      this.#held.add(release);
    }).then(run);
  }
  releaseAll(): void {
    for (const release of [...this.#held]) release();
  }
}

const PAGE = 4096;
const image = (i: number) => new Uint8Array(PAGE).fill(i % 251);

test('a base checkpoint takes the next page while a segment uploads, and publishes only after every upload', async () => {
  const store = new HeldSegments(new MemoryStore('base'));
  const log = await CommitLog.open(store);
  const count = 96; // six whole segments: the last is flushed before the final pull releases it
  // Every pull of a page (and the final one) lets the held segment uploads finish.
  async function* pages(): AsyncIterable<Uint8Array> {
    for (let i = 1; i <= count; i++) {
      store.releaseAll();
      yield image(i);
    }
    store.releaseAll();
  }
  await writeBaseCheckpoint(log, pages(), { pageSize: PAGE, pageCount: count, segmentPages: 16, chunkBytes: 1024 });
  await log.close();
  expect(store.brokenHolds).toBe(0);
  const snapshot = await Snapshot.open(store);
  const got: Uint8Array[] = [];
  for await (const page of snapshot.pages()) got.push(page);
  // Compared as one buffer: an element-wise deep equality of 400 KB takes seconds.
  const want = Array.from({ length: count }, (_, i) => image(i + 1));
  expect(Buffer.concat(got).equals(Buffer.concat(want))).toBe(true);
});

/** Every chunk body of the checkpoint at version 0, in the order written. */
async function chunkBytes(store: ObjectStore): Promise<Buffer> {
  const keys: string[] = [];
  for await (const e of store.list({ prefix: 'checkpoints/' })) {
    if (e.kind === 'object' && e.key.includes('/chunk-')) keys.push(e.key);
  }
  keys.sort((a, b) => Number(a.split('-').at(-1)) - Number(b.split('-').at(-1)));
  return Buffer.concat(await Promise.all(keys.map(async (k) => (await store.get(k)).body)));
}

test('restore copies the stored bytes of pages from chunks instead of compressing each page again', async () => {
  const count = 40;
  const text = (i: number) => new TextEncoder().encode(`page ${i} `.repeat(PAGE).slice(0, PAGE));
  // Stored at another compression level than the engine's: a restore that recompressed would differ.
  const level9 = (i: number) => {
    const bytes = deflateRawSync(text(i), { level: 9, strategy: constants.Z_DEFAULT_STRATEGY });
    return { bytes: new Uint8Array(bytes), crc: crc32(text(i)) };
  };
  expect(Buffer.from(level9(1).bytes).equals(Buffer.from(packPage(text(1)).bytes))).toBe(false);
  async function* pages() {
    for (let i = 1; i <= count; i++) yield level9(i);
  }
  const source = new MemoryStore('level-9');
  const log = await CommitLog.open(source);
  await writeBaseCheckpoint(log, pages(), { pageSize: PAGE, pageCount: count, segmentPages: 16, chunkBytes: 2048 });
  await log.close();
  const target = new MemoryStore('restored');
  await restoreDatabase(source, target);
  expect((await chunkBytes(target)).equals(await chunkBytes(source))).toBe(true);
  const got: Uint8Array[] = [];
  for await (const page of (await Snapshot.open(target)).pages()) got.push(page);
  const want = Array.from({ length: count }, (_, i) => text(i + 1));
  expect(Buffer.concat(got).equals(Buffer.concat(want))).toBe(true);
});
