/**
 * One server for the server benchmark, in its own process so that the client's CPU does not
 * share an event loop with it. `server-target.child.ts <ours|ours-nosync|ours-memory|s3rver|bare> <dir>` prints
 * `{"url": …}` once listening and exits when its stdin closes.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import { startServer } from '@bucketdb/server';
import { FileStore, MemoryStore } from '@bucketdb/store';
import S3rver from 's3rver';
import { BENCH_USER } from './server-targets.js';

async function main(): Promise<void> {
  const [kind, dir] = process.argv.slice(2);
  if (!dir) throw new Error('usage: server-target.child.ts <ours|ours-nosync|ours-memory|s3rver|bare> <dir>');
  let url: string;
  if (kind === 'ours' || kind === 'ours-nosync' || kind === 'ours-memory') {
    const store =
      kind === 'ours-memory' ? new MemoryStore('bench') : await FileStore.open(dir, { sync: kind === 'ours' });
    const server = await startServer({ store, host: '127.0.0.1', port: 0, users: [BENCH_USER], quiet: true });
    url = server.url;
  } else if (kind === 's3rver') {
    const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir });
    const address = (await server.run()) as AddressInfo;
    url = `http://127.0.0.1:${address.port}`;
  } else if (kind === 'bare') {
    url = await startBare(dir);
  } else {
    throw new Error(`unknown target ${kind}`);
  }
  process.stdout.write(`${JSON.stringify({ url })}\n`);
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

/**
 * The ceiling: the same file work as FileStore's default (temp file, fsync, rename, fsync of
 * the directory; then read the file back), and nothing else: no auth, no checks, no metadata.
 */
async function startBare(dir: string): Promise<string> {
  await mkdir(`${dir}/objects`, { recursive: true });
  const pathOf = (url: string) => `${dir}/objects/${encodeURIComponent(url.split('?')[0] ?? '')}`;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = pathOf(req.url ?? '/');
    if (req.method === 'PUT') {
      const tmp = `${dir}/objects/.tmp-${randomUUID()}`;
      const file = await open(tmp, 'w');
      await pipeline(req, createWriteStream('', { fd: file.fd, autoClose: false }));
      await file.sync();
      await file.close();
      await rename(tmp, path);
      const dirHandle = await open(`${dir}/objects`, 'r');
      await dirHandle.sync();
      await dirHandle.close();
      res.writeHead(200, { etag: '"0"' }).end();
    } else if (req.method === 'GET') {
      const info = await stat(path).catch(() => undefined);
      if (!info) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-length': info.size });
      await pipeline(createReadStream(path), res);
    } else {
      res.writeHead(200).end();
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.writeHead(500).end());
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

await main();
