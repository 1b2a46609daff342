// Opens a mem:// and then an s3:// store, reporting whether the AWS SDK (or undici, S3Store's GET
// transport) was loaded after each.
import { createRequire } from 'node:module';
import { openStore } from '@bucketdb/store';

const require = createRequire(import.meta.url);
const sdkLoaded = () =>
  Object.keys(require.cache).some((path) => path.includes('@aws-sdk/client-s3') || path.includes('/undici/'));

const memory = await openStore('mem://lazy');
await memory.put('k', 'v');
const afterMemory = sdkLoaded();
const s3 = await openStore('s3://bucket?endpoint=http%3A%2F%2F127.0.0.1%3A1&region=us-east-1');
await s3.head('k').catch(() => {});
process.stdout.write(JSON.stringify({ afterMemory, afterS3: sdkLoaded() }));
