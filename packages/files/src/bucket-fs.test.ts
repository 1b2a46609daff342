import { pipeline } from 'node:stream/promises';
import { isStoreError } from '@bucketdb/store';
import { openTestBackend, type TestBackend, testBackendNames } from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BucketFs } from './bucket-fs.js';
import { isFilesError } from './errors.js';
import { seededBytes } from './fixtures/test-data.js';

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
