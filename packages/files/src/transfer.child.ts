// Runs one transfer that hangs after a few requests, so a test can kill -9 it mid-way.
// Usage: transfer.child.ts upload|download <store-url> <path> <key> <requests-allowed> <part-size>
import { openStore } from '@bucketdb/store';
import { downloadFile } from './download-file.js';
import { Stalling } from './fixtures/fault-stores.js';
import { uploadFile } from './upload-file.js';

const [mode, url, path, key, allowed, partSize] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const store = new Stalling(await openStore(url), mode === 'upload' ? 'put' : 'get', Number(allowed));
const options = {
  partSize: Number(partSize),
  concurrency: 2,
  onProgress: ({ bytes }: { bytes: number }) => process.stdout.write(`progress ${bytes}\n`),
};
if (mode === 'upload') await uploadFile(store, path, key, options);
else await downloadFile(store, key, path, options);
process.stdout.write('done\n');
