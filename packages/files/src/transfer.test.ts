import type { ChildProcess } from 'node:child_process';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { chaos, crc32cIsNative, isStoreError, MemoryStore, type ObjectStore, openStore } from '@bucketdb/store';
import {
  openTestBackend,
  spawnTs,
  TEST_CREDENTIALS,
  type TempDir,
  type TestBackend,
  tempDir,
  testBackendNames,
} from '@bucketdb/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyObject } from './copy-object.js';
import { downloadFile } from './download-file.js';
import { isFilesError } from './errors.js';
import {
  CorruptingParts,
  CorruptingReads,
  LosingCompletions,
  Throttling,
  WatchedReads,
} from './fixtures/fault-stores.js';
import { seededBytes, writeSeededFile } from './fixtures/test-data.js';
import { uploadFile } from './upload-file.js';
import { uploadStream } from './upload-stream.js';

const MiB = 1 << 20;
const fast = { retry: { baseMs: 1, capMs: 5 } };
// The embedded server checks SigV4: the child processes and openStore take these from the environment.
Object.assign(process.env, {
  AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
});

for (const name of testBackendNames()) {
  // S3's smallest part where uploads go multipart; small parts elsewhere keep the run short.
  const PART = name === 's3' ? 5 * MiB : 256 * 1024;
  const SIZES = [0, 1, PART - 1, PART, PART + 1, 3 * PART + 7];
  const READ_PART = Math.floor(PART / 5) + 3;
  describe(`transfers on ${name}`, () => {
    let backend: TestBackend;
    let dir: TempDir;
    beforeAll(async () => {
      backend = await openTestBackend(name);
      dir = await tempDir('bucketdb-files');
    });
    afterAll(async () => {
      await backend.close();
      await dir.remove();
    });

    it.each(SIZES)('round-trips %i bytes through a file upload and a ranged parallel download', async (size) => {
      const store = await backend.newStore();
      const source = join(dir.path, `up-${size}`);
      const bytes = await writeSeededFile(source, size, size);
      const up = await uploadFile(store, source, 'a/b.bin', { partSize: PART, concurrency: 3 });
      expect(up.size).toBe(size);
      expect(up.verified).toBe(true);
      if (name === 's3') expect(up.parts).toBe(Math.max(1, Math.ceil(size / PART)));
      const target = join(dir.path, `down-${size}`);
      // An odd download part size: ranges that do not line up with the upload's parts.
      const down = await downloadFile(store, 'a/b.bin', target, { partSize: READ_PART, concurrency: 4 });
      expect(down.verified).toBe(true);
      // S3 keeps the CRC32C our multipart uploads send and the CRC32 the SDK sends with a put;
      // the local stores have ETags (MD5) only.
      const checkedBy =
        name !== 's3'
          ? 'etag'
          : up.parts > 1
            ? crc32cIsNative
              ? 'crc32c'
              : 'crc32'
            : size > READ_PART
              ? 'crc32'
              : 'etag';
      expect(down.checkedBy).toBe(checkedBy);
      expect(down.size).toBe(size);
      expect((await readFile(target)).equals(bytes)).toBe(true);
      // Nothing left beside the target or the source.
      expect((await readdir(dir.path)).filter((f) => f.includes('bucketdb'))).toEqual([]);
    });

    it('downloads with larger parts once the first GET told the size, every byte checked', async () => {
      const store = await backend.newStore();
      const source = join(dir.path, 'auto-parts');
      const size = 28 * MiB + 5;
      const bytes = await writeSeededFile(source, size, 'auto');
      const up = await uploadFile(store, source, 'auto', { partSize: 5 * MiB, concurrency: 3 });
      const watched = new WatchedReads(store, false);
      const target = join(dir.path, 'auto-down');
      // Default part size: part 0 is 8 MiB, the rest spread over the 2 connections.
      const down = await downloadFile(watched, 'auto', target, { concurrency: 2 });
      expect(watched.ranges).toEqual([
        { offset: 0, length: 8 * MiB },
        { offset: 8 * MiB, length: 11 * MiB },
        { offset: 19 * MiB, length: 9 * MiB + 5 },
      ]);
      expect(down.checkedBy).toBe(name === 's3' && up.parts > 1 ? (crc32cIsNative ? 'crc32c' : 'crc32') : 'etag');
      expect((await readFile(target)).equals(bytes)).toBe(true);
    });

    it('uploads a stream and copies an object to another store, verified end to end', async () => {
      const store = await backend.newStore();
      const bytes = seededBytes(2 * PART + 11, 'stream');
      const chunks = async function* () {
        for (let i = 0; i < bytes.length; i += 100_000) yield bytes.subarray(i, i + 100_000);
      };
      const up = await uploadStream(store, 'streamed', chunks(), { partSize: PART });
      expect(up.size).toBe(bytes.length);
      expect(up.verified).toBe(true);
      const other = new MemoryStore();
      const copied = await copyObject(store, 'streamed', other, 'copy', { partSize: READ_PART });
      expect(copied.verified).toBe(true);
      expect(Buffer.from((await other.get('copy')).body).equals(bytes)).toBe(true);
      const back = await copyObject(other, 'copy', store, 'back', { partSize: PART });
      expect(back.verified).toBe(true);
      expect(Buffer.from((await store.get('back')).body).equals(bytes)).toBe(true);
    });

    it('detects a part damaged on its way from the store and writes nothing', async () => {
      const store = await backend.newStore();
      const size = 3 * READ_PART + 5;
      await store.put('obj', seededBytes(size, 'corrupt'));
      for (const nth of [0, 2]) {
        const target = join(dir.path, `corrupt-${nth}`);
        const error = await downloadFile(new CorruptingReads(store, nth), 'obj', target, { partSize: READ_PART }).catch(
          (e: unknown) => e,
        );
        expect(isFilesError(error, 'Corrupt')).toBe(true);
        await expect(stat(target)).rejects.toThrow(/ENOENT/);
        await expect(stat(`${target}.bucketdb-download`)).rejects.toThrow(/ENOENT/);
        const copy = new MemoryStore();
        const copyError = await copyObject(new CorruptingReads(store, nth), 'obj', copy, 'c', {
          partSize: READ_PART,
        }).catch((e: unknown) => e);
        expect(isFilesError(copyError, 'Corrupt')).toBe(true);
        await expect(copy.head('c')).rejects.toThrow(/no object/);
      }
    });

    it('detects damage in a multipart object by its full-object checksum, or its ETag', async () => {
      const store = await backend.newStore();
      const source = join(dir.path, 'corrupt-multipart');
      await writeSeededFile(source, 2 * 5 * MiB + 3, 'corrupt-multipart');
      const up = await uploadFile(store, source, 'mp', { partSize: 5 * MiB });
      expect(up.parts).toBe(name === 'memory' ? 1 : 3);
      const target = join(dir.path, 'corrupt-multipart-down');
      const error = await downloadFile(new CorruptingReads(store, 2), 'mp', target, { partSize: 4 * MiB }).catch(
        (e: unknown) => e,
      );
      expect(isFilesError(error, 'Corrupt')).toBe(true);
      await expect(stat(target)).rejects.toThrow(/ENOENT/);
      await expect(stat(`${target}.bucketdb-download`)).rejects.toThrow(/ENOENT/);
      const clean = await downloadFile(store, 'mp', target, { partSize: 4 * MiB });
      expect(clean.checkedBy).toBe(name === 's3' ? (crc32cIsNative ? 'crc32c' : 'crc32') : 'etag');
    });

    it('retries throttled and failing requests with backoff', async () => {
      const store = await backend.newStore();
      const source = join(dir.path, 'throttled');
      const bytes = await writeSeededFile(source, 2 * PART + 3, 'throttle');
      const throttling = new Throttling(store, 3);
      let retries = 0;
      const onRetry = () => retries++;
      await uploadFile(throttling, source, 't', { partSize: PART, retry: { ...fast.retry, onRetry } });
      throttling.count += 3;
      const target = join(dir.path, 'throttled-down');
      await downloadFile(throttling, 't', target, { partSize: READ_PART, retry: { ...fast.retry, onRetry } });
      expect(throttling.throttled).toBe(6);
      expect(retries).toBe(6);
      expect((await readFile(target)).equals(bytes)).toBe(true);
      // Seeded transient faults before and after requests (after: the request happened, its answer was lost).
      const faulty = chaos(store, { seed: 7, faults: { before: 0.2, after: 0.2 } });
      await uploadFile(faulty, source, 'chaos', { partSize: PART, retry: { ...fast.retry, attempts: 20 } });
      await downloadFile(faulty, 'chaos', target, { partSize: READ_PART, retry: { ...fast.retry, attempts: 20 } });
      expect((await readFile(target)).equals(bytes)).toBe(true);
      expect(faulty.counts.before + faulty.counts.after).toBeGreaterThan(0);
    });

    it('stops on an abort signal and a later run resumes', async () => {
      const store = await backend.newStore();
      const big = seededBytes(4 * READ_PART, 'abort');
      await store.put('big', big);
      const target = join(dir.path, 'aborted');
      const controller = new AbortController();
      const error = await downloadFile(store, 'big', target, {
        partSize: READ_PART,
        concurrency: 1,
        signal: controller.signal,
        onProgress: ({ bytes }) => {
          if (bytes >= 2 * READ_PART) controller.abort(new Error('stop'));
        },
      }).catch((e: unknown) => e);
      expect((error as Error).message).toBe('stop');
      await expect(stat(target)).rejects.toThrow(/ENOENT/);
      const resumed = await downloadFile(store, 'big', target, { partSize: READ_PART });
      expect(resumed.resumedBytes).toBeGreaterThanOrEqual(READ_PART);
      expect((await readFile(target)).equals(big)).toBe(true);
    });

    if (name === 's3') {
      it('refuses a part damaged on its way to the store and leaves no object', async () => {
        const store = await backend.newStore();
        const source = join(dir.path, 'bad-part');
        await writeSeededFile(source, PART + 1, 'bad-part');
        const error = await uploadFile(new CorruptingParts(store), source, 'k', { partSize: PART }).catch(
          (e: unknown) => e,
        );
        expect(isStoreError(error) || isFilesError(error)).toBe(true);
        await expect(store.head('k')).rejects.toThrow(/no object/);
      });
    }

    if (name === 's3') {
      it("settles a completion whose answer was lost by the object's ETag", async () => {
        const store = await backend.newStore();
        const source = join(dir.path, 'lost-answer');
        const bytes = await writeSeededFile(source, PART + 5, 'lost');
        const losing = new LosingCompletions(store);
        const result = await uploadFile(losing, source, 'k', { partSize: PART, retry: { ...fast.retry, attempts: 2 } });
        // Both attempts complete (S3 answers a repeated completion with the same success) and both
        // answers are lost: only the object's ETag can settle the upload.
        expect(losing.lost).toBe(2);
        expect(result.verified).toBe(true);
        expect(Buffer.from((await store.get('k')).body).equals(bytes)).toBe(true);
      });
    }

    if (name !== 'memory') {
      it('resumes a download killed with SIGKILL mid-way', { timeout: 120_000 }, async () => {
        const url = await backend.newStoreUrl();
        const store = await openStore(url);
        const size = 4 * MiB + 9;
        const bytes = seededBytes(size, 'kill-down');
        await store.put('obj', bytes);
        const target = join(dir.path, `killed-down-${name}`);
        const args = ['download', url, target, 'obj', '3', String(MiB)];
        await killAfter(spawnTs(new URL('./transfer.child.ts', import.meta.url), args), 3 * MiB);
        await expect(stat(target)).rejects.toThrow(/ENOENT/);
        const resumed = await downloadFile(store, 'obj', target, { partSize: MiB });
        expect(resumed.resumedBytes).toBeGreaterThanOrEqual(MiB);
        expect((await readFile(target)).equals(bytes)).toBe(true);
        await store.close();
      });
    }

    if (name !== 'memory') {
      it('resumes an upload killed with SIGKILL mid-way', { timeout: 120_000 }, async () => {
        const url = await backend.newStoreUrl();
        const store = await openStore(url);
        const source = join(dir.path, 'killed-up');
        // Multipart's smallest part on every store (the file store keeps S3's limits).
        const part = 5 * MiB;
        const bytes = await writeSeededFile(source, 2 * part + 9, 'kill-up');
        const args = ['upload', url, source, 'obj', '2', String(part)];
        await killAfter(spawnTs(new URL('./transfer.child.ts', import.meta.url), args), 2 * part);
        await expect(store.head('obj')).rejects.toThrow(/no object/);
        const resumed = await uploadFile(store, source, 'obj', { partSize: part });
        expect(resumed.resumedParts).toBe(2);
        expect(resumed.verified).toBe(true);
        expect(Buffer.from((await store.get('obj')).body).equals(bytes)).toBe(true);
        await store.close();
      });
    }
  });
}

/** Waits until the child reports `bytes` transferred, then kills it with SIGKILL. */
function killAfter(child: ChildProcess, bytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const done = out.match(/progress (\d+)/g)?.map((m) => Number(m.split(' ')[1])) ?? [];
      if (Math.max(0, ...done) >= bytes) child.kill('SIGKILL');
    });
    child.on('close', (_code, signal) => {
      if (signal === 'SIGKILL') resolve();
      else reject(new Error(`the child ended without being killed: ${out}\n${err}`));
    });
  });
}

export type { ObjectStore };
