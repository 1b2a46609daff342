// Runs the server on a FileStore directory until killed; prints `READY <url>` once it listens.
// A second argument `nosync` opens the store without fsync.
import { FileStore } from '@bucketdb/store';
import { ALICE } from './fixtures/harness.js';
import { startServer } from './start-server.js';

const [dir, mode] = process.argv.slice(2);
if (!dir) throw new Error('usage: crash-server.child.ts <data dir> [nosync]');
const store = await FileStore.open(dir, { sync: mode !== 'nosync' });
const server = await startServer({ store, port: 0, users: [ALICE], quiet: true });
process.stdout.write(`READY ${server.url}\n`);
