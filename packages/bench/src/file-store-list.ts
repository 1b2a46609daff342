/**
 * LIST page latency of FileStore at a million keys, against MemoryStore on the same keys.
 *
 *   node --conditions=source --import tsx packages/bench/src/file-store-list.ts \
 *     [--keys 1000000] [--layout nested|flat] [--dir /path/to/keep] [--report]
 *
 * `nested`: 1000 directories of 1000 keys (`d042/k0007`); `flat`: every key in one directory
 * (`k/0000042`). With --dir the populated store is kept and reused by later runs.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { FileStore, MemoryStore, type ObjectStore } from '@bucketdb/store';
import { formatTable, machineMarkdown, percentile, runConcurrent, writeReport } from './harness.js';

const { values } = parseArgs({
  options: {
    keys: { type: 'string', default: '1000000' },
    layout: { type: 'string', default: 'nested' },
    dir: { type: 'string' },
    report: { type: 'boolean', default: false },
  },
});
const count = Number(values.keys);
const layout = values.layout === 'flat' ? 'flat' : 'nested';
const keyAt = (i: number) =>
  layout === 'flat'
    ? `k/${String(i).padStart(7, '0')}`
    : `d${String(Math.floor(i / 1000)).padStart(3, '0')}/k${String(i % 1000).padStart(4, '0')}`;

const dir = values.dir ?? join(tmpdir(), `bucketdb-bench-list-${layout}-${count}`);
const keep = values.dir !== undefined;

async function populate(store: ObjectStore, progress: boolean): Promise<number> {
  const started = performance.now();
  const { elapsedMs } = await runConcurrent(count, 32, async (i) => {
    await store.put(keyAt(i), 'v');
    if (progress && i % 100_000 === 0 && i > 0) console.error(`  ${i} keys written`);
  });
  return elapsedMs || performance.now() - started;
}

async function isPopulated(): Promise<boolean> {
  try {
    const store = await FileStore.open(dir);
    const last = await store.listPage({ startAfter: keyAt(count - 2), pageSize: 2 });
    return last.entries.length === 1 && last.entries[0]?.kind === 'object' && last.entries[0].key === keyAt(count - 1);
  } catch {
    return false;
  }
}

/** Times `pages` LIST pages of 1000 starting at `startAfter`, following continuation tokens. */
async function timePages(store: ObjectStore, startAfter: string, pages: number): Promise<number[]> {
  const times: number[] = [];
  let token: string | undefined;
  for (let i = 0; i < pages; i++) {
    const t0 = performance.now();
    const page = await store.listPage(token ? { continuationToken: token } : { startAfter, pageSize: 1000 });
    times.push(performance.now() - t0);
    if (page.entries.length === 0) throw new Error('listing ended early');
    token = page.continuationToken;
    if (!token) break;
  }
  return times;
}

await mkdir(dir, { recursive: true });
let populateMs: number | undefined;
if (!(await isPopulated())) {
  console.error(`populating ${count} keys (${layout}) in ${dir} ...`);
  await rm(dir, { recursive: true, force: true });
  const store = await FileStore.open(dir, { sync: false });
  populateMs = await populate(store, true);
  // Let directory time stamps settle so listings are cacheable (see dir-cache.ts).
  await delay(1100);
}
console.error(`objects dir entries: ${(await readdir(join(dir, 'objects'))).length}`);

const memory = new MemoryStore();
await populate(memory, false);

const rows: Record<string, string | number>[] = [];
const file = await FileStore.open(dir);
const t0 = performance.now();
await file.listPage({ pageSize: 1000 });
const coldFirst = performance.now() - t0;
const t1 = performance.now();
await file.listPage({ startAfter: keyAt(Math.floor(count / 2)), pageSize: 1000 });
const coldMiddle = performance.now() - t1;

for (const [where, index] of [
  ['start', -1],
  ['middle', Math.floor(count / 2)],
  ['end', count - 20_001],
] as const) {
  const startAfter = index < 0 ? '' : keyAt(index);
  // First pass reads each object's header once; the second finds the summaries cached.
  const firstPass = await timePages(file, startAfter, 20);
  const fileTimes = await timePages(file, startAfter, 20);
  const memTimes = await timePages(memory, startAfter, 20);
  const p50 = percentile(fileTimes, 50);
  rows.push({
    position: where,
    'file 1st pass p50 ms': percentile(firstPass, 50),
    'file warm p50 ms': p50,
    'file warm p99 ms': percentile(fileTimes, 99),
    'memory p50 ms': percentile(memTimes, 50),
    'file warm / memory': p50 / percentile(memTimes, 50),
  });
}
const delimitedMs: number[] = [];
for (let i = 0; i < 3; i++) {
  const td = performance.now();
  const page = await file.listPage({ delimiter: '/', pageSize: 1000 });
  delimitedMs.push(performance.now() - td);
  if (page.entries.length === 0) throw new Error('empty delimiter listing');
}

const body = [
  `${count.toLocaleString('en')} keys, layout \`${layout}\` (${layout === 'flat' ? 'one directory' : '1000 directories of 1000'}), pages of 1000, 20 consecutive pages per position: a first pass, then the same pages again (warm).`,
  '',
  formatTable(rows),
  '',
  `Cold (first LIST of a fresh FileStore, directory caches empty): first page ${coldFirst.toFixed(1)} ms, page in the middle ${coldMiddle.toFixed(1)} ms.`,
  `Delimiter '/' page at the root (${layout === 'flat' ? '1 common prefix' : '1000 common prefixes'}): first ${delimitedMs[0]?.toFixed(1)} ms, then ${delimitedMs
    .slice(1)
    .map((t) => t.toFixed(1))
    .join(' and ')} ms.`,
  `Load average (1 min) at the end: ${loadavg()[0]?.toFixed(1)} on this shared machine; absolute times move with it.`,
  populateMs === undefined
    ? ''
    : `Populating through FileStore.put (sync: false, 32 in flight): ${(populateMs / 1000).toFixed(0)} s.`,
].join('\n');
console.log(`${machineMarkdown()}\n\n${body}`);
if (values.report)
  console.error(`report: ${await writeReport(`file-store-list-${layout}`, 'FileStore LIST at scale', body)}`);
if (!keep) await rm(dir, { recursive: true, force: true });
