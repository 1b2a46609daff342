// Opens a mem:// and then an s3:// store, reporting which of the AWS SDK and undici (S3Store's
// GET transport) were loaded after each step: nothing for memory, the SDK for a HEAD, undici only
// once a GET is sent.
import { createRequire } from 'node:module';
import { openStore } from '@bucketdb/store';

const require = createRequire(import.meta.url);
const loaded = (part: string) => Object.keys(require.cache).some((path) => path.includes(part));
const state = () => ({ sdk: loaded('@aws-sdk/client-s3'), undici: loaded('/undici/') });

const memory = await openStore('mem://lazy');
await memory.put('k', 'v');
const afterMemory = state();
const s3 = await openStore('s3://bucket?endpoint=http%3A%2F%2F127.0.0.1%3A1&region=us-east-1');
await s3.head('k').catch(() => {});
const afterHead = state();
await s3.get('k').catch(() => {});
process.stdout.write(JSON.stringify({ afterMemory, afterHead, afterGet: state() }));
