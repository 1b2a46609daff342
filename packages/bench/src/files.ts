/**
 * `npm run bench -- files [--full]`: "S3 or disk, for my files?" File sizes 1 KiB … 256 MiB (1 GiB
 * with --full): write and read latency and throughput through the @bucketdb/files engine on the
 * file store and on our S3 server (plain, and emulating S3 Standard), against Node fs on local
 * disk (fsync'd) and, on the same server, the aws CLI and rclone (their downloads also with an
 * fsync of the file, timed apart), all three again against a server over a MemoryStore;
 * small-file IOPS at concurrency 1–64; the engine's peak memory. Writes docs/benchmarks/files.md.
 */
import { mkdir, open, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_CONCURRENCY,
  DEFAULT_PART_SIZE,
  downloadFile,
  downloadPartSize,
  MAX_DOWNLOAD_PART_SIZE,
  MAX_UPLOAD_PART_SIZE,
  planParts,
  uploadFile,
} from '@bucketdb/files';
import { FileStore, type ObjectStore } from '@bucketdb/store';
import { awsCli, type BaselineTool, bucketdbCli, rclone } from './files-baselines.js';
import { type EngineProcess, processCpu, s3, startEngine, startServer, stopChildren } from './files-servers.js';
import { warmFreeMemory } from './warm-memory.js';
import { formatTable, percentile, runConcurrent, writeReport } from './harness.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const full = process.argv.includes('--full');
const SIZES = [KiB, 64 * KiB, MiB, 16 * MiB, 256 * MiB, ...(full ? [1024 * MiB] : [])];
/**
 * Samples per size: enough for a p99 on small files, three of each large one (one run of a large
 * copy on a shared machine swings by a fifth; rates are medians of the samples).
 */
const samples = (size: number) => (size <= 64 * KiB ? 30 : size <= MiB ? 10 : 3);
/** Emulated S3 adds ~tens of ms per request and paces bandwidth: large sizes only with --full. */
const EMULATED_MAX = full ? 256 * MiB : 16 * MiB;

interface Target {
  name: string;
  /** Resolve the CPU seconds the copy took when it ran in another process (this one's are measured). */
  write(file: string, key: string): Promise<number | void>;
  read(key: string, file: string): Promise<number | void>;
  maxSize?: number;
  /** The server's process, whose CPU time is measured too. */
  serverPid?: number;
  /** Timed apart after each read: an fsync of the file, for tools that do not make it durable. */
  afterRead?(file: string): Promise<void>;
  /** Deletes the copy once measured (a memory server would otherwise hold every size). */
  remove?(key: string): Promise<void>;
  /** Smallest size measured (tools pay a process start per run). */
  minSize?: number;
}

const work = join(tmpdir(), `bucketdb-bench-files-${process.pid}`);
const OURS = 'S3 server (@bucketdb/files)';
const MEMORY_SERVER = 'memory server';
const OURS_ON_MEMORY = `S3 server on a memory backend (@bucketdb/files)`;
const OURS_OWN_PROCESS = 'S3 server (@bucketdb/files in a process of its own)';
function engine(name: string, store: ObjectStore, maxSize?: number, serverPid?: number): Target {
  return {
    name,
    ...(serverPid === undefined ? {} : { serverPid }),
    write: async (file, key) => {
      await uploadFile(store, file, key, { resume: false });
    },
    read: async (key, file) => {
      await downloadFile(store, key, file, { resume: false });
    },
    ...(maxSize === undefined ? {} : { maxSize }),
  };
}

/** The engine in a long-lived process of its own, as an application runs it (no start per copy). */
function engineProcess(host: EngineProcess, serverPid: number): Target {
  return {
    name: OURS_OWN_PROCESS,
    serverPid,
    minSize: 16 * MiB,
    write: (file, key) => host.upload(file, key),
    read: (key, file) => host.download(key, file),
  };
}

function localDisk(dir: string): Target {
  return {
    name: 'local disk (Node fs, fsync)',
    async write(file, key) {
      const bytes = await readFile(file);
      const handle = await open(join(dir, key.replace(/\//g, '_')), 'w');
      await handle.writeFile(bytes);
      await handle.sync();
      await handle.close();
    },
    async read(key, file) {
      await writeFile(file, await readFile(join(dir, key.replace(/\//g, '_'))));
    },
  };
}

function baseline(tool: BaselineTool, endpoint: string, serverPid: number, server = 'same server'): Target {
  return {
    name: `${tool.name} (${server})`,
    serverPid,
    minSize: 16 * MiB,
    write: (file, key) => tool.upload(endpoint, file, key),
    read: (key, file) => tool.download(endpoint, key, file),
    // Neither aws nor rclone syncs the file it downloads (ours does, before its rename): timed apart.
    ...(tool.syncs ? {} : { afterRead: fsyncFile }),
  };
}

async function fsyncFile(file: string): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

interface Row {
  target: string;
  size: number;
  writeP50: number;
  writeP99: number;
  readP50: number;
  readP99: number;
  writeMiBs: number;
  readMiBs: number;
  /** Read throughput counting the fsync after each read (targets with `afterRead`), else NaN. */
  readSyncedMiBs: number;
  /** CPU seconds per GiB moved: the client's and the server's, for writes and reads. */
  cpu: { writeClient: number; writeServer: number; readClient: number; readServer: number };
}

/** Runs one copy; resolves its wall ms and the client's and server's CPU seconds. */
async function timed(
  run: () => Promise<number | void>,
  serverPid: number | undefined,
): Promise<{ ms: number; client: number; server: number }> {
  const server0 = await processCpu(serverPid);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const external = await run();
  const ms = performance.now() - t0;
  const own = process.cpuUsage(cpu0);
  const server = (await processCpu(serverPid)) - server0;
  return { ms, client: typeof external === 'number' ? external : (own.user + own.system) / 1e6, server };
}

interface Sample {
  write: { ms: number; client: number; server: number };
  read: { ms: number; client: number; server: number };
  /** ms of the fsync after the read (targets with `afterRead`). */
  sync?: number;
}

/** Large copies start with warm free memory (warm-memory.ts); FILES_WARM=0 turns that off. */
const WARM_FROM = 256 * MiB;
const warm = (size: number) =>
  size >= WARM_FROM && process.env.FILES_WARM !== '0' ? warmFreeMemory(join(work, 'warm'), size * 1.5) : undefined;

/** One copy up and down; the copy is deleted afterwards. */
async function sampleOnce(target: Target, size: number, source: string, i: number): Promise<Sample> {
  const key = `t/${size}/${i}`;
  await warm(size);
  const write = await timed(() => target.write(source, key), target.serverPid);
  const out = join(work, 'out');
  await warm(size);
  const read = await timed(() => target.read(key, out), target.serverPid);
  const sample: Sample = { write, read };
  if (target.afterRead) {
    const t0 = performance.now();
    await target.afterRead(out);
    sample.sync = performance.now() - t0;
  }
  await rm(out, { force: true });
  await target.remove?.(key);
  return sample;
}

function summarize(target: Target, size: number, taken: Sample[]): Row {
  const writes = taken.map((t) => t.write.ms);
  const reads = taken.map((t) => t.read.ms);
  const synced = taken.flatMap((t) => (t.sync === undefined ? [] : [t.read.ms + t.sync]));
  const gib = (size * taken.length) / (1024 * MiB);
  const perGiB = (pick: (t: Sample) => number) => taken.reduce((n, t) => n + pick(t), 0) / gib;
  const rate = (ms: number[]) => (ms.length === 0 ? Number.NaN : size / MiB / (percentile(ms, 50) / 1000));
  return {
    target: target.name,
    size,
    writeP50: percentile(writes, 50),
    writeP99: percentile(writes, 99),
    readP50: percentile(reads, 50),
    readP99: percentile(reads, 99),
    writeMiBs: rate(writes),
    readMiBs: rate(reads),
    readSyncedMiBs: rate(synced),
    cpu: {
      writeClient: perGiB((t) => t.write.client),
      writeServer: perGiB((t) => t.write.server),
      readClient: perGiB((t) => t.read.client),
      readServer: perGiB((t) => t.read.server),
    },
  };
}

function sizeLabel(n: number): string {
  return n >= MiB ? `${n / MiB} MiB` : `${n / KiB} KiB`;
}

async function iops(
  name: string,
  put: (key: string, bytes: Uint8Array) => Promise<unknown>,
  get: (key: string) => Promise<unknown>,
) {
  const bytes = new Uint8Array(4 * KiB).fill(7);
  const rows: Record<string, string | number>[] = [];
  for (const concurrency of [1, 8, 64]) {
    const count = concurrency === 1 ? 100 : 400;
    const w = await runConcurrent(count, concurrency, (i) => put(`iops/${concurrency}/${i}`, bytes));
    const r = await runConcurrent(count, concurrency, (i) => get(`iops/${concurrency}/${i}`));
    rows.push({
      target: name,
      concurrency,
      'write ops/s': Math.round(count / (w.elapsedMs / 1000)),
      'write p50 ms': percentile(w.latenciesMs, 50),
      'read ops/s': Math.round(count / (r.elapsedMs / 1000)),
      'read p50 ms': percentile(r.latenciesMs, 50),
    });
    process.stderr.write(`  iops ${name} c=${concurrency}\n`);
  }
  return rows;
}

async function main(): Promise<void> {
  await mkdir(work, { recursive: true });
  const loadAtStart = loadavg();
  const plainServer = await startServer(join(work, 'server-plain'));
  const emulatedServer = await startServer(join(work, 'server-emulated'), 's3-standard');
  const memoryServer = await startServer('memory');
  const plainUrl = plainServer.url;
  const emulatedUrl = emulatedServer.url;
  const plain = s3(plainUrl);
  const emulated = s3(emulatedUrl);
  const onMemory = s3(memoryServer.url);
  await plain.createBucket();
  await emulated.createBucket();
  await onMemory.createBucket();
  const fileStore = await FileStore.open(join(work, 'file-store'));
  const diskDir = join(work, 'disk');
  await mkdir(diskDir, { recursive: true });
  const tools = [awsCli(), rclone(), bucketdbCli()];
  const available = tools.filter((t) => t.missing === undefined);
  const targets: Target[] = [
    localDisk(diskDir),
    engine('file store (@bucketdb/files)', fileStore),
    engine('S3 server (@bucketdb/files)', plain, undefined, plainServer.pid),
    engineProcess(startEngine(plainUrl), plainServer.pid),
    engine('S3 server, emulating S3 Standard (@bucketdb/files)', emulated, EMULATED_MAX, emulatedServer.pid),
    ...available.map((t) => baseline(t, plainUrl, plainServer.pid)),
    // The same clients against a server whose backend is not the bottleneck (see the report).
    ...[
      { ...engine(OURS_ON_MEMORY, onMemory, undefined, memoryServer.pid), minSize: 16 * MiB },
      ...available
        .filter((t) => t.name !== 'bucketdb cp')
        .map((t) => baseline(t, memoryServer.url, memoryServer.pid, MEMORY_SERVER)),
    ].map((t) => ({ ...t, remove: (key: string) => onMemory.delete(key) })),
  ];
  const rows: Row[] = [];
  let memory = { rssMiB: Number.NaN, bufferMiB: Number.NaN };
  for (const size of SIZES) {
    const source = join(work, `source-${size}`);
    const handle = await open(source, 'w');
    const block = Buffer.alloc(Math.min(size, 4 * MiB));
    for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((i * 2654435761) >>> 0, i);
    for (let offset = 0; offset < size; offset += block.length)
      await handle.write(block, 0, Math.min(block.length, size - offset), offset);
    await handle.close();
    const running = targets.filter(
      (t) => (t.maxSize === undefined || size <= t.maxSize) && (t.minSize === undefined || size >= t.minSize),
    );
    const taken = new Map<Target, Sample[]>(running.map((t) => [t, []]));
    // Round by round, every target once per round: a slow stretch of the machine (the disk writing
    // back an earlier copy) falls on all of them, not on whichever ran then.
    for (let i = 0; i < samples(size); i++) {
      for (const target of running) {
        process.stderr.write(`${target.name} ${sizeLabel(size)} #${i + 1}\n`);
        const watch = target.name === OURS && size === 256 * MiB;
        const before = process.memoryUsage();
        let peak = before;
        const timer = watch
          ? setInterval(() => {
              const now = process.memoryUsage();
              peak = {
                ...now,
                rss: Math.max(peak.rss, now.rss),
                arrayBuffers: Math.max(peak.arrayBuffers, now.arrayBuffers),
              };
            }, 10)
          : undefined;
        taken.get(target)?.push(await sampleOnce(target, size, source, i));
        if (timer) {
          clearInterval(timer);
          memory = {
            rssMiB: Math.max(memory.rssMiB || 0, (peak.rss - before.rss) / MiB),
            bufferMiB: Math.max(memory.bufferMiB || 0, (peak.arrayBuffers - before.arrayBuffers) / MiB),
          };
        }
      }
    }
    for (const target of running) rows.push(summarize(target, size, taken.get(target) ?? []));
    await rm(source, { force: true });
  }
  const iopsRows = [
    ...(await iops(
      'local disk (fsync)',
      async (key, bytes) => {
        const h = await open(join(diskDir, key.replace(/\//g, '_')), 'w');
        await h.writeFile(bytes);
        await h.sync();
        await h.close();
      },
      (key) => readFile(join(diskDir, key.replace(/\//g, '_'))),
    )),
    ...(await iops(
      'file store',
      (k, b) => fileStore.put(k, b),
      (k) => fileStore.get(k),
    )),
    ...(await iops(
      'S3 server',
      (k, b) => plain.put(k, b),
      (k) => plain.get(k),
    )),
    ...(await iops(
      'S3 server, emulating S3 Standard',
      (k, b) => emulated.put(k, b),
      (k) => emulated.get(k),
    )),
  ];
  await Promise.all([plain.close(), emulated.close(), onMemory.close(), fileStore.close()]);
  stopChildren();
  await rm(work, { recursive: true, force: true });
  const path = await writeReport(
    'files',
    'Files: S3 API read/write against local disk, by file size',
    report(rows, iopsRows, memory, tools, loadAtStart),
  );
  process.stdout.write(`${report(rows, iopsRows, memory, tools, loadAtStart)}\n\nwritten to ${path}\n`);
}

function ratio(
  rows: Row[],
  size: number,
  ours: string,
  other: string,
  field: 'writeMiBs' | 'readMiBs',
  otherField: 'writeMiBs' | 'readMiBs' | 'readSyncedMiBs' = field,
): string {
  const a = rows.find((r) => r.target === ours && r.size === size)?.[field];
  const b = rows.find((r) => r.target === other && r.size === size)?.[otherField];
  return a === undefined || b === undefined || Number.isNaN(b) ? 'n/a' : `${(a / b).toFixed(2)}×`;
}

function report(
  rows: Row[],
  iopsRows: Record<string, string | number>[],
  memory: { rssMiB: number; bufferMiB: number },
  tools: BaselineTool[],
  loadAtStart: number[],
): string {
  const cpuTable = formatTable(
    rows
      .filter((r) => r.size >= 16 * MiB && r.target !== 'local disk (Node fs, fsync)')
      .map((r) => ({
        target: r.target,
        size: sizeLabel(r.size),
        'write: client': r.cpu.writeClient,
        'write: server': r.cpu.writeServer,
        'read: client': r.cpu.readClient,
        'read: server': r.cpu.readServer,
      })),
  );
  const table = formatTable(
    rows.map((r) => ({
      target: r.target,
      size: sizeLabel(r.size),
      'write p50 ms': r.writeP50,
      'write p99 ms': r.writeP99,
      'write MiB/s': r.writeMiBs,
      'read p50 ms': r.readP50,
      'read p99 ms': r.readP99,
      'read MiB/s': r.readMiBs,
      'read + fsync MiB/s': r.readSyncedMiBs,
    })),
  );
  const big = full ? 1024 * MiB : 256 * MiB;
  const bound = (DEFAULT_CONCURRENCY * DEFAULT_PART_SIZE) / MiB + 64;
  const against = (ours: string, server: string, label = 'ours') =>
    tools
      .filter((t) => t.name !== 'bucketdb cp')
      .map((t) => {
        if (t.missing) return `- ${t.name}: not run (${t.missing}).`;
        const other = `${t.name} (${server})`;
        const at = (size: number) =>
          `upload ${ratio(rows, size, ours, other, 'writeMiBs')}, download ${ratio(rows, size, ours, other, 'readMiBs')} (÷ ${t.name} + fsync of its file: ${ratio(rows, size, ours, other, 'readMiBs', 'readSyncedMiBs')})`;
        const sizes = [...new Set([big, 256 * MiB, 16 * MiB])];
        return `- ${label} ÷ ${t.name} (${t.version}): ${sizes.map((size) => `${sizeLabel(size)}: ${at(size)}`).join('; ')}.`;
      })
      .join('\n');
  const ratios = `Against the server over its fsync'd FileStore (the table above):

${against(OURS, 'same server')}

Against a server over a MemoryStore (the same server code with no disk under it; not a cheaper
server: the MemoryStore hashes every part and concatenates the parts on completion, see the CPU
table):

${against(OURS_ON_MEMORY, MEMORY_SERVER)}

The same engine in a long-lived process of its own (as an application or service runs it: no
process start per copy, and nothing else in its process; the first list's engine shares this
benchmark process with every other target), same server as the first list:

${against(OURS_OWN_PROCESS, 'same server', 'ours in a process of its own')}

Process against process: our CLI (\`bucketdb cp\`, a process per copy as the tools run, so it
pays a process start: loading the AWS SDK, and undici for downloads), same server as the first
list:

${against('bucketdb cp (same server)', 'same server', 'bucketdb cp')}`;
  const fmtLoad = (l: number[]) => l.map((n) => n.toFixed(1)).join(' / ');
  return `Command: \`npm run bench -- files${full ? ' --full' : ''}\`. Load average (1/5/15 min) at the start: ${fmtLoad(loadAtStart)},
at the end: ${fmtLoad(loadavg())}, on ${cpus().length} cores. Every target runs in this one process
except the servers (one child process each: FileStore with fsync underneath, and one over a
MemoryStore for the "memory" rows), the engine row "in a process of its own" (one long-lived
child running the same engine), and the baseline tools (one process per copy, so their times
include process start; \`read + fsync\` adds an fsync of the file each downloaded, which ours
does before its rename and they do not). Samples per size: 30 up to
64 KiB, 10 at 1 MiB, 3 above, taken in rounds (every target once per round); MiB/s is the size
over the median time (p99 of few samples is their maximum). ${
    process.env.FILES_WARM === '0'
      ? 'Free memory was not warmed before copies (FILES_WARM=0).'
      : `Before every timed copy of ${WARM_FROM / MiB} MiB or more, for every target, the benchmark writes and deletes a scratch file of 1.5 times the size (outside the timing), so that each copy starts with memory the machine has just used (warm-memory.ts: on this VM, memory freed a few seconds earlier costs about 3 s of kernel time per GiB to touch again, against 0.3 s).`
  } The engine
runs with its defaults: ${DEFAULT_PART_SIZE / MiB} MiB parts (larger for large uploads and a download's later parts), ${DEFAULT_CONCURRENCY} in flight; on the S3 server every part carries its
CRC32C (no MD5, payload not SHA-256 hashed: UNSIGNED-PAYLOAD) and the object's full CRC32C is
checked on completion and on download. Everything shares one machine: client, server and disk
compete for the same cores.

## Latency and throughput by file size

${table}

## Against the other tools (same servers, same run)

${ratios}

How each cuts a transfer:
- ours: ${DEFAULT_PART_SIZE / MiB} MiB parts, ${DEFAULT_CONCURRENCY} in flight, both ways, except that an upload of a known size over 512 MiB takes about 64 parts of at most ${MAX_UPLOAD_PART_SIZE / MiB} MiB (${planParts(big, {}, true).partSize / MiB} MiB at ${sizeLabel(big)}), and a download cuts its parts after the first larger once it knows the size (the rest spread over the connections, at most ${MAX_DOWNLOAD_PART_SIZE / MiB} MiB: ${downloadPartSize(big - DEFAULT_PART_SIZE, DEFAULT_PART_SIZE, DEFAULT_CONCURRENCY) / MiB} MiB at ${sizeLabel(big)}); downloads stream each range to its offset in the file.
${tools.map((t) => `- ${t.name}: ${t.settings}.`).join('\n')}

## CPU seconds per GiB moved (client and server, large files)

CPU time moves less with the machine's load than throughput does. Client: this process for ours
(\`process.cpuUsage\`), the engine's process for the row of its own, the tool's process tree for
the others (its start included); server: the
server process (\`/proc/<pid>/stat\`). Local targets have no server (NaN).

${cpuTable}

Targets (issue 16): ours ≥ rclone's large-file throughput and ≥ 1.5× the aws CLI's. Client,
server and tools share the same cores, so a tool that spends less CPU per byte leaves more to the
server and wins under contention: read the CPU table beside the rates, and judge the targets only
from a run on an idle machine (see the load note below). What the client spends per byte: a CRC32C
per part (native), no MD5 and no SHA-256 of the payload (UNSIGNED-PAYLOAD, the CRC protects the
bytes); downloads write each range at its offset with no part buffered whole.

## Memory

Peak growth of this process while moving ${sizeLabel(256 * MiB)} up and down through the engine
(S3 server): RSS +${memory.rssMiB.toFixed(0)} MiB, array buffers +${memory.bufferMiB.toFixed(0)} MiB. Target:
concurrency × part size + 64 MiB = ${bound} MiB. \`packages/files/src/memory.test.ts\` checks in CI both
the live memory of a 64 MiB transfer (collection at each sample: ≤ concurrency × part size + 16
MiB) and the RSS growth of a child moving 1 GiB, generated on the fly, up and down through the S3
server (≤ concurrency × part size + 64 MiB, above a 64 MiB warm-up transfer each way: compiling
the HTTP parser once is not what a transfer holds); RSS also holds garbage V8 has not collected yet.

## Small files: 4 KiB operations per second by concurrency

${formatTable(iopsRows)}

## Published figures for EBS gp3 and EFS (not measured here)

| | latency | throughput | IOPS | price (us-east-1) |
| --- | --- | --- | --- | --- |
| EBS gp3 | single-digit ms (AWS: "single-digit millisecond") | 125 MiB/s included, up to 1,000 MiB/s | 3,000 included, up to 16,000 | $0.08/GB-month; $0.005 per IOPS-month over 3,000; $0.04 per MiB/s-month over 125 |
| EFS Regional, Elastic | reads ~0.25–1 ms, writes ~2.7 ms | per client up to 1,500 MiB/s | reads up to 900k+, writes 500k per file system | $0.30/GB-month storage; reads $0.03/GB, writes $0.06/GB transferred |
| S3 Standard | first byte ~tens of ms (emulated above) | per connection ~tens–100 MiB/s, scales with parallel parts | 3,500 PUT / 5,500 GET per second per prefix | $0.023/GB-month; $0.005 per 1,000 PUT, $0.0004 per 1,000 GET |

Sources: EBS gp3 performance and prices from the AWS EBS documentation and pricing page
(docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html, aws.amazon.com/ebs/pricing) and
AWS Prescriptive Guidance "Migrate Amazon EBS volumes from gp2 to gp3", read 2026-12-02; EFS
latency and throughput from "Amazon EFS performance specifications"
(docs.aws.amazon.com/efs/latest/ug/performance.html), read 2026-12-02; EFS Standard storage at
$0.30/GB-month from aws.amazon.com/efs/pricing (a stored copy, read 2026-12-02), Elastic throughput
at $0.03/GB read and $0.06/GB written (us-east-1) from a third-party summary of that page dated
June 2026 (factualminds.com, "Amazon EFS Pricing"), not from AWS directly; S3 prices from this repository's dated table (\`packages/store/src/prices.ts\`, S3
Standard us-east-1 as of 2026-11-21) and request rates from the S3 performance guidelines
(docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html).

## S3 or disk, for my files?

${verdict(rows, iopsRows)}
`;
}

/** The decision table, citing this run's numbers (1 KiB latency, small-file rates, the large-file ratios). */
function verdict(rows: Row[], iopsRows: Record<string, string | number>[]): string {
  const at = (target: string, size: number) => rows.find((r) => r.target.startsWith(target) && r.size === size);
  const ms = (n: number | undefined) => (n === undefined ? 'n/a' : `${n >= 10 ? Math.round(n) : n.toFixed(1)} ms`);
  const disk = at('local disk', KiB);
  const plain = at('S3 server (', KiB);
  const emulated = at('S3 server, emulating', KiB);
  const rate = (target: string, c: number) =>
    iopsRows.find((r) => r.target === target && r.concurrency === c)?.['write ops/s'];
  const load = loadavg()
    .map((n) => n.toFixed(1))
    .join(' / ');
  return `Load average (1/5/15 min) at the end of this run: ${load} on ${cpus().length} cores. When it is
well above the core count, every large-file figure above measures CPU contention (client, server
and other jobs on the same cores), not a disk or a link: rerun on an idle machine before reading
throughput from it. "S3" here is our server on localhost; the emulated rows add S3 Standard's
request latency, and real S3's network is not measured.

| access pattern | better on | why |
| --- | --- | --- |
| small files (≤ 64 KiB) one at a time, latency-bound | disk (EBS, EFS) | 1 KiB write p50: local disk ${ms(disk?.writeP50)}, S3 API on this machine ${ms(plain?.writeP50)}, emulated S3 Standard ${ms(emulated?.writeP50)}; read p50 ${ms(disk?.readP50)} / ${ms(plain?.readP50)} / ${ms(emulated?.readP50)}. S3 pays its latency per request, whatever the size |
| small files in parallel | S3 when throughput or sharing matters | emulated S3 Standard: ${rate('S3 server, emulating S3 Standard', 1)} writes/s at 1 in flight, ${rate('S3 server, emulating S3 Standard', 64)} at 64 from this one client; S3 takes 3,500 PUT and 5,500 GET per second per prefix (published). Requests cost $5 per million PUTs, which dominates for small files |
| large files, whole-file reads and writes | S3 for cost and sharing; parallel parts for speed | gp3 includes 125 MiB/s (1,000 MiB/s provisioned); S3 throughput grows with parallel parts and connections. S3 Standard storage is 3.5× cheaper than gp3 and 13× cheaper than EFS Standard per GB-month |
| in-place updates, appends, renames, locks | disk | objects are replaced whole; no append, no atomic rename (docs/design/files.md) |
| shared by many machines, read-mostly | S3 (or EFS at 13× the storage price) | any number of readers without a mount; reads are strongly consistent |`;
}

await main();
