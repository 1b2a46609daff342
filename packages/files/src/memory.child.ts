// Uploads and downloads one large file and reports this process's peak memory above its start.
// Usage: memory.child.ts <store-url> <dir> <bytes> <part-size> <concurrency> [gc]
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { openStore } from '@bucketdb/store';
import { downloadFile } from './download-file.js';
import { seededBytes } from './fixtures/test-data.js';
import { uploadFile } from './upload-file.js';

const [url, dir, bytes, partSize, concurrency] = process.argv.slice(2) as [string, string, string, string, string];
const size = Number(bytes);
// With `gc`, every sample first collects garbage: it measures what the transfer holds, not what
// V8 has yet to free (it lets external memory grow by tens of MiB between collections).
setFlagsFromString('--expose-gc');
const collectGarbage = process.argv[7] === 'gc' ? (runInNewContext('gc') as () => void) : undefined;
const source = join(dir, 'big');
// Written 4 MiB at a time: the file never sits in this process's memory whole.
const handle = await open(source, 'w');
const block = seededBytes(4 << 20, 'memory');
for (let offset = 0; offset < size; offset += block.length) {
  await handle.write(block, 0, Math.min(block.length, size - offset), offset);
}
await handle.close();
const store = await openStore(url);
await store.put('warm-up', 'x');
const baseline = process.memoryUsage();
let peakRss = baseline.rss;
let peakBuffers = baseline.arrayBuffers;
const sample = () => {
  collectGarbage?.();
  const now = process.memoryUsage();
  peakRss = Math.max(peakRss, now.rss);
  peakBuffers = Math.max(peakBuffers, now.arrayBuffers);
};
// Collecting at every tick would be slow: with `gc`, sample when a part completes.
const timer = collectGarbage ? undefined : setInterval(sample, 5);
const options = { partSize: Number(partSize), concurrency: Number(concurrency), onProgress: sample };
await uploadFile(store, source, 'big', options);
await downloadFile(store, 'big', join(dir, 'big-copy'), options);
clearInterval(timer);
process.stdout.write(
  `${JSON.stringify({ rss: peakRss - baseline.rss, arrayBuffers: peakBuffers - baseline.arrayBuffers })}\n`,
);
