// Moves one large object up and down and reports this process's peak memory above its start.
// Usage: memory.child.ts <store-url> <dir> <bytes> <part-size> <concurrency> gc|stream
//   gc:     uploads a file written to <dir>, downloads it to a file and streams it in order; live
//           memory (garbage collected at every sample) per transfer, so one transfer's garbage is
//           not counted against the next.
//   stream: uploads <bytes> generated on the fly (nothing of that size on disk), downloads it to a
//           file in <dir>; peak RSS growth sampled every 10 ms, garbage included, above the RSS
//           after a warm-up transfer of 64 MiB each way.
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { openStore } from '@bucketdb/store';
import { downloadFile } from './download-file.js';
import { seededBytes } from './fixtures/test-data.js';
import { openDownload } from './open-download.js';
import { uploadFile } from './upload-file.js';
import { uploadStream } from './upload-stream.js';

const [url, dir, bytes, partSize, concurrency, mode] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  'gc' | 'stream',
];
const size = Number(bytes);
const MiB = 1 << 20;
const block = seededBytes(4 * MiB, 'memory');
const options = { partSize: Number(partSize), concurrency: Number(concurrency) };
const store = await openStore(url);
await store.put('warm-up', 'x');

if (mode === 'gc') {
  setFlagsFromString('--expose-gc');
  const collectGarbage = runInNewContext('gc') as () => void;
  const source = join(dir, 'big');
  // Written 4 MiB at a time: the file never sits in this process's memory whole.
  const handle = await open(source, 'w');
  for (let offset = 0; offset < size; offset += block.length) {
    await handle.write(block, 0, Math.min(block.length, size - offset), offset);
  }
  await handle.close();
  const peaks: number[] = [];
  const measure = async (transfer: (onProgress: () => void) => Promise<unknown>) => {
    collectGarbage();
    const baseline = process.memoryUsage().arrayBuffers;
    let peak = 0;
    // Sampled when a part completes, after a collection: what the transfer holds, not what V8 has
    // yet to free.
    await transfer(() => {
      collectGarbage();
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - baseline);
    });
    peaks.push(peak);
  };
  await measure((onProgress) => uploadFile(store, source, 'big', { ...options, onProgress }));
  await measure((onProgress) => downloadFile(store, 'big', join(dir, 'big-copy'), { ...options, onProgress }));
  // A slow consumer of the in-order stream (`bucketdb cat`, createReadStream): the parts behind
  // the one it reads fill up, and must stop at concurrency of them.
  await measure(async (onProgress) => {
    const download = await openDownload(store, 'big', options);
    let sinceSample = 0;
    for await (const chunk of download.chunks) {
      sinceSample += chunk.length;
      if (sinceSample >= 1 << 20) {
        onProgress();
        sinceSample = 0;
      }
    }
  });
  process.stdout.write(`${JSON.stringify({ arrayBuffers: Math.max(...peaks) })}\n`);
} else {
  async function* generated(length: number): AsyncGenerator<Uint8Array> {
    for (let offset = 0; offset < length; offset += block.length) {
      // The consumer copies each chunk before asking for the next, so one block serves them all;
      // its first bytes change so that no two blocks are alike.
      block.writeUInt32BE(offset / block.length, 0);
      yield block.subarray(0, Math.min(block.length, length - offset));
    }
  }
  const target = join(dir, 'big-copy');
  // A smaller transfer each way first: what the process pays once (the HTTP parser compiled, the
  // allocator grown to its working size) is not what a transfer holds.
  const warmUp = Math.min(size, 64 * MiB);
  await uploadStream(store, 'warm-up', generated(warmUp), { ...options, size: warmUp });
  await downloadFile(store, 'warm-up', target, { ...options, resume: false });
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 10);
  const up = await uploadStream(store, 'big', generated(size), { ...options, size });
  const down = await downloadFile(store, 'big', target, { ...options, resume: false });
  clearInterval(timer);
  await rm(target, { force: true });
  process.stdout.write(
    `${JSON.stringify({ rss: peak - baseline, uploaded: up.size, downloaded: down.size, checkedBy: down.checkedBy })}\n`,
  );
}
