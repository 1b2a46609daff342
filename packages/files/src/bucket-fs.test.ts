import { pipeline } from 'node:stream/promises';
import { isStoreError } from '@bucketdb/store';
import { openTestBackend, type TestBackend, testBackendNames } from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BucketFs } from './bucket-fs.js';
import { isFilesError } from './errors.js';
import { WatchedReads } from './fixtures/fault-stores.js';
import { seededBytes } from './fixtures/test-data.js';
import { openDownload } from './open-download.js';

async function collect(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

for (const name of testBackendNames()) {
  describe(`BucketFs on ${name}`, () => {
    let backend: TestBackend;
    beforeAll(async () => {
      backend = await openTestBackend(name);
    });
    afterAll(() => backend.close());

    it('reads and writes whole files, ranges and streams', async () => {
      const fs = new BucketFs(await backend.newStore(), { partSize: 64 * 1024 });
      const bytes = seededBytes(300_001, 'fs');
      await fs.writeFile('/dir/sub/a.bin', bytes);
      expect((await fs.readFile('dir/sub/a.bin')).equals(bytes)).toBe(true);
      await fs.writeFile('dir/b.txt', 'héllo');
      expect(await fs.readFile('dir/b.txt', { encoding: 'utf8' })).toBe('héllo');
      // end is inclusive, as in fs.createReadStream.
      const range = await collect(fs.createReadStream('dir/sub/a.bin', { start: 70_000, end: 200_000 }));
      expect(range.equals(bytes.subarray(70_000, 200_001))).toBe(true);
      expect((await collect(fs.createReadStream('dir/sub/a.bin'))).equals(bytes)).toBe(true);

      const big = seededBytes(200_000, 'stream');
      const source = async function* () {
        for (let i = 0; i < big.length; i += 7_000) yield big.subarray(i, i + 7_000);
      };
      await pipeline(source, fs.createWriteStream('dir/streamed'));
      expect((await fs.readFile('dir/streamed')).equals(big)).toBe(true);

      const stat = await fs.stat('dir/sub/a.bin');
      expect(stat.isFile()).toBe(true);
      expect(stat.size).toBe(300_001);
      expect((await fs.stat('dir/sub')).isDirectory()).toBe(true);
      expect(await fs.readdir('dir')).toEqual(['b.txt', 'streamed', 'sub']);
    });

    it('reads ranges at part boundaries with only the parts they cover', async () => {
      const part = 64 * 1024;
      const bytes = seededBytes(3 * part + 5, 'ranges');
      const inner = await backend.newStore();
      await new BucketFs(inner).writeFile('r', bytes);
      const ranges: [number, number | undefined][] = [
        [0, 0],
        [part - 1, part],
        [part, 2 * part - 1],
        [0, part - 1],
        [0, part],
        [2 * part - 1, 3 * part + 4],
        [3 * part + 4, 3 * part + 4],
        [5, 10 * part],
        [1, undefined],
      ];
      for (const [start, end] of ranges) {
        const watched = new WatchedReads(inner, false);
        const fs = new BucketFs(watched, { partSize: part, concurrency: 2 });
        const got = await collect(fs.createReadStream('r', end === undefined ? { start } : { start, end }));
        const last = Math.min(end ?? bytes.length, bytes.length - 1);
        expect(got.equals(bytes.subarray(start, last + 1)), `${start}..${end}`).toBe(true);
        // Parts are cut from `start`, and nothing past `end` is asked for.
        expect(watched.ranges.length, `${start}..${end}`).toBe(Math.ceil((last + 1 - start) / part));
        expect(watched.ranges.reduce((sum, r) => sum + (r && 'length' in r ? (r.length ?? 0) : 0), 0)).toBe(
          last + 1 - start,
        );
      }
      const fs = new BucketFs(inner, { partSize: part });
      await expect(collect(fs.createReadStream('r', { start: bytes.length }))).rejects.toSatisfy((e: unknown) =>
        isFilesError(e, 'InvalidArgument'),
      );
      await fs.writeFile('empty', '');
      expect((await collect(fs.createReadStream('empty'))).length).toBe(0);
    });

    it('passes bytes on before their part has arrived whole, and an early stop aborts every read', async () => {
      const part = 64 * 1024;
      const concurrency = 3;
      const bytes = seededBytes(10 * part, 'early');
      const inner = await backend.newStore();
      await new BucketFs(inner).writeFile('e', bytes);
      // Every GET sends one chunk, then nothing until aborted: a reader that waits for whole parts hangs.
      const held = new WatchedReads(inner, true);
      const fs = new BucketFs(held, { partSize: part, concurrency });
      let first: Buffer | undefined;
      for await (const chunk of fs.createReadStream('e', { start: 1 })) {
        first = chunk as Buffer;
        break; // destroys the stream
      }
      expect(first && first.length > 0 && first.equals(bytes.subarray(1, 1 + first.length))).toBe(true);
      await held.closed(); // hangs (test timeout) if a request was left running
      expect(held.ranges.length).toBeLessThanOrEqual(concurrency);

      // The same through the async iterator that `bucketdb cat` uses, stopped with return().
      const again = new WatchedReads(inner, true);
      const download = await openDownload(again, 'e', { partSize: part, concurrency });
      const next = await download.chunks.next();
      expect(next.done).toBe(false);
      await download.chunks.return();
      await again.closed();
      expect(again.ranges.length).toBeLessThanOrEqual(concurrency);
    });

    it('states the differences from POSIX as errors', async () => {
      const fs = new BucketFs(await backend.newStore());
      await fs.writeFile('x', 'one');
      // Exclusive create is the one conditional write: O_EXCL.
      const exclusive = await fs.writeFile('x', 'two', { flag: 'wx' }).catch((e: unknown) => e);
      expect(isStoreError(exclusive, 'PreconditionFailed')).toBe(true);
      expect(await fs.readFile('x', { encoding: 'utf8' })).toBe('one');
      await expect(fs.readFile('missing')).rejects.toSatisfy((e: unknown) => isFilesError(e, 'NotFound'));
      await expect(fs.stat('missing')).rejects.toSatisfy((e: unknown) => isFilesError(e, 'NotFound'));
      await fs.writeFile('d/1', '1');
      await fs.writeFile('d/e/2', '2');
      await expect(fs.rm('d')).rejects.toSatisfy((e: unknown) => isFilesError(e, 'IsADirectory'));
      await fs.rm('d', { recursive: true });
      await expect(fs.stat('d')).rejects.toSatisfy((e: unknown) => isFilesError(e, 'NotFound'));
      await fs.rm('d', { force: true });
      await fs.rm('x');
      expect(await fs.readdir('/')).toEqual([]);
    });
  });
}
