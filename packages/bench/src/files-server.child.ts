// One S3 server for the files benchmark, over a FileStore (fsync'd) in <dir>, or over a
// MemoryStore when <dir> is `memory` (a backend that is not the bottleneck); prints its URL.
// Usage: files-server.child.ts <dir>|memory [s3-standard]
import { startServer } from '@bucketdb/server';
import { FileStore, MemoryStore } from '@bucketdb/store';
import { BENCH_USER } from './server-targets.js';

const [dir, emulate] = process.argv.slice(2) as [string, string | undefined];
const server = await startServer({
  store: dir === 'memory' ? new MemoryStore() : await FileStore.open(dir),
  host: '127.0.0.1',
  port: 0,
  users: [BENCH_USER],
  quiet: true,
  ...(emulate === 's3-standard' ? { emulate: 's3-standard' as const } : {}),
});
process.stdout.write(`${server.url}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  server.close().then(() => process.exit(0));
});
