// Runs the server on a FileStore directory until killed; prints `READY <url>` once it listens.
import { FileStore } from '@bucketdb/store';
import { ALICE } from './fixtures/harness.js';
import { startServer } from './start-server.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: crash-server.child.ts <data dir>');
const server = await startServer({ store: await FileStore.open(dir), port: 0, users: [ALICE], quiet: true });
process.stdout.write(`READY ${server.url}\n`);
