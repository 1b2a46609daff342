import { CommitLog } from '@bucketdb/log';
import { MemoryStore, type StoreCall, WrappedStore } from '@bucketdb/store';
import { expect, test } from 'vitest';
import { writeBaseCheckpoint } from './base-checkpoint.js';
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
