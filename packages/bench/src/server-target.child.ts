/**
 * One server for the server benchmark, in its own process so that the client's CPU does not
 * share an event loop with it. `server-target.child.ts <ours|ours-nosync|ours-memory|s3rver|bare-sigv4|bare-sigv4-nosync> <dir>` prints
 * `{"url": …}` once listening and exits when its stdin closes.
 */
import fs, { constants, createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { BENCH_USER } from './server-targets.js';

async function main(): Promise<void> {
  const [kind, dir] = process.argv.slice(2);
  if (!dir)
    throw new Error(
      'usage: server-target.child.ts <ours|ours-nosync|ours-memory|s3rver|bare-sigv4|bare-sigv4-nosync> <dir>',
    );
  let url: string;
  // Each target loads only its own code, so that none pays (in memory, GC, startup) for another's.
  if (kind === 'ours' || kind === 'ours-nosync' || kind === 'ours-memory') {
    const [{ startServer }, { FileStore, MemoryStore }] = await Promise.all([
      import('@bucketdb/server'),
      import('@bucketdb/store'),
    ]);
    const store =
      kind === 'ours-memory' ? new MemoryStore('bench') : await FileStore.open(dir, { sync: kind === 'ours' });
    const server = await startServer({ store, host: '127.0.0.1', port: 0, users: [BENCH_USER], quiet: true });
    url = server.url;
  } else if (kind === 's3rver') {
    const { default: S3rver } = await import('s3rver');
    const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir });
    const address = (await server.run()) as AddressInfo;
    url = `http://127.0.0.1:${address.port}`;
  } else if (kind === 'bare-sigv4' || kind === 'bare-sigv4-nosync') {
    url = await startBare(dir, kind === 'bare-sigv4');
  } else {
    throw new Error(`unknown target ${kind}`);
  }
  process.stdout.write(`${JSON.stringify({ url })}\n`);
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

/**
 * The ceiling: SigV4 verified by the server's own `authenticate` (so both pay the same for it),
 * then the same file work as FileStore's, with the same shortcuts, and nothing else (no routing,
 * no other checks, no metadata, no header in the file). PUT: a body with a Content-Length up to
 * 1 MiB is written with one write to a temp file (opened O_DSYNC when `sync`), a larger one
 * streamed (and fdatasync'ed when `sync`); then rename, and with `sync` an fsync of the directory
 * shared by concurrent writers (group commit, as FileStore does). GET: a blocking open and 16 KiB
 * read (FileStore reads headers that way) answer a small object; larger ones stream in 1 MiB
 * reads. Other file calls go through the callback API on plain descriptors, as FileStore's do
 * (node:fs/promises costs about three times the CPU per call).
 */
async function startBare(dir: string, sync: boolean): Promise<string> {
  const { authenticate } = await import('@bucketdb/server');
  const users = new Map([[BENCH_USER.accessKeyId, BENCH_USER]]);
  const lookup = (id: string) => users.get(id);
  const verified = (req: IncomingMessage): boolean => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    try {
      authenticate(
        {
          method: req.method ?? 'GET',
          rawPath: q < 0 ? url : url.slice(0, q),
          rawQuery: q < 0 ? '' : url.slice(q + 1),
          headers: req.headers,
        },
        lookup,
        { region: 'us-east-1' },
      );
      return true;
    } catch {
      return false;
    }
  };
  const objects = `${dir}/objects`;
  await mkdir(objects, { recursive: true });
  const pathOf = (url: string) => `${objects}/${encodeURIComponent(url.split('?')[0] ?? '')}`;
  const syncObjects = sharedSync(objects);
  let temps = 0;
  const put = async (req: IncomingMessage, path: string) => {
    const tmp = `${objects}/.tmp-${++temps}`;
    const length = Number(req.headers['content-length'] ?? Number.NaN);
    if (length <= SMALL) {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (sync ? constants.O_DSYNC : 0);
      const fd = await fsOpen(tmp, flags);
      await fsWrite(fd, Buffer.concat(chunks), 0, length, 0);
      await fsClose(fd);
    } else {
      const fd = await fsOpen(tmp, 'wx');
      await pipeline(req, createWriteStream('', { fd, autoClose: false }));
      if (sync) await fsFdatasync(fd);
      await fsClose(fd);
    }
    await fsRename(tmp, path);
    if (sync) await syncObjects();
  };
  const get = async (res: ServerResponse, path: string) => {
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch {
      return void res.writeHead(404).end();
    }
    const first = Buffer.allocUnsafe(FIRST_READ);
    const bytesRead = fs.readSync(fd, first, 0, FIRST_READ, 0);
    if (bytesRead < FIRST_READ) {
      fs.closeSync(fd);
      res.writeHead(200, { 'content-length': bytesRead }).end(first.subarray(0, bytesRead));
      return;
    }
    res.writeHead(200, { 'content-length': fs.fstatSync(fd).size });
    await pipeline(createReadStream('', { fd, highWaterMark: 1 << 20 }), res);
  };
  const server = createServer((req, res) => {
    if (!verified(req)) return void res.writeHead(403).end();
    const path = pathOf(req.url ?? '/');
    const done =
      req.method === 'PUT'
        ? put(req, path).then(() => res.writeHead(200, { etag: '"0"' }).end())
        : req.method === 'GET'
          ? get(res, path)
          : Promise.resolve(void res.writeHead(200).end());
    done.catch(() => res.writeHead(500).end());
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const SMALL = 1024 * 1024;
const fsOpen = promisify(fs.open);
const fsClose = promisify(fs.close);
const fsWrite = promisify(fs.write);
const fsFsync = promisify(fs.fsync);
const fsFdatasync = promisify(fs.fdatasync);
const fsRename = promisify(fs.rename);
const FIRST_READ = 16 * 1024;

/** fsyncs of `dir` shared by concurrent callers: each joins the next one to start, never a running one. */
function sharedSync(dir: string): () => Promise<void> {
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  const start = (): Promise<void> => {
    next = undefined;
    const mine = (async () => {
      const fd = await fsOpen(dir, 'r');
      await fsFsync(fd);
      await fsClose(fd);
    })();
    running = mine;
    const settle = () => {
      if (running === mine) running = undefined;
    };
    mine.then(settle, settle);
    return mine;
  };
  return () => {
    if (!running) return start();
    next ??= running.then(start, start);
    return next;
  };
}

await main();
