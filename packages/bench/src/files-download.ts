/**
 * `npm run bench -- files-download [--full]`: where a large download's client CPU goes. Downloads
 * one 256 MiB object (1 GiB with --full) from our S3 server (FileStore, child process) with
 * `downloadFile`, alternating with the same work done with no HTTP library: ranged GETs
 * (presigned, so the same server code answers) on raw sockets, a CRC32C of every chunk,
 * positional writes from two reused 1 MiB buffers, one fsync; the socket reads either into a
 * fresh buffer each (as under Node's HTTP client, less its copy of the body) or into one reused
 * buffer (the ceiling).
 * Prints per run and as medians: client CPU s/GiB (user, sys), server CPU s/GiB, MiB/s, and the
 * garbage collections per GiB. Env: FILES_DOWNLOAD_RUNS (runs of each, default 5).
 */
import { type FileHandle, mkdir, open, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { DEFAULT_CONCURRENCY, downloadFile, uploadFile } from '@bucketdb/files';
import { crc32c } from '@bucketdb/store';
import { BENCH_BUCKET } from './files-baselines.js';
import { processCpu, s3, startServer, stopChildren } from './files-servers.js';
import { formatTable } from './harness.js';
import { BENCH_USER } from './server-targets.js';

const MiB = 1 << 20;
const size = process.argv.includes('--full') ? 1024 * MiB : 256 * MiB;
const runs = Number(process.env.FILES_DOWNLOAD_RUNS ?? 5);
const KEY = 'download-probe';
const work = join(tmpdir(), `bucketdb-bench-files-download-${process.pid}`);

/** Garbage collections seen since the last call: major (mark-compact) count and all pauses' ms. */
const gc = { major: 0, minor: 0, ms: 0 };
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as unknown as { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
    else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gc.minor++;
    gc.ms += entry.duration;
  }
}).observe({ entryTypes: ['gc'] });

/**
 * `parts` ranged GETs in parallel, each on its own socket: every chunk's CRC32C, then the chunk
 * copied into one of two 1 MiB buffers written at its offset while the other fills (the socket
 * pauses while both are busy). No HTTP parser copies the body.
 */
async function rawDownload(endpoint: string, path: string, parts: number, reuse: boolean): Promise<void> {
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: BENCH_USER });
  const handle = await open(path, 'w+');
  const per = Math.ceil(size / parts);
  try {
    await Promise.all(
      Array.from({ length: parts }, async (_, i) => {
        const start = i * per;
        const end = Math.min(size, start + per);
        const range = `bytes=${start}-${end - 1}`;
        const url = new URL(
          await getSignedUrl(client, new GetObjectCommand({ Bucket: BENCH_BUCKET, Key: KEY, Range: range })),
        );
        await rawPart(url, range, handle, start, end - start, reuse);
      }),
    );
    await handle.sync();
  } finally {
    await handle.close();
    client.destroy();
  }
}

/**
 * One ranged GET of a ceiling. With `reuse`, the socket reads into one buffer for the whole body
 * (`onread`); without, Node allocates one per read as it does under its HTTP client, but nothing
 * copies the body again. The CRC is computed, as the engine computes it, for the same work.
 */
function rawPart(
  url: URL,
  range: string,
  handle: FileHandle,
  offset: number,
  length: number,
  reuse: boolean,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const buffers = [Buffer.allocUnsafe(MiB), Buffer.allocUnsafe(MiB)];
    let filling = 0;
    let fill = 0;
    let position = offset;
    let received = 0;
    let crc = 0;
    let head: Buffer | undefined = Buffer.alloc(0);
    let writing: Promise<unknown> = Promise.resolve();
    const write = (bytes: Buffer, at: number) =>
      (writing = writing.then(() => handle.write(bytes, 0, bytes.length, at)));
    const onBytes = (bytes: Buffer): boolean => {
      let body = bytes;
      if (head) {
        head = Buffer.concat([head, body]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return true;
        const status = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
        if (!status.startsWith('HTTP/1.1 206')) {
          socket.destroy(new Error(`ranged GET answered ${status}`));
          return false;
        }
        body = head.subarray(end + 4);
        head = undefined;
      }
      crc = crc32c(body, crc);
      received += body.length;
      for (let at = 0; at < body.length;) {
        const target = buffers[filling]!;
        const copied = body.copy(target, fill, at, at + Math.min(body.length - at, target.length - fill));
        fill += copied;
        at += copied;
        if (fill === target.length) {
          socket.pause();
          write(target, position).then(() => socket.resume(), reject);
          position += fill;
          fill = 0;
          filling ^= 1;
        }
      }
      if (received >= length) {
        socket.end();
        if (received > length) reject(new Error(`${received} bytes where ${length} were asked`));
        write(buffers[filling]!.subarray(0, fill), position).then(() => resolve(), reject);
      }
      return true;
    };
    const socket = connect({
      host: url.hostname,
      port: Number(url.port),
      ...(reuse
        ? {
            onread: {
              buffer: Buffer.allocUnsafe(64 << 10),
              callback: (n: number, buffer: Uint8Array) => onBytes(Buffer.from(buffer.buffer, buffer.byteOffset, n)),
            },
          }
        : {}),
    });
    if (!reuse) socket.on('data', onBytes);
    socket.on('error', reject);
    socket.on('end', () => {
      if (received < length) reject(new Error(`the body broke off after ${received} of ${length} bytes`));
    });
    socket.on('connect', () =>
      socket.write(
        `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nRange: ${range}\r\nConnection: close\r\n\r\n`,
      ),
    );
  });
}

/** The CRC32C of a file, read into one reused buffer (no garbage to collect in the next run). */
async function fileCrc(path: string): Promise<number> {
  const handle = await open(path, 'r');
  const buffer = Buffer.allocUnsafe(MiB);
  let crc = 0;
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length);
      if (bytesRead === 0) return crc;
      crc = crc32c(buffer.subarray(0, bytesRead), crc);
    }
  } finally {
    await handle.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? Number.NaN;
const round = (x: number) => Math.round(x * 100) / 100;

async function main(): Promise<void> {
  await mkdir(work, { recursive: true });
  const loadAtStart = loadavg();
  const server = await startServer(join(work, 'server'));
  const store = s3(server.url);
  await store.createBucket();
  const source = join(work, 'source');
  const handle = await open(source, 'w');
  const block = Buffer.alloc(4 * MiB);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((i * 2654435761) >>> 0, i);
  for (let offset = 0; offset < size; offset += block.length) {
    block.writeUInt32LE(offset / block.length, 0); // no two blocks alike
    await handle.write(block, 0, block.length, offset);
  }
  await handle.close();
  await uploadFile(store, source, KEY, { resume: false });
  const expected = await fileCrc(source);
  const target = join(work, 'target');
  const targets: Record<string, () => Promise<unknown>> = {
    'downloadFile (@bucketdb/files)': () => downloadFile(store, KEY, target, { resume: false }),
    'raw sockets, a buffer per read': () => rawDownload(server.url, target, DEFAULT_CONCURRENCY, false),
    'ceiling: raw sockets, reused buffers': () => rawDownload(server.url, target, DEFAULT_CONCURRENCY, true),
  };
  const results: Record<
    string,
    {
      client: number[];
      user: number[];
      sys: number[];
      server: number[];
      mibs: number[];
      major: number[];
      gcMs: number[];
    }
  > = {};
  const gib = size / 2 ** 30;
  // One of each first, unmeasured: the server's page cache and this process's code warm up.
  for (const run of Object.values(targets)) await run();
  for (let r = 0; r < runs; r++) {
    for (const [name, run] of Object.entries(targets)) {
      await rm(target, { force: true });
      const serverBefore = await processCpu(server.pid);
      Object.assign(gc, { major: 0, minor: 0, ms: 0 });
      const before = process.cpuUsage();
      const started = performance.now();
      await run();
      const ms = performance.now() - started;
      const cpu = process.cpuUsage(before);
      const serverCpu = (await processCpu(server.pid)) - serverBefore;
      // GC entries are delivered after the fact: let them arrive before reading the counts.
      await new Promise((resolve) => setImmediate(resolve));
      if ((await fileCrc(target)) !== expected) throw new Error(`${name}: the downloaded file differs from the source`);
      const row = (results[name] ??= { client: [], user: [], sys: [], server: [], mibs: [], major: [], gcMs: [] });
      row.client.push((cpu.user + cpu.system) / 1e6 / gib);
      row.user.push(cpu.user / 1e6 / gib);
      row.sys.push(cpu.system / 1e6 / gib);
      row.server.push(serverCpu / gib);
      row.mibs.push(size / MiB / (ms / 1000));
      row.major.push(gc.major / gib);
      row.gcMs.push(gc.ms / gib);
      process.stderr.write(
        `${name}: ${round(row.client.at(-1)!)} client CPU s/GiB, ${round(row.server.at(-1)!)} server, ${Math.round(row.mibs.at(-1)!)} MiB/s, ${gc.major} major GCs\n`,
      );
    }
  }
  await store.close();
  stopChildren();
  await rm(work, { recursive: true, force: true });
  const rows = Object.entries(results).map(([name, r]) => ({
    target: name,
    'client CPU s/GiB': round(median(r.client)),
    'user s/GiB': round(median(r.user)),
    'sys s/GiB': round(median(r.sys)),
    'server CPU s/GiB': round(median(r.server)),
    'MiB/s': Math.round(median(r.mibs)),
    'major GCs per GiB': Math.round(median(r.major)),
    'GC pause ms per GiB': Math.round(median(r.gcMs)),
  }));
  const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' / ');
  process.stdout.write(
    `${size / MiB} MiB, medians of ${runs} runs each; load average at the start ${load(loadAtStart)}, at the end ${load(loadavg())}\n\n${formatTable(rows)}\n`,
  );
}

await main();
